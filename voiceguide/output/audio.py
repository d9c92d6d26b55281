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
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import ExportError
from voiceguide.output import ffmpeg, parallel, sndfile
from voiceguide.output.codecs import FFMPEG_FORMATS, NEEDS_FFMPEG
from voiceguide.output.formats import CHAPTERS_FIRST, LOSSLESS, Format
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
    again: Callable[[], Iterable[npt.NDArray[np.int16]]] | None = None,
    silent_holds: bool = True,
) -> int:
    """Encode ``blocks`` into a new ``fmt`` file at ``path``, tagged, with chapters; return frames.

    :func:`encode_audio`, then :func:`finish_audio` with the same ``total`` and ``marks``:
    for a session whose timeline is known before it is encoded. The file's length is read
    back before this returns.
    """
    marks = marks or []
    done = encode_audio(
        path, fmt, blocks, sample_rate=sample_rate, total=total, channels=channels,
        meta=meta, marks=marks, progress=progress, again=again, silent_holds=silent_holds,
    )  # fmt: skip
    finish_audio(path, fmt, done, sample_rate=sample_rate, total=total, meta=meta, marks=marks)
    return done


def encode_audio(
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
    again: Callable[[], Iterable[npt.NDArray[np.int16]]] | None = None,
    silent_holds: bool = True,
) -> int:
    """Encode ``blocks`` into a new ``fmt`` file at ``path``, untagged; return the frames written.

    ``blocks`` are int16, one column per channel (or 1-D for mono), in order; they are
    read once, and may be laid out while they are read (a session still being made).
    An MP3 is encoded on every core, cut in the session's silences
    (:mod:`voiceguide.output.parallel`); should that come out other than planned,
    ``again`` gives the blocks anew to encode it in one piece (without it, the export
    fails). ``silent_holds=False`` says the session has no digital silence to cut in (a
    sound bed fills it): the MP3 is then one LAME stream with its bit reservoir, some 15%
    smaller for the same quality. ``total`` may be an estimate (``progress`` is told it,
    or the frames so far when more): the file holds what ``blocks`` gave. ``meta`` and
    ``marks`` are used here only by the formats whose encoder writes the tags and
    chapters (:data:`~voiceguide.output.formats.CHAPTERS_FIRST`), so for them the
    timeline must be whole before encoding starts; WAV takes its RIFF INFO tags from
    ``meta``. Raises :class:`OSError` when the file cannot be written (a full disk, say)
    and :class:`ExportError` when the format's encoder is missing.
    """
    program = ffmpeg.find_ffmpeg() if fmt in FFMPEG_FORMATS else None
    if program is None:
        require_encoder(fmt)
        return sndfile.write(
            path, fmt, blocks, sample_rate=sample_rate, channels=channels, total=total,
            meta=meta, progress=progress,
        )  # fmt: skip
    if fmt == "mp3" and silent_holds and sample_rate in parallel.SAMPLE_RATES:
        try:
            return parallel.encode(
                program, path, blocks, sample_rate=sample_rate, channels=channels,
                total=total, progress=progress,
            )  # fmt: skip
        except parallel.ChunkMismatch as exc:  # another LAME than planned for
            if again is None:
                raise OSError(errno.EIO, f"the MP3's pieces do not join ({exc})") from None
            return ffmpeg.encode(
                program, path, fmt, again(), sample_rate=sample_rate,
                channels=channels, total=total, progress=progress,
            )  # fmt: skip
    metadata = ffmetadata(meta, marks or []) if meta is not None and fmt in CHAPTERS_FIRST else None
    return ffmpeg.encode(
        program, path, fmt, blocks, sample_rate=sample_rate, channels=channels,
        total=total, metadata=metadata, progress=progress,
    )  # fmt: skip


def finish_audio(
    path: Path,
    fmt: Format,
    done: int,
    *,
    sample_rate: int,
    total: int,
    meta: Metadata | None = None,
    marks: list[Mark] | None = None,
) -> None:
    """Tag the file :func:`encode_audio` wrote (``done`` frames) and read its length back.

    ``total`` is the session's real length (the ID3 tag's ``TLEN``) and ``marks`` its
    chapters: known once the session is laid out whole, which may be after encoding.
    Raises :class:`OSError` when the file is not what was encoded.
    """
    if meta is not None:
        total_ms = (total * 1000 + sample_rate // 2) // sample_rate
        tag(path, fmt, meta, marks or [], total_ms)
    check_written(path, fmt, done, sample_rate)


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
    if fmt in CHAPTERS_FIRST:
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
