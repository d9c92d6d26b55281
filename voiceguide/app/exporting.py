"""Exporting sessions: a routine to files, every routine to a folder, or one to a stream.

What ``voiceguide export`` does, callable alone. Each export plans its files first
(the audio, and beside it captions and cues if asked) and refuses at once, before any
synthesis, what cannot be written; the files then appear whole, together, or not at all
(:mod:`voiceguide.output.export`). Progress is shown through a ``bar``: a function that
takes a label and a way to print counts and gives a context yielding ``(done, total)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from voiceguide.errors import UsageError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.app.session import Progress, Session, SessionRequest
    from voiceguide.compile.timeline import Timeline
    from voiceguide.output.formats import Format
    from voiceguide.output.targets import Outputs

ProgressBar = Callable[[str, Callable[[int], str]], AbstractContextManager["Progress"]]
"""``bar(label, count)``: a context yielding a ``(done, total)`` callback."""


def no_bar(label: str, count: Callable[[int], str]) -> AbstractContextManager[Progress]:
    """Show no progress."""
    return nullcontext(lambda done, total: None)


@dataclass(frozen=True)
class Skipped:
    """A routine ``export_all`` could not export, and why."""

    name: str
    error: VoiceguideError


def export_one(
    request: SessionRequest,
    output: str | None = None,
    fmt: str | None = None,
    captions: str | None = None,
    cues: str | None = None,
    *,
    bar: ProgressBar = no_bar,
) -> str:
    """Export the requested routine to ``output``, into that folder, or to ./NAME.FORMAT.

    Return the line that says what was written.
    """
    from voiceguide.atomic import check_target
    from voiceguide.output.formats import choose_format

    target = Path(output) if output is not None else None
    folder = Path(".")
    if target is not None and target.is_dir():
        folder, target = target, None  # write NAME.FORMAT in it
    try:
        chosen = choose_format(target, fmt)
    except UsageError:
        if target is not None:
            check_target(target)  # "not a regular file" says more than "no format in the name"
        raise
    name, request = _named(request)
    outputs = _plan(name, target, folder, chosen, captions, cues)
    outputs.check()  # before synthesis: refuse a folder or a device at once
    return _write(_open(request, bar), outputs, bar)


def export_all(
    request: SessionRequest,
    folder: Path,
    fmt: str | None = None,
    captions: str | None = None,
    cues: str | None = None,
    *,
    bar: ProgressBar = no_bar,
) -> Iterator[str | Skipped]:
    """Export every named routine into ``folder``: yield each line written, or what was skipped.

    A usage error is the same for every routine, so it stops the whole export.
    """
    from voiceguide.output.audio import require_encoder
    from voiceguide.output.formats import choose_format
    from voiceguide.output.targets import make_folders, remove_empty_folders
    from voiceguide.script import library

    chosen = choose_format(None, fmt)
    require_encoder(chosen)  # once, not once a routine
    created = make_folders(folder)
    try:
        for entry in library.entries().values():
            if library.is_point_library(entry.path):
                continue
            try:
                outputs = _plan(entry.name, None, folder, chosen, captions, cues)
                outputs.check()
                yield _write(_open(replace(request, routine=entry.path), bar), outputs, bar)
            except UsageError:
                raise
            except VoiceguideError as exc:
                yield Skipped(entry.name, exc)
    finally:
        remove_empty_folders(created)  # if nothing was written, leave no empty folder behind


def export_stream(
    request: SessionRequest, binary: BinaryIO, fmt: str | None = None, *, bar: ProgressBar = no_bar
) -> None:
    """Write the requested routine to ``binary`` (standard output, say), as WAV unless ``fmt``."""
    from voiceguide.output.audio import require_encoder
    from voiceguide.output.formats import STREAM_FORMAT, choose_format
    from voiceguide.output.stream import export_stream
    from voiceguide.output.tags import Metadata

    chosen = choose_format(None, fmt or STREAM_FORMAT)
    require_encoder(chosen)  # before synthesis
    session = _open(_named(request)[1], bar)
    routine = session.routine
    meta = Metadata(title=routine.title, comment=routine.summary or "")
    with bar("Writing", _clock(session.timeline)) as progress:
        export_stream(
            binary,
            session.timeline,
            session.clips,
            chosen,
            gain=session.gain,
            mix=session.mix,
            meta=meta,
            progress=progress,
        )


def _named(request: SessionRequest) -> tuple[str, SessionRequest]:
    """The name files are called after, and the request with the routine found."""
    from voiceguide.script import library
    from voiceguide.script.model import Routine

    if isinstance(request.routine, Routine):
        return request.routine.name, request
    if request.routine is None:
        raise UsageError("no routine given")
    entry = library.find(str(request.routine))
    return entry.name, replace(request, routine=entry.path)


def _open(request: SessionRequest, bar: ProgressBar) -> Session:
    from voiceguide.app.session import open_session

    with bar("Preparing speech", str) as progress:
        return open_session(request, progress=progress)


def _plan(
    name: str,
    target: Path | None,
    folder: Path,
    fmt: Format,
    captions: str | None,
    cues: str | None,
) -> Outputs:
    from voiceguide.output.targets import Outputs

    return Outputs.plan(target or folder / f"{name}.{fmt}", fmt, captions, cues)


def _clock(timeline: Timeline) -> Callable[[int], str]:
    """Read a count of samples as a clock reading of the session, to the second (m:ss)."""
    from voiceguide.script.durations import format_clock

    return lambda samples: format_clock(timeline.to_ms(samples) // 1000 * 1000)[:-4]


def _write(session: Session, outputs: Outputs, bar: ProgressBar) -> str:
    """Export ``session`` to ``outputs``; return the line to report."""
    from voiceguide.output.export import export, marks
    from voiceguide.output.formats import CHAPTERED
    from voiceguide.output.tags import Metadata
    from voiceguide.script.durations import format_ms

    routine, timeline = session.routine, session.timeline
    meta = Metadata(title=routine.title, comment=routine.summary or "")
    with bar(f"Writing {outputs.audio.name}", _clock(timeline)) as progress:
        export(
            timeline,
            session.clips,
            outputs,
            gain=session.gain,
            mix=session.mix,
            meta=meta,
            progress=progress,
        )
    details = format_ms(timeline.total_ms)
    if outputs.format in CHAPTERED:
        count = len(marks(timeline))
        details += f", {count} chapter{'' if count == 1 else 's'}"
    line = f"wrote {outputs.audio} ({details})"
    beside = [p.name for p in outputs.paths()[1:]]
    return line + (f" with {', '.join(beside)}" if beside else "")
