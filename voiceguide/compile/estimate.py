"""Lengths without synthesis: a quick estimate of speech, the real length of sounds.

Used where a duration is wanted fast and approximately (``voiceguide list``,
``voiceguide check --estimate``).
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Protocol

from voiceguide import paths
from voiceguide.compile.lengths import Lengths
from voiceguide.errors import NotFoundError
from voiceguide.pcm import SAMPLE_RATE

_SOUND_EXTENSIONS = (".wav",)


ESTIMATE_VERSION = 2
"""Changes when the estimate does, so that stored estimates are made again."""
FITTED_RATE_WPM = 150
"""The rate the estimate's constants were fitted at; other rates scale them."""


class EstimatedLengths:
    """Speech length from word count and rate; sound length from the WAV header."""

    def __init__(self, rate_wpm: int, sample_rate: int = SAMPLE_RATE) -> None:
        self.rate_wpm = rate_wpm
        self._sample_rate = sample_rate
        self._sounds: dict[str, int] = {}

    @property
    def sample_rate(self) -> int:
        """Samples per second."""
        return self._sample_rate

    def speech_samples(self, text: str) -> int:
        """Estimate: time per word and per pause at punctuation, scaled by the rate."""
        words = len(text.split())
        stops = sum(text.count(c) for c in ".!?;:")
        commas = text.count(",")
        # Fitted to espeak-ng's trimmed phrases of the built-in library at 150 wpm (122
        # phrases, mean error 0.4 s): its "150 wpm" spends 0.27 s a word, plus pauses.
        scale = FITTED_RATE_WPM / self.rate_wpm
        seconds = scale * (0.270 * words + 0.609 * stops + 0.363 * commas) - 0.223
        return round(max(0.3, seconds) * self._sample_rate)

    def sound_samples(self, name: str) -> int:
        """The sound's real length, read from its WAV header (no decoding)."""
        if name not in self._sounds:
            self._sounds[name] = self._read(name)
        return self._sounds[name]

    def _read(self, name: str) -> int:
        from voiceguide.pcm import check_sound_file_size, check_sound_header

        candidates = [Path(name)] if "/" in name else [
            folder / f"{name}{ext}"
            for folder in (paths.user_audio_dir(), paths.builtin_audio_dir())
            for ext in _SOUND_EXTENSIONS
        ]  # fmt: skip
        for path in candidates:
            if path.is_file():
                check_sound_file_size(path, path.stat().st_size)
                try:
                    with wave.open(str(path)) as file:
                        frames, rate = int(file.getnframes()), int(file.getframerate())
                        channels = int(file.getnchannels())
                except (wave.Error, EOFError, OSError):
                    return self._sample_rate  # not a WAV (FLAC, OGG): about a second
                check_sound_header(path, rate_hz=rate, frames=frames, channels=channels)
                return frames * self._sample_rate // rate
        raise NotFoundError(f"no sound named {name!r}")


class EstimatedSpeech:
    """Speech estimated at a rate, sounds as long as ``sounds`` says: lengths before synthesis.

    What the introduction's "This session takes about N minutes." is measured with, for
    play and export alike, so that a session can be laid out (and heard) before the rest of
    its phrases are spoken (see :func:`voiceguide.compile.compiler.segments_of`).
    """

    def __init__(self, rate_wpm: int, sounds: Lengths) -> None:
        self._speech = EstimatedLengths(rate_wpm, sounds.sample_rate)
        self._sounds = sounds

    @property
    def sample_rate(self) -> int:
        """Samples per second."""
        return self._sounds.sample_rate

    def speech_samples(self, text: str) -> int:
        """The estimate (:meth:`EstimatedLengths.speech_samples`)."""
        return self._speech.speech_samples(text)

    def sound_samples(self, name: str) -> int:
        """The sound's real length."""
        return self._sounds.sound_samples(name)


BOUND_SCALE = 1.6
BOUND_EXTRA_MS = 400
"""A phrase not spoken yet is taken to be at most this long: the estimate times
:data:`BOUND_SCALE`, plus this. On the built-in library's 577 phrases the longest came to 74%
of its bound with espeak-ng and 77% with the packaged Piper voice, at 150 wpm
(``tools/bench_stream.py bounds``); a real length is up to 1.5 times its estimate."""


class Known(Lengths, Protocol):
    """Lengths that can say whether a phrase's real length is known yet."""

    def has(self, text: str) -> bool:
        """Whether ``text`` is spoken already (its length is real)."""
        ...


class BoundLengths:
    """The real length of a phrase already spoken, else the longest it may be.

    Compiling with these before the first sound finds, at its line, a prompt that cannot
    fit its hold; a prompt that fits at its bound fits for real. With ``scale=1.0`` and
    ``extra_ms=0`` a phrase not spoken yet is taken at its estimate instead: the length it
    most likely has, what ``list`` shows.
    """

    def __init__(
        self,
        known: Known,
        rate_wpm: int,
        *,
        scale: float = BOUND_SCALE,
        extra_ms: int = BOUND_EXTRA_MS,
    ) -> None:
        self._known = known
        self._estimate = EstimatedLengths(rate_wpm, known.sample_rate)
        self._scale = scale
        self._extra = extra_ms * known.sample_rate // 1000

    @property
    def sample_rate(self) -> int:
        """Samples per second."""
        return self._known.sample_rate

    def bounded(self, text: str) -> bool:
        """Whether the length given for ``text`` is a bound, not its real length."""
        return not self._known.has(text)

    def speech_samples(self, text: str) -> int:
        """The real length if known, else the bound."""
        if self._known.has(text):
            return self._known.speech_samples(text)
        return round(self._estimate.speech_samples(text) * self._scale) + self._extra

    def sound_samples(self, name: str) -> int:
        """The sound's real length."""
        return self._known.sound_samples(name)
