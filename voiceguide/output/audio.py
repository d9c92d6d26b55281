"""Write the session's audio in any format: choose the encoder, tag the file, check its length.

WAV and FLAC are written by libsndfile. MP3, Ogg Vorbis, Opus, M4A and M4B go through
ffmpeg when it is installed (``tools/install-system-packages.sh`` installs it): MP3 that
way is several times faster than libsndfile's encoder, which remains the way to MP3 and
Ogg Vorbis without ffmpeg. Opus and AAC need ffmpeg; without it they are refused before any work,
in one line that names the package (:func:`require_encoder`).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import ExportError
from voiceguide.output import ffmpeg, parallel, sndfile
from voiceguide.output.codecs import FFMPEG_FORMATS, NEEDS_FFMPEG
from voiceguide.output.formats import LOSSLESS, Format
from voiceguide.output.tags import Mark, Metadata, ffmetadata, tag_mp3, tag_vorbis

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LOSSY_SLACK_SAMPLES = 2304
"""How far a lossy file's length, read back, may stray from the timeline: 0.1 s at 22,050 Hz."""


def require_encoder(fmt: Format) -> None:
    """Refuse ``fmt`` at once, in one line naming the package, if its encoder is missing."""
    if fmt in NEEDS_FFMPEG and ffmpeg.find_ffmpeg() is None:
        raise ExportError(
            f"{fmt} export needs ffmpeg, which is not installed: install the package "
            f"'{ffmpeg.PACKAGE}' (apt-get install {ffmpeg.PACKAGE}), or choose mp3, ogg or flac"
        )


@dataclass(frozen=True)
class Cuts:
    """Where the session may be cut to encode it in chunks, and how to render any span of it."""

    silences: list[tuple[int, int]]
    """Spans (start, end) of digital silence, in samples."""
    render: Callable[[int, int], Iterable[npt.NDArray[np.int16]]]
    """Render the samples from start to end, in blocks."""


def write_audio(
    path: Path,
    fmt: Format,
    blocks: Iterable[npt.NDArray[np.int16]],
    *,
    sample_rate: int,
    total: int,
    channels: int = 1,
    meta: Metadata | None = None,
    marks: list[Mark] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cuts: Cuts | None = None,
) -> int:
    """Encode ``blocks`` into a new ``fmt`` file at ``path``, tagged, with chapters; return frames.

    ``blocks`` are int16, one column per channel (or 1-D for mono). With ``cuts``, an MP3
    is encoded in chunks on every core (:mod:`voiceguide.output.parallel`) from spans
    ``cuts`` renders, and ``blocks`` go unused. The file's length is read back before
    this returns. Raises :class:`OSError` when the file cannot be written
    (a full disk, say) and :class:`ExportError` when the format's encoder is missing.
    """
    marks = marks or []
    program = ffmpeg.find_ffmpeg() if fmt in FFMPEG_FORMATS else None
    if program is None:
        require_encoder(fmt)
        done = sndfile.write(
            path, fmt, blocks, sample_rate=sample_rate, channels=channels, total=total,
            meta=meta, progress=progress,
        )  # fmt: skip
    elif fmt == "mp3" and cuts is not None and sample_rate in parallel.SAMPLE_RATES:
        chunks = parallel.plan(total, cuts.silences, parallel.cores(), sample_rate)
        try:
            done = parallel.encode(
                program, path, chunks, cuts.render, sample_rate=sample_rate,
                channels=channels, progress=progress,
            )  # fmt: skip
        except parallel.ChunkMismatch:  # another LAME than planned for: in one piece, then
            done = ffmpeg.encode(
                program, path, fmt, cuts.render(0, total), sample_rate=sample_rate,
                channels=channels, total=total, progress=progress,
            )  # fmt: skip
    else:
        metadata = ffmetadata(meta, marks) if meta is not None and fmt in ("m4a", "m4b") else None
        done = ffmpeg.encode(
            program, path, fmt, blocks, sample_rate=sample_rate, channels=channels,
            total=total, metadata=metadata, progress=progress,
        )  # fmt: skip
    if meta is not None:
        total_ms = (total * 1000 + sample_rate // 2) // sample_rate
        tag(path, fmt, meta, marks, total_ms)
    check_written(path, fmt, total, sample_rate)
    return done


def tag(path: Path, fmt: Format, meta: Metadata, marks: list[Mark], total_ms: int) -> None:
    """Write the tags and chapters the encoder did not (ID3, Vorbis comments)."""
    if fmt == "mp3":
        tag_mp3(path, meta, marks, total_ms, chapter_offsets(path, marks))
    elif fmt in ("flac", "ogg", "opus"):
        tag_vorbis(path, fmt, meta, marks)
    # WAV got its RIFF INFO from libsndfile; M4A and M4B their tags and chapters from ffmpeg.


def chapter_offsets(path: Path, marks: list[Mark]) -> list[tuple[int, int]] | None:
    """Return each chapter's first frame and the frame after its last, as byte offsets.

    For the untagged MP3 at ``path`` that starts with a Xing/LAME header: the session's
    sample ``s`` is in audio frame ``(s + delay + 529) // samples_per_frame``. Chapters
    tile the session, so each ends where the next begins, the last with the file.
    ``None`` when the file is not laid out so (then players seek by the times).
    """
    from voiceguide.output import mp3frames

    data = path.read_bytes()
    try:
        offsets = mp3frames.frames(data)
        info = mp3frames.frame_at(data, 0)
        delay, _ = mp3frames.delay_and_padding(data, info)
    except mp3frames.FrameError:
        return None
    audio = offsets[1:]
    lead = delay + mp3frames.DECODER_DELAY

    def frame_of(ms: int) -> int:
        sample = ms * info.sample_rate // 1000
        index = (sample + lead) // info.samples
        return audio[index] if index < len(audio) else len(data)

    starts = [frame_of(m.start_ms) for m in marks]
    return list(zip(starts, [*starts[1:], len(data)], strict=True))


def check_written(path: Path, fmt: Format, expected: int, sample_rate: int) -> None:
    """Read back the file's length; raise :class:`OSError` if it is not what was rendered.

    libsndfile only logs some failed writes (the MP3 encoder's last frames), so this is
    what stands between a short file and the rename.
    """
    if fmt in ("m4a", "m4b"):
        found = ffmpeg.probe_length(path)
        if found is None:
            return  # no ffprobe beside ffmpeg: its exit status is all there is
        frames, rate = found
    else:
        frames, rate = sndfile.read_length(path, fmt)
    at_our_rate = (frames * sample_rate + rate // 2) // rate if rate else 0
    slack = 0 if fmt in LOSSLESS else LOSSY_SLACK_SAMPLES
    if abs(at_our_rate - expected) > slack:
        raise OSError(
            errno.EIO, f"the written {fmt} file holds {at_our_rate} samples, not {expected}"
        )
