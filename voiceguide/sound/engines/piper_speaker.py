"""The Piper speaker process: every sentence spoken by a fresh copy of a loaded voice.

Run by :mod:`voiceguide.sound.engines.piper` as ``python -P piper_speaker.py MODEL CONFIG
PARALLEL`` (a script: importing the voiceguide packages would slow its start, and ``-P``
keeps this folder, which holds a ``piper.py``, off the path); it speaks the phrases it reads
on stdin and answers on stdout (frames below). Standard library, piper-tts and onnxruntime.

Why a process, and why a fork per sentence: Piper's model (VITS) draws random noise inside
onnxruntime (two ``RandomNormalLike`` nodes: the phoneme durations and the voice's
variation), from a generator each kernel seeds once, when the model is loaded, and then
advances with every phrase. Re-seeding later does not reach it, so a phrase's samples (and
its length) depended on everything the process had said before. This process seeds
onnxruntime with :data:`SEED`, loads the model once and never runs it: for each sentence it
forks, and the child runs the model from that pristine state, sends the samples back
through a pipe and exits. A sentence is therefore the same samples every time, alone or
after others, in any order, in any process, and a phrase is its sentences. The noise itself
is kept at the voice's own scales (its prosody is what makes it natural).

Forking is safe because the model runs on one thread (``intra_op_num_threads=1``: no
thread pool to lose in the child); up to PARALLEL children run at once (the sentences of a
phrase, and of phrases asked for at the same time, in the order they were asked), so both
cores are used. Phonemization happens here, once per phrase (Piper's espeak-ng gives the
same phonemes for a text whatever it phonemized before: checked on every built-in phrase).
The model's graph is loaded as it is, without onnxruntime's optimizations: they take about
two thirds of the load time (0.4 s loaded as it is, 1.2 s with the default optimizations,
on a busy machine) and make no difference here, neither to the speed (the same time per
sentence within 1%) nor to the sound (within 1e-5 of the fully optimized graph, below the
last bit of 16-bit audio).

The speaker ends when voiceguide does, however it ends (SIGKILL included): its stdin
reaches its end, or its parent changes (watched while the model loads, too); a child dies
with the speaker (``PR_SET_PDEATHSIG``). Nothing is written to disk (onnxruntime's telemetry,
which would write files and send events, is turned off before it is imported).

Frames: a request is ``<cIddI`` (kind, phrase id, length scale, timeout in seconds, text
length) and the UTF-8 text; kinds ``S`` speak, ``C`` cancel (the rest is ignored). An
answer is ``<cIIQ`` (kind, phrase id, sentence index or sample rate, payload length) and the
payload: ``R`` ready (once, with the sample rate), ``S`` one sentence (mono float32
little-endian; sentences come in order), ``D`` the phrase is done, ``E`` an error (UTF-8:
``timeout``, ``too long``, ``signal N``, ``exit N``, or a message; phrase id 0 at the start).
"""

from __future__ import annotations

import ctypes
import math
import os
import select
import signal
import struct
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from typing import Any

REQUEST = struct.Struct("<cIddI")
ANSWER = struct.Struct("<cIIQ")
SPEAK, CANCEL = b"S", b"C"
READY, SENTENCE, DONE, ERROR = b"R", b"S", b"D", b"E"
SEED = 1
"""onnxruntime's seed for the model's noise: part of the engine's identity."""
MAX_SENTENCE_BYTES = 600 * 22_050 * 4
"""Ten minutes of float32 audio at 22,050 Hz: a sentence longer than that is a runaway."""
WATCH_S = 0.25
"""How often the speaker looks whether voiceguide is still there while it has nothing to do."""
_PR_SET_PDEATHSIG = 1


def read_exactly(fd: int, size: int) -> bytes | None:
    """Read ``size`` bytes from ``fd``; ``None`` if it ends first."""
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _answer(kind: bytes, phrase: int, number: int, payload: bytes | bytearray = b"") -> None:
    write_all(1, ANSWER.pack(kind, phrase, number, len(payload)) + payload)


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    line = lines[0] if lines else ""
    line = f"{type(error).__name__}: {line}" if line else type(error).__name__
    return line if len(line) <= 300 else line[:297] + "..."


def _gone(parent: int) -> bool:
    """Tell whether voiceguide has ended (this process was handed to another parent)."""
    return os.getppid() != parent


