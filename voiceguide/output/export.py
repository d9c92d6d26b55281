"""Write a session to files: WAV, FLAC, OGG Vorbis or MP3, with chapters, captions and cues.

The audio comes from :func:`voiceguide.sound.render.render_blocks`, the same samples ``play``
sends to the speaker, and is streamed block by block into libsndfile (through
soundfile), so a two-hour session never sits in memory. Every file is written to a
temporary file beside its target and flushed to disk; only when all of them are complete
are they renamed into place, in one pass (:func:`voiceguide.atomic.atomic_path`): an
export that fails or is interrupted leaves nothing partial behind. MP3 files get their
ID3 tags and chapters before that rename.

The pieces that decide what to write (format, codec settings, captions, tags, the WAV
header) are pure functions; the writers below them do the input and output.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, get_args

from voiceguide import __version__
from voiceguide.atomic import atomic_path, check_target
from voiceguide.errors import ExportError, SettingError, UsageError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.compile.timeline import Timeline
    from voiceguide.sound.clips import ClipSource
    from voiceguide.sound.mix import Mix

    Blocks = Iterable[npt.NDArray[np.int16]]

Progress = Callable[[int, int], None]
"""Called with (samples written, samples in all)."""

Format = Literal["mp3", "wav", "flac", "ogg"]
FORMATS: tuple[Format, ...] = get_args(Format)
DEFAULT_FORMAT: Format = "mp3"
"""What a phone plays, with chapters: the format when neither ``--format`` nor a file name says."""
STREAM_FORMAT: Format = "wav"
"""The format written to standard output unless ``--format`` says otherwise."""

CaptionFormat = Literal["vtt", "srt"]
CAPTION_FORMATS: tuple[CaptionFormat, ...] = get_args(CaptionFormat)
CueFormat = Literal["json"]
CUE_FORMATS: tuple[CueFormat, ...] = get_args(CueFormat)

EXTENSIONS: dict[str, Format] = {
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".oga": "ogg",
}

MP3_BITRATE_KBPS = 64
"""Constant bit rate: plenty for one voice at 22,050 Hz, and players seek to chapters exactly
(with a variable bit rate they seek by an approximate table)."""

LOSSLESS: frozenset[Format] = frozenset({"wav", "flac"})

LOSSY_SLACK_SAMPLES = 2304
"""How far a lossy file's length, read back, may stray from the timeline: two MP3 frames."""


@dataclass(frozen=True)
class Codec:
    """How libsndfile writes one format."""

    major: str
    subtype: str
    compression_level: float | None = None
    bitrate_mode: Literal["CONSTANT", "AVERAGE", "VARIABLE"] | None = None


def mp3_compression_level(kbps: int, sample_rate: int) -> float:
    """Return the libsndfile compression level that makes LAME encode at ``kbps`` (CBR).

    libsndfile maps the level linearly onto the bit rates of the MPEG version the sample
    rate implies, and truncates; half a kbps of margin keeps float error from landing
    one below.
    """
    if sample_rate >= 32_000:
        low, high = 32, 320  # MPEG-1
    elif sample_rate >= 16_000:
        low, high = 8, 160  # MPEG-2
    else:
        low, high = 8, 64  # MPEG-2.5
    if not low <= kbps <= high:
        raise ValueError(f"{kbps} kbps is outside {low}-{high} kbps at {sample_rate} Hz")
    return max(0.0, (high - kbps - 0.5) / (high - low))


def codec(fmt: Format, sample_rate: int) -> Codec:
    """Return how to write ``fmt``: 16-bit PCM for WAV and FLAC, Vorbis, or CBR MP3."""
    if fmt == "wav":
        return Codec("WAV", "PCM_16")
    if fmt == "flac":
        return Codec("FLAC", "PCM_16")
    if fmt == "ogg":
        # libsndfile's default Vorbis quality (0.4) is clear for speech and small in silence.
        return Codec("OGG", "VORBIS")
    level = mp3_compression_level(MP3_BITRATE_KBPS, sample_rate)
    return Codec("MP3", "MPEG_LAYER_III", level, "CONSTANT")


