"""The history database: ``history.sqlite`` in the user's data folder (stdlib sqlite3, WAL).

It is the user's own record, so it is never lost and never in the way: every statement is a
short transaction of its own, other sessions wait on it for at most a second (WAL lets
readers on while one writes), a damaged file is moved aside with a time stamp (never
deleted) and a new one started, and every other failure becomes one
:class:`HistoryUnavailable` with a one-line reason.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from voiceguide import paths
from voiceguide.errors import VoiceguideError
from voiceguide.practice.records import SessionRow, parse_stamp, stamp, utc_now
from voiceguide.practice.schema import SCHEMA_VERSION, NewerSchemaError, migrate, version_of

HISTORY_NAME = "history.sqlite"
BUSY_MS = 1000
"""How long a statement waits for another session's transaction before giving up."""
ASIDE_MARK = ".damaged-"
"""A damaged file is renamed ``history.sqlite.damaged-20250501T190203Z``."""

# Primary result codes (sqlite3.h); Python reports the extended code, the low byte is these.
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26

_COLUMNS = SessionRow.columns()
_UPSERT = (
    f"INSERT INTO sessions ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
    f"ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "id")
)


class HistoryUnavailable(VoiceguideError):
    """The history cannot be read or written; the message says why, on one line."""

    def __init__(self, message: str, *, kind: str = "other") -> None:
        self.kind = kind
        """``locked``, ``read-only``, ``full``, ``damaged``, ``newer`` or ``other``."""
        super().__init__(message)


def history_path() -> Path:
    """Where the history lives: ``history.sqlite`` in the user's data folder."""
    return paths.user_data_dir() / HISTORY_NAME


def _code(error: sqlite3.Error) -> int:
    return int(getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF


class _Damaged(sqlite3.DatabaseError):
    """SQLite's integrity check found problems."""


def is_damaged(error: sqlite3.Error) -> bool:
    """Whether ``error`` says the file is not a sound database (as opposed to busy, locked…)."""
    return isinstance(error, _Damaged) or _code(error) in (_CORRUPT, _NOTADB)


def describe(error: sqlite3.Error | OSError, path: Path) -> HistoryUnavailable:
    """One line for what went wrong with the database at ``path``."""
    if isinstance(error, OSError):
        if error.errno == errno.ENOSPC:
            return HistoryUnavailable(f"no space left on the device for {path}", kind="full")
        if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            reason = error.strerror or str(error)
            return HistoryUnavailable(f"cannot write {path} ({reason})", kind="read-only")
        return HistoryUnavailable(f"{path}: {error.strerror or error}")
    code = _code(error)
    if code in (_BUSY, _LOCKED):
        return HistoryUnavailable(f"{path} is locked by another program", kind="locked")
    if code == _FULL or (code == _IOERR and _nearly_full(path)):
        # A full disk shows as an I/O error when WAL's index cannot grow (IOERR_SHMSIZE).
        return HistoryUnavailable(f"no space left on the device for {path}", kind="full")
    if code in (_READONLY, _CANTOPEN, _IOERR) and _read_only_place(path):
        return HistoryUnavailable(f"{path} is read-only here", kind="read-only")
    if code == _CANTOPEN:
        return HistoryUnavailable(f"cannot open {path}")
    return HistoryUnavailable(f"{path}: {error}")


def _nearly_full(path: Path) -> bool:
    """Whether the file system of ``path``'s folder has less room than a few pages."""
    try:
        found = os.statvfs(path.parent)
    except OSError:
        return False
    return found.f_bavail * found.f_frsize < 64 * 1024


def _read_only_place(path: Path) -> bool:
    """Whether ``path`` (or its folder) cannot be written: permissions or a read-only mount."""
    for place in (path, path.parent):
        with contextlib.suppress(OSError):
            if os.statvfs(place).f_flag & os.ST_RDONLY:
                return True
            if place.exists() and not os.access(place, os.W_OK):
                return True
    return False


def damaged_copies(path: Path | None = None) -> list[Path]:
    """Damaged history files moved aside earlier, oldest first (with their -wal and -shm)."""
    path = path or history_path()
    with contextlib.suppress(OSError):
        found = path.parent.glob(f"{path.name}{ASIDE_MARK}*")
        return sorted(p for p in found if not p.name.endswith(("-wal", "-shm")))
    return []


def move_aside(path: Path, now: datetime | None = None) -> Path:
    """Rename a damaged ``path`` (and its -wal and -shm) to a time-stamped name beside it."""
    moment = (now or utc_now()).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}{ASIDE_MARK}{moment}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}{ASIDE_MARK}{moment}-{number}")
    os.rename(path, target)
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.rename(f"{path}{suffix}", f"{target}{suffix}")
    return target


