"""Finish what an engine spoke into a clip: at the pipeline's rate, trimmed, faded, level-matched.

Import this module lazily: it imports numpy at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from voiceguide.errors import EngineError, Position, Problem, ScriptError, VoiceguideError
from voiceguide.pcm import SAMPLE_RATE, fade, ms_to_samples, resample, to_float

if TYPE_CHECKING:
    from voiceguide.pcm import FloatArray
    from voiceguide.sound.engines.base import Speech

Normalizer = Callable[["FloatArray", int], "FloatArray"]
"""Takes mono float32 samples and their rate; returns them at the level the mix expects."""

TRIM_THRESHOLD_DBFS = -50.0
"""Below this (RMS over :data:`TRIM_WINDOW_MS`) the start and end of a phrase count as silence."""
TRIM_WINDOW_MS = 5
LEAD_PAD_MS = 5
"""Silence kept before the first sound, so the onset is not cut."""
TAIL_PAD_MS = 20
"""Silence kept after the last sound, so a soft ending decays naturally."""
FADE_IN_MS = 2
FADE_OUT_MS = 10
CLIP_PROCESSING = "trim-match-v3"
"""Names the processing a cached clip went through; change it when that processing changes.

v3: fades reach exact zero (:func:`voiceguide.pcm.fade`), and espeak-ng speaks every
phrase from a fresh state, so clips made before are remade rather than mixed with these."""


class SilentPhraseError(EngineError):
    """The engine spoke phrases as silence (``"..."``, say); carries them.

    :meth:`located` turns it into a script error at the lines that say them.
    """

    def __init__(self, texts: Sequence[str], engine: str) -> None:
        self.texts = tuple(texts)
        self.engine = engine
        quoted = ", ".join(repr(text) for text in self.texts)
        them = "it" if len(self.texts) == 1 else "them"
        super().__init__(f"the {engine} engine speaks {quoted} as silence; write {them} in words")

    def located(self, sources: Mapping[str, Position]) -> VoiceguideError:
        """The same, as a script error at each phrase's source (if all are known)."""
        if not all(text in sources for text in self.texts):
            return self
        message = f"this text is spoken as silence by {self.engine}; write it in words"
        return ScriptError([Problem(sources[text], message) for text in self.texts])


def match_speech(samples: FloatArray, sample_rate: int) -> FloatArray:
    """Bring a phrase to the speech loudness of the mix (see :mod:`voiceguide.sound.loudness`)."""
    from voiceguide.sound import loudness

    return loudness.match_speech(samples, sample_rate)


def trim_silence(samples: FloatArray, sample_rate: int) -> FloatArray:
    """Cut leading and trailing silence, keep a short pad and fade the edges; keep it mono."""
    window = max(1, ms_to_samples(TRIM_WINDOW_MS, sample_rate))
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
    start = max(0, first - ms_to_samples(LEAD_PAD_MS, sample_rate))
    stop = min(len(samples), last + ms_to_samples(TAIL_PAD_MS, sample_rate))
    out = np.array(samples[start:stop], dtype=np.float32)
    fade(out, ms_to_samples(FADE_IN_MS, sample_rate), ms_to_samples(FADE_OUT_MS, sample_rate))
    return out


def finish(
    text: str, speech: Speech, normalize: Normalizer | None, engine: str = "speech"
) -> FloatArray:
    """Turn a phrase as ``engine`` spoke it into a clip: float32 at the pipeline's rate.

    Resampled if the engine speaks at another rate, trimmed to the voice, faded, and
    brought to the mix's level by ``normalize`` (``None`` keeps the engine's level).
    Raises :class:`SilentPhraseError` if nothing but silence is left. Thread-safe.
    """
    samples = resample(to_float(speech.samples), speech.sample_rate, SAMPLE_RATE)
    clip = trim_silence(samples, SAMPLE_RATE)
    if not len(clip):
        raise SilentPhraseError([text], engine)
    if normalize is not None:
        clip = np.asarray(normalize(clip, SAMPLE_RATE), dtype=np.float32)
        if clip.ndim != 1 or not np.all(np.isfinite(clip)):
            raise EngineError(f"loudness matching failed for {text!r}")
    return clip