def choose_format(output: Path | None, requested: str | None) -> Format:
    """Settle the format from ``--format`` and the output file's extension.

    Without either it is :data:`DEFAULT_FORMAT`; an extension that names another format
    than ``--format`` is refused rather than writing, say, MP3 into ``x.wav``.
    """
    by_name = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    if requested is None:
        if output is None:
            return DEFAULT_FORMAT
        if by_name is None:
            known = ", ".join(EXTENSIONS)
            raise UsageError(
                f"{output}: cannot tell the format from the name; end it in {known}, "
                "or give --format"
            )
        return by_name
    fmt = requested.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SettingError("format", f"expected one of {', '.join(FORMATS)}, got {requested!r}")
    if by_name is not None and by_name != fmt:
        raise SettingError("format", f"{fmt} does not match the file name {output} ({by_name})")
    return fmt


def _choice(setting: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    if value.lower() not in allowed:
        raise SettingError(setting, f"expected {' or '.join(allowed)}, got {value!r}")
    return value.lower()


@dataclass(frozen=True)
class Outputs:
    """The files one export writes: the audio, and beside it captions and cues if asked."""

    audio: Path
    format: Format
    captions: Path | None = None
    caption_format: CaptionFormat | None = None
    cues: Path | None = None

    @classmethod
    def plan(
        cls,
        audio: Path,
        fmt: Format,
        captions: str | None = None,
        cues: str | None = None,
    ) -> Outputs:
        """Name the sidecar files after ``audio`` (same folder, same stem)."""
        caption_format = _choice("captions", captions, CAPTION_FORMATS)
        cue_format = _choice("cues", cues, CUE_FORMATS)
        outputs = cls(
            audio=audio,
            format=fmt,
            captions=audio.with_suffix(f".{caption_format}") if caption_format else None,
            caption_format=caption_format,  # type: ignore[arg-type]  # checked by _choice
            cues=audio.with_suffix(f".{cue_format}") if cue_format else None,
        )
        if len(set(outputs.paths())) != len(outputs.paths()):
            raise UsageError(f"{audio}: the audio and its sidecar file would have the same name")
        return outputs

    def paths(self) -> list[Path]:
        """Every file this export writes, the audio first."""
        return [p for p in (self.audio, self.captions, self.cues) if p is not None]

    def check(self) -> None:
        """Refuse early, before any work, what cannot be written.

        That is a target that is not a regular file (a folder, a device), a folder that
        cannot be written in, or a missing folder that cannot be created.
        """
        folder = self.audio.parent
        existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        if not existing.is_dir():
            raise ExportError(f"{self.audio}: {existing} is not a folder")
        if not os.access(existing, os.W_OK):
            if existing == folder:
                raise ExportError(f"{self.audio}: cannot write in the folder {folder}")
            raise ExportError(f"{self.audio}: cannot create the folder {folder} in {existing}")
        for path in self.paths():
            check_target(path)


def make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and any missing folders above it; return those created, outermost first.

    Raises :class:`ExportError` if one cannot be created, after removing those it made.
    """
    missing = list(itertools.takewhile(lambda p: not p.is_dir(), (folder, *folder.parents)))
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if path.is_dir():
                continue  # made by someone else meanwhile: not ours to remove
            remove_empty_folders(created)
            raise ExportError(f"{path}: is not a folder; nothing was written") from None
        except OSError as exc:
            remove_empty_folders(created)
            reason = exc.strerror or exc
            raise ExportError(
                f"{path}: cannot create the folder ({reason}); nothing was written"
            ) from None
        created.append(path)
    return created


def remove_empty_folders(created: list[Path]) -> None:
    """Remove the folders :func:`make_folders` created, innermost first, while they are empty."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return  # not empty (or gone): the folders above it are not empty either


# Captions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caption:
    """One thing said, and when (milliseconds from the start)."""

    start_ms: int
    end_ms: int
    text: str


def captions(timeline: Timeline) -> list[Caption]:
    """Return every speech cue of ``timeline`` as a caption, in order."""
    return [
        Caption(timeline.to_ms(cue.start), timeline.to_ms(cue.end), " ".join(cue.text.split()))
        for cue in timeline.cues
        if cue.kind == "speech"
    ]


def _timestamp(ms: int, decimal: str) -> str:
    seconds, milli = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal}{milli:03d}"


def to_vtt(entries: Iterable[Caption]) -> str:
    """Format captions as WebVTT."""
    lines = ["WEBVTT", ""]
    for number, entry in enumerate(entries, 1):
        text = entry.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        start, end = _timestamp(entry.start_ms, "."), _timestamp(entry.end_ms, ".")
        lines += [str(number), f"{start} --> {end}", text, ""]
    return "\n".join(lines)


