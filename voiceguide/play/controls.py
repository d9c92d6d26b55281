"""What the keys do during playback, worked out on the timeline alone (no device, no clock).

A session is divided into *steps* for moving about: the introduction (step 0), then each
top-level step of the routine (:attr:`~voiceguide.compile.timeline.Cue.top_step`), split
further where the side, the round or the chapter changes. A step starts where its first cue
starts; a stretch with nothing said (a pause, the closing sound) belongs to the step before
it. :class:`Controller` turns a key into an :class:`Action`: where the main audio goes on,
whether it plays or waits, and what is said first. Playback (:mod:`voiceguide.play.playback`)
carries the actions out.
"""

from __future__ import annotations

import bisect
import enum
import re
from dataclasses import dataclass
from typing import Literal

from voiceguide.compile import phrases
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.errors import UsageError


class Command(enum.Enum):
    """Something the listener asks for."""

    PAUSE = "pause / resume"
    NEXT = "next step"
    PREVIOUS = "previous step (twice: the one before)"
    REPEAT = "repeat the last instruction"
    WHERE = "where am I: step, side, round and time left"
    LOUDER = "louder"
    SOFTER = "softer"
    QUIT = "quit"
    SUSPEND = "suspend (Ctrl-Z)"


KEYS: dict[bytes, Command] = {
    b" ": Command.PAUSE,
    b"n": Command.NEXT,
    b"\x1b[C": Command.NEXT,  # right arrow
    b"\x1bOC": Command.NEXT,
    b"p": Command.PREVIOUS,
    b"\x1b[D": Command.PREVIOUS,  # left arrow
    b"\x1bOD": Command.PREVIOUS,
    b"r": Command.REPEAT,
    b"w": Command.WHERE,
    b"+": Command.LOUDER,
    b"=": Command.LOUDER,
    b"\x1b[A": Command.LOUDER,  # up arrow
    b"\x1bOA": Command.LOUDER,
    b"-": Command.SOFTER,
    b"\x1b[B": Command.SOFTER,  # down arrow
    b"\x1bOB": Command.SOFTER,
    b"q": Command.QUIT,
}
"""Key bytes (lower case; capitals work too) and what they do."""

KEY_HELP: tuple[tuple[str, Command], ...] = (
    ("Space", Command.PAUSE),
    ("n, Right", Command.NEXT),
    ("p, Left", Command.PREVIOUS),
    ("r", Command.REPEAT),
    ("w", Command.WHERE),
    ("+, Up", Command.LOUDER),
    ("-, Down", Command.SOFTER),
    ("q", Command.QUIT),
)
"""The keys as documented in ``--help`` and docs/play.md."""

_ESCAPE = re.compile(rb"\x1b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])|\x1b|.", re.DOTALL)


def parse_keys(data: bytes) -> list[Command]:
    """Split bytes read from a terminal into commands; unknown keys are ignored."""
    commands = []
    for match in _ESCAPE.finditer(data):
        key = match.group()
        command = KEYS.get(key if key.startswith(b"\x1b") else key.lower())
        if command is not None:
            commands.append(command)
    return commands


# -- steps -----------------------------------------------------------------------------------

PREVIOUS_GRACE_MS = 3000
"""Within this much of a step's start, 'previous' goes to the step before, not back to its start."""
REPEAT_GRACE_MS = 1000
"""Within this much of an instruction's start, 'repeat' means the instruction before it."""
INSTRUCTION_PHASES = frozenset({"intro", "instruction", "find", "activity"})
"""Speech in these phases is an instruction (what to do), as opposed to a cue (press, rest)."""


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


# -- words ------------------------------------------------------------------------------------

_PHASE_WORDS = {
    "intro": "introduction",
    "find": "finding the point",
    "hold": "hold",
    "rest": "rest",
    "release": "release",
    "activity": "activity",
    "pause": "pause",
    "closing": "the end",
}
TIMED_PHASES = frozenset({"hold", "rest", "pause", "activity", "find"})
"""Phases that last a set time, so have time left to tell."""

LOUDEST = "This is as loud as it goes."
QUIETEST = "This is as quiet as it goes."
LAST_STEP = "This is the last step."
RESUMING = "Resuming"


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


