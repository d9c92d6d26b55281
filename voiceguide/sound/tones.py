"""Find, load and level the named sounds (``press``, ``release``, ``tick``, …).

A name is looked up as ``<name>.wav``, ``.flac`` or ``.ogg`` in the user's audio folder
first, then in the built-in one, so a user replaces a sound by dropping a file with the
same name into :func:`voiceguide.paths.user_audio_dir`. A routine's ``sound:`` step may
also name a file directly. Every sound comes back mono float32 at the pipeline's sample
rate, loudness-matched (:func:`voiceguide.sound.loudness.match_sound`), and an abrupt start or
end is faded over 3 ms, so even a user's file cannot click at a cue.

Import this module lazily: it imports numpy at the top.
"""

from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from voiceguide import paths
from voiceguide.errors import AudioError, NotFoundError
from voiceguide.pcm import SAMPLE_RATE
from voiceguide.script import spec
from voiceguide.sound import loudness

if TYPE_CHECKING:
    from collections.abc import Mapping

    import numpy.typing as npt

    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.clips import FloatArray

TONE_NAMES: Final = spec.SOUND_NAMES
"""The built-in vocabulary, in the order a session first meets them."""

AUDIO_SUFFIXES: Final = (".wav", ".flac", ".ogg")
"""File types looked for, in this order, for a sound name."""

LEVEL_OFFSET_DB: Final[Mapping[str, float]] = {"tick": -9.0, "heard": -6.0}
"""Level of a sound relative to the others: the countdown tick stays in the background, and so
does the nod a voice command gets (``heard``, :mod:`voiceguide.listen`)."""

EDGE_FADE_MS: Final = 3
"""Raised-cosine fade given to a sound that starts or ends abruptly, so no cue can click."""


