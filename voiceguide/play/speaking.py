"""What playback says over the session: answers over a hold, after a sentence, or alone.

:class:`Speaking` is the part of :class:`~voiceguide.play.playback.Playback` that turns an
answer's words into frames and decides where they go: mixed over the silence of a timed
phase (its clock runs on, :meth:`Speaking.mix_over`), queued after the sentence playing
(``_pending``), or inserted where the session stands (paused, or nothing laid out there).
It works on the playback's own state, on the loop's thread.
"""

from __future__ import annotations

import time
from collections import deque
from typing import TYPE_CHECKING

from voiceguide.compile import phrases
from voiceguide.errors import EngineError
from voiceguide.play.spans import answer_envelope

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.play.controller import Controller
    from voiceguide.play.interfaces import AnswerClips, Mode, View
    from voiceguide.play.ring import Ring
    from voiceguide.play.source import SessionSource
    from voiceguide.play.spans import Spans
    from voiceguide.sound.clips import FloatArray
    from voiceguide.sound.mix import Mix

SOFT = 0.5
""""One moment." is said at half the session's volume."""
ANSWER_PHASES = frozenset({"hold", "rest", "pause", "activity", "find", "intro"})
"""Phases whose silence an answer is mixed over (their clocks run on)."""
ANSWERS_AHEAD_S = 15.0
"""The fixed answers ("Paused.", the volumes…) are made ready beforehand only while this
much of the session is laid out ahead of what is heard (or all of it): on a cold cache the
session's own next phrases come first. "One moment." is made at once; an answer asked for
before it is ready is made then."""
STOPPING_WAIT_S = 5.0
"""How long a session that cannot go on waits for the words that say so."""


class Speaking:
    """Answers said over, after or instead of the session (a base of Playback)."""

    source: SessionSource
    clips: AnswerClips
    ring: Ring
    spans: Spans
    mix: Mix
    view: View
    mode: Mode
    cursor: int
    volume_pct: int
    said: list[str]
    _base_pct: int
    _started: bool
    _end_frame: int | None
    _saying: tuple[str, int] | None
    _inserts: deque[tuple[str, npt.NDArray[np.int16]]]
    _pending: tuple[int, str, npt.NDArray[np.int16]] | None
    _fixed: list[str]
    _stopping: float | bool | None
    """None; when asked for, the time to give up waiting for them; True once said."""

    @property
    def position(self) -> int:
        """The sample of the session heard now (Playback says how)."""
        raise NotImplementedError

    def _controller_now(self) -> Controller:
        raise NotImplementedError

    def _answer(self, text: str) -> None:
        """Say ``text`` without moving the session: over a timed phase, or after the sentence."""
        position = self.position
        cue = self.source.cue_at(position)
        if self.mode == "paused" or cue is None:
            self._insert(text)
            return
        if cue.kind == "silence" and cue.phase in ANSWER_PHASES:
            self._overlay(text, position)
            return
        # Between instructions: after the sentence or sound playing (its breath goes on after).
        at = cue.end if cue.kind != "silence" else position  # a sound is heard whole too
        frame = self.spans.frame_of(at, self.cursor)
        if frame is not None:  # written already: take back what follows the sentence
            self.ring.rewind(frame)
            self.spans.truncate(self.ring.written)
            self.cursor = at
            self._end_frame = None
        pcm = self._pcm(text)
        if pcm is not None:
            self._pending = (at, text, pcm)  # said when the session gets there

    def _clip(self, text: str) -> FloatArray | None:
        self.said.append(text)
        try:
            if text in self._fixed_all():
                return self.clips.speech(text)
            return self.clips.speak_once(text)
        except EngineError:
            return None  # the words are for comfort: failing to say them ends nothing

    def _fixed_all(self) -> list[str]:
        return [phrases.ONE_MOMENT, phrases.STOPPING, *self._controller_now().fixed_sentences()]

    def _say_stopping(self) -> bool:
        """At the end of a session that cannot go on: say so once; True when it may end.

        The listener, eyes closed, hears why the guide falls silent (the screen says the
        rest). The words are asked for when the end is reached and waited for up to
        :data:`STOPPING_WAIT_S` (an engine that failed cannot say them: it ends without).
        """
        if self._stopping is True:
            return True
        if self._stopping is None:
            self.source.prepare(phrases.STOPPING)
            self._stopping = time.monotonic() + STOPPING_WAIT_S
        if self.source.ready(phrases.STOPPING):
            self._stopping = True
            self._insert(phrases.STOPPING)
            return not self._inserts
        if time.monotonic() > self._stopping:
            self._stopping = True
        return self._stopping is True

    def _pcm(self, text: str, *, soft: bool = False) -> npt.NDArray[np.int16] | None:
        from voiceguide.pcm import to_pcm

        clip = self._clip(text)
        if clip is None:
            return None
        self.view.said(text, self.cursor)
        gain = self._base_pct / 100 * (SOFT if soft else 1.0)
        return to_pcm(self.mix.alone(clip, gain))

    def _insert(self, text: str, *, soft: bool = False) -> None:
        pcm = self._pcm(text, soft=soft)
        if pcm is not None:
            self._inserts.append((text, pcm))

    def _overlay(self, text: str, position: int) -> None:
        """Mix ``text`` over the session from the frame the device takes next."""
        clip = self._clip(text)
        if clip is None:
            return
        self.view.said(text, position)
        frame = self.ring.taken
        self._saying = (text, frame + self.mix_over(clip))

    def mix_over(self, clip: FloatArray, gain: float | None = None) -> int:
        """Mix ``clip`` over the session from the frame the device takes next; return its length.

        For a sound that must not move the session (an answer over a hold, a tone saying
        a voice command was heard): the session's clock runs on, the clip is ducked under
        a sound and cut, faded, before the next words (:func:`answer_envelope`), placed as
        the mix places a centred cue, at ``gain`` (default: the volume). ``clip`` is mono
        float at the session's rate. Call it on the loop's thread (from ``remote``).
        While paused or waiting nothing is written to mix over: the clip is said next,
        where the session waits (as an answer is), and nothing moves either.
        """
        from voiceguide.pcm import to_pcm

        level = self.volume_pct / 100 if gain is None else gain
        if self.mode != "playing":
            scaled = level * self._base_pct / max(1, self.volume_pct)  # the ring scales it back
            alone = to_pcm(self.mix.alone(clip, scaled))
            self._inserts.append(("", alone))  # no words: views show nothing said
            return len(alone)
        frame = self.ring.taken
        at = self.spans.session_at(frame, self.cursor)
        envelope = answer_envelope(self.source, at, len(clip))
        pcm = to_pcm(self.mix.alone(clip[: len(envelope)] * envelope, level))
        self.ring.overlay(frame, pcm)
        return len(pcm)

    def _prepare_answer(self) -> None:
        """Make one more fixed answer ready once the session is playing, if it is well ahead."""
        if not (self._fixed and self._started and self.mode == "playing"):
            return
        source = self.source
        ahead = source.laid_out - self.position >= ANSWERS_AHEAD_S * source.sample_rate
        if self._fixed[-1] == phrases.ONE_MOMENT or source.done or ahead:
            source.prepare(self._fixed.pop())
