"""The speech-engine interface every engine implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from voiceguide.errors import EngineError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from voiceguide.pcm import FloatArray, Int16Array

MAX_PHRASE_CHARS = 1_000
"""The longest phrase an engine is handed: about 170 words, a minute of speech or more.

A spoken instruction is a sentence or a few; far longer text is a mistake (a runaway
placeholder, a pasted document), and espeak-ng slows quadratically and can crash on it."""


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...] = field(default_factory=tuple)
    gender: str | None = None


@dataclass(frozen=True)
class Speech:
    """A phrase as an engine spoke it, or as the cache keeps it: mono, at ``sample_rate``.

    ``samples`` are what the engine makes, converted once by :func:`voiceguide.pcm.to_float`:
    espeak-ng speaks 16-bit PCM (converted exactly), Piper speaks float32 (kept as it is,
    so its voice is quantized only once, at the cache). The cache keeps 16-bit PCM.
    """

    samples: Int16Array | FloatArray
    sample_rate: int


def normal_label(label: str) -> str:
    """Fold case and spelling variants of a voice name: ``en_US`` and ``en-us`` are one."""
    return label.strip().lower().replace("_", "-")


def quote_phrase(phrase: str) -> str:
    """Quote a phrase for an error message, shortened past 60 characters."""
    return repr(phrase if len(phrase) <= 60 else phrase[:57] + "...")


def speakable(text: str) -> str:
    """Return ``text`` as an engine is handed it, or raise EngineError if it cannot be.

    NUL becomes a space and the ends are stripped; an empty phrase, or one over
    :data:`MAX_PHRASE_CHARS`, is refused before any engine sees it.
    """
    phrase = text.replace("\x00", " ").strip()
    if not phrase:
        raise EngineError("nothing to speak: the phrase is empty")
    if len(phrase) > MAX_PHRASE_CHARS:
        raise EngineError(
            f"a phrase of {len(phrase):,} characters is too long to speak "
            f"(at most {MAX_PHRASE_CHARS:,}): {quote_phrase(phrase)}"
        )
    return phrase


class SpeechEngine(Protocol):
    """Turns text into audio, one phrase at a time."""

    name: str

    def identity(self) -> str:
        """A string naming everything that changes the sound: engine, version, voice, settings."""
        ...

    def voices(self) -> list[Voice]:
        """The voices this engine can speak with."""
        ...

    def synthesize(self, text: str) -> Speech:
        """Speak ``text``; raise :class:`voiceguide.errors.EngineError` on any failure.

        The same text with the same settings gives the same samples, whatever was spoken
        before and in whatever process, so that a cold run gives what a warm one does
        (both engines speak every phrase from a fresh copy of a ready voice).
        """
        ...

    def close(self) -> None:
        """Release the engine."""
        ...


@runtime_checkable
class StartsAhead(Protocol):
    """An engine that can get ready in the background before its first phrase (Piper)."""

    def start(self) -> None:
        """Start loading now and return at once; the first phrase waits for what is left."""
        ...


@runtime_checkable
class SpeaksBySentence(Protocol):
    """An engine that can hand a phrase back one sentence at a time (Piper)."""

    def sentences(self, text: str) -> Iterator[Speech]:
        """Speak ``text`` sentence by sentence; joined, the pieces are ``synthesize(text)``."""
        ...
