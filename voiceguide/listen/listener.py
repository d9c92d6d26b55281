"""Listening while a session plays: capture and recognition in threads of their own.

A player makes a :class:`Listener` with the session's :class:`~voiceguide.listen.gate.LiveGate`,
calls :meth:`Listener.open` then :meth:`Listener.start` (or start alone; a
:class:`ListenUnavailable` from either is one line to print, and the session plays on without
listening), keeps the gate told where the session is, takes what was
heard with :meth:`Listener.heard` (or :meth:`Listener.wait`), and calls :meth:`Listener.stop`
at the end. Nothing here touches the audio device the session plays through.

Two threads: one only reads the capture and stamps each chunk with the time it came, so the
stamps stay true while the other decodes an utterance (tens of milliseconds).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from voiceguide.listen.capture import ArecordCapture, Capture
from voiceguide.listen.gate import LiveGate
from voiceguide.listen.recognizer import RATE_HZ, Heard, Recognizer


@dataclass(frozen=True)
class HeardLive:
    """A phrase heard while the session played, with when (monotonic seconds)."""

    heard: Heard
    end_s: float
    """When the phrase ended, by the capture's clock."""
    decided_s: float
    """When the recogniser decided (the acknowledgement tone is due now)."""


class Listener:
    """Hear voice commands from a capture device, acting only where ``gate`` is open."""

    def __init__(
        self,
        gate: LiveGate,
        *,
        capture: Capture | None = None,
        recognizer: Recognizer | Callable[[], Recognizer] = Recognizer,
        on_heard: Callable[[HeardLive], None] | None = None,
    ) -> None:
        """Listen through ``capture`` (default: ALSA's default device via ``arecord``).

        ``on_heard`` is called from the listener's thread for each phrase (keep it short);
        without it, phrases wait in a queue for :meth:`heard`.
        """
        self.gate = gate
        self.capture: Capture = capture or ArecordCapture(clock=gate.clock)
        self._make_recognizer = recognizer
        self._on_heard = on_heard
        self._chunks: queue.Queue[tuple[bytes, float] | None] = queue.Queue()
        self._heard: queue.Queue[HeardLive] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._recognizing = threading.Event()
        self.error: BaseException | None = None
        """What ended listening early, if anything did (the session plays on regardless)."""

    def open(self) -> None:
        """Open the capture and start reading it; raise :class:`ListenUnavailable` if not.

        Cheap, and it comes first: where there is no microphone, the one line comes at once
        and the recogniser is never loaded. What is captured before :meth:`start` is
        dropped (nothing could be heard in it); from then on, nothing. Idempotent.
        """
        if self._threads or self._stopping.is_set():
            return  # open already, or stopped: a stopped listener stays stopped
        self.capture.open()
        reader = threading.Thread(target=self._read, name="voiceguide-capture", daemon=True)
        self._threads = [reader]
        reader.start()

    def start(self) -> None:
        """Open the capture if not yet, then load the recogniser and start recognising.

        Loading takes about a third of a second of CPU, most of it holding the interpreter's
        lock (a player loads it where its session is silent: docs/listen.md). Raise
        :class:`ListenUnavailable` if either cannot start; the capture is closed then.
        """
        if self._stopping.is_set():
            return
        self._recognizing.set()  # from now on every chunk is kept, to be decoded once loaded
        self.open()
        make = self._make_recognizer
        try:
            recognizer = make if isinstance(make, Recognizer) else make()
        except BaseException:
            self.stop()  # no arecord left behind when the model cannot load
            raise
        recognize = threading.Thread(
            target=self._recognize, args=(recognizer,), name="voiceguide-listen", daemon=True
        )
        self._threads.append(recognize)
        recognize.start()
        if self._stopping.is_set():
            self.stop()  # stopped while the recogniser loaded: its thread ends with the rest

    def stop(self) -> None:
        """Stop capturing and recognising; return once both threads have ended."""
        self._stopping.set()
        self.capture.close()
        self._chunks.put(None)
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    @property
    def listening(self) -> bool:
        """Whether it listens: capturing, with its recogniser asked for, and not stopped."""
        alive = any(t.is_alive() for t in self._threads)
        return alive and self._recognizing.is_set() and not self._stopping.is_set()

    def heard(self) -> list[HeardLive]:
        """Every phrase heard since the last call, oldest first (never blocks)."""
        found = []
        while True:
            try:
                found.append(self._heard.get_nowait())
            except queue.Empty:
                return found

    def wait(self, timeout_s: float) -> list[HeardLive]:
        """Wait up to ``timeout_s`` for a phrase; return it and any others that came."""
        try:
            first = self._heard.get(timeout=timeout_s)
        except queue.Empty:
            return []
        return [first, *self.heard()]

    def _read(self) -> None:
        try:
            while not self._stopping.is_set():
                got = self.capture.read()
                if got is None:
                    break
                if self._recognizing.is_set():
                    self._chunks.put(got)
        except BaseException as error:  # the session must play on: keep it, end quietly
            self.error = error
        finally:
            self._chunks.put(None)

    def _recognize(self, recognizer: Recognizer) -> None:
        try:
            while True:
                got = self._chunks.get()
                if got is None or self._stopping.is_set():
                    break
                chunk, read_s = got
                start_s = read_s - len(chunk) / 2 / RATE_HZ
                is_open = self.gate.is_open(start_s, read_s)
                before = recognizer.position
                for heard in recognizer.feed(chunk, gate_open=is_open):
                    self._deliver(heard, before, read_s, len(chunk) // 2)
        except BaseException as error:
            self.error = error

    def _deliver(self, heard: Heard, before: int, read_s: float, samples: int) -> None:
        # Samples map to times through the chunk they came in: its last sample was read at read_s.
        last = before + samples
        end_s = read_s - (last - heard.end) / RATE_HZ
        live = HeardLive(heard, end_s, self.gate.clock())
        if self._on_heard is not None:
            self._on_heard(live)
        else:
            self._heard.put(live)
