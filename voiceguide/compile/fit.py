"""Fit a session to a length: scale holds, rests, pauses and activities, then reps.

Pure and deterministic: a routine, the lengths of its phrases and a length in; a
:class:`Fit` out (the length of each scaled duration and the count of each press), which
the planner reads in place of the durations and counts as written. Speech is never
scaled: what changes is the silence around it.

**Bounds.** Each duration (a press's hold and rest, a pause, an activity) may go from half
to twice its written length (:data:`~voiceguide.script.spec.FIT_SHORTEST_PCT`,
:data:`~voiceguide.script.spec.FIT_LONGEST_PCT`), or as far as its own ``min:`` and
``max:`` say; never so short that what is said inside it no longer fits. A press's reps
may go from 1 to twice as many, or within its ``min:`` and ``max:``. The time to find a
point, the lead-in and speech keep their own lengths.

**The solve** (:func:`fit_length`), in integer parts per million, by bisection:

1. one factor for every duration, each held within its bounds; holds written in whole
   seconds stay whole seconds, since the cue before them says how long they last;
2. only if the durations at their bounds cannot reach the length, the reps: as few
   changed as will do, by one factor for every press;
3. then, holds and reps fixed, one factor for the quiet durations alone (rests, pauses,
   activities), to the millisecond, so the session lands within a second of the length.

Steps 1 and 2 measure what the routine says with the real lengths (``prepare`` makes it
first), and the speech that depends on the fit (the cue that says how long a hold lasts,
the count of presses, the length the introduction says) with ``estimate``, so that no phrase
is made that the fit may not use; step 3 uses the real lengths of everything, once
``prepare`` has made the phrases the fit chose.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from voiceguide.compile.layout import Layout, measure
from voiceguide.compile.lengths import Lengths
from voiceguide.compile.options import CompileOptions
from voiceguide.compile.plan import Planner, Timed
from voiceguide.compile.scalables import PPM, SCALED, Fit, Key, scalables
from voiceguide.errors import SettingError
from voiceguide.script.durations import format_ms
from voiceguide.script.model import Routine

__all__ = ["Fit", "fit_length"]

TOLERANCE_MS = 1_000
"""How close to the length asked a fitted session lands."""
FLOOR_STEP_MS = 10
"""How finely the shortest length at which a phase's speech fits is found."""


class KnownFirst:
    """Lengths of the phrases in ``known`` from ``lengths``, of any other from ``estimate``."""

    def __init__(self, lengths: Lengths, estimate: Lengths, known: set[str]) -> None:
        self.lengths, self.estimate, self.known = lengths, estimate, known

    @property
    def sample_rate(self) -> int:
        """Samples per second (the real lengths')."""
        return self.lengths.sample_rate

    def speech_samples(self, text: str) -> int:
        """The real length of a known phrase, else an estimate at the same rate."""
        if text in self.known:
            return self.lengths.speech_samples(text)
        estimated = self.estimate.speech_samples(text)
        return estimated * self.sample_rate // self.estimate.sample_rate

    def sound_samples(self, name: str) -> int:
        """The real length of a sound."""
        return self.lengths.sound_samples(name)


