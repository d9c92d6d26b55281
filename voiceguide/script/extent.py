"""How big a routine is, counted without expanding it: declared time and cues, bounded.

A ``repeat: 20`` around a ``repeat: 20``… multiplies; so do includes of includes. These
counts multiply instead of expanding, so that a routine that would last days, or lay out
millions of cues, is refused at the line that makes it so, in microseconds. ``timed_ms``
is exact for what the routine declares (pauses, finds, holds, rests, activities), and so a
lower bound of its length; ``cues`` is an upper bound of the cues the compiler lays out.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceguide.script.model import (
    Activity,
    Include,
    Pause,
    Press,
    Routine,
    Say,
    Sides,
    Sound,
    Step,
)

OWN_CUES = 2
"""Speech or a sound that takes its own time: the sound and the breath after it."""
NAMED_CUES = 3 * OWN_CUES
"""Phrases of a press around its holds: the point described, its name, the first cue."""


def _timed_cues(events: int) -> int:
    """A timed phase: a silence before each event, the event, and the silence at its end."""
    return 2 * events + 1


@dataclass(frozen=True)
class Extent:
    """Declared time (a lower bound of length) and an upper bound of cues."""

    timed_ms: int = 0
    cues: int = 0

    def __add__(self, other: Extent) -> Extent:
        return Extent(self.timed_ms + other.timed_ms, self.cues + other.cues)

    def __mul__(self, times: int) -> Extent:
        return Extent(self.timed_ms * times, self.cues * times)


Memo = dict[int, Extent]
"""Extents already counted, by ``id`` of the routine or block (the objects stay alive)."""


def of_steps(steps: tuple[Step, ...], memo: Memo) -> Extent:
    """The extent of ``steps`` run once, in order."""
    total = Extent()
    for step in steps:
        total += of_step(step, memo)
    return total


def of_routine(routine: Routine, memo: Memo) -> Extent:
    """The extent of a routine's steps (without its introduction)."""
    key = id(routine)
    if key not in memo:
        memo[key] = of_steps(routine.steps, memo)
    return memo[key]


def of_step(step: Step, memo: Memo) -> Extent:
    """The extent of one step, blocks multiplied by their rounds and sides."""
    if isinstance(step, Say | Sound):
        return Extent(0, OWN_CUES)
    if isinstance(step, Pause):
        return Extent(step.duration_ms, 1)
    if isinstance(step, Press):
        inside = len(step.prompts) + int(step.halfway) + step.countdown + 1  # +1: press sound
        holds = step.reps * _timed_cues(inside)
        rests = (step.reps - 1) * _timed_cues(3)  # release sound, 'release', next press cue
        timed = step.find_ms + step.reps * step.hold_ms + (step.reps - 1) * step.rest_ms
        return Extent(timed, NAMED_CUES + 1 + holds + rests + 2 * OWN_CUES)
    if isinstance(step, Activity):
        inside = len(step.prompts) + int(step.halfway) + step.countdown
        return Extent(step.duration_ms, 2 * OWN_CUES + _timed_cues(inside))
    if isinstance(step, Include):
        return of_routine(step.routine, memo)
    key = id(step)
    if key not in memo:
        inner = of_steps(step.steps, memo)
        if isinstance(step, Sides):
            switches = Extent(0, OWN_CUES * (len(step.sides) - 1))
            memo[key] = inner * len(step.sides) + switches
        else:
            memo[key] = inner * step.rounds
    return memo[key]
