"""The speech-engine interface every engine implements."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


@dataclass(frozen=True)
class Voice:
    """A voice an engine offers."""

    id: str
    name: str
    languages: tuple[str, ...] = field(default_factory=tuple)
    gender: str | None = None


@dataclass(frozen=True)
class Speech:
    """A synthesized phrase: mono int16 PCM at ``sample_rate``."""

    samples: npt.NDArray[np.int16]
    sample_rate: int


def normal_label(label: str) -> str:
    """Fold case and spelling variants of a voice name: ``en_US`` and ``en-us`` are one."""
    return label.strip().lower().replace("_", "-")


def quote_phrase(phrase: str) -> str:
    """Quote a phrase for an error message, shortened past 60 characters."""
    return repr(phrase if len(phrase) <= 60 else phrase[:57] + "...")


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
        """Speak ``text``; raise :class:`voiceguide.errors.EngineError` on any failure."""
        ...

    def close(self) -> None:
        """Release the engine."""
        ...
