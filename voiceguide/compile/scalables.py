"""What a fit to a length is, and what it may change: the durations and counts, with bounds.

:class:`Fit` is the answer :mod:`voiceguide.compile.fit` solves for and the planner reads;
:func:`scalables` lists what a routine has to scale (each hold, rest, pause and activity,
each press's reps), once each, with how far each may go.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from voiceguide.compile.options import Scaled
from voiceguide.errors import Position
from voiceguide.script import spec
from voiceguide.script.model import Activity, Bounds, Include, Pause, Press, Repeat, Routine, Sides

PPM = 1_000_000
"""A factor of 1, in parts per million."""

Key = tuple[Position, Scaled]
SCALED: dict[str, Scaled] = {
    "hold": "hold",
    "rest": "rest",
    "pause": "pause",
    "activity": "activity",
}
"""The phases a fit scales, by name."""


@dataclass(frozen=True)
class Fit:
    """The lengths and counts that make a session last :attr:`length_ms`."""

    length_ms: int
    """The length asked for."""
    durations: tuple[tuple[Key, int], ...] = ()
    """Each scaled duration's length in ms, by the step it belongs to and what it is."""
    counts: tuple[tuple[Position, int], ...] = ()
    """Each press's reps, by its step."""
    _durations: dict[Key, int] = field(init=False, repr=False, compare=False, hash=False)
    _counts: dict[Position, int] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_durations", dict(self.durations))
        object.__setattr__(self, "_counts", dict(self.counts))

    def duration(self, position: Position, what: Scaled, written_ms: int) -> int:
        """The fitted length of a step's duration (as written, if the fit does not say)."""
        return self._durations.get((position, what), written_ms)

    def reps(self, position: Position, written: int) -> int:
        """The fitted reps of a press (as written, if the fit does not say)."""
        return self._counts.get(position, written)

    def changes(self, routine: Routine) -> dict[str, list[tuple[int, int]]]:
        """What the fit changed, by kind (``hold``… and ``reps``): (as written, fitted) pairs.

        Each pair once, in the order the routine first has it; a kind left as written
        has none.
        """
        durations, counts = scalables(routine)
        found: dict[str, dict[tuple[int, int], None]] = {}
        for item in durations:
            fitted = self.duration(*item.key, item.written_ms)
            if fitted != item.written_ms and _used(item, routine):
                found.setdefault(item.key[1], {})[(item.written_ms, fitted)] = None
        for count in counts:
            fitted = self.reps(count.position, count.written)
            if fitted != count.written:
                found.setdefault("reps", {})[(count.written, fitted)] = None
        return {kind: list(pairs) for kind, pairs in found.items()}


@dataclass(frozen=True)
class Scalable:
    """A duration the fit may scale: as written, and how far it may go."""

    key: Key
    written_ms: int
    low_ms: int
    high_ms: int
    whole_seconds: bool
    """Keep it in whole seconds: a hold written so, whose length is said aloud."""

    def at(self, factor_ppm: int, floor_ms: int = 0) -> int:
        """Its length at ``factor_ppm``, within its bounds (and no shorter than ``floor_ms``)."""
        low = max(self.low_ms, min(floor_ms, self.high_ms))
        ms = (self.written_ms * factor_ppm + PPM // 2) // PPM
        if self.whole_seconds:
            ms = (ms + 500) // 1000 * 1000
            low = -(-low // 1000) * 1000
            high = self.high_ms // 1000 * 1000
            return max(low, min(ms, max(high, low)))
        return max(low, min(ms, self.high_ms))


@dataclass(frozen=True)
class Countable:
    """A press's reps, which the fit may change: as written, and how far."""

    position: Position
    written: int
    low: int
    high: int

    def at(self, factor_ppm: int) -> int:
        """Its reps at ``factor_ppm``, within its bounds."""
        return max(self.low, min((self.written * factor_ppm + PPM // 2) // PPM, self.high))


def scalables(routine: Routine) -> tuple[list[Scalable], list[Countable]]:
    """Every duration and count of ``routine`` the fit may change, each once, in order."""
    seen: dict[Key, Scalable] = {}
    counts: dict[Position, Countable] = {}
    for step in _walk(routine.steps):
        if isinstance(step, Pause):
            _add(seen, step.position, "pause", step.duration_ms, step.bounds, spec.PAUSE)
        elif isinstance(step, Activity):
            _add(seen, step.position, "activity", step.duration_ms, step.bounds, spec.ACTIVITY_FOR)
        elif isinstance(step, Press):
            _add(seen, step.position, "hold", step.hold_ms, step.hold_bounds, spec.HOLD)
            _add(seen, step.position, "rest", step.rest_ms, step.rest_bounds, spec.REST)
            bounds = step.reps_bounds
            most = max(1, step.reps * spec.FIT_MOST_REPS_PCT // 100)
            low = bounds.low if bounds.low is not None else 1
            high = min(bounds.high if bounds.high is not None else most, spec.REPS.maximum)
            counts.setdefault(step.position, Countable(step.position, step.reps, low, high))
    return list(seen.values()), list(counts.values())


def _add(
    seen: dict[Key, Scalable],
    position: Position,
    what: Scaled,
    written_ms: int,
    bounds: Bounds,
    kind: spec.Duration,
) -> None:
    if (position, what) in seen:
        return
    shortest = max(kind.min_ms, written_ms * spec.FIT_SHORTEST_PCT // 100)
    longest = min(kind.max_ms, written_ms * spec.FIT_LONGEST_PCT // 100)
    low = bounds.low if bounds.low is not None else shortest
    high = bounds.high if bounds.high is not None else longest
    whole = what == "hold" and written_ms % 1000 == 0
    seen[(position, what)] = Scalable((position, what), written_ms, low, high, whole)


def _used(item: Scalable, routine: Routine) -> bool:
    """Whether a duration is heard at all: a rest only in a press of more than one rep."""
    return item.key[1] != "rest" or any(
        isinstance(s, Press) and s.position == item.key[0] and s.reps > 1
        for s in _walk(routine.steps)
    )


def _walk(steps: tuple[object, ...]) -> Iterator[object]:
    for step in steps:
        yield step
        if isinstance(step, Sides | Repeat):
            yield from _walk(step.steps)
        elif isinstance(step, Include):
            yield from _walk(step.routine.steps)
