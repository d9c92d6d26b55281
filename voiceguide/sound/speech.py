"""Spoken phrases as clips: synthesized once, cached, trimmed and loudness-matched.

:class:`SpeechClips` is the :class:`voiceguide.sound.clips.ClipSource` the compiler and the
renderer share: the compiler asks how long each phrase is, the renderer asks for the
samples, and both get the very same array, made once per process.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voiceguide.errors import EngineError
from voiceguide.pcm import SAMPLE_RATE
from voiceguide.sound.cache import phrase_key
from voiceguide.sound.engines.base import Speech
from voiceguide.sound.render import to_pcm

if TYPE_CHECKING:
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.clips import FloatArray
    from voiceguide.sound.engines.base import SpeechEngine, VoiceSettings

Normalizer = Callable[["FloatArray", int], "FloatArray"]
"""Takes mono float32 samples and their rate; returns them at the level the mix expects."""

Progress = Callable[[int, int], None]
"""Told ``(done, total)`` phrases: once with 0 before starting, then after each phrase."""

TRIM_THRESHOLD_DBFS = -50.0
"""Below this (RMS over :data:`TRIM_WINDOW_MS`) the start and end of a phrase count as silence."""
TRIM_WINDOW_MS = 5
LEAD_PAD_MS = 5
"""Silence kept before the first sound, so the onset is not cut."""
TAIL_PAD_MS = 20
"""Silence kept after the last sound, so a soft ending decays naturally."""
CLIP_PROCESSING = "trim-match-v2"
"""Names the processing a cached clip went through; change it when that processing changes."""
_PROCESS_WORKERS = 4
"""Threads that trim and loudness-match phrases while the engine speaks the next ones."""
_SPEAKER_PROCESSES = 3
"""Worker processes that speak phrases at once when many are missing from the cache."""
_PARALLEL_MIN_PHRASES = 12
"""Fewer phrases than this are spoken here: starting workers would cost more than it saves."""
FADE_IN_MS = 2
FADE_OUT_MS = 10


class SoundSource(Protocol):
    """The named sounds (press, release, tick, …) a :class:`SpeechClips` hands through."""

    def sound(self, name: str) -> FloatArray:
        """The named sound: mono float32 at ``SAMPLE_RATE``, loudness-matched."""
        ...

    def sound_samples(self, name: str) -> int:
        """Length of the named sound in samples."""
        ...


def match_speech(samples: FloatArray, sample_rate: int) -> FloatArray:
    """Bring a phrase to the speech loudness of the mix (see :mod:`voiceguide.sound.loudness`)."""
    from voiceguide.sound import loudness

    return loudness.match_speech(samples, sample_rate)


def _ms_to_samples(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


def to_float(speech: Speech) -> FloatArray:
    """Convert int16 PCM to float32 in [-1, 1)."""
    return (np.asarray(speech.samples, dtype=np.float32) / 32768.0).astype(np.float32)


def resample(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    """Resample mono audio, band-limited (for engines and voices not at ``SAMPLE_RATE``)."""
    if from_rate == to_rate or not len(samples):
        return samples
    # espeak-ng and the packaged Piper voice speak at SAMPLE_RATE and never come here;
    # a Piper voice of the user's own may speak at 16 kHz, say. Linear interpolation
    # would alias; the sounds' FFT resampler does not, and phrases are short.
    from voiceguide.pcm import resample as band_limited

    return band_limited(samples, from_rate, to_rate)


def trim_silence(samples: FloatArray, sample_rate: int) -> FloatArray:
    """Cut leading and trailing silence, keep a short pad and fade the edges; keep it mono."""
    window = max(1, _ms_to_samples(TRIM_WINDOW_MS, sample_rate))
    squares = np.asarray(samples, dtype=np.float64) ** 2
    cumulative = np.concatenate(([0.0], np.cumsum(squares)))
    # Mean square of the window starting at each sample (shorter windows at the very end).
    starts = np.arange(len(samples))
    stops = np.minimum(starts + window, len(samples))
    mean_square = (cumulative[stops] - cumulative[starts]) / (stops - starts)
    loud = np.flatnonzero(mean_square > 10.0 ** (TRIM_THRESHOLD_DBFS / 10.0))
    if not len(loud):
        return samples[:0].astype(np.float32)
    # The first and last loud windows hold the edges of the voice; find them to the sample.
    above = 10.0 ** (TRIM_THRESHOLD_DBFS / 20.0)
    head = np.abs(samples[int(loud[0]) : int(loud[0]) + window])
    tail = np.abs(samples[int(loud[-1]) : int(loud[-1]) + window])
    first = int(loud[0]) + int(np.argmax(head > above))
    last = int(loud[-1]) + len(tail) - int(np.argmax(tail[::-1] > above))
    start = max(0, first - _ms_to_samples(LEAD_PAD_MS, sample_rate))
    stop = min(len(samples), last + _ms_to_samples(TAIL_PAD_MS, sample_rate))
    out = np.array(samples[start:stop], dtype=np.float32)
    _fade(out, _ms_to_samples(FADE_IN_MS, sample_rate), _ms_to_samples(FADE_OUT_MS, sample_rate))
    return out


def _fade(samples: FloatArray, fade_in: int, fade_out: int) -> None:
    """Apply raised-cosine fades to both ends, in place."""
    fade_in = min(fade_in, len(samples) // 2)
    fade_out = min(fade_out, len(samples) // 2)
    if fade_in:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_in) + 0.5) / fade_in)
        samples[:fade_in] *= ramp.astype(np.float32)
    if fade_out:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_out) + 0.5) / fade_out)
        samples[-fade_out:] *= ramp[::-1].astype(np.float32)


_speaker: dict[str, SpeechEngine] = {}
"""In a worker process, its one engine (made by :func:`_start_speaker`)."""


def _start_speaker(name: str, settings: VoiceSettings) -> None:
    """Make this worker process's engine (Ctrl-C is the parent's to handle)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from voiceguide.sound.engines import make_engine

    _speaker["engine"] = make_engine(name, settings)


