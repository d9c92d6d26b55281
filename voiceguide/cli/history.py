"""The history command: the sessions played, a summary, CSV export and forgetting."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import AsJson, app, table
from voiceguide.errors import UsageError

if TYPE_CHECKING:
    from voiceguide.practice.records import SessionRow

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
    from voiceguide.practice import report

    _check(limit=limit, output=output, yes=yes, as_csv=as_csv, as_json=as_json, forget=forget)
    if forget:
        _forget(routine, yes=yes)
    elif as_csv:
        _write_csv(report.read(routine), output)
    else:
        _show(report.read(routine), limit, routine=routine, as_json=as_json, with_streak=streak)


def _check(
    *, limit: int, output: Path | None, yes: bool, as_csv: bool, as_json: bool, forget: bool
) -> None:
    """Refuse options that do not go together."""
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


def _show(
    rows: list[SessionRow], limit: int, *, routine: str | None, as_json: bool, with_streak: bool
) -> None:
    """The last ``limit`` sessions and the summary, as a table or as JSON."""
    from datetime import datetime

    from voiceguide.practice import report
    from voiceguide.practice.store import history_path
    from voiceguide.practice.summary import summarize

    now = datetime.now().astimezone()
    shown = rows if limit == 0 else rows[:limit]
    if as_json:
        typer.echo(json.dumps(report.as_json(rows, shown, now, with_streak=with_streak), indent=2))
        return
    if not rows:
        which = f" of {routine}" if routine else ""
        typer.echo(f"No sessions{which} recorded yet (the history is kept in {history_path()}).")
        return
    table(["WHEN", "ROUTINE", "REACHED", "RESULT"], [report.session_cells(r, now) for r in shown])
    if len(shown) < len(rows):
        typer.echo(f"… and {len(rows) - len(shown)} earlier (--limit 0 lists them all)")
    typer.echo("")
    for line in report.summary_lines(rows, now, with_streak=with_streak):
        typer.echo(line)
    cells = report.routine_cells(summarize(rows, now))
    if cells:
        typer.echo("")
        table(["ROUTINE", "THIS WEEK", "DAYS (30)", "SESSIONS", "COMPLETED", "LAST"], cells)


def _write_csv(rows: list[SessionRow], output: Path | None) -> None:
    """The CSV on stdout, or into ``output`` whole or not at all."""
    from voiceguide.atomic import write_text_atomic
    from voiceguide.practice.report import count, csv_text

    if output is None:
        sys.stdout.write(csv_text(rows))
        sys.stdout.flush()
        return
    write_text_atomic(output, csv_text(rows))
    typer.echo(f"wrote {count(len(rows), 'session')} to {output}", err=True)


def _forget(routine: str | None, *, yes: bool) -> None:
    from voiceguide.practice import report

    plan = report.to_forget(routine)
    if plan.nothing:
        which = f" of {routine}" if routine else ""
        typer.echo(f"Nothing to forget: no sessions{which} are recorded.")
        return
    if not yes:
        if not _at_terminal():
            raise UsageError("--forget asks before deleting, and this is not a terminal: add --yes")
        question = f"Delete {plan.describe()} from {plan.path.parent}? This cannot be undone"
        if not typer.confirm(question, False):
            typer.echo("Nothing was deleted.")
            return
    deleted = report.forget(plan)
    also = " and the damaged copies" if plan.copies else ""
    typer.echo(f"Deleted {report.count(deleted, 'session')}{also}.")


def _at_terminal() -> bool:
    return sys.stdin.isatty()
