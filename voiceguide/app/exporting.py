"""Exporting sessions: a routine to files, every routine to a folder, or one to a stream.

What ``voiceguide export`` does, callable alone. Each export plans its files first
(the audio, and beside it captions and cues if asked) and refuses at once, before any
synthesis, what cannot be written; the files then appear whole, together, or not at all
(:mod:`voiceguide.output.export`). A file is encoded while its session is laid out
(:func:`~voiceguide.app.session.open_stream`), so on a cold phrase cache the encoders run
while the phrases are made; M4A and M4B, whose chapters ffmpeg writes as it encodes, wait
for the whole timeline first. Progress is shown through a ``bar``: a function that takes a
label and a way to print counts and gives a context yielding ``(done, total)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from voiceguide.errors import UsageError, VoiceguideError

if TYPE_CHECKING:
    from voiceguide.app.session import Progress, Session, SessionRequest, StreamingSession
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
    return _write(request, outputs, bar)


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
                yield _write(replace(request, routine=entry.path), outputs, bar)
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
    with bar("Writing", _clock(session.timeline.sample_rate)) as progress:
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


def _open_stream(request: SessionRequest, bar: ProgressBar) -> StreamingSession:
    from voiceguide.app.session import open_stream

    # Only a session fitted to a length makes its phrases before it returns (and says so).
    with bar("Preparing speech", str) as progress:
        return open_stream(request, progress=progress)


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


def _clock(sample_rate: int) -> Callable[[int], str]:
    """Read a count of samples as a clock reading of the session, to the second (m:ss)."""
    from voiceguide.script.durations import format_clock

    def clock(samples: int) -> str:
        ms = (samples * 1000 + sample_rate // 2) // sample_rate
        return format_clock(ms // 1000 * 1000)[:-4]

    return clock


def _write(request: SessionRequest, outputs: Outputs, bar: ProgressBar) -> str:
    """Export the requested session to ``outputs``; return the line to report.

    The audio is encoded as the session is laid out, one bar from the start
    (:func:`~voiceguide.output.export.export_streamed`); M4A and M4B are made whole first,
    then encoded (:data:`~voiceguide.output.formats.CHAPTERS_FIRST`).
    """
    from voiceguide.app.session import stream_failure
    from voiceguide.output.export import export, export_streamed
    from voiceguide.output.formats import CHAPTERS_FIRST
    from voiceguide.output.tags import Metadata

    label = f"Writing {outputs.audio.name}"
    if outputs.format in CHAPTERS_FIRST:
        session = _open(request, bar)
        routine, timeline = session.routine, session.timeline
        meta = Metadata(title=routine.title, comment=routine.summary or "")
        with bar(label, _clock(timeline.sample_rate)) as progress:
            export(
                timeline, session.clips, outputs, gain=session.gain, mix=session.mix,
                meta=meta, progress=progress,
            )  # fmt: skip
        return _report(outputs, timeline)
    opened = _open_stream(request, bar)
    routine = opened.routine
    meta = Metadata(title=routine.title, comment=routine.summary or "")
    try:
        with bar(label, _clock(opened.stream.sample_rate)) as progress:
            timeline = export_streamed(
                opened.stream, outputs, gain=opened.gain, meta=meta, progress=progress
            )
    except VoiceguideError as error:
        failure = stream_failure(opened, error)  # the line a session made whole first gives
        if failure is error:
            raise
        raise failure from None
    finally:
        opened.stream.close()
    return _report(outputs, timeline)


def _report(outputs: Outputs, timeline: Timeline) -> str:
    """The line that says what was written: the file, its length and chapters, the rest."""
    from voiceguide.output.export import marks
    from voiceguide.output.formats import CHAPTERED
    from voiceguide.script.durations import format_ms

    details = format_ms(timeline.total_ms)
    if outputs.format in CHAPTERED:
        count = len(marks(timeline))
        details += f", {count} chapter{'' if count == 1 else 's'}"
    line = f"wrote {outputs.audio} ({details})"
    beside = [p.name for p in outputs.paths()[1:]]
    return line + (f" with {', '.join(beside)}" if beside else "")