class _LoadWatch:
    """End this process if voiceguide ends while the model loads (stdin is not read then)."""

    def __init__(self, parent: int) -> None:
        self._parent = parent
        self._wake_read, self._wake_write = os.pipe()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        poller = select.poll()
        poller.register(0, 0)  # a hang-up only: requests that arrive early stay unread
        poller.register(self._wake_read, select.POLLIN)
        while True:
            events = poller.poll(WATCH_S * 1000)
            if any(fd == self._wake_read for fd, _ in events):
                return
            if events or _gone(self._parent):
                os._exit(0)

    def stop(self) -> None:
        """Stop watching; only one thread is left when this returns (safe to fork)."""
        os.write(self._wake_write, b"x")
        self._thread.join()
        os.close(self._wake_read)
        os.close(self._wake_write)


def load(model: str, config: str) -> tuple[Any, int]:
    """Seed onnxruntime, load the voice on one thread; return it and its sample rate."""
    import json
    from pathlib import Path

    # onnxruntime's own telemetry, on by default, writes a device id and an event store
    # under ~/.cache/Microsoft and a .ses file in the temporary folder as it is imported,
    # and would upload events: voiceguide is offline and leaves nothing behind.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    onnxruntime.set_default_logger_severity(3)  # warnings (thread affinity) would be noise
    onnxruntime.set_seed(SEED)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )
    from piper import PiperVoice
    from piper.config import PiperConfig

    settings = PiperConfig.from_dict(json.loads(Path(config).read_text(encoding="utf-8")))
    voice = PiperVoice(session=session, config=settings, download_dir=Path(os.devnull))
    voice.phonemize("Ready.")  # sets the phonemizer up now, not on the first phrase
    return voice, settings.sample_rate


@dataclass
class _Phrase:
    """A phrase being spoken: its sentences, those done, and the next one to send."""

    id: int
    timeout_s: float
    length_scale: float
    count: int
    deadline: float = math.inf
    """Set when the phrase's first sentence starts: a phrase waiting its turn has none."""
    done: dict[int, bytes] = field(default_factory=dict)
    sent: int = 0


@dataclass
class _Child:
    """A child speaking one sentence, and what it has sent back so far."""

    pid: int
    phrase: _Phrase
    index: int
    data: bytearray = field(default_factory=bytearray)


