"""Write files whole or not at all: a temporary file beside the target, then a rename.

The temporary file is ``.NAME.PID.XXXXXXXX.part`` in the target's folder: hidden, named
after its target and the process writing it, and locked (``flock``) by that process
until it is renamed or removed. A process killed outright (``kill -9``, a power cut)
cannot remove its parts, so every write first sweeps the folder of parts whose process
is gone and whose lock is free (:func:`sweep_stale_parts`); a live export's parts are
never touched, whoever's they are.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
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


def export_error(exc: OSError, target: Path) -> ExportError:
    """The one line saying ``exc`` stopped writing ``target``, as :func:`atomic_path` says it."""
    return ExportError(_describe(exc, target))


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


PART_SUFFIX = ".part"
_PART = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[a-z0-9_]{8}\.part$")
"""A part's name: what :func:`_new_part` makes (mkstemp adds eight of ``[a-z0-9_]``)."""


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` to write by name; it replaces ``target`` on success.

    For writers that want a file name rather than a file object (libsndfile, mutagen,
    ffmpeg). An :class:`OSError` raised inside becomes :class:`ExportError`; on any
    failure the temporary file vanishes. Stale parts in the folder are swept first.
    """
    check_target(target)
    sweep_stale_parts(target.parent)
    try:
        lock, tmp = _new_part(target.parent, target.name)
    except OSError as exc:
        raise ExportError(_describe(exc, target)) from None
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
    finally:
        os.close(lock)


@contextlib.contextmanager
def temporary_part(folder: Path, name: str) -> Iterator[Path]:
    """Yield a locked, swept-when-stale temporary file in ``folder``; it is removed at the end."""
    sweep_stale_parts(folder)
    lock, path = _new_part(folder, name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
        os.close(lock)


def _new_part(folder: Path, name: str) -> tuple[int, Path]:
    """Create ``.NAME.PID.XXXXXXXX.part`` in ``folder``, locked; return the lock's descriptor."""
    fd, path = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=PART_SUFFIX, dir=folder)
    # Held until the part is renamed or removed: a sweeper that can take it knows the
    # writer is gone. On a filesystem without locks no sweeper can take one, so none sweeps.
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd, Path(path)


def sweep_stale_parts(folder: Path) -> list[Path]:
    """Remove the parts in ``folder`` left by writers that are gone; return those removed.

    A part is stale when the process its name gives is not running and no one holds its
    lock. Best effort: a part that cannot be examined or removed is left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _PART.match(entry.name)
        if match is None or _running(int(match["pid"])):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.unlink(entry.path)  # while holding the lock: no writer can have taken it
            removed.append(Path(entry.path))
        except OSError:
            pass  # locked (a live writer, say in another process namespace) or not ours
        finally:
            os.close(fd)
    return removed


def _running(pid: int) -> bool:
    """Whether a process ``pid`` exists (a zombie counts: it is not yet reaped)."""
    if pid <= 0:
        return True  # not a process id a part is ever named with: leave it alone
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, as someone else's
    return True


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
