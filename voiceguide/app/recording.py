"""What playing needs to record a session in the practice history (:mod:`voiceguide.practice`).

:func:`voiceguide.app.playing.play` makes a :class:`~voiceguide.practice.recorder.Recorder`,
wraps its view in :class:`Recording` (the recorder hears where the session is on every
tick), begins the record with :func:`session_plan` once the first sound is out and the
session is laid out whole (it is made while it plays; the record keeps its length), and
prints the history's one warning line through :class:`HeldWarnings`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.app.session import Session, StreamingSession
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.compile.timeline import Timeline
    from voiceguide.play.navigation import Step
    from voiceguide.play.playback import Status, View
    from voiceguide.practice.recorder import Recorder, SessionPlan


class HeldWarnings:
    """The practice history's warning for a session: one line, held while a live view is drawn.

    The recorder and the reading before a session each warn at most once; should both find
    the same trouble (a damaged file), the user still reads one line.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held = False
        self._said = False
        self._pending: list[str] = []

    def __call__(self, line: str) -> None:
        """Print ``line`` now, or once the view is closed; a second line is dropped."""
        from voiceguide.practice.recorder import print_warning

        with self._lock:
            if self._said:
                return
            self._said = True
            if self._held:
                self._pending.append(line)
                return
        print_warning(line)

    def hold(self) -> None:
        """Keep the warning until :meth:`release`."""
        with self._lock:
            self._held = True

    def release(self) -> None:
        """Print what was held, and from now on print at once."""
        from voiceguide.practice.recorder import print_warning

        with self._lock:
            self._held, pending, self._pending = False, self._pending, []
        for line in pending:
            print_warning(line)


def session_plan(
    session: Session | StreamingSession,
    steps: list[Step],
    start: int,
    options: CompileOptions,
    *,
    timeline: Timeline | None = None,
) -> SessionPlan:
    """What the history records of ``session``, played from sample ``start``.

    ``timeline`` is the session's whole timeline (a streaming session's, once laid out);
    default: ``session.timeline``.
    """
    from voiceguide.practice.identity import identify
    from voiceguide.practice.recorder import SessionPlan, StepMark

    if timeline is None:
        timeline = getattr(session, "timeline", None)
        if timeline is None:
            raise ValueError("a streaming session's plan needs its whole timeline")
    identity = identify(session.routine)
    intro_end = max((c.end for c in timeline.cues if c.step == "intro"), default=0)
    model = session.voice.voice_model
    voice = session.voice.voice or (model.name if model is not None else None)
    return SessionPlan(
        routine=identity.name,
        title=session.routine.title,
        script_hash=identity.script_hash,
        cautions_hash=identity.cautions_hash,
        total_ms=timeline.total_ms,
        from_ms=timeline.to_ms(start),
        intro_ms=timeline.to_ms(intro_end) if options.intro != "none" else 0,
        steps=tuple(StepMark(s.number, timeline.to_ms(s.start), s.title) for s in steps),
        engine=session.engine,
        voice=voice,
        rate_wpm=session.voice.rate_wpm,
        pace=options.pace,
        repeat=options.repeat,
        intro=options.intro,
        detail=options.detail,
    )


class Recording:
    """A view that tells the recorder where the session is, then shows it (if there is a view)."""

    def __init__(
        self,
        view: View | None,
        recorder: Recorder,
        sample_rate: int,
        *,
        begin: Callable[[Timeline], None] | None = None,
        whole: Callable[[], Timeline | None] | None = None,
    ) -> None:
        """Record into ``recorder``; ``begin(timeline)`` once :meth:`heard` and ``whole()``
        gives the whole timeline (the layout is told to the view as it grows)."""
        self.view = view
        self.recorder = recorder
        self.sample_rate = sample_rate
        self._begin = begin
        self._whole = whole
        self._heard = False

    def heard(self) -> None:
        """The first sound is out: the record may begin."""
        self._heard = True
        self._try_begin()

    def laid_out(self, timeline: Timeline) -> None:
        if self.view is not None:
            self.view.laid_out(timeline)
        self._try_begin()

    def _try_begin(self) -> None:
        if self._begin is None or self._whole is None or not self._heard:
            return
        whole = self._whole()
        if whole is not None:
            begin, self._begin = self._begin, None
            begin(whole)

    def started(self, position: int) -> None:
        if self.view is not None:
            self.view.started(position)

    def update(self, status: Status) -> None:
        self.recorder.progress(status.position * 1000 // self.sample_rate)
        if self.view is not None:
            self.view.update(status)

    def said(self, text: str, position: int) -> None:
        if self.view is not None:
            self.view.said(text, position)

    def close(self) -> None:
        if self.view is not None:
            self.view.close()
