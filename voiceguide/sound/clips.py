"""What the renderer needs from the sound side: the samples of each phrase and sound.

The compiler only needs lengths (:class:`~voiceguide.compile.lengths.Lengths`); the
renderer needs the samples themselves (:class:`ClipSource`). Audio is mono float32 in
[-1, 1] at :data:`~voiceguide.pcm.SAMPLE_RATE`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from voiceguide.compile.lengths import Lengths

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float32]


class ClipSource(Lengths, Protocol):
    """The audio of each phrase and sound, as the renderer places it."""

    def speech(self, text: str) -> FloatArray:
        """``text`` spoken: mono float32 at ``sample_rate``, loudness-matched."""
        ...

    def sound(self, name: str) -> FloatArray:
        """The named sound: mono float32 at ``sample_rate``, loudness-matched."""
        ...