def resample(samples: npt.NDArray[np.floating], from_rate: int, to_rate: int) -> FloatArray:
    """Resample a short clip by band-limited FFT interpolation to ``round(n * to / from)`` samples.

    The clip is padded with silence (so the FFT's wrap-around meets only zeros) to a
    length that maps to a whole number of output samples, which keeps the time scale
    exact; the top tenth of the kept band is rolled off with a raised cosine, which
    tames the ringing a brick-wall cut would leave.
    """
    x = np.asarray(samples, dtype=np.float64)
    if from_rate == to_rate:
        return x.astype(np.float32)
    step_in = from_rate // math.gcd(from_rate, to_rate)
    step_out = to_rate // math.gcd(from_rate, to_rate)
    n = len(x)
    out_len = round(n * to_rate / from_rate)
    margin = -(-max(256, from_rate // 100) // step_in) * step_in  # >= 10 ms, whole steps
    padded_len = -(-(n + 2 * margin) // step_in) * step_in
    padded = np.zeros(padded_len)
    padded[margin : margin + n] = x
    new_len = padded_len // step_in * step_out
    spectrum = np.fft.rfft(padded)
    kept = min(len(spectrum), new_len // 2 + 1)
    # Roll off the top tenth of the band that survives (both rates' Nyquist, whichever is lower).
    roll = max(1, kept // 10)
    window = np.ones(kept)
    window[kept - roll :] = 0.5 + 0.5 * np.cos(np.pi * (np.arange(roll) + 1) / roll)
    out_spectrum = np.zeros(new_len // 2 + 1, dtype=np.complex128)
    out_spectrum[:kept] = spectrum[:kept] * window
    out = np.fft.irfft(out_spectrum, new_len) * (new_len / padded_len)
    start = margin // step_in * step_out
    return out[start : start + out_len].astype(np.float32)


def _soften_edges(samples: npt.NDArray[np.float64], rate: int) -> None:
    """Fade an abrupt start or end in place (3 ms raised cosine); leave smooth edges alone.

    An edge is abrupt if it does not start (end) near zero, or jumps by more than a
    quarter of the peak between samples in its first (last) millisecond: either clicks
    against the silence around a cue. A sound that already rises smoothly is kept exact.
    """
    fade = min(rate * EDGE_FADE_MS // 1000, len(samples) // 2)
    if fade < 2:
        return
    peak = float(np.max(np.abs(samples)))
    one_ms = max(2, rate // 1000)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / (fade - 1))
    if _is_abrupt(samples[:one_ms], peak):
        samples[:fade] *= ramp
    if _is_abrupt(samples[::-1][:one_ms], peak):
        samples[len(samples) - fade :] *= ramp[::-1]


def _is_abrupt(edge: npt.NDArray[np.float64], peak: float) -> bool:
    """Tell whether an edge (outermost sample first) would click against silence."""
    return abs(float(edge[0])) > 0.01 * peak or float(np.max(np.abs(np.diff(edge)))) > 0.25 * peak


SOUND_PROCESSING = "soften-match-v2"
"""Names the processing a cached sound went through; change it when that processing changes."""


class Sounds:
    """The named sounds, looked up user folder first, loaded once each.

    Arrays returned are shared between callers and read-only.
    """

    def __init__(
        self,
        search_dirs: list[Path] | None = None,
        sample_rate: int = SAMPLE_RATE,
        cache: PhraseCache | None = None,
    ) -> None:
        """Look in ``search_dirs``; keep finished sounds in ``cache`` (a phrase cache) if given."""
        if search_dirs is None:
            search_dirs = [paths.user_audio_dir(), paths.builtin_audio_dir()]
        self._search_dirs = tuple(search_dirs)
        self._sample_rate = sample_rate
        self._disk = cache
        self._cache: dict[str, FloatArray] = {}

    @property
    def sample_rate(self) -> int:
        """The rate every sound is returned at, in Hz."""
        return self._sample_rate

    @property
    def search_dirs(self) -> tuple[Path, ...]:
        """The folders looked in, first match wins."""
        return self._search_dirs

    def names(self) -> list[str]:
        """Return the sound names: the built-in vocabulary, then any others found, sorted."""
        found = {
            path.stem
            for folder in self._search_dirs
            if folder.is_dir()
            for path in folder.iterdir()
            if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file()
        }
        return [*TONE_NAMES, *sorted(found - set(TONE_NAMES))]

    def find(self, name: str | Path) -> Path:
        """Return the file a sound name (or a path to a sound file) stands for."""
        if _is_path(name):
            path = Path(name).expanduser()
            if not path.is_file():
                raise NotFoundError(f"sound file not found: {path}")
            return path
        name = str(name)
        for folder in self._search_dirs:
            for suffix in AUDIO_SUFFIXES:
                path = folder / f"{name}{suffix}"
                if path.is_file():
                    return path
        close = difflib.get_close_matches(name, self.names(), n=3)
        hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
        folders = ", ".join(str(folder) for folder in self._search_dirs)
        files = ", ".join(f"{name}{suffix}" for suffix in AUDIO_SUFFIXES[:-1])
        raise NotFoundError(
            f"no sound named {name!r}{hint}; "
            f"looked for {files} or {name}{AUDIO_SUFFIXES[-1]} in {folders}"
        )

    def sound(self, name: str | Path) -> FloatArray:
        """Return the sound: mono float32 at :attr:`sample_rate`, loudness-matched, read-only."""
        key = str(Path(name).expanduser().resolve()) if _is_path(name) else str(name)
        cached = self._cache.get(key)
        if cached is None:
            path = self.find(name)
            offset_db = 0.0 if _is_path(name) else LEVEL_OFFSET_DB.get(str(name), 0.0)
            cached = self._load(path, offset_db)
            self._cache[key] = cached
        return cached

    def sound_samples(self, name: str | Path) -> int:
        """Return the length of the sound in samples at :attr:`sample_rate`."""
        return len(self.sound(name))

    def _load(self, path: Path, offset_db: float) -> FloatArray:
        """Read, level and finish a sound file; from the disk cache when it was done before.

        The cache key is the file's bytes (hashed), the rate, the level and the
        processing, so a replaced file or a changed level is made again.
        """
        if self._disk is None:
            return self._make(path, offset_db)
        import hashlib

        from voiceguide.sound.cache import phrase_key
        from voiceguide.sound.engines.base import Speech
        from voiceguide.sound.render import to_pcm
        from voiceguide.sound.speech import to_float

        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            raise AudioError(f"cannot read sound file {path}: {exc.strerror}") from exc
        identity = f"sound {SOUND_PROCESSING} rate={self._sample_rate} offset={offset_db}"
        key = phrase_key(identity, digest)
        cached = self._disk.get(key)
        if cached is not None and cached.sample_rate == self._sample_rate:
            result = to_float(cached)
        else:
            finished = Speech(to_pcm(self._make(path, offset_db)), self._sample_rate)
            self._disk.put(key, finished)
            result = to_float(finished)
        result.flags.writeable = False
        return result

    def _make(self, path: Path, offset_db: float) -> FloatArray:
        import soundfile

        try:
            data, file_rate = soundfile.read(path, dtype="float64", always_2d=True)
        except (RuntimeError, OSError, ValueError) as exc:  # LibsndfileError is a RuntimeError
            raise AudioError(f"cannot read sound file {path}: {exc}") from exc
        if not data.size:
            raise AudioError(f"sound file {path} holds no audio")
        mono: npt.NDArray[np.float64] = data.mean(axis=1)
        if not np.all(np.isfinite(mono)):
            raise AudioError(f"sound file {path} holds invalid samples (NaN or infinity)")
        if file_rate != self._sample_rate:
            mono = resample(mono, int(file_rate), self._sample_rate).astype(np.float64)
        _soften_edges(mono, self._sample_rate)
        leveled = loudness.match_sound(mono, self._sample_rate, offset_db=offset_db)
        result: FloatArray = np.clip(leveled, -1.0, 1.0)
        result.flags.writeable = False
        return result


def _is_path(name: str | Path) -> bool:
    """Tell a file path (has a folder or an audio suffix) from a plain sound name."""
    if isinstance(name, Path):
        return True
    return "/" in name or "\\" in name or Path(name).suffix.lower() in AUDIO_SUFFIXES
