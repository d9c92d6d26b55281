"""What the compiler needs from the sound side: how long each phrase and sound lasts."""

from __future__ import annotations

from typing import Protocol


class Lengths(Protocol):
    """How long each phrase and sound lasts, in samples at ``sample_rate``."""

    @property
    def sample_rate(self) -> int: ...

    def speech_samples(self, text: str) -> int:
        """Length of ``text`` spoken, leading and trailing silence trimmed."""
        ...

    def sound_samples(self, name: str) -> int:
        """Length of the named sound (``press``, ``release``, ``tick``, …)."""
        ...
