"""What is said in answer to a key: where the session is, how long is left, the volume.

This module chooses what to tell from the timeline (the step, side, round, press, time left);
the words themselves are in :mod:`voiceguide.compile.phrases`, with every other sentence
voiceguide says.
"""

from __future__ import annotations

from voiceguide.compile import phrases
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.play.navigation import TIMED_PHASES, Step, phase_end, step_at


def _rounds(timeline: Timeline, cue: Cue) -> int:
    """How many rounds the repeat that ``cue`` is in has (its largest round number)."""
    return max(
        (c.round or 0 for c in timeline.cues if c.top_step == cue.top_step and c.side == cue.side),
        default=cue.round or 0,
    )


def place_words(timeline: Timeline, position: int) -> str:
    """Say where ``position`` is: 'left side, hold, second of three, twelve seconds left'."""
    if not timeline.cues:
        return ""
    index = timeline.index_at(position)
    cue = timeline.cues[index]
    parts = []
    if cue.chapter and cue.chapter != timeline.title:  # the routine's own title says nothing
        parts.append(cue.chapter[:1].lower() + cue.chapter[1:])
    if cue.side and cue.side.lower() not in cue.chapter.lower():
        parts.append(phrases.side_named(cue.side))
    if cue.round:
        parts.append(phrases.round_of(cue.round, _rounds(timeline, cue)))
    phase = phrases.PHASE_NAMES.get(cue.phase)
    if phase and cue.chapter.lower() != phase:
        parts.append(phase)
    if cue.rep and cue.reps and cue.reps > 1 and cue.phase in {"hold", "rest"}:
        resting = cue.phase == "rest"
        press = cue.rep + 1 if resting else cue.rep  # a rest leads to the next press
        parts.append(phrases.press_of(press, cue.reps, resting=resting))
    if cue.phase in TIMED_PHASES:
        left = phase_end(timeline, index) - position
        if left >= timeline.sample_rate:  # under a second: not worth saying
            parts.append(phrases.time_left(left * 1000 // timeline.sample_rate))
    return ", ".join(parts)


def session_left_words(timeline: Timeline, position: int) -> str:
    """Say how long the session has to go: 'about four minutes left in the session'."""
    return phrases.session_left(max(0, timeline.total - position) * 1000 // timeline.sample_rate)


def where_words(timeline: Timeline, steps: list[Step], position: int) -> str:
    """The answer to 'where am I': step, side, round, time left in the phase and the session."""
    sentences = []
    if steps:
        step = steps[step_at(steps, position)]
        sentences.append(phrases.step_of(step.number, steps[-1].number))
    place = place_words(timeline, position)
    if place and place != phrases.PHASE_NAMES["intro"]:
        sentences.append(place)
    sentences.append(session_left_words(timeline, position))
    return " ".join(phrases.sentence(s) for s in sentences)


def resume_words(timeline: Timeline, position: int, steps: list[Step] | None = None) -> str:
    """What is said on resuming: 'Resuming: left side, hold, twelve seconds left.'"""
    place = place_words(timeline, position)
    if not place and steps:  # between instructions: say which step
        place = phrases.step_named(steps[step_at(steps, position)].number)
    return phrases.resuming(place)
