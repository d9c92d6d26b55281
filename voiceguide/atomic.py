"""Write files whole or not at all: a temporary file beside the target, then a rename."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from voiceguide.errors import ExportError


def _describe(exc: OSError, target: Path) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{target}: no space left on the device; nothing was written"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{target}: cannot write there ({exc.strerror}); nothing was written"
    if exc.errno == errno.ENOENT:
        return f"{target}: the folder {target.parent} does not exist"
    return f"{target}: {exc.strerror or exc}; nothing was written"


def check_target(target: Path) -> None:
    """Refuse to replace anything that is not a regular file (a folder, a device, a pipe)."""
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ExportError(_describe(exc, target)) from None
    if not stat.S_ISREG(mode):
        kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
        raise ExportError(f"{target}: is {kind}; refusing to replace it")


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` to write by name; it replaces ``target`` on success.

    For writers that want a file name rather than a file object (libsndfile, mutagen).
    An :class:`OSError` raised inside becomes :class:`ExportError`; on any failure the
    temporary file vanishes.
    """
    check_target(target)
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
        os.close(fd)
    except OSError as exc:
        raise ExportError(_describe(exc, target)) from None
    tmp = Path(tmp_name)
    try:
        yield tmp
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # a full disk can surface only now, on some filesystems
        finally:
            os.close(fd)
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(_describe(exc, target)) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Write ``data`` to ``target`` whole or not at all, creating its folder if needed."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(_describe(exc, target)) from None
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(target: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``target`` whole or not at all."""
    write_bytes_atomic(target, text.encode("utf-8"))


def replace_quietly(target: Path, data: bytes, *, suffix: str = ".tmp") -> OSError | None:
    """Write ``data`` to ``target`` whole or not at all; return the error instead of raising.

    For caches and memos, where a failed write costs time later, not correctness: the
    caller logs the error and goes on. Leaves no temporary file behind.
    """
    temp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temp, target)
    except OSError as error:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)
        return error
    return None
