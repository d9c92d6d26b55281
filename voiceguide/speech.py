"""Spoken phrases as clips: synthesized once, cached, trimmed and loudness-matched.

:class:`SpeechClips` is the :class:`voiceguide.clips.ClipSource` the compiler and the
renderer share: the compiler asks how long each phrase is, the renderer asks for the
samples, and both get the very same array, made once per process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voiceguide.cache import phrase_key
from voiceguide.clips import SAMPLE_RATE
from voiceguide.engines.base import Speech
from voiceguide.errors import EngineError

if TYPE_CHECKING:
    import numpy.typing as npt

    from voiceguide.cache import PhraseCache
    from voiceguide.clips import FloatArray
    from voiceguide.engines.base import SpeechEngine

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
CLIP_PROCESSING = "trim-match-v1"
"""Names the processing a cached clip went through; change it when that processing changes."""
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
    """Bring a phrase to the speech loudness of the mix (see :mod:`voiceguide.loudness`)."""
    from voiceguide import loudness

    return loudness.match_speech(samples, sample_rate)


def _ms_to_samples(ms: int, sample_rate: int) -> int:
    return ms * sample_rate // 1000


def to_float(speech: Speech) -> FloatArray:
    """Convert int16 PCM to float32 in [-1, 1)."""
    return (np.asarray(speech.samples, dtype=np.float32) / 32768.0).astype(np.float32)


def to_int16(samples: FloatArray) -> npt.NDArray[np.int16]:
    """Quantize float samples in [-1, 1] to int16 PCM, clipping anything beyond."""
    # The inverse of to_float (x / 32768), so a clip survives the round trip exactly.
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def resample(samples: FloatArray, from_rate: int, to_rate: int) -> FloatArray:
    """Resample mono audio by linear interpolation (for engines not at ``SAMPLE_RATE``)."""
    if from_rate == to_rate or not len(samples):
        return samples
    # Linear interpolation aliases a little; espeak-ng speaks at SAMPLE_RATE and never
    # comes here. An engine at another rate deserves a proper polyphase filter.
    count = max(1, round(len(samples) * to_rate / from_rate))
    positions = np.arange(count, dtype=np.float64) * (from_rate / to_rate)
    source = np.arange(len(samples), dtype=np.float64)
    return np.interp(positions, source, samples).astype(np.float32)


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
        """Make every phrase ready, in order; return how many the engine had to synthesize."""
        pending = list(dict.fromkeys(texts))
        total = len(pending)
        synthesized = 0
        if progress is not None:
            progress(0, total)
        for done, text in enumerate(pending, start=1):
            if text not in self._clips:
                _, fresh = self._make(text)
                synthesized += fresh
            if progress is not None:
                progress(done, total)
        return synthesized

    def _make(self, text: str) -> tuple[FloatArray, bool]:
        """Build the clip of ``text`` and remember it; say whether the engine was used.

        The cache holds the finished clip (trimmed, matched, at 16 bits), so a warm run
        does no signal processing and a cold run and a warm run give the same samples.
        """
        key = None
        if self.cache is not None:
            if self._identity is None:
                processing = "raw" if self._normalize is None else CLIP_PROCESSING
                self._identity = f"{self.engine.identity()} clip={processing}"
            key = phrase_key(self._identity, text)
            cached = self.cache.get(key)
            if cached is not None and cached.sample_rate == SAMPLE_RATE:
                return self._remember(text, to_float(cached)), False
        speech = self.engine.synthesize(text)
        samples = resample(to_float(speech), speech.sample_rate, SAMPLE_RATE)
        clip = trim_silence(samples, SAMPLE_RATE)
        if not len(clip):
            raise EngineError(f"the speech engine produced only silence for {text!r}")
        if self._normalize is not None:
            clip = np.asarray(self._normalize(clip, SAMPLE_RATE), dtype=np.float32)
            if clip.ndim != 1 or not np.all(np.isfinite(clip)):
                raise EngineError(f"loudness matching failed for {text!r}")
        pcm = to_int16(clip)
        if self.cache is not None and key is not None:
            self.cache.put(key, Speech(samples=pcm, sample_rate=SAMPLE_RATE))
        return self._remember(text, to_float(Speech(samples=pcm, sample_rate=SAMPLE_RATE))), True

    def _remember(self, text: str, clip: FloatArray) -> FloatArray:
        clip.flags.writeable = False  # shared by the compiler and the renderer
        self._clips[text] = clip
        return clip
