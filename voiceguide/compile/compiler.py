"""Compile a routine into a :class:`~voiceguide.compile.timeline.Timeline`.

Pure and deterministic: a routine, the lengths of its phrases and sounds, and
the options go in; a timeline comes out. No clock, no files, no randomness.
:mod:`~voiceguide.compile.plan` walks the steps, :mod:`~voiceguide.compile.layout`
places every cue; this module checks the session's size first and puts them together.

The timing rule: a declared duration is the wall time of its phase. ``hold:
30s`` runs from the press sound to the release sound, exactly; ``rest: 10s``
from the release sound to the next press sound. Speech placed inside a phase
must fit inside it, or compilation fails at that line. Speech between phases
(instructions) takes its own measured time, followed by a short breath.
"""

from __future__ import annotations

from dataclasses import replace

from voiceguide.compile.layout import Layout, measure
from voiceguide.compile.lengths import Lengths
from voiceguide.compile.options import MAX_PACE, MIN_PACE, CompileOptions
from voiceguide.compile.plan import Own, Planner, Segment, Timed, Where
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import Position, Problem, ScriptError, SettingError
from voiceguide.script import extent, spec
from voiceguide.script.durations import format_ms
from voiceguide.script.model import Routine

__all__ = [
    "MAX_PACE", "MIN_PACE", "CompileOptions", "compile_routine", "phrases_of", "segments_of",
]  # fmt: skip

INTRO_CUES = 16
"""Cues of an introduction besides its cautions: title, summary, posture, length, sounds."""


def check_size(routine: Routine, options: CompileOptions) -> None:
    """Refuse, before anything is laid out, a session past the length or cue bounds.

    The counts multiply (:mod:`voiceguide.script.extent`): a routine repeated 20 times
    at a slow pace is measured, not expanded.
    """
    size = extent.of_routine(routine, {})
    timed_ms = round(size.timed_ms * options.pace) * options.repeat
    cues = (size.cues + extent.OWN_CUES) * options.repeat
    cues += INTRO_CUES + extent.OWN_CUES * len(routine.all_cautions())
    at = Position(routine.source, 1, 1)
    if timed_ms > spec.MAX_SESSION_MS:
        raise ScriptError(
            [
                Problem(
                    at,
                    f"the session lasts at least {format_ms(timed_ms)}; "
                    f"expected at most {format_ms(spec.MAX_SESSION_MS)}",
                )
            ]
        )
    if cues > spec.MAX_CUES:
        raise ScriptError(
            [
                Problem(
                    at,
                    f"the session has up to {cues:,} sounds and silences; "
                    f"expected at most {spec.MAX_CUES:,}",
                )
            ]
        )


def phrases_of(routine: Routine, lengths: Lengths, options: CompileOptions) -> list[str]:
    """Every phrase the routine says, once each, in order (for synthesis ahead of layout).

    All but one: the introduction's "This session takes about N minutes." depends on
    the lengths of the others, so it is synthesized when the routine is compiled.
    """
    options = _fitted(routine, lengths, options)
    check_size(routine, options)
    planner = Planner(routine, lengths, options)
    texts: dict[str, None] = {}
    segments = list(planner.body())
    if options.intro != "none":
        segments = planner.intro(None) + segments
    for segment in segments:
        if isinstance(segment, Own) and segment.kind == "speech":
            texts[segment.text] = None
        elif isinstance(segment, Timed):
            texts.update({e.text: None for e in segment.events if e.kind == "speech"})
    return list(texts)


def phrase_sources(
    routine: Routine, lengths: Lengths, options: CompileOptions
) -> dict[str, Position]:
    """Where each phrase of :func:`phrases_of` is first said: its step's or prompt's position.

    For an error about a phrase found after layout (an engine that speaks it as silence);
    a phrase the introduction or the compiler made up points at the routine's first line.
    """
    planner = Planner(routine, lengths, _fitted(routine, lengths, options))
    segments = list(planner.body())
    if options.intro != "none":
        segments = planner.intro(None) + segments
    fallback = Position(routine.source, 1, 1)
    found: dict[str, Position] = {}
    for segment in segments:
        if isinstance(segment, Own) and segment.kind == "speech":
            found.setdefault(segment.text, segment.where.source or fallback)
        elif isinstance(segment, Timed):
            for event in segment.events:
                if event.kind == "speech":
                    found.setdefault(event.text, event.source or fallback)
    return found


