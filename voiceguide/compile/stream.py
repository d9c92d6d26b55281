"""Lay a routine out as the lengths of its phrases arrive: the prefix form of the compile.

A cue's start depends only on what comes before it, so the session can be laid out segment
by segment, in order, as soon as each segment's phrases are spoken, and the first cues
played while later phrases are still being made. :class:`PrefixLayout` places the very
segments :func:`~voiceguide.compile.compiler.compile_routine` places, with the same
:class:`~voiceguide.compile.layout.Layout`, so when it is done its cues are the pure
compile's, cue for cue (``tests/test_stream_layout.py`` checks every built-in routine and
every golden case). Its only difference: it stops at the first segment that does not fit
and reports that segment's problems, where the pure compile reports all of them.

It also says where playback may wait for synthesis (:attr:`PrefixLayout.safe_end`): after
an instruction and its breath, after a sound of its own, after a pause, never inside a
sentence, a hold, a rest or an activity, and never between a hold and what follows it.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from voiceguide.compile.compiler import CompileOptions, check_size, check_total, segments_of
from voiceguide.compile.layout import Layout, measure
from voiceguide.compile.lengths import Lengths
from voiceguide.compile.plan import Own, Segment, Timed
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.errors import Position, ScriptError
from voiceguide.script.model import Routine

_WAITABLE_PHASES = frozenset({"pause", "intro"})
"""Timed phases whose end playback may wait at: silence that nothing times."""


def speech_of(segment: Segment) -> list[str]:
    """The phrases ``segment`` says, in order."""
    if isinstance(segment, Own):
        return [segment.text] if segment.kind == "speech" else []
    return [event.text for event in segment.events if event.kind == "speech"]


def waitable_after(segment: Segment) -> bool:
    """Whether playback may wait for synthesis right after ``segment``."""
    return isinstance(segment, Own) or (
        isinstance(segment, Timed) and segment.phase in _WAITABLE_PHASES
    )


class PrefixLayout:
    """A routine laid out as far as its phrases are ready, growing with :meth:`advance`."""

    def __init__(
        self,
        routine: Routine,
        lengths: Lengths,
        options: CompileOptions | None = None,
        *,
        announce: Lengths | None = None,
    ) -> None:
        """Plan the session (no lengths needed but ``announce``'s); lay out nothing yet.

        ``options`` fitted to a length must carry their fit (solve it first, as
        :func:`voiceguide.app.session.open_stream` does): the fit needs every real length.
        """
        self.routine = routine
        self.options = options or CompileOptions()
        if self.options.fitted and self.options.fit is None:
            raise ValueError("a prefix layout needs the fit to a length solved first")
        check_size(routine, self.options)
        self.segments = segments_of(routine, lengths, self.options, announce)
        self._announce = announce
        self.sample_rate = lengths.sample_rate
        self._layout = Layout(lengths)
        self._placed = 0
        self.safe_end = 0
        """The last sample at which playback may wait for what is not laid out yet."""
        self._safe: list[int] = [0]
        """Every sample at which playback may wait, in order."""

    def estimated_total(self) -> int | None:
        """The session's length measured with the ``announce`` lengths (``None`` without)."""
        if self._announce is None:
            return None
        return measure(self.segments, self._announce)

    def source_of(self, text: str) -> Position:
        """Where ``text`` is first said: its step's or prompt's line (else the routine's first)."""
        for segment in self.segments:
            if isinstance(segment, Own) and segment.text == text and segment.where.source:
                return segment.where.source
            if isinstance(segment, Timed):
                for event in segment.events:
                    if event.text == text and event.source is not None:
                        return event.source
        return Position(self.routine.source, 1, 1)

    def phrases(self) -> list[str]:
        """Every phrase the session says, once each, in the order it is first heard."""
        found: dict[str, None] = {}
        for segment in self.segments:
            found.update(dict.fromkeys(speech_of(segment)))
        return list(found)

    def pending(self) -> list[str]:
        """The phrases of the segments not laid out yet, once each, in order."""
        found: dict[str, None] = {}
        for segment in self.segments[self._placed :]:
            found.update(dict.fromkeys(speech_of(segment)))
        return list(found)

    @property
    def cues(self) -> list[Cue]:
        """The cues laid out so far (do not change the list)."""
        return self._layout.cues

    @property
    def laid_out(self) -> int:
        """The sample where what is laid out ends."""
        return self._layout.now

    @property
    def done(self) -> bool:
        """Whether every segment is laid out."""
        return self._placed == len(self.segments)

    def advance(self, ready: Callable[[str], bool], *, limit: int | None = None) -> int:
        """Lay out the next segments whose phrases are all ``ready``; return how many.

        Stops at the first segment with a phrase not ready (or after ``limit`` segments).
        Raises :class:`ScriptError` with the problems of a segment that does not fit, and
        lays out nothing more after it.
        """
        placed = 0
        layout = self._layout
        while self._placed < len(self.segments) and (limit is None or placed < limit):
            segment = self.segments[self._placed]
            if not all(ready(text) for text in speech_of(segment)):
                break
            cues, now = len(layout.cues), layout.now
            layout.place(segment)
            if layout.problems:
                del layout.cues[cues:]  # what was laid out ends where this segment starts
                layout.now = now
                raise ScriptError(list(dict.fromkeys(layout.problems)))
            self._placed += 1
            placed += 1
            if waitable_after(segment):
                self.safe_end = layout.now
                self._safe.append(layout.now)
        if self.done:
            self.safe_end = layout.now
            self._safe.append(layout.now)
            check_total(self.routine, self.prefix())
        return placed

    def safe_before(self, sample: int) -> int:
        """The last sample at most ``sample`` at which playback may wait."""
        return self._safe[bisect.bisect_right(self._safe, sample) - 1]

    def prefix(self) -> Timeline:
        """The timeline laid out so far (the whole session once :attr:`done`)."""
        routine = self.routine
        return Timeline(self.sample_rate, tuple(self._layout.cues), routine.title, routine.name)

    def timeline(self) -> Timeline:
        """The whole timeline; lays out what is left (every phrase must be ready)."""
        self.advance(lambda _: True)
        return self.prefix()
