"""Export a session while it is made: encoding starts with the first phrases spoken.

:func:`export_streamed` is :func:`voiceguide.output.export.export` for a
:class:`~voiceguide.sound.stream.SessionStream`: the audio is encoded from the stream's
blocks as the session is laid out (a cold export overlaps synthesis with encoding, and
clips are let go once rendered, so memory stays flat in the session's length); the files
that need the whole timeline (captions, cues, MP3 chapters) are written once the audio is
complete. The files appear together, whole, or not at all, as for every export.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING

from voiceguide.errors import ExportError
from voiceguide.output.export import (
    Metadata,
    Outputs,
    _partly_renamed,
    _staged,
    _sync,
    captions_text,
    check_written,
    cues_text,
    make_folders,
    remove_empty_folders,
    tag_mp3,
    write_audio,
)

if TYPE_CHECKING:
    from pathlib import Path

    from voiceguide.compile.timeline import Timeline
    from voiceguide.sound.stream import SessionStream

Progress = Callable[[int, int], None]


def export_streamed(
    stream: SessionStream,
    outputs: Outputs,
    *,
    gain: float = 1.0,
    meta: Metadata | None = None,
    progress: Progress | None = None,
) -> Timeline:
    """Write the session ``stream`` makes to ``outputs``; return its timeline.

    ``progress`` is told (samples written, the session's length: estimated until known).
    """
    routine = stream.layout.routine
    meta = meta or Metadata(title=routine.title)
    estimate = stream.layout.estimated_total() or 0

    def told(done: int, _total: int) -> None:
        if progress is not None:
            progress(done, stream.total if stream.total is not None else max(done, estimate))

    renamed: list[Path] = []
    created = make_folders(outputs.audio.parent)
    try:
        with ExitStack() as stack:
            sidecars: dict[Path, str] = {}
            staged = {
                path: stack.enter_context(_staged(path, renamed))
                for path in reversed([p for p in (outputs.captions, outputs.cues) if p])
            }  # entered in reverse rename order: the stack renames the audio first
            audio = stack.enter_context(_staged(outputs.audio, renamed))
            write_audio(
                audio,
                outputs.format,
                stream.blocks(gain=gain),
                sample_rate=stream.sample_rate,
                total=estimate,
                meta=meta,
                progress=told,
            )
            timeline = stream.timeline()
            if outputs.captions is not None and outputs.caption_format is not None:
                sidecars[outputs.captions] = captions_text(timeline, outputs.caption_format)
            if outputs.cues is not None:
                sidecars[outputs.cues] = cues_text(timeline)
            for path, text in sidecars.items():
                staged[path].write_text(text, encoding="utf-8")
                _sync(staged[path])
            if outputs.format == "mp3":
                tag_mp3(audio, timeline, meta)
            check_written(audio, outputs.format, timeline.total)
            _sync(audio)
    except BaseException as exc:
        remove_empty_folders(created)
        if renamed and isinstance(exc, ExportError):
            order = [outputs.audio, *(p for p in (outputs.captions, outputs.cues) if p)]
            raise ExportError(_partly_renamed(exc, order, renamed)) from None
        raise
    return timeline
