"""Lay out planned segments end to end: measure speech and sounds, place every cue.

This is where a hold, a rest or a pause gets its exact length in samples and where
what is said inside it is placed, or found not to fit.
"""

from __future__ import annotations

from voiceguide.compile.lengths import Lengths
from voiceguide.compile.plan import Event, Own, Segment, Where
from voiceguide.compile.timeline import Cue, CueKind, Phase
from voiceguide.errors import Position, Problem
from voiceguide.pcm import ms_to_samples


class Layout:
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
             where: Where) -> None:  # fmt: skip
        if duration <= 0:
            return
        self.cues.append(
            Cue(
                start=start, duration=duration, kind=kind, text=text, phase=phase,
                step=where.step, source=where.source, chapter=where.chapter, side=where.side,
                round=where.round, rep=where.rep, reps=where.reps, top_step=where.top_step,
            )
        )  # fmt: skip

    def place(self, segment: Segment) -> None:
        if isinstance(segment, Own):
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
        placed: list[tuple[int, int, Event]] = []
        for event in segment.events:
            length = self.length(event.kind, event.text)
            at = segment.samples - event.at - length if event.end_aligned else event.at
            if event.after_sound:
                at = max(at, sound_end)
            if event.at == 0 and not event.end_aligned and event.kind == "tone":
                sound_end = max(sound_end, length)
            placed.append((at, length, event))
        placed.sort(key=lambda p: (p[0], p[2].end_aligned))
        previous: Event | None = None
        for at, length, event in placed:
            if at < 0 or at + length > segment.samples:
                self.problem(
                    event, f"{event.label} ({quote(event)}, {self.seconds(length)}) does not "
                    f"fit in {segment.what}; make the phase longer or the words shorter"
                )  # fmt: skip
                continue
            if previous is not None and at < cursor:
                # Point at the speech of the pair: it is what the author can move or shorten.
                culprit = (
                    previous if event.kind != "speech" and previous.kind == "speech" else event
                )
                self.problem(
                    culprit, f"{event.label} ({quote(event)}) overlaps {previous.label} "
                    f"({quote(previous)}) in {segment.what}; move it or shorten the words"
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

    def problem(self, event: Event, message: str) -> None:
        self.problems.append(Problem(event.source or Position("<generated>", 1, 1), message))


def quote(event: Event) -> str:
    if event.kind == "speech":
        text = event.text if len(event.text) <= 40 else event.text[:37] + "…"
        return f"'{text}'"
    return f"the {event.text} sound"


def measure(segments: list[Segment], lengths: Lengths) -> int:
    """Total length in samples of ``segments`` laid end to end."""
    layout = Layout(lengths)
    for segment in segments:
        layout.place(segment)
    return layout.now
