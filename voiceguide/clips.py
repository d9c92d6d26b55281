"""What the compiler and the renderer need from the sound side.

The compiler only needs lengths (:class:`Lengths`); the renderer needs the
samples themselves (:class:`ClipSource`). Audio is mono float32 in [-1, 1] at
:data:`SAMPLE_RATE`, the one rate the whole pipeline renders at (espeak-ng and
Piper's medium voices both speak at 22,050 Hz, so speech is never resampled).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]

SAMPLE_RATE = 22_050


class Lengths(Protocol):
    """How long each phrase and sound lasts, in samples at ``sample_rate``."""

    @property
    def sample_rate(self) -> int: ...

    def speech_samples(self, text: str) -> int:
        """Length of ``text`` spoken, leading and trailing silence trimmed."""
        ...

    def sound_samples(self, name: str) -> int:
        """Length of the named sound (``press``, ``release``, ``tick``, …)."""
        ...


class ClipSource(Lengths, Protocol):
    """The audio of each phrase and sound, as the renderer places it."""

    def speech(self, text: str) -> FloatArray:
        """``text`` spoken: mono float32 at ``sample_rate``, loudness-matched."""
        ...

    def sound(self, name: str) -> FloatArray:
        """The named sound: mono float32 at ``sample_rate``, loudness-matched."""
        ...
