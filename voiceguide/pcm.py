"""Samples on the ground floor: the pipeline's one sample rate and the helpers every stage shares.

Audio is mono float32 in [-1, 1] at :data:`SAMPLE_RATE` from the engine until it reaches the
cache, a file or the device, where :func:`to_pcm` makes it 16-bit PCM: the one quantization
a sample goes through. espeak-ng and Piper's medium voices both speak at 22,050 Hz, so
speech is resampled only for a voice of the user's own.

Time is whole milliseconds or whole samples; :func:`ms_to_samples` is the one conversion.
The sound-file bounds are here too, so every reader of a sound file (the renderer's and the
estimate's) refuses the same files, from their headers, before decoding a sample.

numpy is imported inside the helpers: the compiler and ``voiceguide list`` import this
module for :data:`SAMPLE_RATE` and must not pay for numpy.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import AudioError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]
    Int16Array = npt.NDArray[np.int16]

SAMPLE_RATE = 22_050

MAX_SOUND_FILE_BYTES = 64 * 1024 * 1024
"""A sound file larger than this is refused before it is read (a minute of 48 kHz stereo
16-bit WAV is 11 MB; compressed files are smaller)."""
MIN_SOUND_RATE_HZ = 8_000
MAX_SOUND_RATE_HZ = 96_000
"""Rates a sound file may have: from telephone quality to twice the studio's 48 kHz (the
file is resampled to :data:`SAMPLE_RATE`, and its memory grows with the rate)."""
MAX_SOUND_MS = 120_000
"""A sound is a cue: two minutes at most (a longer one is a recording, not a cue)."""
MAX_SOUND_CHANNELS = 8


def ms_to_samples(ms: int, sample_rate: int) -> int:
    """Convert whole milliseconds to samples, to the nearest sample (halves round up).

    Nearest, not floor: the error is at most half a sample either way, in exact integer
    arithmetic. The compiler lays out every timeline with it (its golden files depend on it).
    """
    return (ms * sample_rate + 500) // 1000


def to_pcm(samples: FloatArray) -> Int16Array:
    """Quantize float samples to int16 (x * 32768, rounded, clipped)."""
    import numpy as np

    return np.clip(np.round(samples * np.float32(32768.0)), -32768, 32767).astype(np.int16)


def to_float(samples: Int16Array | FloatArray) -> FloatArray:
    """Return samples as float32 in [-1, 1]: int16 PCM scaled exactly, floats as they are."""
    import numpy as np

    if samples.dtype == np.int16:
        return np.asarray(samples, dtype=np.float32) / np.float32(32768.0)
    return np.asarray(samples, dtype=np.float32)


def fade(samples: npt.NDArray[np.floating], fade_in: int, fade_out: int) -> None:
    """Fade both ends in place with raised-cosine ramps running exactly from 0 to 1.

    Each ramp is at most half the clip; a ramp under two samples is left out. The outermost
    samples become exact zeros, so a clip cannot click against the silence around it.
    """
    import numpy as np

    for wanted, at_start in ((fade_in, True), (fade_out, False)):
        length = min(wanted, len(samples) // 2)
        if length < 2:
            continue
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / (length - 1))
        if at_start:
            samples[:length] *= ramp.astype(samples.dtype)
        else:
            samples[len(samples) - length :] *= ramp[::-1].astype(samples.dtype)


def resample(samples: npt.NDArray[np.floating], from_rate: int, to_rate: int) -> FloatArray:
    """Resample a short clip by band-limited FFT interpolation to ``round(n * to / from)`` samples.

    The clip is padded with silence (so the FFT's wrap-around meets only zeros) to a
    length that maps to a whole number of output samples, which keeps the time scale
    exact; the top tenth of the kept band is rolled off with a raised cosine, which
    tames the ringing a brick-wall cut would leave. Linear interpolation would alias.
    """
    import numpy as np

    if from_rate == to_rate or not len(samples):
        return np.asarray(samples, dtype=np.float32)
    x = np.asarray(samples, dtype=np.float64)
    step_in = from_rate // math.gcd(from_rate, to_rate)
    step_out = to_rate // math.gcd(from_rate, to_rate)
    n = len(x)
    out_len = round(n * to_rate / from_rate)
    margin = -(-max(256, from_rate // 100) // step_in) * step_in  # >= 10 ms, whole steps
    padded_len = -(-(n + 2 * margin) // step_in) * step_in
    padded = np.zeros(padded_len)
    padded[margin : margin + n] = x
    new_len = padded_len // step_in * step_out
    spectrum = np.fft.rfft(padded)
    kept = min(len(spectrum), new_len // 2 + 1)
    # Roll off the top tenth of the band that survives (both rates' Nyquist, whichever is lower).
    roll = max(1, kept // 10)
    window = np.ones(kept)
    window[kept - roll :] = 0.5 + 0.5 * np.cos(np.pi * (np.arange(roll) + 1) / roll)
    out_spectrum = np.zeros(new_len // 2 + 1, dtype=np.complex128)
    out_spectrum[:kept] = spectrum[:kept] * window
    out = np.fft.irfft(out_spectrum, new_len) * (new_len / padded_len)
    start = margin // step_in * step_out
    return out[start : start + out_len].astype(np.float32)


def check_sound_file_size(path: Path, size_bytes: int) -> None:
    """Refuse a sound file too large to be a cue, before any of it is read."""
    if size_bytes > MAX_SOUND_FILE_BYTES:
        raise AudioError(
            f"{path}: expected a sound file of at most {MAX_SOUND_FILE_BYTES // 2**20} MB, "
            f"got {size_bytes:,} bytes"
        )


def check_sound_header(path: Path, *, rate_hz: int, frames: int, channels: int) -> None:
    """Refuse a sound whose header gives an impossible rate, too many channels or too long a length.

    Called with what the file's header says, before decoding: a header that claims
    2,147,483,647 Hz, or a 2 KB file at 1 Hz that would last 17 minutes, is refused here.
    """
    if not MIN_SOUND_RATE_HZ <= rate_hz <= MAX_SOUND_RATE_HZ:
        raise AudioError(
            f"{path}: expected a sample rate of {MIN_SOUND_RATE_HZ:,} to "
            f"{MAX_SOUND_RATE_HZ:,} Hz, got {rate_hz:,} Hz"
        )
    if not 1 <= channels <= MAX_SOUND_CHANNELS:
        raise AudioError(f"{path}: expected 1 to {MAX_SOUND_CHANNELS} channels, got {channels:,}")
    if frames * 1000 > MAX_SOUND_MS * rate_hz:
        raise AudioError(
            f"{path}: expected a sound of at most {MAX_SOUND_MS // 1000} s, "
            f"got {frames / rate_hz:,.1f} s"
        )
