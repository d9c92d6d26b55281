"""A session made while it is heard: phrases spoken in order, laid out and rendered as they come.

:class:`SessionStream` puts together the prefix layout
(:class:`~voiceguide.compile.stream.PrefixLayout`), the synthesis pool
(:class:`~voiceguide.sound.pool.ClipPool`) and the renderer
(:func:`~voiceguide.sound.render.render_blocks`). Play and export both read a session
through it: :meth:`SessionStream.advance` lays out what is ready, :meth:`render` gives the
samples of what is laid out (the same blocks the pure compile's timeline renders to), and
:meth:`timeline` waits for the whole session.

The pool is fed a window of phrases ahead of what is laid out (:data:`AHEAD_SEGMENTS`),
and clips are let go once everything that says them is rendered, so memory stays flat
however long the session (the phrase cache keeps every clip).

If a phrase turns out not to fit where the estimate said it would (or the engine cannot
speak it), the stream stops at the start of that segment: what comes before it is whole,
and :attr:`error` says why, at its line.

How a sound layer plugs in (the mix, :mod:`voiceguide.sound.mix`: stereo placement, a
bed): :meth:`SessionStream.render` calls :func:`~voiceguide.sound.render.render_blocks`
with a :class:`~voiceguide.sound.mix.MixPlan` made for the timeline laid out so far, and
renders only samples that plan gets exactly as the whole session's would
(:attr:`SessionStream.final_end`). A cue's pan depends only on the cues before it, so
without a bed every laid-out sample is final. A bed's envelope also looks ahead (its dip
starts before a phrase, merges across short gaps) and fades out over the session's last
seconds, so with a bed the last seconds of the layout (:func:`bed_hold_ms`) are held back until
the session is laid out whole. A new layer states its look-ahead the same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING

from voiceguide.compile.stream import PrefixLayout, speech_of
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import VoiceguideError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.compile.timeline import Cue
    from voiceguide.sound.mix import Mix, MixPlan
    from voiceguide.sound.pool import ClipPool
    from voiceguide.sound.speech import SpeechClips

AHEAD_SEGMENTS = 400
"""How many segments past what is laid out the pool is asked to make ready."""


def bed_hold_ms() -> int:
    """How much of the layout a bed holds back: its fade-out, and its dips' look-ahead."""
    from voiceguide.sound.mix import BED_FADE_OUT_MS, DUCK_FADE_MS, DUCK_MERGE_MS

    return max(BED_FADE_OUT_MS, DUCK_MERGE_MS + DUCK_FADE_MS)


