"""What a caller chooses at compile time: introduction, tones, pace, whole-session repeats."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.errors import SettingError
from voiceguide.script import spec

MIN_PACE, MAX_PACE = spec.MIN_PACE, spec.MAX_PACE
MAX_REPEAT = spec.REPEAT.maximum


@dataclass(frozen=True)
class CompileOptions:
    """Choices made at compile time, rather than in the routine: intro, tones, pace, repeats."""

    intro: bool = True
    """Say the title, posture, cautions and length before the first step."""
    tones: bool | None = None
    """Play sounds; ``None`` follows the routine's ``settings.tones``."""
    pace: float = 1.0
    """Multiply holds, rests, finds, pauses and activities by this (speech is unchanged)."""
    repeat: int = 1
    """Run the whole routine this many times."""

    def __post_init__(self) -> None:
        if not spec.MIN_PACE <= self.pace <= spec.MAX_PACE:
            low, high = spec.MIN_PACE, spec.MAX_PACE
            raise SettingError("pace", f"expected {low} to {high}, got {self.pace}")
        if not spec.REPEAT.minimum <= self.repeat <= spec.REPEAT.maximum:
            low, high = spec.REPEAT.minimum, spec.REPEAT.maximum
            raise SettingError("repeat", f"expected {low} to {high}, got {self.repeat}")
