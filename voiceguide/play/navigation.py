"""Where the keys and ``--from`` move to, worked out on the timeline alone (no device, no clock).

A session is divided into *steps* for moving about: the introduction (step 0), then each
top-level step of the routine (:attr:`~voiceguide.compile.timeline.Cue.top_step`), split
further where the side, the round or the chapter changes. A step starts where its first cue
starts; a stretch with nothing said (a pause, the closing sound) belongs to the step before
it. The functions here find the targets of next, previous and repeat, where a phase ends,
and where ``--from`` starts.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.errors import SettingError

PREVIOUS_GRACE_MS = 3000
"""Within this much of a step's start, 'previous' goes to the step before, not back to its start."""
REPEAT_GRACE_MS = 1000
"""Within this much of an instruction's start, 'repeat' means the instruction before it."""
INSTRUCTION_PHASES = frozenset({"intro", "instruction", "find", "activity"})
"""Speech in these phases is an instruction (what to do), as opposed to a cue (press, rest)."""
TIMED_PHASES = frozenset({"hold", "rest", "pause", "activity", "find"})
"""Phases that last a set time, so have time left to tell."""


@dataclass(frozen=True)
class Step:
    """A place to move to: the introduction, or a step of the routine."""

    number: int
    """0 for the introduction, then 1, 2, … in order."""
    start: int
    """First sample."""
    end: int
    title: str
    """The chapter it belongs to: ``Introduction``, ``Right side``, the routine's title."""
    text: str
    """The first thing said in it."""


def _step_key(cue: Cue) -> tuple[int | None, str, str | None, int | None]:
    return (cue.top_step, cue.chapter, cue.side, cue.round)


def steps_of(timeline: Timeline) -> list[Step]:
    """Divide the session into steps (see the module's docstring)."""
    runs: list[tuple[int, int, list[Cue]]] = []  # start, end, cues
    key: object = None
    for cue in timeline.cues:
        here = _step_key(cue)
        if runs and here == key:
            start, _, cues = runs[-1]
            cues.append(cue)
            runs[-1] = (start, cue.end, cues)
        else:
            runs.append((cue.start, cue.end, [cue]))
            key = here
    merged: list[tuple[int, int, list[Cue]]] = []
    leading: int | None = None  # start of a silent stretch before the first words
    for start, end, cues in runs:
        speech = [c for c in cues if c.kind == "speech"]
        if not speech:
            if merged:
                merged[-1] = (merged[-1][0], end, merged[-1][2])
            elif leading is None:
                leading = start
            continue
        merged.append((start if leading is None else leading, end, speech))
        leading = None
    if not merged:  # nothing is said at all: one step
        return [Step(1, 0, timeline.total, timeline.title, "")] if timeline.cues else []
    steps = []
    has_intro = merged[0][2][0].phase == "intro"  # only the introduction speaks in it
    for i, (start, end, speech) in enumerate(merged):
        number = i if has_intro else i + 1
        steps.append(Step(number, start, end, speech[0].chapter, speech[0].text))
    return steps


def step_at(steps: list[Step], position: int) -> int:
    """Index in ``steps`` of the step playing at ``position``."""
    starts = [s.start for s in steps]
    return max(0, bisect.bisect_right(starts, position) - 1)


def sound_start(timeline: Timeline, position: int) -> int:
    """Where to start again so as not to cut into a sound: its start, if inside one."""
    if not timeline.cues:
        return 0
    cue = timeline.cues[timeline.index_at(position)]
    if cue.kind != "silence" and cue.start < position < cue.end:
        return cue.start
    return min(position, timeline.total)


def next_step_start(steps: list[Step], position: int) -> int | None:
    """Start of the step after the one at ``position``; ``None`` in the last step."""
    if not steps:
        return None
    i = step_at(steps, position)
    return steps[i + 1].start if i + 1 < len(steps) else None


def previous_step_start(steps: list[Step], position: int, sample_rate: int) -> int:
    """Start of the current step, or of the one before when just past its start."""
    if not steps:
        return 0
    i = step_at(steps, position)
    if position - steps[i].start < PREVIOUS_GRACE_MS * sample_rate // 1000 and i > 0:
        return steps[i - 1].start
    return steps[i].start


def last_instruction_start(timeline: Timeline, position: int) -> int | None:
    """Start of the latest instruction at or before ``position`` (see :data:`REPEAT_GRACE_MS`)."""
    grace = REPEAT_GRACE_MS * timeline.sample_rate // 1000
    found: list[Cue] = []
    for cue in timeline.cues:
        if cue.start > position:
            break
        if cue.kind == "speech" and cue.phase in INSTRUCTION_PHASES:
            found.append(cue)
    if len(found) >= 2 and position - found[-1].start < grace:
        return found[-2].start
    return found[-1].start if found else None


def phase_end(timeline: Timeline, index: int) -> int:
    """End of the stretch of cues that share the phase, step and press of cue ``index``."""
    cues = timeline.cues
    first = cues[index]
    i = index
    while i + 1 < len(cues):
        nxt = cues[i + 1]
        if (nxt.phase, nxt.step, nxt.side, nxt.round, nxt.rep) != (
            first.phase, first.step, first.side, first.round, first.rep
        ):  # fmt: skip
            break
        i += 1
    return cues[i].end


# -- --from ------------------------------------------------------------------------------------

_CLOCK_TEXT = re.compile(r"\d+:\d{2}(:\d{2})?(\.\d{1,3})?")
_UNIT_TEXT = re.compile(r"(\d+(\.\d+)?(h|m|s|ms))+")


def parse_from(text: str, timeline: Timeline, steps: list[Step] | None = None) -> int:
    """Find where to start: a step number, a time (``M:SS``) or a step's title.

    A time inside a sound starts at that sound's beginning. Raises :class:`SettingError`
    for the setting ``from`` when ``text`` names no place in the session.
    """
    from voiceguide.script.durations import DurationSyntaxError, format_clock, parse_duration_ms

    steps = steps_of(timeline) if steps is None else steps
    value = text.strip()
    if value.isdigit():
        number = int(value)
        for step in steps:
            if step.number == number:
                return step.start
        low, high = (steps[0].number, steps[-1].number) if steps else (1, 0)
        raise SettingError(
            "from",
            f"expected a step number from {low} to {high} "
            f"('voiceguide play ROUTINE --steps' lists them), got {number}",
        )
    if _CLOCK_TEXT.fullmatch(value) or _UNIT_TEXT.fullmatch(value.lower()):
        try:
            ms = parse_duration_ms(value)
        except DurationSyntaxError:
            raise SettingError("from", f"expected a time such as 2:30, got {value!r}") from None
        if ms >= timeline.total_ms:
            raise SettingError(
                "from",
                f"{value} is past the end of the session ({format_clock(timeline.total_ms)})",
            )
        return sound_start(timeline, ms * timeline.sample_rate // 1000)
    wanted = value.casefold()
    exact = [s for s in steps if s.title.casefold() == wanted]
    partial = [s for s in steps if wanted and wanted in s.title.casefold()]
    found = exact or partial
    titles = list(dict.fromkeys(s.title for s in found))
    if len(titles) == 1:
        return found[0].start
    known = ", ".join(repr(t) for t in dict.fromkeys(s.title for s in steps))
    if not found:
        raise SettingError(
            "from",
            f"expected a step number, a time (M:SS) or a step's title ({known}), got {value!r}",
        )
    listed = ", ".join(repr(t) for t in titles)
    raise SettingError("from", f"{value!r} matches several steps ({listed}); say which")
