"""What a caller chooses at compile time: introduction, detail, tones, pace, repeats, length."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

from voiceguide.errors import SettingError
from voiceguide.script import spec
from voiceguide.script.durations import format_ms

if TYPE_CHECKING:
    from voiceguide.compile.scalables import Fit

MIN_PACE, MAX_PACE = spec.MIN_PACE, spec.MAX_PACE
MAX_REPEAT = spec.REPEAT.maximum

IntroKind = Literal["full", "short", "none"]
"""Which introduction is compiled: ``full`` (title, summary, posture, every caution, the
length), ``short`` (the title, one line of care, the length), or ``none``."""
INTRO_KINDS: tuple[IntroKind, ...] = get_args(IntroKind)
Detail = Literal["full", "brief"]
"""Which instructions are compiled: the full text, or each text's ``brief`` where it has one."""
DETAILS: tuple[Detail, ...] = get_args(Detail)
Scaled = Literal["hold", "rest", "pause", "activity"]
"""The durations a length scales (a find, the lead-in and speech keep their own)."""


@dataclass(frozen=True)
class CompileOptions:
    """Choices made at compile time, rather than in the routine."""

    intro: IntroKind = "full"
    """The introduction before the first step."""
    detail: Detail = "full"
    """Full instructions, or the brief ones."""
    tones: bool | None = None
    """Play sounds; ``None`` follows the routine's ``settings.tones``."""
    pace: float = 1.0
    """Multiply holds, rests, finds, pauses and activities by this (speech is unchanged)."""
    repeat: int = 1
    """Run the whole routine this many times."""
    length_ms: int | None = None
    """Fit the session to this length (:mod:`voiceguide.compile.fit`); ``None`` as written."""
    fit: Fit | None = None
    """The durations and counts that make it that long, once solved (``None``: solve it)."""

    def __post_init__(self) -> None:
        if self.intro not in INTRO_KINDS:
            raise SettingError("intro", f"expected {_words(INTRO_KINDS)}, got {self.intro!r}")
        if self.detail not in DETAILS:
            raise SettingError("detail", f"expected {_words(DETAILS)}, got {self.detail!r}")
        if not spec.MIN_PACE <= self.pace <= spec.MAX_PACE:
            low, high = spec.MIN_PACE, spec.MAX_PACE
            raise SettingError("pace", f"expected {low} to {high}, got {self.pace}")
        if not spec.REPEAT.minimum <= self.repeat <= spec.REPEAT.maximum:
            low, high = spec.REPEAT.minimum, spec.REPEAT.maximum
            raise SettingError("repeat", f"expected {low} to {high}, got {self.repeat}")
        if self.length_ms is not None:
            if self.pace != 1.0:
                raise SettingError(
                    "length", "a length sets the pace itself; give a length or a pace, not both"
                )
            low_ms, high_ms = spec.SESSION_LENGTH.min_ms, spec.SESSION_LENGTH.max_ms
            if not low_ms <= self.length_ms <= high_ms:
                raise SettingError(
                    "length",
                    f"expected {format_ms(low_ms)} to {format_ms(high_ms)}, "
                    f"got {format_ms(self.length_ms)}",
                )

    @property
    def fitted(self) -> bool:
        """Whether the session is fitted to a length."""
        return self.length_ms is not None


def _words(names: tuple[str, ...]) -> str:
    return ", ".join(names[:-1]) + " or " + names[-1]
