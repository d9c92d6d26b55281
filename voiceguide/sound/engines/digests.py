"""SHA-256 of large files (voice models), computed once and remembered.

Hashing a 63 MB voice model takes a noticeable fraction of a second, so the digest is
kept in a small JSON file in the user's cache folder, keyed by the file's resolved path,
size and modification time: a start with an unchanged model reads the digest back
instead of hashing again. A file changed in place without a new size or mtime would
keep its old digest; editors, copies and package installs all set a new mtime.

The memo only saves time: a missing, damaged or unwritable memo file is ignored
(and logged), and the digest is computed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path

from voiceguide import paths
from voiceguide.atomic import replace_quietly

logger = logging.getLogger(__name__)

MEMO_NAME = "file-digests.json"
MEMO_VERSION = 1
MAX_ENTRIES = 64
"""Remembered files; the least recently hashed are forgotten first."""
CHUNK_BYTES = 1 << 20

_lock = threading.Lock()


def default_memo_path() -> Path:
    """Return where digests are remembered unless told otherwise."""
    return paths.user_cache_dir() / MEMO_NAME


def file_sha256(path: Path, memo: Path | None = None) -> str:
    """Return the hex SHA-256 of ``path``, from the memo when the file is unchanged.

    Raises OSError if the file cannot be read.
    """
    memo = memo if memo is not None else default_memo_path()
    resolved = path.resolve()
    stat = resolved.stat()
    key = str(resolved)
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    with _lock:
        entries = _read(memo)
        known = entries.get(key)
        if isinstance(known, dict) and all(known.get(k) == v for k, v in stamp.items()):
            digest = known.get("sha256")
            if isinstance(digest, str) and len(digest) == 64:
                return digest
        digest = _hash(resolved)
        entries.pop(key, None)
        entries[key] = {**stamp, "sha256": digest}
        while len(entries) > MAX_ENTRIES:
            entries.pop(next(iter(entries)))
        _write(memo, entries)
    return digest


def _hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _read(memo: Path) -> dict[str, object]:
    try:
        data = json.loads(memo.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        logger.info("ignoring unreadable digest memo %s: %s", memo, error)
        return {}
    if not isinstance(data, dict) or data.get("version") != MEMO_VERSION:
        return {}
    files = data.get("files")
    return dict(files) if isinstance(files, dict) else {}


def _write(memo: Path, entries: dict[str, object]) -> None:
    """Replace the memo atomically; on failure, log it and carry on."""
    data = json.dumps({"version": MEMO_VERSION, "files": entries}, indent=1).encode("utf-8")
    error = replace_quietly(memo, data)
    if error is not None:
        logger.warning("cannot remember file digests in %s: %s", memo, error)
