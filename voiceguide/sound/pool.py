"""Make phrases ready ahead of the playhead: in the order they are heard, on every core.

:class:`ClipPool` takes the session's phrases in timeline order and works through them on a
few worker threads, each with its own engine (espeak-ng speaks in a process per engine, so
two workers use both cores; Piper's model already runs on every core, so it gets one): a
phrase in the phrase cache is read from it, any other is spoken, finished and stored. The
next phrases come first; :meth:`ClipPool.hurry` puts one at the very front (an answer to a
key, "One moment."). Finished clips go into the :class:`~voiceguide.sound.speech.SpeechClips`
the layout and the renderer read, so a phrase is made once, whoever asks.

Thread-safety: workers only add clips; :meth:`ready` and :meth:`wait` may be called from
any thread. A phrase the engine cannot speak is kept as its error and raised to whoever
waits for it (:meth:`check`), in order, so the session fails at the line that says it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from voiceguide.errors import EngineError

_FINISHERS = 2
"""Threads that finish clips while the engines speak (numpy lets go of the interpreter lock)."""

if TYPE_CHECKING:
    from voiceguide.sound.engines.base import Speech, SpeechEngine
    from voiceguide.sound.speech import SpeechClips

logger = logging.getLogger(__name__)

SpareEngine = Callable[[], "SpeechEngine"]
"""Makes one more engine with the session's voice, for one more worker."""


def workers_for(engine: SpeechEngine) -> int:
    """How many workers ``engine`` is worth: one per core for espeak-ng, one for Piper."""
    if engine.name == "espeak":
        return max(1, min(2, os.cpu_count() or 1))
    return 1


