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
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Final

import numpy as np

from voiceguide import paths
from voiceguide.errors import AudioError, NotFoundError
from voiceguide.pcm import (
    MAX_SOUND_FILE_BYTES,
    MAX_SOUND_MS,
    SAMPLE_RATE,
    check_sound_file_size,
    check_sound_header,
    fade,
    ms_to_samples,
    resample,
    to_float,
    to_pcm,
)
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


def _soften_edges(samples: npt.NDArray[np.float64], rate: int) -> None:
    """Fade an abrupt start or end in place (3 ms raised cosine); leave smooth edges alone.

    An edge is abrupt if it does not start (end) near zero, or jumps by more than a
    quarter of the peak between samples in its first (last) millisecond: either clicks
    against the silence around a cue. A sound that already rises smoothly is kept exact.
    """
    length = ms_to_samples(EDGE_FADE_MS, rate)
    if min(length, len(samples) // 2) < 2:
        return
    peak = float(np.max(np.abs(samples)))
    one_ms = max(2, ms_to_samples(1, rate))
    fade(
        samples,
        length if _is_abrupt(samples[:one_ms], peak) else 0,
        length if _is_abrupt(samples[::-1][:one_ms], peak) else 0,
    )


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
        rate = check_sound_file(path)
        if self._disk is None:
            return self._make(path, rate, offset_db)
        import hashlib

        from voiceguide.sound.cache import phrase_key
        from voiceguide.sound.engines.base import Speech

        try:
            with path.open("rb") as file:
                digest = hashlib.sha256(file.read(MAX_SOUND_FILE_BYTES + 1)).hexdigest()
        except OSError as exc:
            raise AudioError(f"cannot read sound file {path}: {exc.strerror}") from exc
        identity = f"sound {SOUND_PROCESSING} rate={self._sample_rate} offset={offset_db}"
        key = phrase_key(identity, digest)
        cached = self._disk.get(key)
        if cached is not None and cached.sample_rate == self._sample_rate:
            result = to_float(cached.samples)
        else:
            finished = Speech(to_pcm(self._make(path, rate, offset_db)), self._sample_rate)
            self._disk.put(key, finished)
            result = to_float(finished.samples)
        result.flags.writeable = False
        return result

    def _make(self, path: Path, rate: int, offset_db: float) -> FloatArray:
        import soundfile

        limit = MAX_SOUND_MS * rate // 1000 + 1  # if the header understated the length
        try:
            # Mixed to mono block by block: a file's channels are never all in memory.
            pieces = [
                block.mean(axis=1)
                for block in soundfile.blocks(
                    path, blocksize=1 << 16, dtype="float64", always_2d=True, frames=limit
                )
            ]
        except (RuntimeError, OSError, ValueError) as exc:  # LibsndfileError is a RuntimeError
            raise AudioError(f"cannot read sound file {path}: {exc}") from exc
        mono: npt.NDArray[np.float64] = np.concatenate(pieces) if pieces else np.zeros(0)
        if not mono.size:
            raise AudioError(f"sound file {path} holds no audio")
        check_sound_header(path, rate_hz=rate, frames=len(mono), channels=1)
        if not np.all(np.isfinite(mono)):
            raise AudioError(f"sound file {path} holds invalid samples (NaN or infinity)")
        if rate != self._sample_rate:
            mono = resample(mono, rate, self._sample_rate).astype(np.float64)
        _soften_edges(mono, self._sample_rate)
        leveled = loudness.match_sound(mono, self._sample_rate, offset_db=offset_db)
        result: FloatArray = np.clip(leveled, -1.0, 1.0)
        result.flags.writeable = False
        return result


def check_sound_file(path: Path) -> int:
    """Refuse a file that is not a regular file, or too large, too long or at an odd rate.

    Checked from the file's size and header, before a sample is decoded; return its rate.
    """
    import soundfile

    try:
        status = path.stat()
    except OSError as exc:
        raise AudioError(f"cannot read sound file {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(status.st_mode):
        raise AudioError(f"{path}: expected a sound file, got something else (a device or pipe)")
    check_sound_file_size(path, status.st_size)
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError, ValueError) as exc:
        raise AudioError(f"cannot read sound file {path}: {exc}") from exc
    check_sound_header(path, rate_hz=info.samplerate, frames=info.frames, channels=info.channels)
    return int(info.samplerate)


def _is_path(name: str | Path) -> bool:
    """Tell a file path (has a folder or an audio suffix) from a plain sound name."""
    if isinstance(name, Path):
        return True
    return "/" in name or "\\" in name or Path(name).suffix.lower() in AUDIO_SUFFIXES
