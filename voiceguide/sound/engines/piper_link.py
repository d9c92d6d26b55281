"""voiceguide's side of a Piper speaker process: start it, send phrases, read sentences back.

One speaker per voice model per voiceguide process (:func:`speaker_for`), shared by every
engine speaking with that model: the length scale goes with each phrase, so engines at
other rates share the loaded model. It is started by an engine's ``start()`` or its first
phrase and ends when the last engine using it is closed, or with voiceguide (its stdin
closes; see :mod:`voiceguide.sound.engines.piper_speaker` for how it also sees SIGKILL).

Answers are read by one thread per speaker and handed to the phrase they belong to, so
phrases asked for from several threads are spoken at the same time (up to
:data:`PARALLEL` sentences at once).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from voiceguide.errors import EngineError
from voiceguide.sound.engines import piper_speaker
from voiceguide.sound.engines.piper_speaker import (
    ANSWER,
    CANCEL,
    DONE,
    ERROR,
    READY,
    REQUEST,
    SENTENCE,
    SPEAK,
    read_exactly,
    write_all,
)

if TYPE_CHECKING:
    from voiceguide.sound.engines.piper_voices import PiperModel


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


PARALLEL = max(1, min(4, _cores()))
"""Sentences spoken at once: one per core this process may use, at most four (each sentence
being spoken holds its working memory, ~50-100 MB)."""
START_TIMEOUT_S = 60.0
"""How long the speaker may take to load the model (a cold disk, a loaded machine)."""
ANSWER_MARGIN_S = 5.0
"""How much longer than the speaker's own deadline to wait for a phrase's answer."""
_GONE = b"-"
"""Handed to the phrases still waiting when the speaker's answers end."""


class SpeakerGone(Exception):
    """The speaker process ended or stopped answering (not the phrase's fault)."""


class PhraseFailed(Exception):
    """The speaker could not speak a phrase; the message says why, in the speaker's words."""


