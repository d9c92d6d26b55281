"""The export command: a routine as audio files to take away."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import (
    AllowOutside,
    Engine,
    NoTones,
    Pace,
    Pitch,
    Rate,
    Repeat,
    SkipIntro,
    Voice,
    VoiceModel,
    Volume,
    app,
    compile_options,
    complete_routine,
    open_named_session,
    progress_bar,
    voice_choice,
)
from voiceguide.errors import ExitStatus, UsageError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.compile.timeline import Timeline
    from voiceguide.output.export import Format, Outputs
    from voiceguide.session import Session, VoiceChoice

STDOUT = "-"


@app.command()
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
            help="mp3, wav, flac or ogg (default: from the file name, else mp3; wav for '-').",
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
            "--captions", metavar="vtt|srt", help="Also write what is said, timed, as subtitles."
        ),
    ] = None,
    cues: Annotated[
        str | None,
        typer.Option("--cues", metavar="json", help="Also write the timeline of every cue."),
    ] = None,
    skip_intro: SkipIntro = False,
    pace: Pace = 1.0,
    repeat: Repeat = 1,
    no_tones: NoTones = False,
    engine: Engine = None,
    voice: Voice = None,
    rate: Rate = None,
    pitch: Pitch = None,
    volume: Volume = None,
    voice_model: VoiceModel = None,
    allow_outside: AllowOutside = False,
) -> None:
    """Write a routine to an audio file to play anywhere: MP3 with chapters, WAV, FLAC or OGG.

    The file holds exactly what 'voiceguide play' plays. Without -o it is ./ROUTINE.mp3,
    ready to copy to a phone; -o with a folder writes FOLDER/ROUTINE.mp3 (or the --format
    given), and missing folders in -o are created. MP3 files carry a chapter per part of
    the routine and per side, which podcast and audiobook players show. --captions and
    --cues write files of the same name beside the audio (back-pain.vtt, back-pain.json).
    Each file appears whole or not at all, and all of them are renamed into place together
    at the end: a failure or Ctrl-C leaves nothing partial behind.

    Exit codes: 0 written, 1 could not write, 2 invalid routine or options, 3 not found,
    130 interrupted.

    Example: voiceguide export back-pain --captions vtt
    """
    from voiceguide.output.export import STREAM_FORMAT, choose_format

    options = compile_options(skip_intro, pace, repeat, no_tones)
    choice = voice_choice(engine, voice, rate, pitch, volume, voice_model)
    try:
        if all_dir is not None:
            if routine is not None or output is not None:
                raise UsageError("--all exports every routine; give no ROUTINE and no --output")
            worst = _export_all(
                all_dir, choose_format(None, fmt), captions, cues, options, choice, allow_outside
            )
            if worst:
                raise typer.Exit(worst)
            return
        if routine is None:
            raise UsageError("give a ROUTINE to export, or --all DIR")
        if output == STDOUT:
            if captions or cues:
                raise UsageError("--captions and --cues need a file to sit beside; not with -o -")
            stream = choose_format(None, fmt or STREAM_FORMAT)
            _export_to_stdout(routine, stream, options, choice, allow_outside)
            return
        _export_one(routine, output, fmt, captions, cues, options, choice, allow_outside)
    except KeyboardInterrupt:
        left = "" if output == STDOUT else "; no partial file was left"
        typer.echo(f"voiceguide: interrupted{left}", err=True)
        raise typer.Exit(ExitStatus.INTERRUPTED) from None


def _plan(
    name: str,
    target: Path | None,
    folder: Path,
    fmt: Format,
    captions: str | None,
    cues: str | None,
) -> Outputs:
    from voiceguide.output.export import Outputs

    return Outputs.plan(target or folder / f"{name}.{fmt}", fmt, captions, cues)


def _clock(timeline: Timeline) -> Callable[[int], str]:
    """Read a count of samples as a clock reading of the session, as 'show' prints them."""
    from voiceguide.script.durations import format_clock

    return lambda samples: format_clock(timeline.to_ms(samples))


def _write(session: Session, outputs: Outputs) -> str:
    """Export ``session`` to ``outputs`` with a progress bar; return the line to report."""
    from voiceguide.output.export import Metadata, export
    from voiceguide.script.durations import format_ms

    routine, timeline = session.routine, session.timeline
    meta = Metadata(title=routine.title, comment=routine.summary or "")
    with progress_bar(f"Writing {outputs.audio.name}", _clock(timeline)) as progress:
        export(timeline, session.clips, outputs, gain=session.gain, meta=meta, progress=progress)
    details = format_ms(timeline.total_ms)
    if outputs.format == "mp3":
        details += f", {len(timeline.chapters())} chapters"
    line = f"wrote {outputs.audio} ({details})"
    beside = [p.name for p in outputs.paths()[1:]]
    return line + (f" with {', '.join(beside)}" if beside else "")


def _export_one(
    name: str,
    output: str | None,
    requested: str | None,
    captions: str | None,
    cues: str | None,
    options: CompileOptions,
    choice: VoiceChoice,
    allow_outside: bool = False,
) -> None:
    """Export the routine ``name`` to the file ``output``, into that folder, or to ./NAME.FORMAT."""
    from voiceguide.atomic import check_target
    from voiceguide.output.export import choose_format
    from voiceguide.script import library

    target = Path(output) if output is not None else None
    folder = Path(".")
    if target is not None and target.is_dir():
        folder, target = target, None  # write NAME.FORMAT in it
    try:
        fmt = choose_format(target, requested)
    except UsageError:
        if target is not None:
            check_target(target)  # "not a regular file" says more than "no format in the name"
        raise
    entry = library.find(name)
    outputs = _plan(entry.name, target, folder, fmt, captions, cues)
    outputs.check()  # before synthesis: refuse a folder or a device at once
    typer.echo(_write(open_named_session(entry.path, options, choice, allow_outside)[1], outputs))


def _export_all(
    folder: Path,
    fmt: Format,
    captions: str | None,
    cues: str | None,
    options: CompileOptions,
    choice: VoiceChoice,
    allow_outside: bool = False,
) -> ExitStatus:
    """Export every named routine into ``folder``; return the worst exit status met."""
    from voiceguide.output.export import make_folders, remove_empty_folders
    from voiceguide.script import library

    created = make_folders(folder)
    worst = ExitStatus.OK
    try:
        for entry in library.entries().values():
            if library.is_point_library(entry.path):
                continue
            try:
                outputs = _plan(entry.name, None, folder, fmt, captions, cues)
                outputs.check()
                session = open_named_session(entry.path, options, choice, allow_outside)[1]
                typer.echo(_write(session, outputs))
            except UsageError:
                raise  # the same for every routine: stop at the first
            except VoiceguideError as exc:
                lines = str(exc).splitlines() or [type(exc).__name__]
                more = f" (and {len(lines) - 1} more problems)" if len(lines) > 1 else ""
                typer.echo(f"voiceguide: skipped {entry.name}: {lines[0]}{more}", err=True)
                worst = max(worst, exc.exit_code)
    finally:
        remove_empty_folders(created)  # if nothing was written, leave no empty folder behind
    return worst


def _export_to_stdout(
    name: str,
    fmt: Format,
    options: CompileOptions,
    choice: VoiceChoice,
    allow_outside: bool = False,
) -> None:
    import contextlib

    from voiceguide.output.export import Metadata, export_stream
    from voiceguide.script import library

    if sys.stdout.isatty():
        raise UsageError("standard output is a terminal; pipe it to a program, or give -o FILE")
    binary = sys.stdout.buffer
    # Nothing but audio may reach standard output: anything printed goes to stderr.
    with contextlib.redirect_stdout(sys.stderr):
        _, session = open_named_session(library.find(name).path, options, choice, allow_outside)
        routine = session.routine
        meta = Metadata(title=routine.title, comment=routine.summary or "")
        with progress_bar("Writing", _clock(session.timeline)) as progress:
            export_stream(
                binary,
                session.timeline,
                session.clips,
                fmt,
                gain=session.gain,
                meta=meta,
                progress=progress,
            )
