"""The history command: the sessions played, a summary, CSV export and forgetting."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voiceguide.cli.app import AsJson, app, table
from voiceguide.errors import UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from voiceguide.practice.records import SessionRow
    from voiceguide.practice.store import HistoryStore

DEFAULT_LIMIT = 10


@app.command()
def history(
    routine: Annotated[
        str | None,
        typer.Option("--routine", metavar="NAME", help="Only the sessions of this routine."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit", "-n", metavar="N", help="How many of the last sessions to list (0: all)."
        ),
    ] = DEFAULT_LIMIT,
    as_json: AsJson = False,
    streak: Annotated[
        bool, typer.Option("--streak", help="Also show how many days in a row you practised.")
    ] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Export every session recorded, as CSV.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="FILE", help="With --csv: write to FILE."),
    ] = None,
    forget: Annotated[
        bool, typer.Option("--forget", help="Delete the history (asks first; see --yes).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --forget: do not ask.")] = False,
) -> None:
    """Show the sessions you played: the last ones, and a summary of your practice.

    Every 'voiceguide play' is recorded (unless --no-history): the routine, when, how far
    it got, the voice and pace. The summary counts the sessions played whole or for a
    minute or more: this week, the days practised in the last 30, per routine. Streaks
    (days in a row) only with --streak. The history is yours and stays on this computer:
    --csv exports all of it, --forget deletes it (with --routine: that routine's only).

    \b
    Example: voiceguide history
             voiceguide history --routine sitting-foot --streak
             voiceguide history --csv -o practice.csv
             voiceguide history --forget
    """
    from voiceguide.practice.store import history_path

    if limit < 0:
        raise UsageError(f"--limit: expected 0 or more, got {limit}")
    if output is not None and not as_csv:
        raise UsageError("--output: only with --csv")
    if yes and not forget:
        raise UsageError("--yes: only with --forget")
    modes = (("--csv", as_csv), ("--json", as_json), ("--forget", forget))
    given = [name for name, on in modes if on]
    if len(given) > 1:
        raise UsageError(f"{' and '.join(given)}: choose one")
    path = history_path()
    if forget:
        _forget(path, routine, yes=yes)
        return
    from datetime import datetime

    rows = _read(path, routine)
    if as_csv:
        _export_csv(list(reversed(rows)), output)
        return
    now = datetime.now().astimezone()
    shown = rows if limit == 0 else rows[:limit]
    if as_json:
        typer.echo(json.dumps(_as_json(path, rows, shown, now, streak=streak), indent=2))
        return
    _print(path, rows, shown, now, routine=routine, streak=streak)


def _read(path: Path, routine: str | None) -> list[SessionRow]:
    """Every session recorded (of ``routine``), newest first; none if there is no file yet."""
    if not path.exists():
        return []
    with _opened(path, read_only=True) as store:
        return store.rows(routine)


@contextlib.contextmanager
def _opened(path: Path, *, read_only: bool) -> Iterator[HistoryStore]:
    """The store, a damaged file moved aside said on stderr, failures as one-line errors."""
    import sqlite3

    from voiceguide.practice.recorder import WARNING_PREFIX, print_warning
    from voiceguide.practice.store import HistoryStore, describe

    store = HistoryStore.open(path, read_only=read_only)
    if store.moved_aside is not None:
        print_warning(
            f"{WARNING_PREFIX}{path} was damaged: moved it aside to {store.moved_aside} "
            "and started a new one"
        )
    try:
        yield store
    except sqlite3.Error as error:
        raise describe(error, path) from None
    finally:
        store.close()


def _clock(ms: int) -> str:
    """``M:SS`` or ``H:MM:SS``: whole seconds."""
    hours, rest = divmod(max(0, ms) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _reached(row: SessionRow) -> str:
    """``3:20 of 5:15``, or ``2:58-5:15 of 5:15`` for a session started later on."""
    start = f"{_clock(row.from_ms)}-" if row.from_ms else ""
    return f"{start}{_clock(row.reached_ms)} of {_clock(row.total_ms)}"


def _result(row: SessionRow, status: str) -> str:
    if status == "completed":
        return "completed"
    verb = {"playing": "playing"}.get(status, f"{status} at")
    return f"{verb} step {row.step} ({row.step_title})"


def _print(
    path: Path,
    rows: list[SessionRow],
    shown: list[SessionRow],
    now: datetime,
    *,
    routine: str | None,
    streak: bool,
) -> None:
    from voiceguide.practice.summary import status_of, summarize
    from voiceguide.practice.summary import streak as streak_of

    if not rows:
        which = f" of {routine}" if routine else ""
        typer.echo(f"No sessions{which} recorded yet (the history is kept in {path}).")
        return
    table(
        ["WHEN", "ROUTINE", "REACHED", "RESULT"],
        [
            [
                r.started.astimezone(now.tzinfo).strftime("%Y-%m-%d %H:%M"),
                r.routine,
                _reached(r),
                _result(r, status_of(r, now)),
            ]
            for r in shown
        ],
    )
    if len(shown) < len(rows):
        typer.echo(f"… and {len(rows) - len(shown)} earlier (--limit 0 lists them all)")
    summary = summarize(rows, now)
    typer.echo("")
    typer.echo(
        f"This week: {_count(summary.this_week, 'session')}. "
        f"Days practised in the last 30: {summary.days_last_30}."
    )
    if streak:
        days = streak_of(rows, now)
        typer.echo(f"Days in a row: {days.current} (longest: {days.longest}).")
    if summary.routines:
        typer.echo("")
        table(
            ["ROUTINE", "THIS WEEK", "DAYS (30)", "SESSIONS", "COMPLETED", "LAST"],
            [
                [
                    s.routine,
                    str(s.this_week),
                    str(s.days_last_30),
                    str(s.sessions),
                    str(s.completed),
                    s.last.strftime("%Y-%m-%d") if s.last else "",
                ]
                for s in summary.routines
            ],
        )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _as_json(
    path: Path, rows: list[SessionRow], shown: list[SessionRow], now: datetime, *, streak: bool
) -> dict[str, Any]:
    from voiceguide.practice.summary import status_of, summarize
    from voiceguide.practice.summary import streak as streak_of

    summary = summarize(rows, now)
    data: dict[str, Any] = {
        "path": str(path),
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
    if streak:
        days = streak_of(rows, now)
        data["streak"] = {"current": days.current, "longest": days.longest}
    return data


def _export_csv(rows: list[SessionRow], output: Path | None) -> None:
    import csv
    import io

    from voiceguide.atomic import write_text_atomic
    from voiceguide.practice.records import SessionRow

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = SessionRow.columns()
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else v for v in (getattr(row, c) for c in columns)])
    if output is None:
        sys.stdout.write(buffer.getvalue())
        sys.stdout.flush()
        return
    write_text_atomic(output, buffer.getvalue())
    typer.echo(f"wrote {_count(len(rows), 'session')} to {output}", err=True)


def _forget(path: Path, routine: str | None, *, yes: bool) -> None:
    from voiceguide.practice.store import damaged_copies

    count = 0
    if path.exists():
        with _opened(path, read_only=False) as store:
            count = store.count(routine)
    copies = damaged_copies(path) if routine is None else []
    if count == 0 and not copies:
        which = f" of {routine}" if routine else ""
        typer.echo(f"Nothing to forget: no sessions{which} are recorded.")
        return
    what = _count(count, "session") + (f" of {routine}" if routine else "")
    if copies:
        noun = "damaged copy" if len(copies) == 1 else "damaged copies"
        what += f" and {len(copies)} {noun} moved aside earlier"
    if not yes:
        if not _at_terminal():
            raise UsageError("--forget asks before deleting, and this is not a terminal: add --yes")
        if not typer.confirm(f"Delete {what} from {path.parent}? This cannot be undone", False):
            typer.echo("Nothing was deleted.")
            return
    deleted = 0
    if path.exists():
        with _opened(path, read_only=False) as store:
            deleted = store.forget(routine)
    for copy in copies:
        for part in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
            part.unlink(missing_ok=True)
    also = " and the damaged copies" if copies else ""
    typer.echo(f"Deleted {_count(deleted, 'session')}{also}.")


def _at_terminal() -> bool:
    return sys.stdin.isatty()
