"""Spoken phrases as clips: synthesized once, finished, cached and kept for the process.

:class:`SpeechClips` is the :class:`voiceguide.sound.clips.ClipSource` the compiler and the
renderer share: the compiler asks how long each phrase is, the renderer asks for the
samples, and both get the very same array, made once per process. It puts together three
parts: the engine (:mod:`voiceguide.sound.engines`), which speaks; the processing
(:mod:`voiceguide.sound.processing`), which finishes a clip; and the phrase store
(:mod:`voiceguide.sound.store`), which keeps finished clips in the cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Protocol

from voiceguide.pcm import SAMPLE_RATE
from voiceguide.sound.processing import (
    CLIP_PROCESSING,
    LEAD_PAD_MS,
    TAIL_PAD_MS,
    Normalizer,
    SilentPhraseError,
    finish,
    match_speech,
)
from voiceguide.sound.store import PhraseStore

if TYPE_CHECKING:
    from voiceguide.pcm import FloatArray
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines.base import Speech, SpeechEngine

__all__ = ["LEAD_PAD_MS", "TAIL_PAD_MS", "Progress", "SoundSource", "SpeechClips"]

Progress = Callable[[int, int], None]
"""Told ``(done, total)`` phrases: once with 0 before starting, then after each phrase."""

_PROCESS_WORKERS = 4
"""Threads that finish phrases while the engine speaks the next ones (numpy lets go of the
interpreter lock, and finishing a clip takes several times longer than speaking it)."""


class SoundSource(Protocol):
    """The named sounds (press, release, tick, …) a :class:`SpeechClips` hands through."""

    def sound(self, name: str) -> FloatArray:
        """The named sound: mono float32 at ``SAMPLE_RATE``, loudness-matched."""
        ...

    def sound_samples(self, name: str) -> int:
        """Length of the named sound in samples."""
        ...


class SpeechClips:
    """Phrases spoken by an engine, cached on disk and kept in memory for this process.

    The compiler and the renderer take turns; :meth:`has`, :meth:`load` and :meth:`make`
    may also be called from a pool's workers (:mod:`voiceguide.sound.pool`).
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
        processing = "raw" if normalize is None else CLIP_PROCESSING
        self._store = PhraseStore(cache, lambda: f"{engine.identity()} clip={processing}")
        self._clips: dict[str, FloatArray] = {}

    @property
    def sample_rate(self) -> int:
        """The rate every clip is at."""
        return SAMPLE_RATE

    def speech(self, text: str) -> FloatArray:
        """Return ``text`` spoken: mono float32, trimmed and loudness-matched (read-only)."""
        clip = self._clips.get(text)
        if clip is None:
            clip = self._store.get(text)
            if clip is None:
                clip = self._store.put(text, self._finish(text, self.engine.synthesize(text)))
            self._remember(text, clip)
        return clip

    def has(self, text: str) -> bool:
        """Whether ``text`` is ready in memory (thread-safe)."""
        return text in self._clips

    def stored(self, text: str) -> bool:
        """Whether ``text`` is in memory or has an entry in the phrase cache (nothing read)."""
        return text in self._clips or self._store.holds(text)

    def load(self, text: str) -> bool:
        """Make ``text`` ready from memory or the phrase cache; False if it must be spoken.

        Thread-safe, as is :meth:`make`: a :class:`~voiceguide.sound.pool.ClipPool` calls
        both from its workers.
        """
        if text in self._clips:
            return True
        cached = self._store.get(text)
        if cached is None:
            return False
        self._remember(text, cached)
        return True

    def make(self, text: str, engine: SpeechEngine | None = None) -> FloatArray:
        """Speak ``text`` with ``engine`` (default: this one's), finish, store and keep it."""
        speaker = engine if engine is not None else self.engine
        return self.keep(text, speaker.synthesize(text))

    def keep(self, text: str, speech: Speech) -> FloatArray:
        """Finish what an engine spoke for ``text``, store it and keep it (thread-safe)."""
        return self._remember(text, self._store.put(text, self._finish(text, speech)))

    def forget(self, texts: Iterable[str]) -> None:
        """Let go of the clips of ``texts`` in memory (the phrase cache keeps them)."""
        if self.cache is None:
            return  # nowhere to read them back from
        for text in texts:
            self._clips.pop(text, None)

    def speak_once(self, text: str) -> FloatArray:
        """Return ``text`` spoken like :meth:`speech`, but keep a new clip nowhere.

        For a sentence unlikely to be said again (an answer that names the time left): it
        comes from memory or the cache if it is there, else the engine speaks it and it is
        neither remembered nor cached.
        """
        clip = self._clips.get(text)
        if clip is None:
            clip = self._store.get(text)
        if clip is None:
            spoken = self._finish(text, self.engine.synthesize(text))
            clip = self._store.put(text, spoken, persist=False)
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

        The engine speaks one phrase at a time on this thread, while the phrases already
        spoken are finished on a small pool of threads, so a cold cache costs little more
        than finishing the clips. Phrases the engine speaks as silence are reported
        together, in one :class:`~voiceguide.sound.processing.SilentPhraseError`.
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
            cached = self._store.get(text)
            if cached is None:
                missing.append(text)
            else:
                self._remember(text, cached)
                advance()
        if not missing:
            return 0

        def make(text: str, speech: Speech) -> FloatArray:
            return self._store.put(text, self._finish(text, speech))

        workers = max(1, min(_PROCESS_WORKERS, os.cpu_count() or 1))
        with ThreadPoolExecutor(workers, thread_name_prefix="voiceguide-clip") as pool:
            futures: list[tuple[str, Future[FloatArray]]] = []
            silent: list[str] = []
            try:
                for text in missing:
                    futures.append((text, pool.submit(make, text, self.engine.synthesize(text))))
                for text, future in futures:
                    try:
                        self._remember(text, future.result())
                    except SilentPhraseError:
                        silent.append(text)  # reported with any others, once all are done
                    advance()
            except BaseException:
                for _, future in futures:
                    future.cancel()
                raise
        if silent:
            raise SilentPhraseError(silent, self.engine.name)
        return len(missing)

    def _finish(self, text: str, speech: Speech) -> FloatArray:
        return finish(text, speech, self._normalize, self.engine.name)

    def _remember(self, text: str, clip: FloatArray) -> FloatArray:
        clip.flags.writeable = False  # shared by the compiler and the renderer
        self._clips[text] = clip
        return clip
