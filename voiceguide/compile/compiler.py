"""Compile a routine into a :class:`~voiceguide.compile.timeline.Timeline`.

Pure and deterministic: a routine, the lengths of its phrases and sounds, and
the options go in; a timeline comes out. No clock, no files, no randomness.

The timing rule: a declared duration is the wall time of its phase. ``hold:
30s`` runs from the press sound to the release sound, exactly; ``rest: 10s``
from the release sound to the next press sound. Speech placed inside a phase
must fit inside it, or compilation fails at that line. Speech between phases
(instructions) takes its own measured time, followed by a short breath.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from voiceguide.compile import phrases
from voiceguide.compile.lengths import Lengths
from voiceguide.compile.timeline import Cue, CueKind, Phase, Timeline
from voiceguide.errors import Position, Problem, ScriptError, UsageError
from voiceguide.script import spec
from voiceguide.script.durations import format_ms, ms_to_samples
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
MIN_PACE, MAX_PACE = 0.25, 4.0


@dataclass(frozen=True)
class CompileOptions:
    """Choices made at compile time, from the command line."""

    intro: bool = True
    """Say the title, posture, cautions and length before the first step."""
    tones: bool | None = None
    """Play sounds; ``None`` follows the routine's ``settings.tones``."""
    pace: float = 1.0
    """Multiply holds, rests, finds, pauses and activities by this (speech is unchanged)."""
    repeat: int = 1
    """Run the whole routine this many times."""

    def __post_init__(self) -> None:
        if not MIN_PACE <= self.pace <= MAX_PACE:
            raise UsageError(f"--pace: expected {MIN_PACE} to {MAX_PACE}, got {self.pace}")
        if not 1 <= self.repeat <= 20:
            raise UsageError(f"--repeat: expected 1 to 20, got {self.repeat}")


@dataclass(frozen=True)
class _Where:
    """Where the compiler is in the routine: for labels on every cue."""

    chapter: str
    step: str = ""
    source: Position | None = None
    side: str | None = None
    round: int | None = None
    rep: int | None = None
    reps: int | None = None
    values: dict[str, str] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class _Own:
    """Speech or a sound that takes its own length, then a breath of silence."""

    kind: CueKind
    text: str
    phase: Phase
    where: _Where
    breath_ms: int


@dataclass(frozen=True)
class _Event:
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
class _Timed:
    """A phase of exactly ``samples`` length with sounds placed inside."""

    samples: int
    phase: Phase
    where: _Where
    events: tuple[_Event, ...]
    what: str
    """How to name the phase in an error: "the 30s hold"."""


_Segment = _Own | _Timed


