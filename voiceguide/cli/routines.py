"""Commands about routines: list, show, check, new, schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from voiceguide.cli.app import (
    AllowOutside,
    AsJson,
    Engine,
    NoTones,
    Pace,
    Rate,
    Repeat,
    RoutineArg,
    SkipIntro,
    Voice,
    VoiceModel,
    app,
    compile_options,
    complete_routine,
    open_named_session,
    report,
    table,
    voice_choice,
)
from voiceguide.errors import ExitStatus, UsageError, VoiceguideError

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

    from voiceguide.listing import list_routines as listed
    from voiceguide.script.durations import format_ms

    found, problems = listed()
    rows: list[dict[str, Any]] = [asdict(row) for row in found]
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        table(
            ["NAME", "LENGTH", "POSTURE", "TITLE"],
            [
                [
                    r["name"] + ("*" if r["origin"] == "user" else ""),
                    "~" + format_ms(r["estimated_ms"]),
                    r["posture"],
                    r["title"],
                ]
                for r in rows
            ],
        )
        if any(r["origin"] == "user" for r in rows):
            typer.echo("* your own routine")
        typer.echo("\n" + SAFETY_NOTE)
    for line in problems:
        typer.echo(f"voiceguide: skipped invalid routine {line}", err=True)


@app.command()
def show(
    routine: RoutineArg,
    as_json: AsJson = False,
    skip_intro: SkipIntro = False,
    pace: Pace = 1.0,
    repeat: Repeat = 1,
    no_tones: NoTones = False,
    engine: Engine = None,
    voice: Voice = None,
    rate: Rate = None,
    voice_model: VoiceModel = None,
    allow_outside: AllowOutside = False,
) -> None:
    """Show a routine's timeline: when each thing is said or sounded, and the total length.

    Speech is synthesized (and cached) first, so every time is exact.

    Example: voiceguide show sitting-foot --skip-intro
    """
    from voiceguide.script.durations import format_clock, format_ms

    _, session = open_named_session(
        routine,
        compile_options(skip_intro, pace, repeat, no_tones),
        voice_choice(engine, voice, rate, voice_model=voice_model),
        allow_outside,
    )
    timeline = session.timeline
    if as_json:
        typer.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
        return
    rows = []
    for cue in timeline.sounds():
        what = cue.text if cue.kind == "speech" else f"[{Path(cue.text).stem} sound]"
        rows.append([format_clock(timeline.to_ms(cue.start)), cue.phase, what])
    typer.echo(timeline.title)
    table(["TIME", "PHASE", "WHAT"], rows)
    typer.echo(f"\nTotal: {format_ms(timeline.total_ms)} ({format_clock(timeline.total_ms)})")


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
    from voiceguide.compile.compiler import CompileOptions, compile_routine
    from voiceguide.compile.estimate import EstimatedLengths
    from voiceguide.script import library
    from voiceguide.script.durations import format_ms
    from voiceguide.script.loader import load_points
    from voiceguide.session import open_session
    from voiceguide.sound.engines.base import DEFAULT_RATE_WPM

    worst = ExitStatus.OK
    for name in routines:
        try:
            path = library.find(name).path
            if library.is_point_library(path):
                points = load_points(path)
                summary = f"{len(points)} points"
            else:
                routine = library.load_path(path, allow_outside=allow_outside)
                if estimate:
                    lengths = EstimatedLengths(routine.settings.rate_wpm or DEFAULT_RATE_WPM)
                    timeline = compile_routine(routine, lengths, CompileOptions())
                    summary = f"~{format_ms(timeline.total_ms)}"
                else:
                    timeline = open_session(routine).timeline
                    summary = format_ms(timeline.total_ms)
        except VoiceguideError as exc:
            worst = max(worst, ExitStatus(report(exc)))
            continue
        if not quiet:
            typer.echo(f"ok: {name} ({summary})")
    if worst:
        raise typer.Exit(worst)


STARTER = """\
# yaml-language-server: $schema={schema}
# A voiceguide routine. Check it:  voiceguide check {name}
# Hear it:  voiceguide play {name}        The format: docs/format.md
title: {title}
summary: What this routine is for, in a sentence or two.
posture: sitting upright on a chair        # completes "Get comfortable, ..."
cautions:
  - Check with your doctor or an acupressure therapist before you start.
settings:
  rate: 150        # words per minute
  find: 8s         # quiet time to find a point before the first press

points:            # your own points; the built-in library (scripts/points.yaml) works too
  my-point:
    name: the point in the web between your thumb and index finger
    where: in the fleshy web between the thumb and the index finger
    find: squeeze thumb and finger together; the point is at the top of the mound
    pressure: firm

steps:
  - say: Sit comfortably and let your shoulders drop.
  - pause: 3s
  - sides: [right, left]             # runs once per side; {{side}} is filled in
    steps:
      - say: Bring your {{side}} hand in front of you.
      - press:
          point: my-point
          hold: 30s                  # press sound to release sound, exactly
          reps: 3
          rest: 10s                  # release sound to the next press sound
          countdown: 3               # soft ticks on the last three seconds
          prompts:
            # quote text that has a comma inside {{ }}: say: "Slowly, gently."
            - {{at: 50%, say: Breathe out slowly.}}
  - say: That is the end. Rest for a moment before you get up.
"""


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
    import re

    from voiceguide import paths
    from voiceguide.atomic import write_text_atomic
    from voiceguide.script import spec
    from voiceguide.script.schema import routine_schema

    if not re.fullmatch(spec.Name().pattern, name):
        raise UsageError(f"name: expected lowercase letters, digits and dashes, got {name!r}")
    target = output or paths.user_scripts_dir() / f"{name}.yaml"
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; use --force to replace it")
    schema_path = paths.user_data_dir() / "routine.schema.json"
    write_text_atomic(schema_path, json.dumps(routine_schema(), indent=2) + "\n")
    title = name.replace("-", " ").capitalize()
    named = name if output is None else str(target)  # how `check` and `play` will find it
    write_text_atomic(target, STARTER.format(schema=schema_path, name=named, title=title))
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
