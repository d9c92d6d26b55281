"""The Piper speaker process: the model loaded once, every sentence with noise of its own.

Run by :mod:`voiceguide.sound.engines.piper` as ``python -P piper_speaker.py MODEL CONFIG
PARALLEL`` (a script: importing the voiceguide packages would slow its start, and ``-P``
keeps this folder, which holds a ``piper.py``, off the path); it speaks the phrases it reads
on stdin and answers on stdout (frames below). Standard library, piper-tts, onnxruntime,
and :mod:`voiceguide.sound.engines.piper_noise` (loaded by its path).

Why: Piper's model draws random noise inside onnxruntime, from generators seeded once when
the model loads and advanced by every phrase, so a phrase's samples (and length) depended
on everything the process had said before. The model is loaded rewritten to take that noise
as inputs (:mod:`~voiceguide.sound.engines.piper_noise`), and every sentence gets noise
drawn from a generator seeded by the sentence itself: the same sentence is the same
samples every time, alone or after others, in any order, in any process, and a phrase is
its sentences. The noise keeps the voice's own scales (its variation is what makes it
natural); each sentence has its own, as it would have drawn.

Up to PARALLEL sentences are spoken at once, by as many threads, in the order they were
asked for (the sentences of a phrase, and of phrases asked for at the same time); each runs
the model on :data:`MODEL_THREADS` onnxruntime threads (a sentence alone is ~1.6 times as
fast on two free cores as on one). The samples do not depend on how many sentences are
spoken at once, nor on what else runs: nothing is shared but the loaded weights.
Phonemization happens on the main thread, once per phrase (Piper's espeak-ng gives the same
phonemes for a text whatever it phonemized before: checked on every built-in phrase). The
model's graph is loaded as it is, without onnxruntime's optimizations: they take about two
thirds of the load time (0.26 s loaded as it is, 0.96 s with all of them, at a load
average of 2) and make a sentence only ~8% faster; the sound is the same within 1e-5,
below the last bit of 16-bit audio.

The speaker ends when voiceguide does, however it ends (SIGKILL included): its stdin
reaches its end, or its parent changes (watched while the model loads, too). A sentence past
its phrase's deadline is stopped (onnxruntime's terminate flag). Nothing is written to disk
(onnxruntime's telemetry, which would write files and send events, is turned off before it
is imported).

Frames: a request is ``<cIddI`` (kind, phrase id, length scale, timeout in seconds, text
length) and the UTF-8 text; kinds ``S`` speak, ``C`` cancel (the rest is ignored). An
answer is ``<cIIQ`` (kind, phrase id, sentence index or sample rate, payload length) and the
payload: ``R`` ready (once, with the sample rate), ``S`` one sentence (mono float32
little-endian; sentences come in order), ``D`` the phrase is done, ``E`` an error (UTF-8:
``timeout``, ``too long``, or a message; phrase id 0 at the start).
"""

from __future__ import annotations

import math
import os
import queue
import select
import signal
import struct
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REQUEST = struct.Struct("<cIddI")
ANSWER = struct.Struct("<cIIQ")
SPEAK, CANCEL = b"S", b"C"
READY, SENTENCE, DONE, ERROR = b"R", b"S", b"D", b"E"
SEED = 1
"""The seed every sentence's noise seed is made from: part of the engine's identity."""
MODEL_THREADS = 2
"""onnxruntime threads running the model, on any machine: the samples of a long sentence
depend on how its work is split (one thread and two differ in the last bits), so the
number is fixed, and named in the engine's identity."""
MAX_SENTENCE_SAMPLES = 600 * 22_050
"""Ten minutes of audio at 22,050 Hz: a sentence longer than that is a runaway."""
WATCH_S = 0.25
"""How often the speaker looks whether voiceguide is still there while it has nothing to do."""


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
        """Stop watching."""
        os.write(self._wake_write, b"x")
        self._thread.join()
        os.close(self._wake_read)
        os.close(self._wake_write)