def _speak(text: str) -> Speech:
    """Speak ``text`` with this worker process's engine."""
    return _speaker["engine"].synthesize(text)


class SpeechClips:
    """Phrases spoken by an engine, cached on disk and kept in memory for this process.

    Not thread-safe: the compiler and the renderer take turns.
    """

    def __init__(
        self,
        engine: SpeechEngine,
        cache: PhraseCache | None,
        sounds: SoundSource,
        *,
        normalize: Normalizer | None = match_speech,
    ) -> None:
        """Speak with ``engine``; ``normalize=None`` keeps the level the engine gave."""
        self.engine = engine
        self.cache = cache
        self.sounds = sounds
        self._normalize = normalize
        self._identity: str | None = None
        self._clips: dict[str, FloatArray] = {}

    @property
    def sample_rate(self) -> int:
        """The rate every clip is at."""
        return SAMPLE_RATE

    def speech(self, text: str) -> FloatArray:
        """Return ``text`` spoken: mono float32, trimmed and loudness-matched (read-only)."""
        clip = self._clips.get(text)
        if clip is None:
            clip, _ = self._make(text)
        return clip

    def speak_once(self, text: str) -> FloatArray:
        """Return ``text`` spoken like :meth:`speech`, but keep a new clip nowhere.

        For a sentence unlikely to be said again (an answer that names the time left): it
        comes from memory or the cache if it is there, else the engine speaks it and it is
        neither remembered nor cached.
        """
        clip = self._clips.get(text)
        if clip is None:
            clip = self._cached(text)
        if clip is None:
            clip = self._process(text, self.engine.synthesize(text), persist=False)
        return clip

    def speech_samples(self, text: str) -> int:
        """Return the length of ``text`` spoken, in samples."""
        return len(self.speech(text))

    def sound(self, name: str) -> FloatArray:
        """Return the named sound."""
        return self.sounds.sound(name)

    def sound_samples(self, name: str) -> int:
        """Return the length of the named sound, in samples."""
        return self.sounds.sound_samples(name)

    def prepare(self, texts: Iterable[str], progress: Progress | None = None) -> int:
        """Make every phrase ready; return how many the engine had to synthesize.

        The engine speaks one phrase at a time on this thread, while trimming and loudness
        matching of the phrases already spoken run on a small pool of threads (numpy lets
        go of the interpreter lock), so a cold cache costs little more than synthesis.
        """
        from concurrent.futures import Future, ThreadPoolExecutor

        pending = [text for text in dict.fromkeys(texts) if text not in self._clips]
        total = len(pending)
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            if progress is not None:
                progress(done, total)

        if progress is not None:
            progress(0, total)
        missing = []
        for text in pending:
            cached = self._cached(text)
            if cached is None:
                missing.append(text)
            else:
                self._remember(text, cached)
                advance()
        if not missing:
            return 0
        workers = max(1, min(_PROCESS_WORKERS, os.cpu_count() or 1))
        with (
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="voiceguide-clip") as pool,
            self._speakers(len(missing)) as speak,
        ):
            futures: list[tuple[str, Future[FloatArray]]] = []
            try:
                for text, speech in zip(missing, speak(missing), strict=True):
                    futures.append((text, pool.submit(self._process, text, speech)))
                for text, future in futures:
                    self._remember(text, future.result())
                    advance()
            except BaseException:
                for _, future in futures:
                    future.cancel()
                raise
        return len(missing)

    @contextlib.contextmanager
    def _speakers(self, count: int) -> Iterator[Callable[[list[str]], Iterator[Speech]]]:
        """Yield a function that speaks phrases in order: here, or in worker processes.

        The engine speaks one phrase at a time and mostly waits on its driver's polling,
        so for a batch of phrases, engines that can be made again elsewhere
        (``worker_recipe()``) speak in a few processes at once, each with its own engine.
        """
        recipe = getattr(self.engine, "worker_recipe", None)
        if recipe is None or count < _PARALLEL_MIN_PHRASES:
            yield lambda texts: (self.engine.synthesize(text) for text in texts)
            return
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        name, settings = recipe()
        context = multiprocessing.get_context("forkserver")
        # Workers fork from a server that has imported these once, rather than each
        # importing numpy and pyttsx3 for itself.
        context.set_forkserver_preload(
            ["voiceguide.sound.speech", "voiceguide.sound.engines.espeak"]
        )
        processes = max(1, min(_SPEAKER_PROCESSES, count // _PARALLEL_MIN_PHRASES))
        with ProcessPoolExecutor(
            processes, mp_context=context, initializer=_start_speaker, initargs=(name, settings)
        ) as speakers:
            try:
                yield lambda texts: speakers.map(_speak, texts)
            except BaseException:
                speakers.shutdown(wait=False, cancel_futures=True)
                raise

    def _make(self, text: str) -> tuple[FloatArray, bool]:
        """Build the clip of ``text`` and remember it; say whether the engine was used."""
        cached = self._cached(text)
        if cached is not None:
            return self._remember(text, cached), False
        return self._remember(text, self._process(text, self.engine.synthesize(text))), True

    def _key(self, text: str) -> str | None:
        if self.cache is None:
            return None
        if self._identity is None:
            processing = "raw" if self._normalize is None else CLIP_PROCESSING
            self._identity = f"{self.engine.identity()} clip={processing}"
        return phrase_key(self._identity, text)

    def _cached(self, text: str) -> FloatArray | None:
        """The finished clip of ``text`` from the cache, if it is there and sound."""
        key = self._key(text)
        if self.cache is None or key is None:
            return None
        cached = self.cache.get(key)
        if cached is None or cached.sample_rate != SAMPLE_RATE:
            return None
        return to_float(cached)

    def _process(self, text: str, speech: Speech, *, persist: bool = True) -> FloatArray:
        """Trim, match and quantize a phrase the engine spoke; cache the result if ``persist``.

        The cache holds the finished clip (at 16 bits), so a warm run does no signal
        processing, and a cold run and a warm run give the same samples. Thread-safe.
        """
        samples = resample(to_float(speech), speech.sample_rate, SAMPLE_RATE)
        clip = trim_silence(samples, SAMPLE_RATE)
        if not len(clip):
            raise EngineError(f"the speech engine produced only silence for {text!r}")
        if self._normalize is not None:
            clip = np.asarray(self._normalize(clip, SAMPLE_RATE), dtype=np.float32)
            if clip.ndim != 1 or not np.all(np.isfinite(clip)):
                raise EngineError(f"loudness matching failed for {text!r}")
        finished = Speech(samples=to_pcm(clip), sample_rate=SAMPLE_RATE)
        key = self._key(text) if persist else None
        if self.cache is not None and key is not None:
            self.cache.put(key, finished)
        return to_float(finished)

    def _remember(self, text: str, clip: FloatArray) -> FloatArray:
        clip.flags.writeable = False  # shared by the compiler and the renderer
        self._clips[text] = clip
        return clip