class _Builder:
    """Walk the routine and produce segments; lengths are not needed yet."""

    def __init__(self, routine: Routine, lengths: Lengths, options: CompileOptions) -> None:
        self.routine = routine
        self.rate = lengths.sample_rate
        self.options = options
        self.tones = routine.settings.tones if options.tones is None else options.tones

    def samples(self, ms: int) -> int:
        return ms_to_samples(ms, self.rate)

    def paced(self, ms: int) -> int:
        return round(ms * self.options.pace)

    # -- steps ----------------------------------------------------------

    def body(self) -> Iterator[_Segment]:
        where = _Where(chapter=self.routine.title)
        for round_ in range(1, self.options.repeat + 1):
            if self.options.repeat > 1:
                yield self.say(phrases.session_round(round_, self.options.repeat), where)
            yield from self.steps(self.routine.steps, where, top=True)

    def steps(self, steps: tuple[Step, ...], where: _Where, *, top: bool) -> Iterator[_Segment]:
        for step in steps:
            here = replace(where, step=step.path, source=step.position)
            if top:
                title = _title(step)
                if title:
                    here = replace(here, chapter=title)
                    if isinstance(step, Say | Pause | Sound):
                        # A titled instruction starts a section that goes on; a titled
                        # block (an include, a press, sides) is a chapter of its own.
                        where = replace(where, chapter=title)
            yield from self.step(step, here)

    def step(self, step: Step, where: _Where) -> Iterator[_Segment]:
        if isinstance(step, Say):
            yield self.say(phrases.fill(step.text, where.values), where)
        elif isinstance(step, Pause):
            samples = self.samples(self.paced(step.duration_ms))
            yield _Timed(samples, "pause", where, (), f"the {format_ms(step.duration_ms)} pause")
        elif isinstance(step, Sound):
            if self.tones:
                yield _Own("tone", step.name, "sound", where, BREATH_AFTER_TONE_MS)
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
                    yield _Own("tone", "switch", "switch", here, BREATH_AFTER_TONE_MS)
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
            yield from self.steps(step.routine.steps, where, top=False)
        else:  # pragma: no cover - every step kind is handled above
            raise TypeError(step)

    def say(self, text: str, where: _Where, phase: Phase = "instruction") -> _Own:
        return _Own("speech", text, phase, where, BREATH_AFTER_SPEECH_MS)

    def press(self, step: Press, where: _Where) -> Iterator[_Segment]:
        hold_ms = self.paced(step.hold_ms)
        rest_ms = self.paced(step.rest_ms)
        where = replace(where, reps=step.reps)
        locate = phrases.fill(step.say, where.values) if step.say else phrases.locate(step.point)
        yield self.say(locate, where, "find")
        if step.find_ms:
            find = self.samples(self.paced(step.find_ms))
            yield _Timed(find, "find", where, (), "the time to find the point")
        yield self.say(phrases.press_first(step.pressure, hold_ms, step.reps), where)
        hold = self.samples(hold_ms)
        rest = self.samples(rest_ms)
        for rep in range(1, step.reps + 1):
            here = replace(where, rep=rep)
            events = self.inside(step.prompts, step.halfway, step.countdown, hold, where)
            if self.tones:
                events.insert(0, _Event("tone", "press", 0, step.position, "the press sound"))
            yield _Timed(hold, "hold", here, tuple(events), f"the {format_ms(hold_ms)} hold")
            if rep == step.reps:
                break
            rest_events = [
                _Event(
                    "speech", phrases.RELEASE_REST, 0, step.position, "'release' cue",
                    after_sound=True,
                ),
                _Event(
                    "speech", phrases.press_next(rep + 1, step.reps),
                    self.samples(GAP_BEFORE_PRESS_MS), step.position, "the next press cue",
                    end_aligned=True,
                ),
            ]  # fmt: skip
            if self.tones:
                rest_events.insert(
                    0, _Event("tone", "release", 0, step.position, "the release sound")
                )
            yield _Timed(rest, "rest", here, tuple(rest_events), f"the {format_ms(rest_ms)} rest")
        last = replace(where, rep=step.reps)
        if self.tones:
            yield _Own("tone", "release", "release", last, 0)
        yield self.say(phrases.RELEASE_LAST, last, "release")

    def activity(self, step: Activity, where: _Where) -> Iterator[_Segment]:
        duration_ms = self.paced(step.duration_ms)
        samples = self.samples(duration_ms)
        yield self.say(phrases.fill(step.say, where.values), where)
        events = self.inside(step.prompts, step.halfway, step.countdown, samples, where)
        yield _Timed(
            samples, "activity", where, tuple(events), f"the {format_ms(duration_ms)} activity"
        )
        yield self.say(phrases.fill(step.done, where.values), where, "activity")

    def inside(
        self,
        prompts: tuple[Prompt, ...],
        halfway: bool,
        countdown: int,
        samples: int,
        where: _Where,
    ) -> list[_Event]:
        events = []
        for prompt in prompts:
            moment = prompt.at
            if moment.ms is not None:
                moment = Offset(ms=self.paced(moment.ms))
            label = (
                f"prompt at {prompt.at.percent}%"
                if moment.percent is not None
                else (f"prompt at {format_ms(prompt.at.ms or 0)}")
            )
            events.append(
                _Event(
                    "speech",
                    phrases.fill(prompt.say, where.values),
                    moment.resolve(samples, self.rate),
                    prompt.position,
                    label,
                    after_sound=True,
                )
            )
        if halfway:
            events.append(
                _Event(
                    "speech", phrases.HALFWAY, samples // 2, where.source, "'halfway'",
                    after_sound=True,
                )
            )  # fmt: skip
        if self.tones:
            for k in range(countdown, 0, -1):
                at = samples - self.samples(k * 1000)
                events.append(
                    _Event(
                        "tone", "tick", at, where.source, f"the countdown tick {k}s before the end"
                    )
                )
        return events

    def intro(self, session_ms: int | None) -> list[_Segment]:
        """The introduction; it says the session lasts ``session_ms`` (left out if ``None``)."""
        routine = self.routine
        where = _Where(chapter="Introduction", step="intro")
        segments: list[_Segment] = [self.say(f"{routine.title.rstrip('.')}.", where, "intro")]
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
                _Timed(self.samples(routine.settings.lead_in_ms), "intro", where, (), "lead-in")
            )
        return segments


