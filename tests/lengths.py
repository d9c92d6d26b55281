"""A test double for the compiler's lengths: a fixed rate, so timelines do not depend on speech."""

from __future__ import annotations


class FixedRateLengths:
    """Lengths by rule, for tests: ``ms_per_char`` of speech, fixed sound lengths."""

    def __init__(
        self,
        ms_per_char: int = 50,
        sound_ms: dict[str, int] | None = None,
        sample_rate: int = 1000,
    ) -> None:
        self.ms_per_char = ms_per_char
        self.sound_ms = sound_ms or {
            "press": 600, "release": 600, "tick": 100, "switch": 1000, "start": 2000, "end": 2500,
        }  # fmt: skip
        self._sample_rate = sample_rate

    @property
    def sample_rate(self) -> int:
        """Samples per second."""
        return self._sample_rate

    def speech_samples(self, text: str) -> int:
        """``ms_per_char`` for every character."""
        return len(text) * self.ms_per_char * self._sample_rate // 1000

    def sound_samples(self, name: str) -> int:
        """The fixed length of each sound; 1 s for a sound file."""
        return self.sound_ms.get(name, 1000) * self._sample_rate // 1000
