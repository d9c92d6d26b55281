"""Commands about routines: list, show, check, new, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import (
    AsJson,
    RoutineArg,
    app,
    complete_routine,
    open_with_progress,
    report,
    table,
)
from voiceguide.cli.options import AllowOutside, RangedHelp, session_options
from voiceguide.errors import ExitStatus, UsageError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.app.listing import Listed
    from voiceguide.app.session import Session, SessionRequest
    from voiceguide.compile.timeline import Timeline

SAFETY_NOTE = (
    "Safety: acupressure does not replace medical care. Check with your doctor or an\n"
    "acupressure therapist before you start, and stop if anything hurts."
)


@app.command("list")
def list_routines(as_json: AsJson = False) -> None:
    """List the built-in routines and your own, with posture and length.

    Your own routines live in the folder 'voiceguide new' writes to; one with the
    name of a built-in routine takes its place. Lengths are estimated from the words
    (marked ~); 'voiceguide show' gives the exact length.

    Example: voiceguide list
    """
    from dataclasses import asdict

    from voiceguide.app.listing import list_routines as listed

    found, problems = listed()
    if as_json:
        rows = [asdict(row) for row in found]
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _print_list(found)
    for line in problems:
        typer.echo(f"voiceguide: skipped invalid routine {line}", err=True)


def _print_list(found: list[Listed]) -> None:
    from voiceguide.script.durations import format_ms

    table(
        ["NAME", "LENGTH", "POSTURE", "TITLE"],
        [
            [
                row.name + ("*" if row.origin == "user" else ""),
                "~" + format_ms(row.estimated_ms),
                row.posture,
                row.title,
            ]
            for row in found
        ],
    )
    if any(row.origin == "user" for row in found):
        typer.echo("* your own routine")
    typer.echo("\n" + SAFETY_NOTE)


@app.command(cls=RangedHelp)
@session_options
def show(routine: RoutineArg, as_json: AsJson = False, *, request: SessionRequest) -> None:
    """Show a routine's timeline: when each thing is said or sounded, and the total length.

    Speech is synthesized (and cached) first, so every time is exact. It takes the
    options 'voiceguide play' takes, and shows what that would play (your practice
    history aside: 'auto' shows the full introduction and instructions here; ask for
    --intro short or --detail brief to see those). With --length, the fitted timeline,
    and what the fit changed.

    \b
    Example: voiceguide show sitting-foot --skip-intro
             voiceguide show back-pain --length 20m --detail brief
    """
    session = open_with_progress(request)
    if as_json:
        typer.echo(json.dumps(session.timeline.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_timeline(session.timeline)
        _print_fit(session)


def _print_timeline(timeline: Timeline) -> None:
    from voiceguide.script.durations import format_clock, format_ms

    rows = []
    for cue in timeline.sounds():
        what = cue.text if cue.kind == "speech" else f"[{Path(cue.text).stem} sound]"
        rows.append([format_clock(timeline.to_ms(cue.start)), cue.phase, what])
    typer.echo(timeline.title)
    table(["TIME", "PHASE", "WHAT"], rows)
    typer.echo(f"\nTotal: {format_ms(timeline.total_ms)} ({format_clock(timeline.total_ms)})")


def _print_fit(session: Session) -> None:
    from voiceguide.script.durations import format_ms

    fit = session.options.fit
    if fit is None:
        return
    changes = fit.changes(session.routine)
    typer.echo(f"Fitted to {format_ms(fit.length_ms)}:")
    names = {"hold": "holds", "rest": "rests", "pause": "pauses", "activity": "activities"}
    for kind, name in (*names.items(), ("reps", "reps")):
        pairs = changes.get(kind, [])
        shown = [
            f"{a} → {b}" if kind == "reps" else f"{format_ms(a)} → {format_ms(b)}"
            for a, b in pairs[:4]
        ] + (["…"] if len(pairs) > 4 else [])
        typer.echo(f"  {name:<10} {', '.join(shown) if shown else 'as written'}")


@app.command()
def check(
    routines: Annotated[
        list[str],
        typer.Argument(
            metavar="ROUTINE...",
            help="Routine files or names to check (a point library file is checked as one).",
            autocompletion=complete_routine,
        ),
    ],
    estimate: Annotated[
        bool,
        typer.Option(
            "--estimate", help="Estimate speech lengths instead of synthesizing (no engine)."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print problems only.")] = False,
    allow_outside: AllowOutside = False,
) -> None:
    """Check routine scripts and report every problem; exit 2 if any is invalid.

    Speech is synthesized so that what is said inside a hold or a rest is checked
    against its real length.

    Example: voiceguide check my-routine.yaml scripts/*.yaml
    """
    from voiceguide.app import authoring

    worst = ExitStatus.OK
    for name in routines:
        try:
            summary = authoring.check(name, estimate=estimate, allow_outside=allow_outside)
        except VoiceguideError as exc:
            worst = max(worst, ExitStatus(report(exc)))
            continue
        if not quiet:
            typer.echo(f"ok: {name} ({summary})")
    if worst:
        raise typer.Exit(worst)


@app.command()
def new(
    name: Annotated[str, typer.Argument(help="The new routine's name: lowercase, dashes.")],
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write here instead of your routines folder."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented starter routine to edit, in your routines folder.

    Example: voiceguide new evening-hands
    """
    from voiceguide.app import authoring

    target = authoring.starter_path(name, output)
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; use --force to replace it")
    # How `check` and `play` will find it, as the starter's comments say.
    authoring.write_starter(name, target, named=name if output is None else str(target))
    typer.echo(f"wrote {target}")


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of routine scripts, for editors that complete and check YAML.

    Put '# yaml-language-server: $schema=PATH' on a script's first line to use it.

    Example: voiceguide schema -o routine.schema.json
    """
    from voiceguide.script.schema import routine_schema

    text = json.dumps(routine_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        from voiceguide.atomic import write_text_atomic

        write_text_atomic(output, text)
