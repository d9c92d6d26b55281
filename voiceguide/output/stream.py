"""Write the session's audio to standard output, or any binary stream, for pipes.

WAV streams as it renders: the length is known, so the header is exact from the start.
The other formats are encoded into a temporary file first, then copied, because their
encoders seek back to finish the file (the MP3 Xing header, the FLAC stream info, the
MP4 index). That file is a locked ``.part`` file in the system's temporary folder, which
a later export sweeps if this one is killed outright (:mod:`voiceguide.atomic`).
"""

from __future__ import annotations

import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from voiceguide.atomic import temporary_part
from voiceguide.errors import ExportError
from voiceguide.output.formats import STREAM_FORMAT, Format
from voiceguide.output.tags import Metadata

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.sound.clips import ClipSource
    from voiceguide.sound.mix import Mix

_WAV_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
MAX_WAV_DATA_BYTES = 0xFFFF_FFFF - (_WAV_HEADER.size - 8)


def wav_header(total: int, sample_rate: int, channels: int = 1) -> bytes:
    """Return the 44-byte header of a 16-bit PCM WAV file of ``total`` frames."""
    frame_bytes = 2 * channels
    data_bytes = total * frame_bytes
    if data_bytes > MAX_WAV_DATA_BYTES:
        raise ExportError("the session is too long for one WAV file (4 GB); use --format flac")
    return _WAV_HEADER.pack(
        b"RIFF",
        _WAV_HEADER.size - 8 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,  # the fmt chunk's size
        1,  # PCM
        channels,
        sample_rate,
        sample_rate * frame_bytes,  # bytes per second
        frame_bytes,
        16,  # bits per sample
        b"data",
        data_bytes,
    )


def export_stream(
    out: BinaryIO,
    timeline: Timeline,
    clips: ClipSource,
    fmt: Format = STREAM_FORMAT,
    *,
    gain: float = 1.0,
    mix: Mix | None = None,
    meta: Metadata | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Write the session's audio to ``out``, a pipe or any binary stream.

    Raises :class:`BrokenPipeError` when the reader goes away, :class:`ExportError` (one
    line) for any other failure.
    """
    from voiceguide.output.export import channels, write_timeline
    from voiceguide.sound.render import render_blocks

    meta = meta or Metadata(title=timeline.title)
    try:
        if fmt == "wav":
            out.write(wav_header(timeline.total, timeline.sample_rate, channels(mix)))
            done = 0
            for block in render_blocks(timeline, clips, gain=gain, mix=mix):
                out.write(block.astype("<i2", copy=False).tobytes())
                done += len(block)
                if progress is not None:
                    progress(done, timeline.total)
            out.flush()
            return
        folder = Path(tempfile.gettempdir())
        with temporary_part(folder, f"voiceguide-stream.{fmt}") as path:
            try:
                write_timeline(
                    path, fmt, timeline, clips, gain=gain, mix=mix, meta=meta,
                    progress=progress,
                )  # fmt: skip
            except OSError as exc:
                raise ExportError(
                    f"cannot prepare the {fmt} stream in {folder}: {exc.strerror or exc}"
                ) from None
            with path.open("rb") as file:
                shutil.copyfileobj(file, out)
            out.flush()
    except BrokenPipeError:
        raise  # the reader went away: the command line ends quietly
    except OSError as exc:
        raise ExportError(f"standard output: {exc.strerror or exc}") from None
