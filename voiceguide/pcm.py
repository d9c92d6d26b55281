"""Samples on the ground floor: the pipeline's one sample rate and the helpers every stage shares.

Audio is mono float32 in [-1, 1] at :data:`SAMPLE_RATE` until it reaches the cache, a file
or the device, where it becomes 16-bit PCM. espeak-ng and Piper's medium voices both speak
at 22,050 Hz, so speech is never resampled.
"""

from __future__ import annotations

SAMPLE_RATE = 22_050