def _noise_module() -> Any:
    """Load piper_noise.py from beside this file (this folder is not on the path)."""
    import importlib.util

    path = Path(__file__).with_name("piper_noise.py")
    spec = importlib.util.spec_from_file_location("voiceguide_piper_noise", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def load(model: str, config: str) -> tuple[Any, int]:
    """Load the voice, its noise fed from inputs; return it and its sample rate."""
    import json

    noise = _noise_module()
    # onnxruntime's own telemetry, on by default, writes a device id and an event store
    # under ~/.cache/Microsoft and a .ses file in the temporary folder as it is imported,
    # and would upload events: voiceguide is offline and leaves nothing behind.
    os.environ["ORT_DISABLE_TELEMETRY"] = "1"
    import onnxruntime

    onnxruntime.disable_telemetry_events()
    onnxruntime.set_default_logger_severity(3)  # warnings (thread affinity) would be noise
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = MODEL_THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    # Idle onnxruntime threads sleep rather than spin: spinning took the CPU the other
    # sentence and voiceguide's own work needed (a cold export of back-pain: 21-32 s
    # spinning, 20-24 s not; the same bytes).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(
        noise.noise_as_inputs(Path(model).read_bytes()),
        sess_options=options,
        providers=["CPUExecutionProvider"],
    )
    from piper import PiperVoice
    from piper.config import PiperConfig

    settings = PiperConfig.from_dict(json.loads(Path(config).read_text(encoding="utf-8")))
    voice = PiperVoice(session=session, config=settings, download_dir=Path(os.devnull))
    voice.phonemize("Ready.")  # sets the phonemizer up now, not on the first phrase
    return _Voice(voice, noise), settings.sample_rate


class _Voice:
    """The loaded voice: speaks one sentence's phoneme ids with that sentence's noise."""

    def __init__(self, piper: Any, noise: Any) -> None:
        self.piper = piper
        self._noise = noise
        config = piper.config
        self._scales = (config.noise_scale, config.noise_w_scale)
        self._speaker = None if config.num_speakers <= 1 else config.default_speaker_id

    def sentences(self, text: str) -> list[list[int]]:
        """The phoneme ids of each sentence of ``text``."""
        return [self.piper.phonemes_to_ids(ph) for ph in self.piper.phonemize(text) if ph]

    def speak(self, ids: list[int], length_scale: float, options: Any) -> bytes:
        """Speak one sentence into float32 bytes (``options``: onnxruntime's RunOptions)."""
        import numpy as np

        noise_scale, noise_w = self._scales
        inputs: dict[str, Any] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": np.array([noise_scale, length_scale, noise_w], dtype=np.float32),
        }
        if self._speaker is not None:
            inputs["sid"] = np.array([self._speaker], dtype=np.int64)
        for more in (1, 8):
            inputs.update(self._noise.sentence_noise(ids, SEED, length_scale, more))
            try:
                audio = self.piper.session.run(None, inputs, run_options=options)[0]
                break
            except Exception:
                if more == 8 or options.terminate:
                    raise
                # Slow speech used more frames of noise than were drawn: draw more (the
                # first frames are the same, so the sentence is the same as it would be).
        samples = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
        if samples.size > MAX_SENTENCE_SAMPLES:
            raise _TooLong
        return samples.astype("<f4").tobytes()


class _TooLong(Exception):
    """A sentence ran on past ten minutes."""


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
    running: set[Any] = field(default_factory=set)
    """The RunOptions of its sentences being spoken (to stop them)."""