class HistoryStore:
    """An open history database. Not shared between threads: one store, one thread."""

    def __init__(self, connection: sqlite3.Connection, path: Path, moved_aside: Path | None):
        self.connection = connection
        self.path = path
        self.moved_aside = moved_aside
        """Where a damaged file found on opening was moved to, if one was."""

    @classmethod
    def open(
        cls,
        path: Path | None = None,
        *,
        busy_ms: int = BUSY_MS,
        read_only: bool = False,
        check: bool = True,
    ) -> HistoryStore:
        """Open (creating and migrating it if need be) the history at ``path``.

        ``read_only`` opens an existing file for reading without writing anything to it
        when it cannot be written (a read-only folder); a damaged file is still moved aside
        when it can be. ``check=False`` skips SQLite's integrity check of every page (for a
        quick read: damage then shows only if a page read is damaged). Raises
        :class:`HistoryUnavailable`.
        """
        path = path or history_path()
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise HistoryUnavailable(f"{path.parent} is a file, not a folder") from None
        except OSError as error:
            raise describe(error, path.parent) from None
        try:
            found = os.stat(path) if path.exists() else None
        except OSError as error:
            raise describe(error, path) from None
        if found is not None and not stat.S_ISREG(found.st_mode):
            raise HistoryUnavailable(f"{path} is not a file")
        try:
            return cls(_connect(path, busy_ms, read_only, check), path, None)
        except NewerSchemaError as error:
            raise HistoryUnavailable(
                f"{path} was written by a newer voiceguide ({error})", kind="newer"
            ) from None
        except sqlite3.Error as error:
            if not is_damaged(error):
                raise describe(error, path) from None
        try:
            # Moved only if it is still the file found damaged (another session may have
            # moved it and started a new one meanwhile).
            same = found is not None and _same_file(path, found)
            aside = move_aside(path) if same else None
            return cls(_connect(path, busy_ms, read_only=False, check=check), path, aside)
        except OSError as error:
            raise describe(error, path) from None
        except sqlite3.Error as error:
            raise describe(error, path) from None

    def close(self) -> None:
        """Close the database."""
        self.connection.close()

    def save(self, row: SessionRow) -> None:
        """Write ``row`` over the earlier write of the same session (one short transaction)."""
        self.connection.execute(_UPSERT, tuple(getattr(row, c) for c in _COLUMNS))

    def rows(self, routine: str | None = None, limit: int | None = None) -> list[SessionRow]:
        """The sessions recorded (of ``routine`` only, if given), newest first."""
        query = f"SELECT {', '.join(_COLUMNS)} FROM sessions"
        arguments: list[object] = []
        if routine is not None:
            query += " WHERE routine = ?"
            arguments.append(routine)
        query += " ORDER BY started_at DESC, rowid DESC"
        if limit is not None:
            query += " LIMIT ?"
            arguments.append(limit)
        return _readable(self.connection.execute(query, arguments))

    def decision_rows(self, routine: str, now: datetime) -> list[SessionRow]:
        """The few sessions of ``routine`` that :mod:`~voiceguide.practice.decide` looks at.

        The latest whose full introduction was heard through, and the latest
        :data:`~voiceguide.practice.decide.FULL_DETAIL_UNTIL` played whole, started by
        ``now``: the decisions over them are the decisions over every row (a test holds the
        conditions here to :attr:`SessionRow.heard_intro` and :attr:`SessionRow.whole`), at
        a cost that does not grow with the years of practice.
        """
        from voiceguide.practice.decide import FULL_DETAIL_UNTIL

        select = f"SELECT {', '.join(_COLUMNS)} FROM sessions WHERE routine = ? AND started_at <= ?"
        newest = "ORDER BY started_at DESC, rowid DESC LIMIT ?"
        heard = (
            "AND intro = 'full' AND from_ms = 0 "
            "AND (outcome = 'completed' OR reached_ms >= intro_ms)"
        )
        whole = "AND outcome = 'completed' AND from_ms <= intro_ms"
        moment = stamp(now)
        found: dict[str, SessionRow] = {}
        for condition, limit in ((heard, 1), (whole, FULL_DETAIL_UNTIL)):
            query = f"{select} {condition} {newest}"
            for row in _readable(self.connection.execute(query, (routine, moment, limit))):
                found[row.id] = row
        return sorted(found.values(), key=lambda r: r.started_at, reverse=True)

    def count(self, routine: str | None = None) -> int:
        """How many sessions are recorded (of ``routine`` only, if given)."""
        if routine is None:
            row = self.connection.execute("SELECT count(*) FROM sessions").fetchone()
        else:
            query = "SELECT count(*) FROM sessions WHERE routine = ?"
            row = self.connection.execute(query, (routine,)).fetchone()
        return int(row[0])

    def forget(self, routine: str | None = None) -> int:
        """Delete the sessions recorded (of ``routine`` only), leaving no trace in the file."""
        with self._secure_delete():
            if routine is None:
                deleted = self.connection.execute("DELETE FROM sessions").rowcount
            else:
                query = "DELETE FROM sessions WHERE routine = ?"
                deleted = self.connection.execute(query, (routine,)).rowcount
            # Rewrite the file and empty the write-ahead log, where the old rows still sit.
            self.connection.execute("VACUUM")
            self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(deleted)

    @contextlib.contextmanager
    def _secure_delete(self) -> Iterator[None]:
        self.connection.execute("PRAGMA secure_delete = ON")
        try:
            yield
        finally:
            self.connection.execute("PRAGMA secure_delete = OFF")