class SessionStream:
    """One session, laid out as its phrases are made, rendered from what is laid out."""

    def __init__(
        self, layout: PrefixLayout, clips: SpeechClips, pool: ClipPool, mix: Mix | None = None
    ) -> None:
        """Stream ``layout`` with phrases that ``pool`` makes into ``clips``, mixed by ``mix``.

        ``mix`` defaults to stereo without a bed, as :func:`render_blocks` does.
        """
        from voiceguide.sound.mix import BED_FADE_IN_MS, STEREO

        self.layout = layout
        self.clips = clips
        self.pool = pool
        self.mix = mix or STEREO
        self.sample_rate = layout.sample_rate
        rate = self.sample_rate
        bed = self.mix.bed is not None
        self._hold = bed_hold_ms() * rate // 1000 if bed else 0
        self._hold_first = 2 * BED_FADE_IN_MS * rate // 1000 if bed else 0
        """Before this much is laid out, the bed's fade-in may still depend on the total."""
        self._plan: tuple[Timeline, MixPlan, int] | None = None
        """The timeline rendered from, its mix plan, and how far the two are final."""
        self.error: VoiceguideError | None = None
        """Why the stream stopped before the session's end, if it did."""
        self._starts: list[int] = []
        self._prefix: Timeline | None = None
        self._fed = 0
        self._placed = 0
        self._ends: list[int] = []
        """The end sample of each segment laid out."""
        self._last_use: dict[str, int] = {}
        for index, segment in enumerate(layout.segments):
            for text in speech_of(segment):
                self._last_use[text] = index
        self._released = 0
        self._feed()

    # -- laying out ------------------------------------------------------------------------

    @property
    def laid_out(self) -> int:
        """The sample where what is laid out ends."""
        return self.layout.laid_out

    @property
    def final_end(self) -> int:
        """How far the samples are final: what is laid out, less what a sound layer holds back."""
        laid = self.layout.laid_out
        if self.done or not self._hold:
            return laid
        return laid - self._hold if laid >= max(self._hold_first, self._hold) else 0

    @property
    def safe_end(self) -> int:
        """How far playback may go without risking a wait inside a phase."""
        if self.done or not self._hold:
            return self.layout.safe_end
        return self.layout.safe_before(self.final_end)

    @property
    def done(self) -> bool:
        """Whether the whole session is laid out (or the stream stopped for good)."""
        return self.layout.done or self.error is not None

    @property
    def speaking(self) -> bool:
        """Whether an engine is speaking a phrase (what is laid out next may take a while)."""
        return self.pool.speaking

    @property
    def total(self) -> int | None:
        """The session's length in samples, once it is all laid out."""
        return self.layout.laid_out if self.layout.done else None

    def advance(self) -> bool:
        """Lay out what is ready; return whether anything was. Never raises: see :attr:`error`."""
        if self.done:
            return False
        try:
            placed = self.layout.advance(self._ready)
        except VoiceguideError as error:
            self.error = error
            return True
        if placed:
            cues = self.layout.cues
            self._starts.extend(c.start for c in cues[len(self._starts) :])
            self._prefix = None
            self._placed += placed
            self._feed()
        return bool(placed)

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for more to lay out; return whether more was."""
        if self.advance():
            return True
        if self.done:
            return False
        self.pool.wait_any(timeout_s)
        return self.advance()

    def timeline(self) -> Timeline:
        """Wait until the whole session is laid out and return its timeline.

        Raises what stopped the stream, if something did.
        """
        while not self.done:
            self.wait(1.0)
        if self.error is not None:
            raise self.error
        return self.prefix()

    def prefix(self) -> Timeline:
        """The timeline laid out so far."""
        if self._prefix is None:
            self._prefix = self.layout.prefix()
        return self._prefix

    def cue_at(self, sample: int) -> Cue | None:
        """The cue laid out at ``sample``, if it is laid out."""
        i = bisect.bisect_right(self._starts, sample) - 1
        cues = self.layout.cues
        return cues[i] if 0 <= i < len(cues) and sample < cues[i].end else None

    # -- rendering -------------------------------------------------------------------------

    def render(self, start: int, end: int, *, gain: float = 1.0) -> Iterator[npt.NDArray[np.int16]]:
        """Yield samples ``start`` to ``end`` as :func:`render_blocks` does for the whole.

        ``end`` must be final (:attr:`final_end`). Clips no longer needed after ``end`` are
        let go.
        """
        from voiceguide.sound.render import render_blocks

        if end > self.final_end:
            raise ValueError(f"sample {end} is not final yet (up to {self.final_end})")
        if end > start:
            timeline, plan = self._planned(end)
            yield from render_blocks(
                timeline, self.clips, gain=gain, start=start, end=end, plan=plan
            )
        self._release(end)

    def _planned(self, end: int) -> tuple[Timeline, MixPlan]:
        """The timeline and mix plan to render up to ``end`` from (made again when short)."""
        from voiceguide.sound.mix import MixPlan

        if self._plan is None or self._plan[2] < end:
            timeline = self.prefix()
            self._plan = (timeline, MixPlan(timeline, self.mix), self.final_end)
        return self._plan[0], self._plan[1]

    def prepare(self, text: str) -> None:
        """Make ``text`` (an answer, "One moment.") ready before the next phrases."""
        self.pool.hurry(text, aside=True)

    def ready(self, text: str) -> bool:
        """Whether ``text`` is ready."""
        return self.pool.ready(text)

    def blocks(self, *, gain: float = 1.0) -> Iterator[npt.NDArray[np.int16]]:
        """Yield the whole session, block by block, as it is laid out (waiting for it).

        The same samples :func:`render_blocks` gives for the whole timeline; raises what
        stops the stream, once what comes before it is yielded.
        """
        from voiceguide.sound.render import BLOCK_SAMPLES

        position = 0
        while True:
            self.advance()
            end = min(self.final_end, position + BLOCK_SAMPLES)
            # Whole blocks only, until the end: an encoder handed slivers is slow.
            if end - position == BLOCK_SAMPLES or (self.done and position < end):
                yield from self.render(position, end, gain=gain)
                position = end
            elif self.done:
                if self.error is not None:
                    raise self.error
                return
            else:
                self.wait(0.5)

    def close(self) -> None:
        """Stop making phrases."""
        self.pool.close()

    # -- inside ----------------------------------------------------------------------------

    def _ready(self, text: str) -> bool:
        from voiceguide.sound.processing import SilentPhraseError

        if self.pool.ready(text):
            return True
        failure = self.pool.failure(text)
        if isinstance(failure, SilentPhraseError):
            raise self._all_silent(failure.engine)
        self.pool.check(text)
        return False

    def _all_silent(self, engine: str) -> VoiceguideError:
        """Every phrase still to come that ``engine`` speaks as silence, each at its line."""
        from voiceguide.sound.processing import SilentPhraseError

        pending = self.layout.pending()
        self.pool.want(pending)
        while self.pool.busy:
            self.pool.wait_any(0.2)
        silent = [t for t in pending if isinstance(self.pool.failure(t), SilentPhraseError)]
        sources = {text: self.layout.source_of(text) for text in silent}
        return SilentPhraseError(silent, engine).located(sources)

    def _feed(self) -> None:
        """Ask the pool for the phrases of the segments up to :data:`AHEAD_SEGMENTS` ahead."""
        segments = self.layout.segments
        until = min(len(segments), self._placed + AHEAD_SEGMENTS)
        if until > self._fed:
            texts: dict[str, None] = {}
            for segment in segments[self._fed : until]:
                texts.update(dict.fromkeys(speech_of(segment)))
            self.pool.want(texts)
            self._fed = until
        self._ends.extend([self.layout.laid_out] * (self._placed - len(self._ends)))

    def _release(self, rendered: int) -> None:
        """Let go of clips that only segments rendered by now say."""
        ends = self._ends
        done = bisect.bisect_right(ends, rendered)
        if done <= self._released:
            return
        segments = self.layout.segments
        gone = [
            text
            for index in range(self._released, done)
            for text in speech_of(segments[index])
            if self._last_use[text] < done
        ]
        self.clips.forget(gone)
        self._released = done
