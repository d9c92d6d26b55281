"""The compiled timeline: every cue with its exact start and length in samples."""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from typing import Any, Literal

from voiceguide.errors import Position

CueKind = Literal["speech", "tone", "silence"]
Phase = Literal[
    "intro", "instruction", "find", "hold", "rest", "release", "activity", "pause", "sound",
    "switch", "closing",
]  # fmt: skip


@dataclass(frozen=True)
class Cue:
    """One thing heard (or a silence) at an exact place in the session."""

    start: int
    """First sample."""
    duration: int
    """Length in samples."""
    kind: CueKind
    text: str
    """What is said (speech), the sound's name or file (tone), or ``""`` (silence)."""
    phase: Phase
    step: str
    """The step it came from, as a path in its file: ``steps[2].steps[0]``."""
    source: Position | None
    """The line of the script it came from; ``None`` for generated intro and closing."""
    chapter: str
    side: str | None = None
    round: int | None = None
    rep: int | None = None
    """Which press of a ``press`` step (1-based), during its hold and rest."""
    reps: int | None = None
    top_step: int | None = None
    """Which top-level step of the routine it comes from (0-based; the steps of a routine
    included there count as top-level steps); ``None`` for the introduction, the closing
    and the round announcements of ``repeat``. Controls move by it."""

    @property
    def end(self) -> int:
        """The sample just after the cue."""
        return self.start + self.duration


@dataclass(frozen=True)
class Chapter:
    """A titled span of the session: a step, a side, an included routine."""

    start: int
    end: int
    title: str


@dataclass(frozen=True)
class Timeline:
    """A routine compiled: cues that tile the session from sample 0 to :attr:`total`."""

    sample_rate: int
    cues: tuple[Cue, ...]
    title: str
    routine: str

    @property
    def total(self) -> int:
        """Length of the whole session in samples."""
        return self.cues[-1].end if self.cues else 0

    @property
    def total_ms(self) -> int:
        """Length of the whole session in milliseconds (rounded)."""
        return self.to_ms(self.total)

    def to_ms(self, samples: int) -> int:
        """Convert a sample count to milliseconds (rounded to nearest)."""
        return (samples * 1000 + self.sample_rate // 2) // self.sample_rate

    def chapters(self) -> list[Chapter]:
        """Contiguous runs of cues that share a chapter title."""
        chapters: list[Chapter] = []
        for cue in self.cues:
            if chapters and chapters[-1].title == cue.chapter:
                chapters[-1] = Chapter(chapters[-1].start, cue.end, cue.chapter)
            else:
                chapters.append(Chapter(cue.start, cue.end, cue.chapter))
        return chapters

    @functools.cached_property
    def starts(self) -> tuple[int, ...]:
        """The first sample of each cue, in order (for finding the cue at a moment)."""
        return tuple(c.start for c in self.cues)

    def index_at(self, sample: int) -> int:
        """Index of the cue playing at ``sample`` (clamped to the last cue)."""
        return max(0, min(bisect.bisect_right(self.starts, sample) - 1, len(self.cues) - 1))

    def sounds(self) -> list[Cue]:
        """The cues that make a sound (speech and tones), in order."""
        return [c for c in self.cues if c.kind != "silence"]

    def to_json(self) -> dict[str, Any]:
        """A plain-data form for ``--json`` and ``--cues json``."""

        def ms(samples: int) -> float:
            return round(samples * 1000 / self.sample_rate, 3)

        return {
            "routine": self.routine,
            "title": self.title,
            "sample_rate": self.sample_rate,
            "total_samples": self.total,
            "total_ms": ms(self.total),
            "chapters": [
                {"title": c.title, "start_ms": ms(c.start), "end_ms": ms(c.end)}
                for c in self.chapters()
            ],
            "cues": [
                {
                    "start": c.start,
                    "duration": c.duration,
                    "start_ms": ms(c.start),
                    "duration_ms": ms(c.duration),
                    "kind": c.kind,
                    "phase": c.phase,
                    "text": c.text,
                    "chapter": c.chapter,
                    "step": c.step,
                    "source": str(c.source) if c.source else None,
                    "side": c.side,
                    "round": c.round,
                    "rep": c.rep,
                    "reps": c.reps,
                }
                for c in self.cues
            ],
        }