def to_srt(entries: Iterable[Caption]) -> str:
    """Format captions as SubRip (SRT)."""
    lines: list[str] = []
    for number, entry in enumerate(entries, 1):
        start, end = _timestamp(entry.start_ms, ","), _timestamp(entry.end_ms, ",")
        lines += [str(number), f"{start} --> {end}", entry.text, ""]
    return "\n".join(lines)


def captions_text(timeline: Timeline, kind: CaptionFormat) -> str:
    """Return the captions file of ``timeline`` in ``kind``."""
    entries = captions(timeline)
    return to_vtt(entries) if kind == "vtt" else to_srt(entries)


def cues_text(timeline: Timeline) -> str:
    """Return the timeline as the JSON ``--cues json`` writes."""
    import json

    return json.dumps(timeline.to_json(), indent=2, ensure_ascii=False) + "\n"


# Tags and chapters ----------------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    """What a player shows about the file."""

    title: str
    comment: str = ""
    artist: str = "voiceguide"
    album: str = "voiceguide acupressure"
    genre: str = "Speech"


def id3_tags(timeline: Timeline, meta: Metadata) -> Any:
    """Build the ID3 tag of an MP3: title, album, artist, comment and one chapter per chapter.

    Chapters (CHAP frames, listed in order by a top-level CTOC) carry their title in a TIT2
    sub-frame and their start and end in milliseconds.
    """
    import importlib

    # mutagen's annotations are partial; treat the module as untyped rather than
    # silence every call.
    id3: Any = importlib.import_module("mutagen.id3")
    save_frame: Any = importlib.import_module("mutagen.id3._tags").save_frame

    class OrderedID3(id3.ID3):  # type: ignore[misc]
        """An ID3 tag that writes its frames in the order they were added.

        mutagen sorts frames by size, which scatters the CHAP frames; the CTOC names the
        order, but ffmpeg (and the players built on it) list chapters in file order.
        """

        def _write(self, config: Any) -> bytes:
            return b"".join(save_frame(frame, config=config) for frame in self.values())

    def text(frame: str, value: str) -> Any:
        return getattr(id3, frame)(encoding=3, text=[value])  # 3: UTF-8 (UTF-16 in v2.3)

    tags = OrderedID3()
    tags.add(text("TIT2", meta.title))
    tags.add(text("TPE1", meta.artist))
    tags.add(text("TALB", meta.album))
    tags.add(text("TCON", meta.genre))
    tags.add(text("TLEN", str(timeline.total_ms)))
    tags.add(text("TSSE", f"voiceguide {__version__}"))
    if meta.comment:
        tags.add(id3.COMM(encoding=3, lang="eng", desc="", text=[meta.comment]))
    chapters = timeline.chapters()
    ids = [f"ch{i}" for i in range(len(chapters))]
    tags.add(
        id3.CTOC(
            element_id="toc",
            flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[text("TIT2", "Chapters")],
        )
    )
    for element_id, chapter in zip(ids, chapters, strict=True):
        tags.add(
            id3.CHAP(
                element_id=element_id,
                start_time=timeline.to_ms(chapter.start),
                end_time=timeline.to_ms(chapter.end),
                start_offset=0xFFFFFFFF,  # "use the times", per the chapter addendum
                end_offset=0xFFFFFFFF,
                sub_frames=[text("TIT2", chapter.title)],
            )
        )
    return tags


def tag_mp3(path: Path, timeline: Timeline, meta: Metadata) -> None:
    """Write the ID3 tag (with chapters) into the MP3 at ``path``."""
    from mutagen import MutagenError

    try:
        # ID3v2.3: what the most players, phones included, read chapters from.
        id3_tags(timeline, meta).save(str(path), v1=0, v2_version=3)
    except MutagenError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, OSError):
            raise cause from None
        raise OSError(errno.EIO, f"cannot write the MP3 tags ({exc})") from None


# Writing audio --------------------------------------------------------------------------


def _os_error(sound_file: Any, exc: Exception) -> OSError:
    """Recover the system error behind a libsndfile failure, which says only "System error"."""
    reason = str(exc)
    try:
        import soundfile

        # The per-file message holds strerror(), e.g. "System error : No space left on device."
        reason = soundfile._ffi.string(soundfile._snd.sf_strerror(sound_file._file)).decode()
    except (AttributeError, TypeError, UnicodeDecodeError):
        pass
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES):
        if os.strerror(code) in reason:
            return OSError(code, os.strerror(code))
    return OSError(errno.EIO, f"cannot write the audio ({reason})")