def _title(step: Step) -> str | None:
    if isinstance(step, Include):
        return step.title or step.routine.title
    return step.title


class _Layout:
    """Place segments end to end, measuring speech and sounds, into cues."""

    def __init__(self, lengths: Lengths) -> None:
        self.lengths = lengths
        self.cues: list[Cue] = []
        self.problems: list[Problem] = []
        self.now = 0

    def length(self, kind: CueKind, text: str) -> int:
        if kind == "speech":
            return self.lengths.speech_samples(text)
        return self.lengths.sound_samples(text)

    def emit(self, start: int, duration: int, kind: CueKind, text: str, phase: Phase,
             where: _Where) -> None:  # fmt: skip
        if duration <= 0:
            return
        self.cues.append(
            Cue(
                start=start, duration=duration, kind=kind, text=text, phase=phase,
                step=where.step, source=where.source, chapter=where.chapter, side=where.side,
                round=where.round, rep=where.rep, reps=where.reps,
            )
        )  # fmt: skip

    def place(self, segment: _Segment) -> None:
        if isinstance(segment, _Own):
            length = self.length(segment.kind, segment.text)
            self.emit(self.now, length, segment.kind, segment.text, segment.phase, segment.where)
            self.now += length
            breath = ms_to_samples(segment.breath_ms, self.lengths.sample_rate)
            self.emit(self.now, breath, "silence", "", segment.phase, segment.where)
            self.now += breath
            return
        start = self.now
        cursor = 0
        sound_end = 0
        placed: list[tuple[int, int, _Event]] = []
        for event in segment.events:
            length = self.length(event.kind, event.text)
            at = segment.samples - event.at - length if event.end_aligned else event.at
            if event.after_sound:
                at = max(at, sound_end)
            if event.at == 0 and not event.end_aligned and event.kind == "tone":
                sound_end = max(sound_end, length)
            placed.append((at, length, event))
        placed.sort(key=lambda p: (p[0], p[2].end_aligned))
        previous: _Event | None = None
        for at, length, event in placed:
            if at < 0 or at + length > segment.samples:
                self.problem(
                    event, f"{event.label} ({_quote(event)}, {self.seconds(length)}) does not "
                    f"fit in {segment.what}; make the phase longer or the words shorter"
                )  # fmt: skip
                continue
            if previous is not None and at < cursor:
                # Point at the speech of the pair: it is what the author can move or shorten.
                culprit = (
                    previous if event.kind != "speech" and previous.kind == "speech" else event
                )
                self.problem(
                    culprit, f"{event.label} ({_quote(event)}) overlaps {previous.label} "
                    f"({_quote(previous)}) in {segment.what}; move it or shorten the words"
                )  # fmt: skip
                continue
            self.emit(start + cursor, at - cursor, "silence", "", segment.phase, segment.where)
            self.emit(start + at, length, event.kind, event.text, segment.phase, segment.where)
            cursor = at + length
            previous = event
        self.emit(
            start + cursor, segment.samples - cursor, "silence", "", segment.phase, segment.where
        )
        self.now = start + segment.samples

    def seconds(self, samples: int) -> str:
        return f"{samples / self.lengths.sample_rate:.1f}s"

    def problem(self, event: _Event, message: str) -> None:
        self.problems.append(Problem(event.source or Position("<generated>", 1, 1), message))


def _quote(event: _Event) -> str:
    if event.kind == "speech":
        text = event.text if len(event.text) <= 40 else event.text[:37] + "…"
        return f"'{text}'"
    return f"the {event.text} sound"


def _measure(segments: list[_Segment], lengths: Lengths) -> int:
    """Total length in samples of ``segments`` laid end to end."""
    layout = _Layout(lengths)
    for segment in segments:
        layout.place(segment)
    return layout.now


