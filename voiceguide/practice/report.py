"""What ``voiceguide history`` shows and does: read, sum up, export, forget.

The command line only parses its options, asks before forgetting and prints; the work is
here. Reading creates nothing (no file yet: no sessions); a damaged file is moved aside
with one warning; any other trouble is one :class:`~.store.HistoryUnavailable` line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from voiceguide.practice.recorder import WARNING_PREFIX, Warn, print_warning
from voiceguide.practice.records import SessionRow
from voiceguide.practice.store import HistoryStore, damaged_copies, describe, history_path
from voiceguide.practice.summary import Summary, status_of, streak, summarize


@contextlib.contextmanager
def opened(path: Path, *, read_only: bool, warn: Warn = print_warning) -> Iterator[HistoryStore]:
    """The store at ``path``; a damaged file moved aside is said once through ``warn``."""
    import sqlite3

    store = HistoryStore.open(path, read_only=read_only)
    if store.moved_aside is not None:
        warn(
            f"{WARNING_PREFIX}{path} was damaged: moved it aside to {store.moved_aside} "
            "and started a new one"
        )
    try:
        yield store
    except sqlite3.Error as error:
        raise describe(error, path) from None
    finally:
        store.close()


def read(routine: str | None = None, path: Path | None = None) -> list[SessionRow]:
    """Every session recorded (of ``routine``), newest first; none if there is no file yet."""
    path = path or history_path()
    if not path.exists():
        return []
    with opened(path, read_only=True) as store:
        return store.rows(routine)


def clock(ms: int) -> str:
    """``M:SS`` or ``H:MM:SS``: whole seconds."""
    hours, rest = divmod(max(0, ms) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def count(n: int, noun: str) -> str:
    """``1 session``, ``3 sessions``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def session_cells(row: SessionRow, now: datetime) -> list[str]:
    """A session as the table lists it: when, routine, how far, how it ended."""
    start = f"{clock(row.from_ms)}-" if row.from_ms else ""
    status = status_of(row, now)
    if status == "completed":
        result = "completed"
    else:
        verb = "playing" if status == "playing" else f"{status} at"
        result = f"{verb} step {row.step} ({row.step_title})"
    return [
        row.started.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M"),
        row.routine,
        f"{start}{clock(row.reached_ms)} of {clock(row.total_ms)}",
        result,
    ]


def summary_lines(rows: list[SessionRow], now: datetime, *, with_streak: bool) -> list[str]:
    """The summary under the table, and the streak if asked for."""
    summary = summarize(rows, now)
    lines = [
        f"This week: {count(summary.this_week, 'session')}. "
        f"Days practised in the last 30: {summary.days_last_30}."
    ]
    if with_streak:
        days = streak(rows, now)
        lines.append(f"Days in a row: {days.current} (longest: {days.longest}).")
    return lines


def routine_cells(summary: Summary) -> list[list[str]]:
    """The per-routine figures, one row each."""
    return [
        [s.routine, str(s.this_week), str(s.days_last_30), str(s.sessions), str(s.completed),
         s.last.strftime("%Y-%m-%d") if s.last else ""]
        for s in summary.routines
    ]  # fmt: skip


def as_json(
    rows: list[SessionRow], shown: list[SessionRow], now: datetime, *, with_streak: bool
) -> dict[str, Any]:
    """The listed sessions (every column, and a ``status``) and the summary, as plain data."""
    summary = summarize(rows, now)
    data: dict[str, Any] = {
        "path": str(history_path()),
        "sessions": [{**r.to_dict(), "status": status_of(r, now)} for r in shown],
        "summary": {
            "this_week": summary.this_week,
            "days_last_30": summary.days_last_30,
            "sessions": summary.sessions,
            "routines": [
                {
                    "routine": s.routine,
                    "this_week": s.this_week,
                    "days_last_30": s.days_last_30,
                    "sessions": s.sessions,
                    "completed": s.completed,
                    "last": s.last.isoformat(timespec="seconds") if s.last else None,
                }
                for s in summary.routines
            ],
        },
    }
    if with_streak:
        days = streak(rows, now)
        data["streak"] = {"current": days.current, "longest": days.longest}
    return data


def csv_text(rows: list[SessionRow]) -> str:
    """``rows`` as CSV, oldest first: a header of the column names, then a line a session."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = SessionRow.columns()
    writer.writerow(columns)
    for row in sorted(rows, key=lambda r: r.started_at):
        writer.writerow(["" if v is None else v for v in (getattr(row, c) for c in columns)])
    return buffer.getvalue()


@dataclass(frozen=True)
class Forgetting:
    """What ``--forget`` would delete."""

    path: Path
    routine: str | None
    sessions: int
    copies: tuple[Path, ...]
    """Damaged files moved aside earlier (only when forgetting everything)."""

    @property
    def nothing(self) -> bool:
        """Whether there is nothing to delete."""
        return self.sessions == 0 and not self.copies

    def describe(self) -> str:
        """``3 sessions of hand``, ``42 sessions and 1 damaged copy moved aside earlier``."""
        what = count(self.sessions, "session") + (f" of {self.routine}" if self.routine else "")
        if self.copies:
            noun = "damaged copy" if len(self.copies) == 1 else "damaged copies"
            what += f" and {len(self.copies)} {noun} moved aside earlier"
        return what


def to_forget(routine: str | None = None, path: Path | None = None) -> Forgetting:
    """What forgetting (the sessions of ``routine``, or everything) would delete."""
    path = path or history_path()
    sessions = 0
    if path.exists():
        with opened(path, read_only=False) as store:
            sessions = store.count(routine)
    copies = tuple(damaged_copies(path)) if routine is None else ()
    return Forgetting(path, routine, sessions, copies)


def forget(plan: Forgetting) -> int:
    """Delete what ``plan`` names, leaving nothing of it on the disk; return how many sessions."""
    deleted = 0
    if plan.path.exists():
        with opened(plan.path, read_only=False) as store:
            deleted = store.forget(plan.routine)
    for copy in plan.copies:
        for part in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            try:
                part.unlink(missing_ok=True)
            except OSError as error:
                raise describe(error, part) from None
    return deleted
