"""The export command: a routine as audio files to take away."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import app, complete_routine, progress_bar
from voiceguide.cli.options import Choice, RangedHelp, session_options
from voiceguide.errors import ExitStatus, UsageError

if TYPE_CHECKING:
    from voiceguide.app.exporting import Skipped
    from voiceguide.app.session import SessionRequest

STDOUT = "-"


def _writers() -> ModuleType:
    from voiceguide.output import formats

    return formats


FORMAT = Choice("format", lambda: _writers().FORMATS, lambda name: name.lower().lstrip("."))
CAPTIONS = Choice("captions", lambda: _writers().CAPTION_FORMATS)
CUES = Choice("cues", lambda: _writers().CUE_FORMATS)


@app.command(cls=RangedHelp)
@session_options
def export(
    routine: Annotated[
        str | None,
        typer.Argument(
            metavar="ROUTINE",
            help="A built-in or user routine name, or a path to a .yaml file.",
            autocompletion=complete_routine,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help=(
                "The file to write (default: ./ROUTINE.mp3), or an existing folder to write "
                "ROUTINE.mp3 (or the --format) in; '-' writes to standard output."
            ),
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            parser=FORMAT,
            autocompletion=FORMAT.complete,
            help=(
                "{format} (default: from the file name, else mp3; wav for '-'). "
                "opus, m4a and m4b need ffmpeg."
            ),
        ),
    ] = None,
    all_dir: Annotated[
        Path | None,
        typer.Option(
            "--all", metavar="DIR", help="Export every routine, built-in and your own, into DIR."
        ),
    ] = None,
    captions: Annotated[
        str | None,
        typer.Option(
            "--captions",
            metavar="vtt|srt",
            parser=CAPTIONS,
            autocompletion=CAPTIONS.complete,
            help="Also write what is said, timed, as subtitles.",
        ),
    ] = None,
    cues: Annotated[
        str | None,
        typer.Option(
            "--cues",
            metavar="json",
            parser=CUES,
            autocompletion=CUES.complete,
            help="Also write the timeline of every cue.",
        ),
    ] = None,
    *,
    request: SessionRequest,  # the session options go here
) -> None:
    """Write a routine to an audio file to play anywhere: MP3, Opus, M4A/M4B, OGG, FLAC or WAV.

    The file holds exactly what 'voiceguide play' plays. Without -o it is ./ROUTINE.mp3,
    ready to copy to a phone; -o with a folder writes FOLDER/ROUTINE.mp3 (or the --format
    given), and missing folders in -o are created. Every format but WAV carries a chapter
    per part of the routine, side and round, which podcast and audiobook players show.
    --captions and --cues write files of the same name beside the audio (back-pain.vtt,
    back-pain.json). Each file appears whole or not at all, and all of them are renamed
    into place together at the end: a failure, Ctrl-C or kill leaves nothing partial behind.

    Sessions are stereo, each side's cues leaning to that ear; --mono writes one channel,
    --bed lays a soft sound under the session.

    Exit codes: 0 written, 1 could not write, 2 invalid routine or options, 3 not found,
    130 interrupted, 143 terminated (SIGTERM), 129 hung up (SIGHUP).

    Example: voiceguide export back-pain --captions vtt --bed rain
    """
    from voiceguide.app import exporting

    _one_or_all(routine, output, all_dir)
    try:
        if all_dir is not None:
            _report(exporting.export_all(request, all_dir, fmt, captions, cues, bar=progress_bar))
        elif output == STDOUT:
            _to_stdout(request, fmt, captions, cues)
        else:
            typer.echo(exporting.export_one(request, output, fmt, captions, cues, bar=progress_bar))
    except KeyboardInterrupt:
        left = "" if output == STDOUT else "; no partial file was left"
        typer.echo(f"voiceguide: interrupted{left}", err=True)
        raise typer.Exit(ExitStatus.INTERRUPTED) from None


def _one_or_all(routine: str | None, output: str | None, all_dir: Path | None) -> None:
    """Refuse a ROUTINE or -o with --all, and neither a ROUTINE nor --all."""
    if all_dir is not None and (routine is not None or output is not None):
        raise UsageError("--all exports every routine; give no ROUTINE and no --output")
    if all_dir is None and routine is None:
        raise UsageError("give a ROUTINE to export, or --all DIR")


def _report(results: Iterable[str | Skipped]) -> None:
    """Print each routine written or skipped; exit with the worst status met."""
    worst = ExitStatus.OK
    for result in results:
        if isinstance(result, str):
            typer.echo(result)
            continue
        lines = str(result.error).splitlines() or [type(result.error).__name__]
        more = f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else ""
        typer.echo(f"voiceguide: skipped {result.name}: {lines[0]}{more}", err=True)
        worst = max(worst, result.error.exit_code)
    if worst:
        raise typer.Exit(worst)


def _to_stdout(
    request: SessionRequest, fmt: str | None, captions: str | None, cues: str | None
) -> None:
    import contextlib

    from voiceguide.app.exporting import export_stream

    if captions or cues:
        raise UsageError("--captions and --cues need a file to sit beside; not with -o -")
    if sys.stdout.isatty():
        raise UsageError("standard output is a terminal; pipe it to a program, or give -o FILE")
    binary = sys.stdout.buffer
    # Nothing but audio may reach standard output: anything printed goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        export_stream(request, binary, fmt, bar=progress_bar)
