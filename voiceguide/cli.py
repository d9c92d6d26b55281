"""The ``voiceguide`` command line: parse arguments, call the core, report errors.

Each command's docstring is its ``--help``. Errors from the core arrive as
:class:`~voiceguide.errors.VoiceguideError` and leave as one line on stderr
with a documented exit code (see docs/cli.md); ``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from voiceguide import __version__
from voiceguide.errors import ExitStatus, ScriptError, UsageError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.compiler import CompileOptions
    from voiceguide.timeline import Timeline

app = typer.Typer(
    name="voiceguide",
    help="Voice-guided acupressure routines you can follow with your eyes closed.\n\n"
    "Example: voiceguide list; voiceguide show sitting-foot",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_state = {"debug": False}


def _complete_routine(incomplete: str) -> list[str]:
    from voiceguide import library

    return [name for name in library.entries() if name.startswith(incomplete)]


RoutineArg = Annotated[
    str,
    typer.Argument(
        metavar="ROUTINE",
        help="A built-in or user routine name (see 'voiceguide list'), or a path to a .yaml file.",
        autocompletion=_complete_routine,
    ),
]
SkipIntro = Annotated[
    bool, typer.Option("--skip-intro", help="Leave out the title, cautions and session length.")
]
Pace = Annotated[
    float,
    typer.Option("--pace", help="Scale holds, rests and pauses (not speech): 1.25 is slower."),
]
Repeat = Annotated[int, typer.Option("--repeat", help="Run the whole routine N times.", min=1)]
NoTones = Annotated[
    bool, typer.Option("--no-tones", help="Leave out the press, release and other sounds.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for other programs.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"voiceguide {__version__}")
        raise typer.Exit


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Voice-guided acupressure routines you can follow with your eyes closed.

    Example: voiceguide list; voiceguide show sitting-foot
    """
    _state["debug"] = debug or bool(os.environ.get("VOICEGUIDE_DEBUG"))


def _options(skip_intro: bool, pace: float, repeat: int, no_tones: bool) -> CompileOptions:
    from voiceguide.compiler import CompileOptions

    return CompileOptions(
        intro=not skip_intro, tones=False if no_tones else None, pace=pace, repeat=repeat
    )


def _compile(name: str, options: CompileOptions) -> Timeline:
    from voiceguide import library
    from voiceguide.compiler import compile_routine
    from voiceguide.estimate import EstimatedLengths

    routine = library.load(name)
    lengths = EstimatedLengths(routine.settings.rate_wpm or EstimatedLengths().rate_wpm)
    return compile_routine(routine, lengths, options)


@app.command("list")
def list_routines(as_json: AsJson = False) -> None:
    """List the built-in routines and your own, with posture and length.

    Your own routines live in the folder 'voiceguide new' writes to.
    Lengths are estimated from the words until a routine has been synthesized once.

    Example: voiceguide list
    """
    from voiceguide import library
    from voiceguide.compiler import CompileOptions, compile_routine
    from voiceguide.durations import format_ms
    from voiceguide.estimate import EstimatedLengths

    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for entry in library.entries().values():
        try:
            routine = library.load_path(entry.path)
            lengths = EstimatedLengths(routine.settings.rate_wpm or EstimatedLengths().rate_wpm)
            timeline = compile_routine(routine, lengths, CompileOptions())
        except VoiceguideError as exc:
            problems.append(f"{entry.path}: {str(exc).splitlines()[0]}")
            continue
        rows.append(
            {
                "name": entry.name,
                "title": routine.title,
                "posture": routine.posture or "",
                "duration_ms": timeline.total_ms,
                "origin": entry.origin,
                "path": str(entry.path),
                "caution": (routine.all_cautions() or ("",))[0],
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        _table(
            ["NAME", "LENGTH", "POSTURE", "TITLE"],
            [
                [
                    r["name"] + ("*" if r["origin"] == "user" else ""),
                    "~" + format_ms(r["duration_ms"]),
                    r["posture"],
                    r["title"],
                ]
                for r in rows
            ],
        )
        if any(r["origin"] == "user" for r in rows):
            typer.echo("* your own routine")
        typer.echo(
            "\nSafety: acupressure is not a substitute for medical care. Check with your doctor "
            "\nor an acupressure therapist before you start, and stop if anything hurts."
        )
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
) -> None:
    """Show a routine's timeline: when each thing is said or sounded, and the total length.

    Example: voiceguide show sitting-foot --skip-intro
    """
    from voiceguide.durations import format_clock, format_ms

    timeline = _compile(routine, _options(skip_intro, pace, repeat, no_tones))
    if as_json:
        typer.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
        return
    rows = []
    for cue in timeline.sounds():
        what = cue.text if cue.kind == "speech" else f"[{Path(cue.text).stem} sound]"
        rows.append([format_clock(timeline.to_ms(cue.start)), cue.phase, what])
    typer.echo(f"{timeline.title}")
    _table(["TIME", "PHASE", "WHAT"], rows)
    typer.echo(f"\nTotal: {format_ms(timeline.total_ms)} ({format_clock(timeline.total_ms)})")


@app.command()
def check(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="ROUTINE...",
            help="Routine files or names to check.",
            autocompletion=_complete_routine,
        ),
    ],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print problems only.")] = False,
) -> None:
    """Check routine scripts and report every problem; exit 2 if any is invalid.

    Example: voiceguide check my-routine.yaml
    """
    from voiceguide.compiler import CompileOptions
    from voiceguide.durations import format_ms

    failed = False
    for name in files:
        try:
            timeline = _compile(name, CompileOptions())
        except ScriptError as exc:
            failed = True
            typer.echo(str(exc), err=True)
            continue
        if not quiet:
            typer.echo(f"ok: {name} (~{format_ms(timeline.total_ms)})")
    if failed:
        raise typer.Exit(ExitStatus.INVALID)


