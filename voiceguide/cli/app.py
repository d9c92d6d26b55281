"""The Typer app, the argument every routine command takes, and error reporting at the edge.

Commands live in sibling modules and register themselves on :data:`app`.
Heavy imports (numpy, audio, speech) stay inside the commands that need them
so ``voiceguide --help`` starts fast.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from voiceguide import __version__
from voiceguide.cli.options import flag_message
from voiceguide.errors import ExitStatus, ScriptError, SettingError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.app.session import Session, SessionRequest

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
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for other programs.")]


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


def open_with_progress(request: SessionRequest) -> Session:
    """Open the requested session, with a progress bar on a terminal while speech is made."""
    from voiceguide.app.session import open_session

    with progress_bar("Preparing speech") as progress:
        return open_session(request, progress=progress)


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
    if isinstance(exc, SettingError):
        message = flag_message(exc)  # the core names the setting; the user typed a flag
    if isinstance(exc, ScriptError):
        typer.echo(message, err=True)
    else:
        typer.echo(f"voiceguide: {message}", err=True)
    return int(exc.exit_code)


def _fail(exc: VoiceguideError) -> NoReturn:
    code = report(exc)
    if getattr(exc, "hard_exit", False):
        # A thread is stuck in the audio driver: a normal exit would wait for it forever.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


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
