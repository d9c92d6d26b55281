"""What the stereo and bed tests share: clips at the real rate, a two-sided timeline, levels."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.pcm import SAMPLE_RATE
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine

SR = SAMPLE_RATE


class SineClips(FixedRateLengths):
    """Speech a steady 440 Hz sine, sounds a decaying 880 Hz one: levels easy to reason about.

    ``silent=True`` makes every clip silence (of the same length), to hear the bed alone.
    """

    def __init__(self, *, silent: bool = False) -> None:
        super().__init__(sample_rate=SR)
        self.silent = silent

    def speech(self, text: str) -> npt.NDArray[np.float32]:
        t = np.arange(self.speech_samples(text)) / SR
        return (0.0 if self.silent else 0.3) * np.sin(2 * np.pi * 440 * t).astype(np.float32)

    def sound(self, name: str) -> npt.NDArray[np.float32]:
        t = np.arange(self.sound_samples(name)) / SR
        tone = 0.2 * np.sin(2 * np.pi * 880 * t) * np.exp(-3 * t)
        return (0.0 if self.silent else 1.0) * tone.astype(np.float32)


def two_sided(clips: SineClips | None = None, case: str = "sides-repeat") -> Timeline:
    """A compiled routine with a right side, then a left one, and a switch between them."""
    routine = load_routine(
        DATA / "compile" / f"{case}.yaml",
        resolve=resolve_include,
        shared_points=load_points(DATA / "points.yaml"),
        display=f"{case}.yaml",
    )
    return compile_routine(routine, clips or SineClips(), CompileOptions())


def rms_db(samples: npt.NDArray[np.generic]) -> float:
    """The RMS level of ``samples`` (int16 or float), in dB of full scale."""
    x = np.asarray(samples, dtype=np.float64)
    if np.issubdtype(np.asarray(samples).dtype, np.integer):
        x = x / 32768
    mean_square = float(np.mean(x * x)) if x.size else 0.0
    return 10 * math.log10(mean_square) if mean_square > 0 else -math.inf


def ears_db(stereo: npt.NDArray[np.generic], cue: Cue) -> tuple[float, float]:
    """The (left, right) RMS levels of a cue in a stereo render."""
    part = stereo[cue.start : cue.end]
    return rms_db(part[:, 0]), rms_db(part[:, 1])