STARTER = """\
# yaml-language-server: $schema={schema}
# A voiceguide routine. Check it with:  voiceguide check {name}
# Hear it with:  voiceguide play {name}     Format reference: docs/format.md
title: {title}
summary: What this routine is for, in a sentence or two.
posture: sitting upright on a chair        # completes "Get comfortable, ..."
cautions:
  - Check with your doctor or an acupressure therapist before you start.
settings:
  rate: 150        # words per minute
  find: 5s         # quiet time to find a point before the first press

points:            # your own points; the built-in library is available too
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
    """Write a commented starter routine to edit.

    Example: voiceguide new evening-hands
    """
    import re

    from voiceguide import paths
    from voiceguide.atomic import write_text_atomic

    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", name):
        raise UsageError(f"name: expected lowercase letters, digits and dashes, got {name!r}")
    target = output or paths.user_scripts_dir() / f"{name}.yaml"
    if target.exists() and not force:
        raise UsageError(f"{target} already exists; use --force to replace it")
    schema_path = paths.user_data_dir() / "routine.schema.json"
    from voiceguide.schema import routine_schema

    write_text_atomic(schema_path, json.dumps(routine_schema(), indent=2) + "\n")
    title = name.replace("-", " ").capitalize()
    write_text_atomic(target, STARTER.format(schema=schema_path, name=name, title=title))
    typer.echo(f"wrote {target}")


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to a file instead of stdout.")
    ] = None,
) -> None:
    """Print the JSON Schema of routine scripts, for editors that complete and check YAML.

    Example: voiceguide schema -o routine.schema.json
    """
    from voiceguide.schema import routine_schema

    text = json.dumps(routine_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        from voiceguide.atomic import write_text_atomic

        write_text_atomic(output, text)


def _table(headers: list[str], rows: list[list[str]]) -> None:
    """Print rows in aligned columns; the last column is not padded."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        typer.echo("  ".join([*cells, str(row[-1])]).rstrip())


def _fail(exc: VoiceguideError) -> NoReturn:
    message = str(exc) or type(exc).__doc__ or "failed"
    if isinstance(exc, ScriptError):
        typer.echo(message, err=True)
    else:
        typer.echo(f"voiceguide: {message}", err=True)
    raise SystemExit(int(exc.exit_code))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning errors into one line and an exit code."""
    try:
        app(args=argv, prog_name="voiceguide", standalone_mode=True)
    except VoiceguideError as exc:
        if _state["debug"]:
            raise
        _fail(exc)
    except KeyboardInterrupt:
        typer.echo("voiceguide: interrupted", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`voiceguide show x | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(ExitStatus.OK)