class Solver:
    """The session's length as a function of the fit's factors, measured with ``lengths``."""

    def __init__(
        self,
        routine: Routine,
        lengths: Lengths,
        options: CompileOptions,
        announce: Lengths | None = None,
    ) -> None:
        self.routine, self.lengths, self.announce = routine, lengths, announce
        self.length_ms = options.length_ms or 0
        self.base = replace(options, fit=None, length_ms=None, pace=1.0)
        self.durations, self.counts = scalables(routine)
        self.floors: dict[Key, int] = {}

    def fit(self, factor: int, reps: int) -> Fit:
        """Steps 1 and 2: every duration at ``factor``, every press's reps at ``reps``."""
        durations = tuple(
            (item.key, item.at(factor, self.floors.get(item.key, 0))) for item in self.durations
        )
        counts = tuple((c.position, c.at(reps)) for c in self.counts)
        return Fit(self.length_ms, durations, counts)

    def tuned(self, chosen: Fit, quiet: int) -> Fit:
        """Step 3: the holds and reps of ``chosen``, the other durations at ``quiet``."""
        durations = tuple(
            (
                item.key,
                chosen.duration(*item.key, item.written_ms)
                if item.key[1] == "hold"
                else item.at(quiet, self.floors.get(item.key, 0)),
            )
            for item in self.durations
        )
        return Fit(self.length_ms, durations, chosen.counts)

    def total_ms(self, fit: Fit) -> int:
        """How long the session lasts with ``fit``."""
        from voiceguide.compile.compiler import segments_of

        options = replace(self.base, fit=fit)
        return (
            measure(segments_of(self.routine, self.lengths, options, self.announce), self.lengths)
            * 1000
            // (self.lengths.sample_rate)
        )

    def find_floors(self) -> None:
        """Find, for each duration that holds speech, the shortest length at which it fits.

        Every duration is bisected at once, between its lowest bound and its length as
        written (where the routine's own compile has checked it fits).
        """
        spans = {item.key: (item.low_ms, item.written_ms) for item in self.durations}
        floors = {key: low for key, (low, _) in spans.items()}
        fits = self._fits(floors)
        open_ = {key: span for key, span in spans.items() if not fits.get(key, True)}
        while open_:
            trial = {key: (low + high) // 2 for key, (low, high) in open_.items()}
            fits = self._fits({**floors, **trial})
            for key, (low, high) in list(open_.items()):
                span = (low, trial[key]) if fits.get(key, True) else (trial[key], high)
                if span[1] - span[0] <= FLOOR_STEP_MS:
                    floors[key] = span[1]
                    del open_[key]
                else:
                    open_[key] = span
        self.floors = floors

    def _fits(self, lengths_ms: dict[Key, int]) -> dict[Key, bool]:
        """Whether each duration's speech fits at these lengths, with the fewest reps, the
        reps as written and the most (the cues in a rest count the presses)."""
        found: dict[Key, bool] = {}
        for reps in (0, PPM, _most_reps(self)):
            counts = tuple((c.position, c.at(reps)) for c in self.counts)
            fit = Fit(self.length_ms, tuple(lengths_ms.items()), counts)
            for segment in Planner(self.routine, self.lengths, replace(self.base, fit=fit)).body():
                if not isinstance(segment, Timed) or not segment.events:
                    continue
                source, what = segment.where.source, SCALED.get(segment.phase)
                if source is None or what is None:
                    continue
                key: Key = (source, what)
                layout = Layout(self.lengths)
                layout.place(segment)
                found[key] = found.get(key, True) and not layout.problems
        return found


def _last_at_most(total: Callable[[int], int], low: int, high: int, target: int) -> int:
    """The largest factor in ``[low, high]`` whose total is at most ``target``.

    Totals rise with the factor; ``total(low)`` is at most ``target`` (else ``low``).
    """
    if total(high) <= target:
        return high
    while high - low > 1:
        middle = (low + high) // 2
        if total(middle) <= target:
            low = middle
        else:
            high = middle
    return low


def _nearest(total: Callable[[int], int], low: int, high: int, target: int) -> int:
    """The factor in ``[low, high]`` whose total is nearest ``target``."""
    below = _last_at_most(total, low, high, target)
    above = min(below + 1, high)
    return below if abs(total(below) - target) <= abs(total(above) - target) else above


def fit_length(
    routine: Routine,
    lengths: Lengths,
    options: CompileOptions,
    *,
    estimate: Lengths | None = None,
    prepare: Callable[[list[str]], None] | None = None,
    announce: Lengths | None = None,
) -> Fit:
    """Solve the fit that makes ``routine`` last ``options.length_ms`` (see the module doc).

    ``estimate`` measures the speech that depends on the fit while holds and reps are
    chosen (default: ``lengths``); ``prepare`` is handed the phrases to make ready before
    they are measured with ``lengths``; ``announce`` measures the length the introduction
    says, as the compile will (:func:`~voiceguide.compile.compiler.segments_of`). Raises
    :class:`SettingError` (``length``) when no fit within the bounds comes within a second,
    saying the shortest and longest possible.
    """
    from voiceguide.compile.compiler import phrases_of

    def ready(fit: Fit | None) -> set[str]:
        texts = phrases_of(routine, lengths, replace(options, fit=fit, length_ms=None, pace=1.0))
        if prepare is not None:
            prepare(texts)
        return set(texts)

    target = options.length_ms
    if target is None:
        raise ValueError("fit_length needs options.length_ms")
    known = ready(None)
    guess: Lengths = lengths if estimate is None else KnownFirst(lengths, estimate, known)
    chosen = _choose(Solver(routine, guess, options, announce), target, routine.name)
    if chosen is None:  # perhaps reachable with real lengths all through
        solver = Solver(routine, lengths, options, announce)
        solver.find_floors()
        ready(solver.fit(0, 0))
        ready(solver.fit(_most(solver), _most_reps(solver)))
        chosen = _choose(solver, target, routine.name, final=True)
        assert chosen is not None
    ready(chosen)
    real = Solver(routine, lengths, options, announce)
    real.find_floors()
    tuned = _tune(real, chosen, target)
    if abs(real.total_ms(tuned) - target) <= TOLERANCE_MS:
        return tuned
    # The estimate led the holds astray: choose them again with real lengths throughout.
    again = _choose(real, target, routine.name, final=True)
    assert again is not None
    ready(again)
    tuned = _tune(real, again, target)
    if abs(real.total_ms(tuned) - target) > TOLERANCE_MS:
        raise SettingError(
            "length",
            f"{routine.name} cannot be fitted to within a second of {format_ms(target)} "
            f"(it comes to {format_ms(real.total_ms(tuned))}); try a length a little longer "
            "or shorter",
        )
    return tuned


def _most(solver: Solver) -> int:
    """The factor at which every duration is at its longest."""
    factors = (-(-item.high_ms * PPM // item.written_ms) for item in solver.durations)
    return max(factors, default=PPM)


def _most_reps(solver: Solver) -> int:
    """The factor at which every press has its most reps."""
    return max((-(-c.high * PPM // c.written) for c in solver.counts), default=PPM)


def _choose(solver: Solver, target: int, name: str, *, final: bool = False) -> Fit | None:
    """Steps 1 and 2: the holds and reps; ``None`` if out of reach (an error if ``final``)."""
    solver.find_floors()
    most, most_reps = _most(solver), _most_reps(solver)

    def total(factor: int, reps: int) -> int:
        return solver.total_ms(solver.fit(factor, reps))

    shortest, longest = total(0, 0), total(most, most_reps)
    if not shortest - TOLERANCE_MS <= target <= longest + TOLERANCE_MS:
        if not final:
            return None
        if longest - shortest < TOLERANCE_MS:
            raise SettingError(
                "length",
                f"{name} lasts {format_ms(shortest)} and cannot be made shorter or longer; "
                f"got {format_ms(target)}",
            )
        raise SettingError(
            "length",
            f"{name} lasts between {format_ms(shortest)} and {format_ms(longest)}; "
            f"got {format_ms(target)}",
        )
    reps = PPM
    if target < total(0, PPM):  # fewer presses, as few fewer as will do
        reps = _last_at_most(lambda g: total(0, g), 0, PPM, target)
    elif target > total(most, PPM):  # more presses, as few more as will do
        below = _last_at_most(lambda g: total(most, g), PPM, most_reps, target)
        reps = below if total(most, below) >= target - TOLERANCE_MS else min(below + 1, most_reps)
        while reps < most_reps and total(most, reps) < target - TOLERANCE_MS:
            reps += 1  # the count changes at a threshold further on
    factor = _nearest(lambda f: total(f, reps), 0, most, target)
    return solver.fit(factor, reps)


def _tune(solver: Solver, chosen: Fit, target: int) -> Fit:
    """Step 3: holds and reps as ``chosen``, the quiet durations to the millisecond."""
    quiet = _nearest(lambda q: solver.total_ms(solver.tuned(chosen, q)), 0, _most(solver), target)
    return solver.tuned(chosen, quiet)
