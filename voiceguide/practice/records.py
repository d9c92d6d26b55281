"""What the practice history holds: one row per session played, and its time stamps.

Times are UTC, written ISO 8601 with milliseconds and a ``Z`` (``2025-05-01T19:02:03.120Z``),
so that they sort as text. Session times (how far it got) are whole milliseconds from the
start of the session's timeline, the unit in the name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Literal, get_args

Outcome = Literal["unfinished", "completed", "stopped", "interrupted", "failed"]
"""How a session ended: ``unfinished`` until it ends (and for ever, if the process was killed),
``completed`` (played to the end), ``stopped`` (the listener quit), ``interrupted`` (Ctrl-C,
SIGTERM, SIGHUP), ``failed`` (an error, such as the audio device going away)."""
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)

IntroChoice = Literal["full", "short", "none"]
INTRO_CHOICES: tuple[IntroChoice, ...] = get_args(IntroChoice)
DetailChoice = Literal["full", "brief"]
DETAIL_CHOICES: tuple[DetailChoice, ...] = get_args(DetailChoice)

PRACTICE_MIN_MS = 60_000
"""A session counts as practice if it was played whole, or this much of it was played."""


def utc_now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def stamp(moment: datetime) -> str:
    """``moment`` as stored: UTC, ISO 8601, milliseconds, ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_stamp(text: str) -> datetime:
    """The moment a stored time stamp names (an aware UTC datetime)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass(frozen=True)
class SessionRow:
    """One session as the history keeps it (a row of the ``sessions`` table)."""

    id: str
    """A random identifier, so that every write of a session replaces its own row."""
    routine: str
    """The routine's name (its file name without ``.yaml``)."""
    title: str
    script_hash: str
    """SHA-256 of the routine as loaded, includes resolved (see :mod:`.identity`)."""
    cautions_hash: str
    """SHA-256 of the cautions the introduction reads (see :mod:`.identity`)."""
    started_at: str
    """When the first sound was handed to the device (UTC, see :func:`stamp`)."""
    updated_at: str
    """When the row was last written: for an unfinished session, about when it was lost."""
    ended_at: str | None
    """When it ended; ``None`` while it plays, or if the process was killed."""
    outcome: Outcome
    from_ms: int
    """Where in the session it started (``--from``)."""
    reached_ms: int
    """How far it got: where it ended, or was when last written."""
    total_ms: int
    """The length of the whole session."""
    intro_ms: int
    """Where the introduction ends in the session (0 without one)."""
    step: int
    """The step it reached, numbered as ``play --steps`` lists them (0 is the introduction)."""
    steps: int
    """The number of the last step."""
    step_title: str
    engine: str
    voice: str | None
    """The voice asked for (``None``: the engine's default), or the Piper model's file name."""
    rate_wpm: int
    pace: float
    repeat: int
    intro: IntroChoice
    detail: DetailChoice
    pid: int
    """The process that played it (tells a session still playing from one that was lost)."""

    @property
    def started(self) -> datetime:
        """When it started, as an aware UTC datetime."""
        return parse_stamp(self.started_at)

    @property
    def completed(self) -> bool:
        """Whether it played to the end."""
        return self.outcome == "completed"

    @property
    def heard_intro(self) -> bool:
        """Whether the full introduction was heard through (not skipped, not cut short)."""
        return (
            self.intro == "full"
            and self.from_ms == 0
            and (self.completed or self.reached_ms >= self.intro_ms)
        )

    @property
    def whole(self) -> bool:
        """Whether the whole routine was played: from the start (or its introduction) to the end."""
        return self.completed and self.from_ms <= self.intro_ms

    @property
    def practised(self) -> bool:
        """Whether it counts as practice: played whole, or a minute or more of it played."""
        return self.whole or self.reached_ms - self.from_ms >= PRACTICE_MIN_MS

    def to_dict(self) -> dict[str, Any]:
        """The row as plain data, column by column."""
        return asdict(self)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The column names, in table order."""
        return tuple(f.name for f in fields(cls))