def phrases_of(routine: Routine, lengths: Lengths, options: CompileOptions) -> list[str]:
    """Every phrase the routine says, once each, in order (for synthesis ahead of layout).

    All but one: the introduction's "This session takes about N minutes." depends on
    the lengths of the others, so it is synthesized when the routine is compiled.
    """
    builder = _Builder(routine, lengths, options)
    texts: dict[str, None] = {}
    segments = list(builder.body())
    if options.intro:
        segments = builder.intro(None) + segments
    for segment in segments:
        if isinstance(segment, _Own) and segment.kind == "speech":
            texts[segment.text] = None
        elif isinstance(segment, _Timed):
            texts.update({e.text: None for e in segment.events if e.kind == "speech"})
    return list(texts)


def phrase_sources(
    routine: Routine, lengths: Lengths, options: CompileOptions
) -> dict[str, Position]:
    """Where each phrase of :func:`phrases_of` is first said: its step's or prompt's position.

    For an error about a phrase found after layout (an engine that speaks it as silence);
    a phrase the introduction or the compiler made up points at the routine's first line.
    """
    builder = _Builder(routine, lengths, options)
    segments = list(builder.body())
    if options.intro:
        segments = builder.intro(None) + segments
    fallback = Position(routine.source, 1, 1)
    found: dict[str, Position] = {}
    for segment in segments:
        if isinstance(segment, _Own) and segment.kind == "speech":
            found.setdefault(segment.text, segment.where.source or fallback)
        elif isinstance(segment, _Timed):
            for event in segment.events:
                if event.kind == "speech":
                    found.setdefault(event.text, event.source or fallback)
    return found


def _blame_pace(
    routine: Routine, lengths: Lengths, options: CompileOptions, problem: Problem
) -> None:
    """Raise a UsageError naming --pace if the routine fits at its own pace."""
    try:
        compile_routine(routine, lengths, replace(options, pace=1.0))
    except ScriptError:
        return  # the script is at fault whatever the pace: report its problems
    raise UsageError(
        f"--pace {options.pace:g}: what is said no longer fits ({problem.position}: "
        f"{problem.message}); try a pace nearer 1"
    )


def compile_routine(
    routine: Routine, lengths: Lengths, options: CompileOptions | None = None
) -> Timeline:
    """Lay the routine out on a timeline, every cue placed to the sample.

    Raises :class:`ScriptError` when speech does not fit its phase or the
    session is longer than :data:`voiceguide.script.spec.MAX_SESSION_MS`.
    """
    options = options or CompileOptions()
    builder = _Builder(routine, lengths, options)
    body = list(builder.body())
    segments: list[_Segment] = []
    if builder.tones:
        chapter = "Introduction" if options.intro else routine.title
        segments.append(_Own("tone", "start", "intro", _Where(chapter, "intro"), 0))
    if options.intro:
        # The introduction says how long the session takes, itself included: measure
        # the body, then a draft of the introduction, then write the real one.
        rate = lengths.sample_rate
        body_ms = _measure(body, lengths) * 1000 // rate
        intro_ms = _measure(builder.intro(body_ms), lengths) * 1000 // rate
        segments.extend(builder.intro(body_ms + intro_ms))
    segments.extend(body)
    if builder.tones:
        segments.append(_Own("tone", "end", "closing", _Where("Closing", "closing"), 0))
    layout = _Layout(lengths)
    for segment in segments:
        layout.place(segment)
    if layout.problems:
        if options.pace != 1.0:
            _blame_pace(routine, lengths, options, layout.problems[0])
        # A hold repeated five times would report the same problem five times.
        raise ScriptError(list(dict.fromkeys(layout.problems)))
    timeline = Timeline(lengths.sample_rate, tuple(layout.cues), routine.title, routine.name)
    if timeline.total_ms > spec.MAX_SESSION_MS:
        raise ScriptError(
            [
                Problem(
                    Position(routine.source, 1, 1),
                    f"the session lasts {format_ms(timeline.total_ms)}; "
                    f"expected at most {format_ms(spec.MAX_SESSION_MS)}",
                )
            ]
        )
    return timeline