def _die_with_parent(parent: int) -> None:
    """Have the kernel end this process when its parent ends (Linux), or end it now."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _speak_sentence(voice: Any, ids: list[int], length_scale: float, out: int, parent: int) -> None:
    """In a child: speak one sentence from the forked state into ``out``; never return."""
    code = 3
    try:
        _die_with_parent(parent)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        import numpy as np
        from piper.config import SynthesisConfig

        config = SynthesisConfig(length_scale=length_scale, normalize_audio=False)
        try:
            audio = voice.phoneme_ids_to_audio(ids, config)
            samples = np.clip(np.asarray(audio, dtype=np.float32), -1.0, 1.0).astype("<f4")
            write_all(out, b"A" + samples.tobytes())
        except Exception as error:  # the model's failure: told, not a traceback
            write_all(out, b"E" + _one_line(error).encode())
        code = 0
    finally:
        os._exit(code)


class _Server:
    """Phrases in on stdin, sentences out on stdout, children in between."""

    def __init__(self, voice: Any, parallel: int, parent: int) -> None:
        self.voice = voice
        self.parallel = parallel
        self.parent = parent
        self.phrases: dict[int, _Phrase] = {}
        self.waiting: deque[tuple[_Phrase, int, list[int]]] = deque()
        self.children: dict[int, _Child] = {}

    def serve(self) -> None:
        """Serve until stdin ends or voiceguide goes; end every child on the way out."""
        try:
            while self._step():
                pass
        finally:
            for fd, child in list(self.children.items()):
                self._end_child(fd, child, kill=True)

    def _step(self) -> bool:
        self._start_children()
        now = time.monotonic()
        timeout = min([WATCH_S, *(p.deadline - now for p in self.phrases.values())])
        ready = select.select([0, *self.children], [], [], max(0.0, timeout))[0]
        if _gone(self.parent):
            return False
        for fd in ready:
            if fd == 0:
                if not self._read_request():
                    return False
            elif fd in self.children:
                self._read_child(fd)
        now = time.monotonic()
        for phrase in [p for p in self.phrases.values() if p.deadline <= now]:
            self._fail(phrase, "timeout")
        return True

    def _read_request(self) -> bool:
        header = read_exactly(0, REQUEST.size)
        if header is None:
            return False
        kind, phrase_id, length_scale, timeout_s, length = REQUEST.unpack(header)
        data = read_exactly(0, length)
        if data is None:
            return False
        if kind == CANCEL:
            if phrase_id in self.phrases:
                self._drop(self.phrases[phrase_id])
            return True
        try:
            sentences = [
                self.voice.phonemes_to_ids(phonemes)
                for phonemes in self.voice.phonemize(data.decode("utf-8"))
                if phonemes
            ]
        except Exception as error:
            _answer(ERROR, phrase_id, 0, _one_line(error).encode())
            return True
        phrase = _Phrase(phrase_id, timeout_s, length_scale, len(sentences))
        if not sentences:
            _answer(DONE, phrase_id, 0)
            return True
        self.phrases[phrase_id] = phrase
        self.waiting.extend((phrase, index, ids) for index, ids in enumerate(sentences))
        return True

    def _start_children(self) -> None:
        while self.waiting and len(self.children) < self.parallel:
            phrase, index, ids = self.waiting.popleft()
            if phrase.id not in self.phrases:
                continue  # cancelled, or failed on another sentence
            if phrase.deadline == math.inf:
                phrase.deadline = time.monotonic() + phrase.timeout_s
            read_end, write_end = os.pipe()
            speaker = os.getpid()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                _speak_sentence(self.voice, ids, phrase.length_scale, write_end, speaker)
            os.close(write_end)
            self.children[read_end] = _Child(pid, phrase, index)

    def _read_child(self, fd: int) -> None:
        child = self.children[fd]
        chunk = os.read(fd, 1 << 20)
        if chunk:
            child.data += chunk
            if len(child.data) > MAX_SENTENCE_BYTES + 1:
                self._fail(child.phrase, "too long")
            return
        status = self._end_child(fd, child, kill=False)
        data = bytes(child.data)
        if data[:1] == b"A" and status == 0:
            self._done(child.phrase, child.index, data[1:])
        elif data[:1] == b"E":
            self._fail(child.phrase, data[1:].decode(errors="replace"))
        elif os.WIFSIGNALED(status):
            self._fail(child.phrase, f"signal {os.WTERMSIG(status)}")
        else:
            self._fail(child.phrase, f"exit {os.WEXITSTATUS(status)}")

    def _end_child(self, fd: int, child: _Child, *, kill: bool) -> int:
        del self.children[fd]
        os.close(fd)
        if kill:
            os.kill(child.pid, signal.SIGKILL)
        return os.waitpid(child.pid, 0)[1]

    def _done(self, phrase: _Phrase, index: int, samples: bytes) -> None:
        if phrase.id not in self.phrases:
            return
        phrase.done[index] = samples
        while phrase.sent in phrase.done:
            _answer(SENTENCE, phrase.id, phrase.sent, phrase.done.pop(phrase.sent))
            phrase.sent += 1
        if phrase.sent == phrase.count:
            del self.phrases[phrase.id]
            _answer(DONE, phrase.id, phrase.count)

    def _fail(self, phrase: _Phrase, problem: str) -> None:
        if phrase.id in self.phrases:
            self._drop(phrase)
            _answer(ERROR, phrase.id, 0, problem.encode())

    def _drop(self, phrase: _Phrase) -> None:
        """Forget a phrase and end the children still speaking it."""
        del self.phrases[phrase.id]
        for fd, child in list(self.children.items()):
            if child.phrase is phrase:
                self._end_child(fd, child, kill=True)


def main(argv: list[str]) -> int:
    """Load the voice, say so, then serve phrases read on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is voiceguide's to handle
    # onnxruntime keeps an idle native thread of its own; it takes no part in running the
    # model on one thread, so Python's warning about forking a threaded process is moot.
    warnings.filterwarnings("ignore", ".*fork", DeprecationWarning)
    parent = os.getppid()
    watch = _LoadWatch(parent)
    try:
        model, config, parallel = argv[0], argv[1], max(1, int(argv[2]))
        voice, sample_rate = load(model, config)
    except Exception as error:  # anything: voiceguide reports it as one line
        _answer(ERROR, 0, 0, _one_line(error).encode())
        return 1
    finally:
        watch.stop()  # one thread again before the first fork
    try:
        _answer(READY, 0, sample_rate)
        _Server(voice, parallel, parent).serve()
    except BrokenPipeError:
        pass  # voiceguide has gone
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
