"""Plan a routine: walk its steps and say what is heard, in order, as segments.

A segment is speech or a sound that takes its own time (:class:`Own`), or a phase of an
exact length with sounds placed inside it (:class:`Timed`): a hold, a rest, a pause.
Planning needs no lengths; :mod:`voiceguide.compile.layout` measures and places them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from voiceguide.compile import phrases
from voiceguide.compile.lengths import Lengths
from voiceguide.compile.options import CompileOptions, Scaled
from voiceguide.compile.timeline import CueKind, Phase
from voiceguide.errors import Position
from voiceguide.pcm import ms_to_samples
from voiceguide.script.durations import format_ms
from voiceguide.script.model import (
    Activity,
    Include,
    Offset,
    Pause,
    Press,
    Prompt,
    Repeat,
    Routine,
    Say,
    Sides,
    Sound,
    Step,
)

BREATH_AFTER_SPEECH_MS = 600
"""Silence after an instruction before whatever comes next."""
BREATH_AFTER_TONE_MS = 300
"""Silence after a sound that is not inside a timed phase."""
GAP_BEFORE_PRESS_MS = 300
"""Silence between the 'press' cue spoken in a rest and the press sound."""


@dataclass(frozen=True)
class Where:
    """Where the compiler is in the routine: for labels on every cue."""

    chapter: str
    step: str = ""
    source: Position | None = None
    side: str | None = None
    round: int | None = None
    rep: int | None = None
    reps: int | None = None
    top_step: int | None = None
    values: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Own:
    """Speech or a sound that takes its own length, then a breath of silence."""

    kind: CueKind
    text: str
    phase: Phase
    where: Where
    breath_ms: int


@dataclass(frozen=True)
class Event:
    """Something heard inside a timed phase."""

    kind: CueKind
    text: str
    at: int
    """Offset in samples from the phase start; from its end when ``end_aligned``."""
    source: Position | None
    label: str
    """How to name it in an error: "prompt at 50%", "the countdown tick at 27s"."""
    end_aligned: bool = False
    after_sound: bool = False
    """Start no earlier than the end of a sound at the phase start."""


@dataclass(frozen=True)
class Timed:
    """A phase of exactly ``samples`` length with sounds placed inside."""

    samples: int
    phase: Phase
    where: Where
    events: tuple[Event, ...]
    what: str
    """How to name the phase in an error: "the 30s hold"."""


Segment = Own | Timed


class Planner:
    """Walk the routine and produce segments; lengths are not needed yet."""

    def __init__(self, routine: Routine, lengths: Lengths, options: CompileOptions) -> None:
        self.routine = routine
        self.rate = lengths.sample_rate
        self.options = options
        tones = routine.settings.tones if options.tones is None else options.tones
        self.tones = tones is not False
        self.brief = options.detail == "brief"
        self.top_steps = 0
        """Top-level steps numbered so far in this round of the session."""

    def samples(self, ms: int) -> int:
        return ms_to_samples(ms, self.rate)

    def paced(self, ms: int) -> int:
        return round(ms * self.options.pace)

    def timed(self, step: Press | Pause | Activity, what: Scaled, declared_ms: int) -> int:
        """The length of one of ``step``'s durations: fitted to a length, or paced."""
        fit = self.options.fit
        if fit is not None:
            return fit.duration(step.position, what, declared_ms)
        return self.paced(declared_ms)

    def reps(self, step: Press) -> int:
        """How many times ``step`` presses: as written, or as fitted to a length."""
        fit = self.options.fit
        return fit.reps(step.position, step.reps) if fit is not None else step.reps

    def moved(self, ms: int, scale: tuple[int, int]) -> int:
        """Where a moment ``ms`` into a phase falls once the phase is paced or fitted."""
        if self.options.fit is None:
            return self.paced(ms)
        length_ms, written_ms = scale
        return (ms * length_ms + written_ms // 2) // written_ms

    def words(self, text: str, brief: str | None, where: Where) -> str:
        """What is said: ``text``, or ``brief`` with brief instructions; placeholders filled."""
        return phrases.fill(brief if self.brief and brief else text, where.values)

    # -- steps ----------------------------------------------------------

    def body(self) -> Iterator[Segment]:
        where = Where(chapter=self.routine.title)
        for round_ in range(1, self.options.repeat + 1):
            if self.options.repeat > 1:
                yield self.say(phrases.session_round(round_, self.options.repeat), where)
            self.top_steps = 0
            yield from self.steps(self.routine.steps, where, top=True, numbered=True)

    def steps(
        self, steps: tuple[Step, ...], where: Where, *, top: bool, numbered: bool = False
    ) -> Iterator[Segment]:
        """``numbered``: each of ``steps`` is a top-level step (see ``Cue.top_step``)."""
        for step in steps:
            here = replace(where, step=step.path, source=step.position)
            if numbered and not isinstance(step, Include):  # an include's steps are numbered
                here = replace(here, top_step=self.top_steps)
                self.top_steps += 1
            if top:
                title = _title(step)
                if title:
                    here = replace(here, chapter=title)
                    if isinstance(step, Say | Pause | Sound):
                        # A titled instruction starts a section that goes on; a titled
                        # block (an include, a press, sides) is a chapter of its own.
                        where = replace(where, chapter=title)
            yield from self.step(step, here, numbered=numbered)

    def step(self, step: Step, where: Where, *, numbered: bool = False) -> Iterator[Segment]:
        if isinstance(step, Say):
            yield self.say(self.words(step.text, step.brief, where), where)
        elif isinstance(step, Pause):
            samples = self.samples(self.timed(step, "pause", step.duration_ms))
            yield Timed(samples, "pause", where, (), f"the {format_ms(step.duration_ms)} pause")
        elif isinstance(step, Sound):
            if self.tones:
                yield Own("tone", step.name, "sound", where, BREATH_AFTER_TONE_MS)
        elif isinstance(step, Press):
            yield from self.press(step, where)
        elif isinstance(step, Activity):
            yield from self.activity(step, where)
        elif isinstance(step, Sides):
            for i, side in enumerate(step.sides):
                chapter = phrases.side_title(side)
                if step.title or where.chapter != self.routine.title:
                    chapter = f"{step.title or where.chapter}: {chapter.lower()}"
                here = replace(
                    where, side=side, chapter=chapter, values={**where.values, "side": side}
                )
                if i and self.tones:
                    yield Own("tone", "switch", "switch", here, BREATH_AFTER_TONE_MS)
                yield from self.steps(step.steps, here, top=False)
        elif isinstance(step, Repeat):
            for round_ in range(1, step.rounds + 1):
                values = {
                    **where.values,
                    "round": str(round_),
                    "rounds": str(step.rounds),
                    "ordinal": phrases.ordinal_words(round_),
                }
                here = replace(where, round=round_, values=values)
                yield from self.steps(step.steps, here, top=False)
        elif isinstance(step, Include):
            yield from self.steps(step.routine.steps, where, top=False, numbered=numbered)
        else:  # pragma: no cover - every step kind is handled above
            raise TypeError(step)

    def say(self, text: str, where: Where, phase: Phase = "instruction") -> Own:
        return Own("speech", text, phase, where, BREATH_AFTER_SPEECH_MS)

    def press(self, step: Press, where: Where) -> Iterator[Segment]:
        hold_ms = self.timed(step, "hold", step.hold_ms)
        rest_ms = self.timed(step, "rest", step.rest_ms)
        reps = self.reps(step)
        where = replace(where, reps=reps)
        if step.say:
            locate = self.words(step.say, step.say_brief, where)
        else:
            locate = phrases.locate(step.point, brief=self.brief)
        yield self.say(locate, where, "find")
        name = phrases.traditional_name(step.point)
        if name and where.round in (None, 1) and not self.brief:
            # Once where the point is found; the rounds of a repeat after the first only press.
            # Brief instructions are for someone who knows the point: its name is not repeated.
            yield self.say(name, where, "find")
        if step.find_ms:
            find = self.samples(self.paced(step.find_ms))
            yield Timed(find, "find", where, (), "the time to find the point")
        yield self.say(phrases.press_first(step.pressure, hold_ms, reps), where)
        hold = self.samples(hold_ms)
        rest = self.samples(rest_ms)
        for rep in range(1, reps + 1):
            here = replace(where, rep=rep)
            events = self.inside(
                step.prompts, step.halfway, step.countdown, hold, where, (hold_ms, step.hold_ms)
            )
            if self.tones:
                events.insert(0, Event("tone", "press", 0, step.position, "the press sound"))
            yield Timed(hold, "hold", here, tuple(events), f"the {format_ms(hold_ms)} hold")
            if rep == reps:
                break
            rest_events = [
                Event(
                    "speech", phrases.RELEASE_REST, 0, step.position, "'release' cue",
                    after_sound=True,
                ),
                Event(
                    "speech", phrases.press_next(rep + 1, reps),
                    self.samples(GAP_BEFORE_PRESS_MS), step.position, "the next press cue",
                    end_aligned=True,
                ),
            ]  # fmt: skip
            if self.tones:
                rest_events.insert(
                    0, Event("tone", "release", 0, step.position, "the release sound")
                )
            yield Timed(rest, "rest", here, tuple(rest_events), f"the {format_ms(rest_ms)} rest")
        last = replace(where, rep=reps)
        if self.tones:
            yield Own("tone", "release", "release", last, 0)
        yield self.say(phrases.RELEASE_LAST, last, "release")

    def activity(self, step: Activity, where: Where) -> Iterator[Segment]:
        duration_ms = self.timed(step, "activity", step.duration_ms)
        samples = self.samples(duration_ms)
        yield self.say(self.words(step.say, step.say_brief, where), where)
        events = self.inside(
            step.prompts, step.halfway, step.countdown, samples, where,
            (duration_ms, step.duration_ms),
        )  # fmt: skip
        yield Timed(
            samples, "activity", where, tuple(events), f"the {format_ms(duration_ms)} activity"
        )
        yield self.say(self.words(step.done, step.done_brief, where), where, "activity")

    def inside(
        self,
        prompts: tuple[Prompt, ...],
        halfway: bool,
        countdown: int,
        samples: int,
        where: Where,
        scale: tuple[int, int],
    ) -> list[Event]:
        """What is heard inside a phase of ``samples``; ``scale`` is its (length, as written).

        A prompt at a time moves with the phase: paced, or in proportion to a fitted length.
        """
        events = []
        for prompt in prompts:
            moment = prompt.at
            if moment.ms is not None:
                moment = Offset(ms=self.moved(moment.ms, scale))
            label = (
                f"prompt at {prompt.at.percent}%"
                if moment.percent is not None
                else (f"prompt at {format_ms(prompt.at.ms or 0)}")
            )
            events.append(
                Event(
                    "speech",
                    self.words(prompt.say, prompt.brief, where),
                    moment.resolve(samples, self.rate),
                    prompt.position,
                    label,
                    after_sound=True,
                )
            )
        if halfway:
            events.append(
                Event(
                    "speech", phrases.HALFWAY, samples // 2, where.source, "'halfway'",
                    after_sound=True,
                )
            )  # fmt: skip
        if self.tones:
            for k in range(countdown, 0, -1):
                at = samples - self.samples(k * 1000)
                events.append(
                    Event(
                        "tone", "tick", at, where.source, f"the countdown tick {k}s before the end"
                    )
                )
        return events

    def intro(self, session_ms: int | None) -> list[Segment]:
        """The introduction; it says the session lasts ``session_ms`` (left out if ``None``).

        The full one: the title, summary, posture, every caution and the length. The short
        one, for someone who has heard the full one: the title, one line of care, the length.
        """
        routine = self.routine
        where = Where(chapter="Introduction", step="intro")
        segments: list[Segment] = [self.say(f"{routine.title.rstrip('.')}.", where, "intro")]
        if self.options.intro == "short":
            segments.append(self.say(phrases.SHORT_CARE, where, "intro"))
        else:
            if routine.summary:
                segments.append(self.say(routine.summary, where, "intro"))
            segments.append(self.say(phrases.get_comfortable(routine.posture), where, "intro"))
            cautions = routine.all_cautions()
            if cautions:
                segments.append(self.say(phrases.BEFORE_CAUTIONS, where, "intro"))
                segments.extend(self.say(c, where, "intro") for c in cautions)
        if session_ms is not None:
            segments.append(self.say(phrases.session_length(session_ms), where, "intro"))
        if routine.settings.lead_in_ms:
            segments.append(
                Timed(self.samples(routine.settings.lead_in_ms), "intro", where, (), "lead-in")
            )
        return segments


def _title(step: Step) -> str | None:
    if isinstance(step, Include):
        return step.title or step.routine.title
    return step.title