class _Server:
    """Phrases in on stdin, sentences out on stdout, worker threads in between."""

    def __init__(self, voice: _Voice, parallel: int, parent: int) -> None:
        import onnxruntime

        self.voice = voice
        self.parallel = parallel
        self.parent = parent
        self.phrases: dict[int, _Phrase] = {}
        self.waiting: deque[tuple[_Phrase, int, list[int]]] = deque()
        self.busy = 0
        self.jobs: queue.SimpleQueue[tuple[_Phrase, int, list[int], Any] | None]
        self.jobs = queue.SimpleQueue()
        self.results: queue.SimpleQueue[tuple[_Phrase, int, Any, bytes | BaseException]]
        self.results = queue.SimpleQueue()
        self._run_options = onnxruntime.RunOptions
        self._wake_read, self._wake_write = os.pipe()
        for _ in range(parallel):
            threading.Thread(target=self._work, daemon=True).start()

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            phrase, index, ids, options = job
            try:
                outcome: bytes | BaseException = self.voice.speak(ids, phrase.length_scale, options)
            except BaseException as error:
                outcome = error
            self.results.put((phrase, index, options, outcome))
            os.write(self._wake_write, b"x")

    def serve(self) -> None:
        """Serve until stdin ends or voiceguide goes; stop every sentence on the way out."""
        try:
            while self._step():
                pass
        finally:
            for phrase in self.phrases.values():
                for options in phrase.running:
                    options.terminate = True

    def _step(self) -> bool:
        self._start_sentences()
        now = time.monotonic()
        timeout = min([WATCH_S, *(p.deadline - now for p in self.phrases.values())])
        ready = select.select([0, self._wake_read], [], [], max(0.0, timeout))[0]
        if _gone(self.parent):
            return False
        if self._wake_read in ready:
            os.read(self._wake_read, 1 << 12)
            self._collect()
        if 0 in ready and not self._read_request():
            return False
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
            sentences = self.voice.sentences(data.decode("utf-8"))
        except Exception as error:
            _answer(ERROR, phrase_id, 0, _one_line(error).encode())
            return True
        if not sentences:
            _answer(DONE, phrase_id, 0)
            return True
        phrase = _Phrase(phrase_id, timeout_s, length_scale, len(sentences))
        self.phrases[phrase_id] = phrase
        self.waiting.extend((phrase, index, ids) for index, ids in enumerate(sentences))
        return True

    def _start_sentences(self) -> None:
        while self.waiting and self.busy < self.parallel:
            phrase, index, ids = self.waiting.popleft()
            if phrase.id not in self.phrases:
                continue  # cancelled, or failed on another sentence
            if phrase.deadline == math.inf:
                phrase.deadline = time.monotonic() + phrase.timeout_s
            options = self._run_options()
            phrase.running.add(options)
            self.busy += 1
            self.jobs.put((phrase, index, ids, options))

    def _collect(self) -> None:
        while True:
            try:
                phrase, index, options, outcome = self.results.get_nowait()
            except queue.Empty:
                return
            self.busy -= 1
            phrase.running.discard(options)
            if isinstance(outcome, bytes):
                self._done(phrase, index, outcome)
            elif isinstance(outcome, _TooLong):
                self._fail(phrase, "too long")
            else:
                self._fail(phrase, _one_line(outcome))

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
        """Forget a phrase and stop its sentences being spoken."""
        del self.phrases[phrase.id]
        for options in phrase.running:
            options.terminate = True


def main(argv: list[str]) -> int:
    """Load the voice, say so, then serve phrases read on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is voiceguide's to handle
    parent = os.getppid()
    watch = _LoadWatch(parent)
    try:
        model, config, parallel = argv[0], argv[1], max(1, int(argv[2]))
        voice, sample_rate = load(model, config)
    except Exception as error:  # anything: voiceguide reports it as one line
        _answer(ERROR, 0, 0, _one_line(error).encode())
        return 1
    finally:
        watch.stop()
    try:
        _answer(READY, 0, sample_rate)
        _Server(voice, parallel, parent).serve()
    except BrokenPipeError:
        pass  # voiceguide has gone
    # Not a normal exit: worker threads may be inside onnxruntime, which the interpreter's
    # shutdown would pull the ground from under. Every answer has been written already.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
