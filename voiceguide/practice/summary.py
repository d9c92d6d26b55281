"""Summaries of the history: this week, the last 30 days, per routine, and streaks if asked.

Pure functions of the rows and the time now. Days are the user's days: ``now`` carries the
local time zone and each session counts on the local date it started. Only sessions that
count as practice (:attr:`SessionRow.practised`: played whole, or a minute or more of it) are
counted; a session started by mistake and stopped at once is listed, not counted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from voiceguide.practice.recorder import HEARTBEAT_S
from voiceguide.practice.records import SessionRow, parse_stamp

DAYS_WINDOW = 30
LIVE_GRACE_S = 2 * HEARTBEAT_S + 30
"""An unfinished row written this recently, by a process still running, is still playing."""


@dataclass(frozen=True)
class RoutineSummary:
    """One routine's figures."""

    routine: str
    this_week: int
    days_last_30: int
    sessions: int
    """Sessions that count as practice, ever."""
    completed: int
    last: datetime | None
    """When it was last practised (local time)."""


@dataclass(frozen=True)
class Summary:
    """The figures ``voiceguide history`` shows under its table."""

    this_week: int
    """Practice sessions since Monday (local time)."""
    days_last_30: int
    """Days with at least one practice session, of the last 30 (today included)."""
    sessions: int
    routines: tuple[RoutineSummary, ...]
    """Most recently practised first."""


@dataclass(frozen=True)
class Streak:
    """Days practised in a row: the current run (still alive until today ends) and the longest."""

    current: int
    longest: int


def _local_day(row: SessionRow, now: datetime) -> date:
    return row.started.astimezone(now.tzinfo).date()


def _practice(rows: Iterable[SessionRow], now: datetime) -> list[SessionRow]:
    return [r for r in rows if r.practised and r.started <= now]


def summarize(rows: Iterable[SessionRow], now: datetime) -> Summary:
    """Figures for ``rows`` as of ``now`` (an aware datetime in the user's time zone)."""
    practice = _practice(rows, now)
    today = now.date()
    monday = today - timedelta(days=today.weekday())
    window = today - timedelta(days=DAYS_WINDOW - 1)

    def figures(group: list[SessionRow]) -> tuple[int, int]:
        days = [_local_day(r, now) for r in group]
        return sum(1 for d in days if d >= monday), len({d for d in days if d >= window})

    by_routine: dict[str, list[SessionRow]] = {}
    for row in sorted(practice, key=lambda r: r.started, reverse=True):
        by_routine.setdefault(row.routine, []).append(row)
    routines = []
    for name, group in by_routine.items():
        week, days = figures(group)
        last = group[0].started.astimezone(now.tzinfo)
        completed = sum(1 for r in group if r.completed)
        routines.append(RoutineSummary(name, week, days, len(group), completed, last))
    week, days = figures(practice)
    return Summary(week, days, len(practice), tuple(routines))


def streak(rows: Iterable[SessionRow], now: datetime) -> Streak:
    """The days practised in a row as of ``now``; today not yet practised does not break it."""
    days = sorted({_local_day(r, now) for r in _practice(rows, now)})
    longest = run = 0
    previous: date | None = None
    for day in days:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        longest = max(longest, run)
        previous = day
    today = now.date()
    alive = previous is not None and today - previous <= timedelta(days=1)
    return Streak(run if alive else 0, longest)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it exists
    except OSError:
        return False
    return True


def status_of(row: SessionRow, now: datetime, alive: Callable[[int], bool] = _pid_alive) -> str:
    """How a row reads: its outcome, or ``playing`` for a session still under way."""
    if row.outcome != "unfinished":
        return row.outcome
    recent = now - parse_stamp(row.updated_at) <= timedelta(seconds=LIVE_GRACE_S)
    return "playing" if recent and alive(row.pid) else "unfinished"