class ClipPool:
    """Phrases made ready in the order asked for, by worker threads, into ``clips``."""

    def __init__(
        self,
        clips: SpeechClips,
        *,
        spare: SpareEngine | None = None,
        workers: int | None = None,
    ) -> None:
        """Work for ``clips``: its engine speaks, and ``spare()`` makes each further one."""
        self.clips = clips
        wanted = workers if workers is not None else workers_for(clips.engine)
        self._count = max(1, wanted if spare is not None else 1)
        self._spare = spare
        self._engines: list[SpeechEngine] = []
        self._order: deque[str] = deque()
        self._front: deque[str] = deque()
        self._taken: set[str] = set()
        self._failed: dict[str, BaseException] = {}
        self._changed = threading.Condition()
        self._closed = False
        self._threads: list[threading.Thread] = []
        self._finishers: ThreadPoolExecutor | None = None
        self._in_flight = threading.BoundedSemaphore(2 * _FINISHERS)
        """Spoken phrases waiting to be finished, at most: speakers wait rather than pile up."""
        self.spoken = 0
        """How many phrases an engine spoke (the rest came from memory or the cache)."""
        self._speaking = 0
        self._asides: set[str] = set()
        """Phrases asked for beside the session (answers): speaking one holds nothing up."""

    # -- asking ----------------------------------------------------------------------------

    def want(self, texts: Iterable[str]) -> None:
        """Make ``texts`` ready, in this order, after what was asked before."""
        with self._changed:
            self._order.extend(t for t in texts if not self._known(t))
            self._changed.notify_all()
        self._start()

    def hurry(self, text: str, *, aside: bool = False) -> None:
        """Make ``text`` ready before anything else not yet started.

        ``aside``: a phrase beside the session (an answer, "One moment."), not one its layout
        waits for, so an engine speaking it is not :attr:`speaking`.
        """
        with self._changed:
            if not self._known(text):
                self._front.append(text)
                if aside:
                    self._asides.add(text)
                self._changed.notify_all()
        self._start()

    def ready(self, text: str) -> bool:
        """Whether ``text`` is ready (a failed phrase is not; :meth:`check` raises its error)."""
        return self.clips.has(text)

    def failure(self, text: str) -> BaseException | None:
        """The error the engine gave for ``text``, if it gave one."""
        return self._failed.get(text)

    def check(self, text: str) -> None:
        """Raise the error the engine gave for ``text``, if it gave one."""
        error = self._failed.get(text)
        if error is not None:
            raise error

    def wait(self, text: str, timeout_s: float | None = None) -> bool:
        """Wait until ``text`` is ready (asking for it first if need be); False on timeout."""
        if self.ready(text):
            return True
        self.hurry(text)
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        with self._changed:
            while not self.ready(text):
                self.check(text)
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._changed.wait(left)
        return True

    def make_ready(
        self,
        texts: list[str],
        progress: Callable[[int, int], None] | None = None,
        *,
        raising: bool = False,
    ) -> None:
        """Ask for ``texts`` and wait until they are all ready, or nothing is left to make.

        ``progress`` is told (phrases ready, phrases asked) as they come. A phrase the
        engine failed is left failed (:meth:`failure` says why), unless ``raising``: then
        the engine's error for the first failed phrase, in order, is raised (what was let
        go is asked for again).
        """
        self.want(texts)
        done = -1
        while True:
            ready = sum(1 for text in texts if self.ready(text))
            if progress is not None and ready != done:
                progress(ready, len(texts))
            done = ready
            if ready == len(texts):
                return
            if raising:
                for text in texts:
                    self.check(text)
            if not self.busy:
                if raising:
                    for text in texts:
                        self.wait(text)  # asks again for what was let go; raises what failed
                return
            self.wait_any(0.2)

    def wait_any(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for any phrase to be finished."""
        with self._changed:
            self._changed.wait(timeout_s)

    @property
    def speaking(self) -> bool:
        """Whether an engine is speaking a phrase of the session now (not in the cache).

        Answers asked for ``aside`` do not count: the session does not wait for them.
        """
        with self._changed:
            return self._speaking > 0

    @property
    def busy(self) -> bool:
        """Whether phrases are still waiting to be made or being made."""
        with self._changed:
            return bool(self._order or self._front or self._taken)

    def close(self) -> None:
        """Stop the workers (a phrase being spoken is finished first) and close spare engines."""
        with self._changed:
            self._closed = True
            self._order.clear()
            self._front.clear()
            self._changed.notify_all()
        for thread in self._threads:
            thread.join()
        if self._finishers is not None:
            self._finishers.shutdown(wait=True)
        for engine in self._engines[1:]:
            engine.close()

    # -- working ---------------------------------------------------------------------------

    def _known(self, text: str) -> bool:
        return self.clips.has(text) or text in self._taken or text in self._failed

    def _start(self) -> None:
        if self._threads or self._closed:
            return
        # Finishing a clip (trim, loudness) costs as much as speaking it: it runs beside the
        # speakers, so an engine goes on to the next phrase at once.
        finishers = max(1, min(_FINISHERS, os.cpu_count() or 1))
        self._finishers = ThreadPoolExecutor(finishers, thread_name_prefix="voiceguide-finish")
        for number in range(self._count):
            thread = threading.Thread(
                target=self._work, args=(number,), name=f"voiceguide-pool-{number}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def _engine(self, number: int) -> SpeechEngine | None:
        if number == 0:
            return self.clips.engine
        if self._spare is None:
            return None
        try:
            engine = self._spare()
        except EngineError as error:  # the first worker carries on alone
            logger.debug("no spare engine: %s", error)
            return None
        self._engines.append(engine)
        return engine

    def _next(self) -> str | None:
        with self._changed:
            while not self._closed:
                for queue in (self._front, self._order):
                    while queue:
                        text = queue.popleft()
                        if not self._known(text):
                            self._taken.add(text)
                            return text
                self._changed.wait()
        return None

    def _work(self, number: int) -> None:
        engine: SpeechEngine | None = None
        if number == 0:
            self._engines.insert(0, self.clips.engine)
        while True:
            text = self._next()
            if text is None:
                return
            try:
                if self.clips.load(text):  # in the cache
                    self._done(text)
                    continue
                if engine is None:
                    engine = self._engine(number)
                if engine is None:  # no spare engine: leave it to the first worker
                    with self._changed:
                        self._taken.discard(text)
                        self._front.append(text)
                        self._changed.notify_all()
                    return
                counted = 0 if text in self._asides else 1
                with self._changed:
                    self._speaking += counted
                try:
                    speech = engine.synthesize(text)
                except BaseException:
                    with self._changed:
                        self._speaking -= counted
                    raise
            except Exception as error:  # kept for whoever waits for this phrase
                self._done(text, error)
                continue
            assert self._finishers is not None
            self._in_flight.acquire()
            self._finishers.submit(self._finish, text, speech)

    def _finish(self, text: str, speech: Speech) -> None:
        try:
            self.clips.keep(text, speech)
        except Exception as error:
            self._done(text, error, spoke=None)
            return
        finally:
            self._in_flight.release()
        self._done(text, spoke=True)

    def _done(
        self, text: str, error: BaseException | None = None, *, spoke: bool | None = False
    ) -> None:
        """Note ``text`` finished; ``spoke``: an engine spoke it (``None``: but it failed)."""
        with self._changed:
            if error is not None:
                self._failed[text] = error
            if spoke is not False:
                self._speaking -= 0 if text in self._asides else 1
            self.spoken += bool(spoke)
            self._taken.discard(text)
            self._changed.notify_all()