class Speaker:
    """A Piper speaker process and the phrases waiting for its answers."""

    def __init__(self, model: PiperModel, parallel: int = PARALLEL) -> None:
        command = [sys.executable, "-P", piper_speaker.__file__]
        command += [str(model.model_path), str(model.config_path), str(parallel)]
        # numpy's BLAS would start threads of its own in the speaker: it needs none.
        env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
        try:
            # stderr goes nowhere: a speaker that outlived voiceguide for a moment must not
            # hold the caller's terminal or pipe open; its errors come back as answers.
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, bufsize=0, env=env,
            )  # fmt: skip
        except OSError as error:
            raise EngineError(f"could not start the Piper speaker: {error}") from None
        self._stop = weakref.finalize(self, _stop_process, self.process)
        self.model = model
        self.sample_rate = 0
        self._failure: str | None = None
        self._started = threading.Event()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._waiting: dict[int, queue.SimpleQueue[tuple[bytes, bytes]]] = {}
        self._ids = itertools.count(1)
        self._gone = False
        self._last_heard = time.monotonic()
        reader = threading.Thread(target=self._read_answers, name="voiceguide-piper", daemon=True)
        reader.start()

    def alive(self) -> bool:
        """Tell whether the process is still there to speak."""
        return not self._gone and self.process.poll() is None

    def wait_ready(self, timeout_s: float = START_TIMEOUT_S) -> None:
        """Wait until the model is loaded; raise EngineError if it cannot be."""
        where = f"{self.model.model_path}: cannot load the Piper voice model"
        if not self._started.wait(timeout_s):
            self.close()
            raise EngineError(f"{where}: it took over {timeout_s:.0f} s")
        if self._failure is not None:
            raise EngineError(f"{where}: {self._failure}")
        if not self.sample_rate:
            code = self.process.wait()
            how = f"signal {-code}" if code < 0 else f"exit {code}"
            raise EngineError(f"{where}: the speaker process ended ({how})")

    def speak(self, text: str, length_scale: float, timeout_s: float) -> Iterator[bytes]:
        """Yield the sentences of ``text`` as float32 bytes, in order.

        Raise :class:`PhraseFailed` if the speaker could not speak it, :class:`SpeakerGone`
        if the speaker went away; closing the iterator early cancels the phrase.
        """
        self.wait_ready()
        phrase = next(self._ids)
        answers: queue.SimpleQueue[tuple[bytes, bytes]] = queue.SimpleQueue()
        with self._lock:
            if self._gone:
                raise SpeakerGone
            self._waiting[phrase] = answers
        finished = False
        try:
            self._send(SPEAK, phrase, length_scale, timeout_s, text.encode("utf-8"))
            while not finished:
                kind, payload = self._next_answer(answers, timeout_s + ANSWER_MARGIN_S)
                if kind == SENTENCE:
                    yield payload
                elif kind == DONE:
                    finished = True
                elif kind == ERROR:
                    finished = True
                    raise PhraseFailed(payload.decode("utf-8", errors="replace"))
                else:
                    raise SpeakerGone
        finally:
            with self._lock:
                self._waiting.pop(phrase, None)
            if not finished and self.alive():
                with contextlib.suppress(SpeakerGone):
                    self._send(CANCEL, phrase, 0.0, 0.0, b"")

    def _next_answer(
        self, answers: queue.SimpleQueue[tuple[bytes, bytes]], patience_s: float
    ) -> tuple[bytes, bytes]:
        """Wait for a phrase's next answer while the speaker answers anything at all.

        Phrases wait their turn in the speaker (its deadline for a phrase starts when the
        phrase does), so a phrase may wait long while others are spoken; the speaker is
        stuck only when it has answered nothing for ``patience_s``.
        """
        while True:
            try:
                return answers.get(timeout=1.0)
            except queue.Empty:
                if time.monotonic() - self._last_heard > patience_s:
                    self.close()  # stuck: it cannot be trusted any more
                    raise SpeakerGone from None

    def _send(self, kind: bytes, phrase: int, scale: float, timeout_s: float, text: bytes) -> None:
        assert self.process.stdin is not None
        frame = REQUEST.pack(kind, phrase, scale, timeout_s, len(text)) + text
        try:
            with self._write_lock:
                write_all(self.process.stdin.fileno(), frame)
                self._last_heard = max(self._last_heard, time.monotonic())
        except (OSError, ValueError):  # a closed pipe, or closed by close()
            raise SpeakerGone from None

    def _read_answers(self) -> None:
        """Hand each answer to the phrase it belongs to, until the speaker's output ends."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        try:
            while (header := read_exactly(fd, ANSWER.size)) is not None:
                kind, phrase, number, length = ANSWER.unpack(header)
                payload = read_exactly(fd, length)
                if payload is None:
                    break
                self._last_heard = time.monotonic()
                if kind == READY:
                    self.sample_rate = number
                    self._started.set()
                elif phrase == 0:
                    self._failure = payload.decode("utf-8", errors="replace")
                else:
                    with self._lock:
                        answers = self._waiting.get(phrase)
                    if answers is not None:
                        answers.put((kind, payload))
        except OSError:
            pass
        finally:
            with self._lock:
                self._gone = True
                for answers in self._waiting.values():
                    answers.put((_GONE, b""))
            self._started.set()
            self.process.stdout.close()

    def close(self) -> None:
        """End the process."""
        self._stop()


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """Close the speaker's stdin (it ends at once), then make sure it has ended."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_speakers: dict[tuple[str, str], Speaker] = {}
_users: dict[tuple[str, str], int] = {}
_guard = threading.Lock()


def speaker_for(key: tuple[str, str], model: PiperModel) -> Speaker:
    """The speaker of a model (``key``: its path and digest), started if need be."""
    with _guard:
        speaker = _speakers.get(key)
        if speaker is None or not speaker.alive():
            speaker = _speakers[key] = Speaker(model)
        return speaker


def use(key: tuple[str, str], model: PiperModel) -> Speaker:
    """Count one more engine using the model's speaker; start the speaker if need be."""
    with _guard:
        _users[key] = _users.get(key, 0) + 1
    return speaker_for(key, model)


def release(key: tuple[str, str]) -> None:
    """Count one engine fewer; end the speaker when none is left."""
    with _guard:
        _users[key] = _users.get(key, 1) - 1
        if _users[key] > 0:
            return
        del _users[key]
        speaker = _speakers.pop(key, None)
    if speaker is not None:
        speaker.close()
