"""A folder of synthesized phrases, so a routine is spoken by the engine only once.

Each entry is one file named by its key, the sha256 of the engine's identity and the
text. The file starts with a header holding the key and the sha256 of the samples, so
a damaged or truncated entry is detected on reading, deleted and synthesized again.
Entries are written to a temporary file in the same folder and renamed into place, so a
reader never sees half an entry; a failed write (a full disk, say) is forgotten, because
the cache only saves time: the first failure of a cache is logged as one warning, later
ones only at debug level, so an unusable cache folder costs one line, not one a phrase.
Entries are not fsynced: after a crash, a lost or empty entry is caught by the same checks.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from voiceguide import paths
from voiceguide.atomic import replace_quietly
from voiceguide.sound.engines.base import Speech

logger = logging.getLogger(__name__)

ENTRY_SUFFIX = ".phrase"
TEMP_SUFFIX = ".tmp"
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}" + re.escape(ENTRY_SUFFIX))
_KEY = re.compile(r"[0-9a-f]{64}")

_MAGIC = b"VGPH"
_VERSION = 1
# magic, format version, sample rate (Hz), sample count, key digest, payload digest.
_HEADER = struct.Struct("<4sHIQ32s32s")


def phrase_key(identity: str, text: str) -> str:
    """Return the cache key of ``text`` spoken by the engine with ``identity``."""
    material = json.dumps([identity, text], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def default_cache_root() -> Path:
    """Return the folder phrases are cached in unless told otherwise."""
    return paths.user_cache_dir() / "phrases"


@dataclass(frozen=True)
class CacheInfo:
    """What the phrase cache holds."""

    path: Path
    entries: int
    bytes: int
    """Total size of the entries on disk."""


class PhraseCache:
    """Synthesized phrases on disk, keyed by :func:`phrase_key`."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root if root is not None else default_cache_root()
        self._warned = False

    def _trouble(self, message: str, *args: object) -> None:
        """Log a failure to use the cache: the first as a warning, the rest for debugging."""
        if self._warned:
            logger.debug(message, *args)
            return
        self._warned = True
        logger.warning(message + "; going on without it (phrases are spoken each time)", *args)

    def _entry(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a phrase key: {key!r}")
        return self.root / f"{key}{ENTRY_SUFFIX}"

    def holds(self, key: str) -> bool:
        """Whether an entry for ``key`` is there (not read: it may still prove damaged)."""
        try:
            return self._entry(key).is_file()
        except OSError:
            return False

    def get(self, key: str) -> Speech | None:
        """Return the cached phrase, or ``None`` if it is missing or damaged (and drop it)."""
        path = self._entry(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            self._trouble("cannot read the phrase cache in %s: %s", self.root, error)
            return None
        problem = _check(data, key)
        if problem is not None:
            logger.info("discarding damaged cached phrase %s: %s", path.name, problem)
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        import numpy as np

        _, _, sample_rate, count, _, _ = _HEADER.unpack_from(data)
        samples = np.frombuffer(data, dtype="<i2", count=count, offset=_HEADER.size)
        return Speech(samples=samples.astype(np.int16), sample_rate=sample_rate)

    def put(self, key: str, speech: Speech) -> bool:
        """Store a phrase atomically; on failure log it, leave nothing behind and return False."""
        import numpy as np

        if speech.samples.dtype != np.int16:
            raise TypeError("the phrase cache keeps 16-bit PCM: quantize with pcm.to_pcm first")
        path = self._entry(key)
        payload = np.ascontiguousarray(speech.samples, dtype="<i2").tobytes()
        header = _HEADER.pack(
            _MAGIC,
            _VERSION,
            speech.sample_rate,
            len(payload) // 2,
            bytes.fromhex(key),
            hashlib.sha256(payload).digest(),
        )
        error = replace_quietly(path, header + payload, suffix=TEMP_SUFFIX)
        if error is not None:
            self._trouble("cannot write to the phrase cache in %s: %s", self.root, error)
            return False
        return True

    def _own_files(self) -> tuple[list[Path], list[Path]]:
        """Return the cache's entries and its leftover temporary files."""
        entries: list[Path] = []
        leftovers: list[Path] = []
        try:
            children = list(self.root.iterdir())
        except (FileNotFoundError, NotADirectoryError):
            return entries, leftovers
        for child in children:
            if _ENTRY_NAME.fullmatch(child.name):
                entries.append(child)
            elif child.name.startswith(".") and child.name.endswith(TEMP_SUFFIX):
                leftovers.append(child)
        return entries, leftovers

    def info(self) -> CacheInfo:
        """Count the entries and their size on disk."""
        entries, _ = self._own_files()
        count = size = 0
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):  # removed by another process
                size += entry.stat().st_size
                count += 1
        return CacheInfo(path=self.root, entries=count, bytes=size)

    def clear(self) -> int:
        """Delete every entry (and leftover temporary file); return how many entries went."""
        entries, leftovers = self._own_files()
        removed = 0
        for entry in entries:
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
                removed += 1
        for leftover in leftovers:
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        return removed


def _check(data: bytes, key: str) -> str | None:
    """Say what is wrong with an entry's bytes, or return None if it is sound."""
    if len(data) < _HEADER.size:
        return "shorter than its header"
    magic, version, sample_rate, count, key_digest, payload_digest = _HEADER.unpack_from(data)
    if magic != _MAGIC or version != _VERSION:
        return "not a version-1 phrase entry"
    if key_digest != bytes.fromhex(key):
        return "belongs to another key"
    payload = memoryview(data)[_HEADER.size :]
    if len(payload) != 2 * count:
        return f"holds {len(payload)} payload bytes, header says {2 * count}"
    if sample_rate <= 0 or count == 0:
        return "empty"
    if hashlib.sha256(payload).digest() != payload_digest:
        return "checksum mismatch"
    return None