def _blame_pace(
    routine: Routine,
    lengths: Lengths,
    options: CompileOptions,
    problem: Problem,
    announce: Lengths | None = None,
) -> None:
    """Raise a SettingError naming the pace if the routine fits at its own pace."""
    try:
        compile_routine(routine, lengths, replace(options, pace=1.0), announce=announce)
    except ScriptError:
        return  # the script is at fault whatever the pace: report its problems
    raise SettingError(
        "pace",
        f"at {options.pace:g}, what is said no longer fits ({problem.position}: "
        f"{problem.message}); try a pace nearer 1",
    )


def segments_of(
    routine: Routine,
    lengths: Lengths,
    options: CompileOptions,
    announce: Lengths | None = None,
) -> list[Segment]:
    """Plan the whole session as segments, in order: what layout places end to end.

    The introduction says how long the session takes, itself included: the body is
    measured, then a draft of the introduction, then the real one is written. That length
    is measured with ``announce`` (default: ``lengths``). A session that streams passes
    lengths it has before any synthesis (:class:`~voiceguide.compile.estimate.EstimatedSpeech`),
    so that every cue's start depends only on what comes before it.
    """
    planner = Planner(routine, lengths, options)
    body = list(planner.body())
    segments: list[Segment] = []
    if planner.tones:
        chapter = "Introduction" if options.intro != "none" else routine.title
        segments.append(Own("tone", "start", "intro", Where(chapter, "intro"), 0))
    if options.intro != "none":
        measuring = announce if announce is not None else lengths
        rate = measuring.sample_rate
        body_ms = measure(body, measuring) * 1000 // rate
        intro_ms = measure(planner.intro(body_ms), measuring) * 1000 // rate
        segments.extend(planner.intro(body_ms + intro_ms))
    segments.extend(body)
    if planner.tones:
        segments.append(Own("tone", "end", "closing", Where("Closing", "closing"), 0))
    return segments


def check_total(routine: Routine, timeline: Timeline) -> None:
    """Refuse a laid-out session longer than :data:`voiceguide.script.spec.MAX_SESSION_MS`."""
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


def compile_routine(
    routine: Routine,
    lengths: Lengths,
    options: CompileOptions | None = None,
    *,
    announce: Lengths | None = None,
) -> Timeline:
    """Lay the routine out on a timeline, every cue placed to the sample.

    With ``options.length_ms`` and no ``options.fit`` yet, the session is fitted to that
    length first, measured with ``lengths`` (:func:`voiceguide.compile.fit.fit_length`).
    ``announce`` measures the length the introduction says (see :func:`segments_of`).
    Raises :class:`ScriptError` when speech does not fit its phase or the
    session is longer than :data:`voiceguide.script.spec.MAX_SESSION_MS`.
    """
    options = _fitted(routine, lengths, options or CompileOptions(), announce)
    check_size(routine, options)
    layout = Layout(lengths)
    for segment in segments_of(routine, lengths, options, announce):
        layout.place(segment)
    if layout.problems:
        if options.pace != 1.0:
            _blame_pace(routine, lengths, options, layout.problems[0], announce)
        if options.fit is not None:
            _blame_length(routine, lengths, options, layout.problems[0], announce)
        # A hold repeated five times would report the same problem five times.
        raise ScriptError(list(dict.fromkeys(layout.problems)))
    timeline = Timeline(lengths.sample_rate, tuple(layout.cues), routine.title, routine.name)
    check_total(routine, timeline)
    return timeline


def _fitted(
    routine: Routine, lengths: Lengths, options: CompileOptions, announce: Lengths | None = None
) -> CompileOptions:
    """``options`` with the fit to its length solved, if it asks for one and has none."""
    if options.length_ms is None or options.fit is not None:
        return options
    from voiceguide.compile.fit import fit_length

    return replace(options, fit=fit_length(routine, lengths, options, announce=announce))


def _blame_length(
    routine: Routine,
    lengths: Lengths,
    options: CompileOptions,
    problem: Problem,
    announce: Lengths | None = None,
) -> None:
    """Raise a SettingError naming the length if the routine fits as written."""
    try:
        compile_routine(
            routine, lengths, replace(options, length_ms=None, fit=None), announce=announce
        )
    except ScriptError:
        return
    assert options.length_ms is not None
    raise SettingError(
        "length",
        f"at {format_ms(options.length_ms)}, what is said no longer fits ({problem.position}: "
        f"{problem.message}); try a length nearer the routine's own",
    )