def _rounds(timeline: Timeline, cue: Cue) -> int:
    """How many rounds the repeat that ``cue`` is in has (its largest round number)."""
    return max(
        (c.round or 0 for c in timeline.cues if c.top_step == cue.top_step and c.side == cue.side),
        default=cue.round or 0,
    )


def _seconds_words(samples: int, sample_rate: int) -> str:
    return phrases.duration_words(samples * 1000 // sample_rate)


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
        parts.append(f"{cue.side} side")
    if cue.round:
        rounds = _rounds(timeline, cue)
        of = f" of {phrases.number_words(rounds)}" if rounds > 1 else ""
        parts.append(f"round {phrases.number_words(cue.round)}{of}")
    phase = _PHASE_WORDS.get(cue.phase)
    if phase and cue.chapter.lower() != phase:
        parts.append(phase)
    if cue.rep and cue.reps and cue.reps > 1 and cue.phase in {"hold", "rest"}:
        press = cue.rep if cue.phase == "hold" else cue.rep + 1  # a rest leads to the next press
        of = f"{phrases.ordinal_words(press)} of {phrases.number_words(cue.reps)}"
        parts.append(of if cue.phase == "hold" else f"before the {of}")
    if cue.phase in TIMED_PHASES:
        left = phase_end(timeline, index) - position
        if left >= timeline.sample_rate:  # under a second: not worth saying
            parts.append(f"{_seconds_words(left, timeline.sample_rate)} left")
    return ", ".join(parts)


def session_left_words(timeline: Timeline, position: int) -> str:
    """Say how long the session has to go: 'about four minutes left in the session'."""
    left_ms = max(0, timeline.total - position) * 1000 // timeline.sample_rate
    if left_ms < 120_000:
        return f"{phrases.duration_words(left_ms)} left in the session"
    minutes = round(left_ms / 60_000)
    return f"about {phrases.number_words(minutes)} minutes left in the session"


def where_words(timeline: Timeline, steps: list[Step], position: int) -> str:
    """The answer to 'where am I': step, side, round, time left in the phase and the session."""
    sentences = []
    if steps:
        step = steps[step_at(steps, position)]
        last = steps[-1].number
        if step.number == 0:
            sentences.append("Introduction")
        else:
            sentences.append(
                f"Step {phrases.number_words(step.number)} of {phrases.number_words(last)}"
            )
    place = place_words(timeline, position)
    if place and place != "introduction":
        sentences.append(place)
    sentences.append(session_left_words(timeline, position))
    return " ".join(phrases.sentence(s) for s in sentences)


def resume_words(timeline: Timeline, position: int, steps: list[Step] | None = None) -> str:
    """What is said on resuming: 'Resuming: left side, hold, twelve seconds left.'"""
    place = place_words(timeline, position)
    if not place and steps:  # between instructions: say which step
        number = steps[step_at(steps, position)].number
        place = f"step {phrases.number_words(number)}" if number else "the introduction"
    return phrases.sentence(f"{RESUMING}: {place}" if place else RESUMING)


def volume_words(volume_pct: int) -> str:
    """Say a volume: 'Volume, eighty percent.'"""
    return f"Volume, {phrases.number_words(volume_pct)} percent."


# -- the controller -------------------------------------------------------------------------

Then = Literal["play", "pause", "quit"]

VOLUME_STEP_PCT = 10
MIN_VOLUME_PCT = 10
MAX_VOLUME_PCT = 100
"""The rendered level is already loudness-matched to full scale; louder would clip."""


@dataclass(frozen=True)
class Action:
    """What playback does next: say something (optional), then play or wait at ``at``."""

    then: Then
    at: int
    """The sample the main audio goes on from (or waits at)."""
    say: str | None = None
    """Spoken first, as an interjection, with the main audio stopped."""
    volume_pct: int | None = None
    """The new volume, when it changed."""


def next_volume(volume_pct: int, *, louder: bool) -> int:
    """The volume one step louder or softer than ``volume_pct`` (the same at either end)."""
    wanted = volume_pct + (VOLUME_STEP_PCT if louder else -VOLUME_STEP_PCT)
    lowest = min(MIN_VOLUME_PCT, volume_pct)  # --volume may start below it
    return max(lowest, min(MAX_VOLUME_PCT, wanted))


def volumes_from(volume_pct: int) -> list[int]:
    """Every volume the keys can reach from ``volume_pct``, in the order first reached."""
    found = [volume_pct]
    for volume in found:  # grows as it goes: a breadth-first walk
        for louder in (True, False):
            reached = next_volume(volume, louder=louder)
            if reached not in found:
                found.append(reached)
    return found


class Controller:
    """Turn commands into actions for one session."""

    def __init__(self, timeline: Timeline, *, volume_pct: int = 100) -> None:
        """Control ``timeline``, starting at ``volume_pct`` percent."""
        self.timeline = timeline
        self.steps = steps_of(timeline)
        self.volume_pct = volume_pct

    def fixed_sentences(self) -> list[str]:
        """Every answer whose words do not depend on where the session is, likeliest first.

        These are said again and again, so they are worth making ready once and keeping;
        the others ("Resuming: left side, hold, twelve seconds left.") are said once.
        """
        volumes = [volume_words(v) for v in volumes_from(self.volume_pct)]
        return [phrases.PAUSED, LOUDEST, QUIETEST, LAST_STEP, *volumes]

    def handle(self, command: Command, *, position: int, paused: bool) -> Action:
        """Decide what ``command`` does at ``position`` (playing, or paused there)."""
        timeline = self.timeline
        here = sound_start(timeline, position)
        carry_on: Then = "pause" if paused else "play"
        if command is Command.QUIT:
            return Action("quit", here)
        if command is Command.SUSPEND:
            return Action("pause", here)
        if command is Command.PAUSE:
            if paused:
                return Action("play", here, resume_words(timeline, here, self.steps))
            return Action("pause", here, phrases.PAUSED)
        if command is Command.WHERE:
            return Action(carry_on, here, where_words(timeline, self.steps, position))
        if command is Command.NEXT:
            target = next_step_start(self.steps, position)
            if target is None:
                return Action(carry_on, here, LAST_STEP)
            return Action("play", target)
        if command is Command.PREVIOUS:
            return Action("play", previous_step_start(self.steps, position, timeline.sample_rate))
        if command is Command.REPEAT:
            target = last_instruction_start(timeline, position)
            return Action("play", here if target is None else target)
        if command in (Command.LOUDER, Command.SOFTER):
            louder = command is Command.LOUDER
            volume = next_volume(self.volume_pct, louder=louder)
            if volume == self.volume_pct:
                return Action(carry_on, here, LOUDEST if louder else QUIETEST)
            self.volume_pct = volume
            # Playing, the change is heard at once; paused, it is said.
            say = volume_words(volume) if paused else None
            return Action(carry_on, here, say, volume_pct=volume)
        raise AssertionError(command)  # pragma: no cover - every command is handled above


# -- --from ------------------------------------------------------------------------------------

_CLOCK_TEXT = re.compile(r"\d+:\d{2}(:\d{2})?(\.\d{1,3})?")
_UNIT_TEXT = re.compile(r"(\d+(\.\d+)?(h|m|s|ms))+")


def parse_from(text: str, timeline: Timeline, steps: list[Step] | None = None) -> int:
    """Find where ``--from`` says to start: a step number, a time (``M:SS``) or a step's title.

    A time inside a sound starts at that sound's beginning.
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
        raise UsageError(
            f"--from: expected a step number from {low} to {high} "
            f"('voiceguide play ROUTINE --steps' lists them), got {number}"
        )
    if _CLOCK_TEXT.fullmatch(value) or _UNIT_TEXT.fullmatch(value.lower()):
        try:
            ms = parse_duration_ms(value)
        except DurationSyntaxError:
            raise UsageError(f"--from: expected a time such as 2:30, got {value!r}") from None
        if ms >= timeline.total_ms:
            raise UsageError(
                f"--from: {value} is past the end of the session "
                f"({format_clock(timeline.total_ms)})"
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
        raise UsageError(
            f"--from: expected a step number, a time (M:SS) or a step's title "
            f"({known}), got {value!r}"
        )
    listed = ", ".join(repr(t) for t in titles)
    raise UsageError(f"--from: {value!r} matches several steps ({listed}); say which")