def write_audio(
    path: Path,
    fmt: Format,
    blocks: Blocks,
    *,
    sample_rate: int,
    total: int,
    channels: int = 1,
    meta: Metadata | None = None,
    progress: Progress | None = None,
) -> int:
    """Stream int16 ``blocks`` into a new ``fmt`` file at ``path``; return samples written.

    Blocks are ``(n,)`` for one channel, ``(n, channels)`` for more. Raises
    :class:`OSError` when the file cannot be written (a full disk, say).
    """
    import soundfile

    spec = codec(fmt, sample_rate)
    try:
        sound_file = soundfile.SoundFile(
            str(path),
            "w",
            samplerate=sample_rate,
            channels=channels,
            subtype=spec.subtype,
            format=spec.major,
            compression_level=spec.compression_level,
            bitrate_mode=spec.bitrate_mode,
        )
    except soundfile.LibsndfileError as exc:
        raise OSError(errno.EIO, f"cannot start the {fmt} file ({exc})") from None
    done = 0
    try:
        if meta is not None and fmt != "mp3":  # MP3 tags come from mutagen, with chapters
            sound_file.title = meta.title
            sound_file.artist = meta.artist
            sound_file.album = meta.album
            sound_file.genre = meta.genre
            sound_file.software = f"voiceguide {__version__}"
            if meta.comment:
                sound_file.comment = meta.comment
        for block in blocks:
            sound_file.write(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
        sound_file.close()
    except soundfile.LibsndfileError as exc:
        raise _os_error(sound_file, exc) from None
    finally:
        if not sound_file.closed:
            # Already failing (or interrupted): the file is discarded, and an error from
            # flushing it must not hide the first one.
            with contextlib.suppress(RuntimeError):
                sound_file.close()
    return done


def check_written(path: Path, fmt: Format, expected: int) -> None:
    """Read back the file's length; raise :class:`OSError` if it is not what was rendered.

    libsndfile only logs some failed writes (the MP3 encoder's last frames), so this is
    what stands between a short file and the rename.
    """
    import soundfile

    try:
        frames = int(soundfile.info(str(path)).frames)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise OSError(errno.EIO, f"the written {fmt} file cannot be read back ({exc})") from None
    slack = 0 if fmt in LOSSLESS else LOSSY_SLACK_SAMPLES
    if abs(frames - expected) > slack:
        raise OSError(errno.EIO, f"the written {fmt} file holds {frames} samples, not {expected}")


def export(
    timeline: Timeline,
    clips: ClipSource,
    outputs: Outputs,
    *,
    gain: float = 1.0,
    mix: Mix | None = None,
    meta: Metadata | None = None,
    progress: Progress | None = None,
) -> None:
    """Write the session's audio, and any captions and cues, each file whole or not at all.

    Missing folders are created (and removed again, if still empty, when the export
    fails). Every file is written to a temporary file beside its target and flushed to
    disk; only then are they renamed into place, one after another, the audio first.
    Raises :class:`ExportError` (one line) on failure. Call :meth:`Outputs.check` first
    to refuse an impossible target before any work.
    """
    from voiceguide.sound.render import render_blocks

    meta = meta or Metadata(title=timeline.title)
    sidecars: dict[Path, str] = {}
    if outputs.captions is not None and outputs.caption_format is not None:
        sidecars[outputs.captions] = captions_text(timeline, outputs.caption_format)
    if outputs.cues is not None:
        sidecars[outputs.cues] = cues_text(timeline)
    order = [outputs.audio, *sidecars]  # the order of the renames
    renamed: list[Path] = []
    created = make_folders(outputs.audio.parent)
    try:
        with ExitStack() as stack:
            # The stack unwinds last in, first out: enter the files in reverse rename order.
            for path, text in reversed(sidecars.items()):
                tmp = stack.enter_context(_staged(path, renamed))
                tmp.write_text(text, encoding="utf-8")
                _sync(tmp)
            tmp = stack.enter_context(_staged(outputs.audio, renamed))
            write_audio(
                tmp,
                outputs.format,
                render_blocks(timeline, clips, gain=gain, mix=mix),
                sample_rate=timeline.sample_rate,
                total=timeline.total,
                channels=_channels(mix),
                meta=meta,
                progress=progress,
            )
            if outputs.format == "mp3":
                tag_mp3(tmp, timeline, meta)
            check_written(tmp, outputs.format, timeline.total)
            _sync(tmp)
            # Every file is complete and on disk: leaving the stack renames them all.
    except BaseException as exc:
        remove_empty_folders(created)  # only what this export made, and only if empty
        if renamed and isinstance(exc, ExportError):
            raise ExportError(_partly_renamed(exc, order, renamed)) from None
        raise


def _channels(mix: Mix | None) -> int:
    """How many channels ``mix`` renders (stereo when there is none)."""
    return 2 if mix is None else mix.channels


@contextlib.contextmanager
def _staged(target: Path, renamed: list[Path]) -> Iterator[Path]:
    """Yield a temporary file for ``target`` (:func:`atomic_path`); note ``target`` once renamed."""
    with atomic_path(target) as tmp:
        yield tmp
    renamed.append(target)


def _sync(path: Path) -> None:
    """Flush ``path`` to disk: a full disk can surface only now, on some filesystems."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _partly_renamed(exc: ExportError, order: list[Path], renamed: list[Path]) -> str:
    """Say which files a rename pass that failed midway replaced, and which it did not."""
    failed, *rest = order[len(renamed) :]
    cause = exc.__context__  # the system error behind atomic_path's message
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc)
    done = _and([str(p) for p in renamed])
    kept = _and([p.name for p in (failed, *rest)])
    return (
        f"{failed}: cannot rename it into place ({reason}); {done} "
        f"{'was' if len(renamed) == 1 else 'were'} replaced but {kept} "
        f"{'were' if rest else 'was'} not, so the files do not match: export again"
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


# Standard output ------------------------------------------------------------------------

_WAV_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
MAX_WAV_DATA_BYTES = 0xFFFF_FFFF - (_WAV_HEADER.size - 8)


def wav_header(total: int, sample_rate: int, channels: int = 1) -> bytes:
    """Return the 44-byte header of a 16-bit PCM WAV file of ``total`` frames."""
    data_bytes = total * 2 * channels
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
        sample_rate * 2 * channels,  # bytes per second
        2 * channels,  # bytes per frame
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
    progress: Progress | None = None,
) -> None:
    """Write the session's audio to ``out``, a pipe or any binary stream.

    WAV streams as it renders (the length is known, so the header is exact from the
    start); the other formats are written to a temporary file first, then copied,
    because their encoders seek back to finish the file.
    """
    from voiceguide.sound.render import render_blocks

    meta = meta or Metadata(title=timeline.title)
    try:
        if fmt == "wav":
            out.write(wav_header(timeline.total, timeline.sample_rate, _channels(mix)))
            done = 0
            for block in render_blocks(timeline, clips, gain=gain, mix=mix):
                out.write(block.astype("<i2", copy=False).tobytes())
                done += len(block)
                if progress is not None:
                    progress(done, timeline.total)
            out.flush()
        else:
            _stream_encoded(out, timeline, clips, fmt, gain, mix, meta, progress)
    except BrokenPipeError:
        raise  # the reader went away: the command line ends quietly
    except OSError as exc:
        raise ExportError(f"standard output: {exc.strerror or exc}") from None


def _stream_encoded(
    out: BinaryIO,
    timeline: Timeline,
    clips: ClipSource,
    fmt: Format,
    gain: float,
    mix: Mix | None,
    meta: Metadata,
    progress: Progress | None,
) -> None:
    """Encode to a temporary file (the encoders seek back), then copy it to ``out``."""
    from voiceguide.sound.render import render_blocks

    with tempfile.TemporaryDirectory(prefix="voiceguide-") as folder:
        path = Path(folder) / f"session.{fmt}"
        try:
            write_audio(
                path,
                fmt,
                render_blocks(timeline, clips, gain=gain, mix=mix),
                sample_rate=timeline.sample_rate,
                total=timeline.total,
                channels=_channels(mix),
                meta=meta,
                progress=progress,
            )
            if fmt == "mp3":
                tag_mp3(path, timeline, meta)
        except OSError as exc:
            raise ExportError(
                f"cannot prepare the {fmt} stream in {folder}: {exc.strerror or exc}"
            ) from None
        with path.open("rb") as file:
            shutil.copyfileobj(file, out)
        out.flush()