_INTEGERS = ("from_ms", "reached_ms", "total_ms", "intro_ms", "step", "steps", "rate_wpm", "repeat")


def _readable(found: Iterable[tuple[object, ...]]) -> list[SessionRow]:
    """The rows that read as sessions; one edited by hand into nonsense is left out (and kept)."""
    rows = []
    for values in found:
        row = SessionRow(*values)  # type: ignore[arg-type]
        try:
            for moment in (row.started_at, row.updated_at, row.ended_at or row.started_at):
                parse_stamp(moment)
        except (TypeError, ValueError):
            continue
        numbers = [getattr(row, name) for name in _INTEGERS]
        if all(type(n) is int for n in numbers) and isinstance(row.pace, int | float):
            rows.append(row)
    return rows


def _same_file(path: Path, found: os.stat_result) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (found.st_dev, found.st_ino)


def _connect(path: Path, busy_ms: int, read_only: bool, check: bool) -> sqlite3.Connection:
    """Open, check and migrate the database; raise :class:`sqlite3.Error` if it is damaged.

    SQLite's busy wait does not cover every step of opening: while another session turns a
    new file to WAL, or recovers its WAL index, opening answers "busy" at once. So the whole
    opening is tried again, for as long as a statement would wait (``busy_ms``).
    """
    deadline = time.monotonic() + busy_ms / 1000
    pause_s = 0.005
    while True:
        try:
            return _connect_once(path, busy_ms, read_only, check)
        except sqlite3.Error as error:
            if _code(error) not in (_BUSY, _LOCKED) or time.monotonic() + pause_s > deadline:
                raise
        time.sleep(pause_s)
        pause_s = min(pause_s * 2, 0.1)


def _connect_once(path: Path, busy_ms: int, read_only: bool, check: bool) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None)
    try:
        try:
            _prepare(connection, write=True, check=check)
        except sqlite3.Error as error:
            if not read_only or is_damaged(error) or not _read_only_place(path):
                raise
            # Nothing can be written here, not even WAL's index: read the file as it stands.
            connection.close()
            uri = f"{path.resolve().as_uri()}?immutable=1"
            connection = sqlite3.connect(uri, uri=True, isolation_level=None)
            _prepare(connection, write=False, check=check)
    except BaseException:
        connection.close()
        raise
    return connection


def _prepare(connection: sqlite3.Connection, *, write: bool, check: bool) -> None:
    if write:
        connection.execute("PRAGMA journal_mode = WAL")
        # Durable across a crash of the program (kill -9), not a power cut: cheap commits.
        connection.execute("PRAGMA synchronous = NORMAL")
    if check:
        problems = [row[0] for row in connection.execute("PRAGMA quick_check(1)")]
        if problems != ["ok"]:
            raise _Damaged(f"database disk image is malformed: {problems[0]}")
    if write:
        migrate(connection)
    else:
        found = version_of(connection)
        if found > SCHEMA_VERSION:
            raise NewerSchemaError(found, SCHEMA_VERSION)
        if found < SCHEMA_VERSION:
            raise sqlite3.OperationalError("attempt to write a readonly database")
