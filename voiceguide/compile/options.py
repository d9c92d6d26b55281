"""What a caller chooses at compile time: introduction, tones, pace, whole-session repeats."""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.errors import UsageError

MIN_PACE, MAX_PACE = 0.25, 4.0
MAX_REPEAT = 20


@dataclass(frozen=True)
class CompileOptions:
    """Choices made at compile time, from the command line."""

    intro: bool = True
    """Say the title, posture, cautions and length before the first step."""
    tones: bool | None = None
    """Play sounds; ``None`` follows the routine's ``settings.tones``."""
    pace: float = 1.0
    """Multiply holds, rests, finds, pauses and activities by this (speech is unchanged)."""
    repeat: int = 1
    """Run the whole routine this many times."""

    def __post_init__(self) -> None:
        if not MIN_PACE <= self.pace <= MAX_PACE:
            raise UsageError(f"--pace: expected {MIN_PACE} to {MAX_PACE}, got {self.pace}")
        if not 1 <= self.repeat <= MAX_REPEAT:
            raise UsageError(f"--repeat: expected 1 to {MAX_REPEAT}, got {self.repeat}")
