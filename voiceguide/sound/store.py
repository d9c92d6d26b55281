"""Finished phrase clips in the phrase cache: where speech becomes 16-bit, once.

A clip is float32 from the engine through :mod:`voiceguide.sound.processing`; the cache keeps
it as 16-bit PCM. The clip a cold run uses is the one it stored, read back exactly as a warm
run will read it (:meth:`PhraseStore.put` returns it), so cold and warm give the same samples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.pcm import SAMPLE_RATE, to_float, to_pcm
from voiceguide.sound.cache import phrase_key
from voiceguide.sound.engines.base import Speech

if TYPE_CHECKING:
    from voiceguide.pcm import FloatArray
    from voiceguide.sound.cache import PhraseCache


class PhraseStore:
    """Finished clips on disk, keyed by what made them and by their text.

    ``identity`` names the engine and the processing; it is asked once, when the store is
    first used (an engine's identity can take a moment to settle).
    """

    def __init__(self, cache: PhraseCache | None, identity: Callable[[], str]) -> None:
        self.cache = cache
        self._identity = identity
        self._settled: str | None = None

    def _key(self, text: str) -> str:
        if self._settled is None:
            self._settled = self._identity()
        return phrase_key(self._settled, text)

    def get(self, text: str) -> FloatArray | None:
        """The finished clip of ``text``, if the cache holds a sound one."""
        if self.cache is None:
            return None
        cached = self.cache.get(self._key(text))
        if cached is None or cached.sample_rate != SAMPLE_RATE:
            return None
        return to_float(cached.samples)

    def holds(self, text: str) -> bool:
        """Whether the cache has an entry for ``text`` (a look at the folder, nothing read)."""
        return self.cache is not None and self.cache.holds(self._key(text))

    def put(self, text: str, clip: FloatArray, *, persist: bool = True) -> FloatArray:
        """Quantize a finished clip, keep it (if ``persist``) and return it as it was kept."""
        pcm = to_pcm(clip)
        if persist and self.cache is not None:
            self.cache.put(self._key(text), Speech(samples=pcm, sample_rate=SAMPLE_RATE))
        return to_float(pcm)
