"""Tags and chapters inside the audio file: ID3 for MP3, Vorbis comments, ffmpeg's metadata.

Every format but WAV carries the same title, artist, album, genre and comment, and the
same chapters (:mod:`voiceguide.output.chapters`), each in its own container's way:

- MP3: an ID3v2.3 tag with CHAP frames under a top-level CTOC (mutagen);
- FLAC, Ogg Vorbis, Ogg Opus: Vorbis comments ``CHAPTER001=00:00:00.000`` and
  ``CHAPTER001NAME=…``, which ffmpeg and Android podcast players read (mutagen);
- M4A and M4B: QuickTime chapters, which Apple devices read, written by ffmpeg from the
  metadata file :func:`ffmetadata` returns.
"""

from __future__ import annotations

import errno
import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide import __version__
from voiceguide.output.sidecars import timestamp

SOFTWARE = f"voiceguide {__version__}"


@dataclass(frozen=True)
class Metadata:
    """What a player shows about the file."""

    title: str
    comment: str = ""
    artist: str = "voiceguide"
    album: str = "voiceguide acupressure"
    genre: str = "Speech"


@dataclass(frozen=True)
class Mark:
    """One chapter as a file holds it: milliseconds from the start, and a title."""

    start_ms: int
    end_ms: int
    title: str


NO_OFFSET = 0xFFFFFFFF
"""A CHAP frame's byte offset that says "use the times", per the chapter addendum."""


def id3_tags(
    meta: Metadata,
    marks: list[Mark],
    total_ms: int,
    offsets: list[tuple[int, int]] | None = None,
) -> Any:
    """Build the ID3 tag of an MP3: title, album, artist, comment and one CHAP per chapter.

    Chapters (CHAP frames, listed in order by a top-level CTOC) carry their title in a TIT2
    sub-frame, their start and end in milliseconds and, when ``offsets`` gives them, the
    byte offsets in the file of their first frame and of the frame after their last, so
    a player can seek a variable bit rate stream to the frame.
    """
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
    tags.add(text("TLEN", str(total_ms)))
    tags.add(text("TSSE", SOFTWARE))
    if meta.comment:
        tags.add(id3.COMM(encoding=3, lang="eng", desc="", text=[meta.comment]))
    ids = [f"ch{i}" for i in range(len(marks))]
    tags.add(
        id3.CTOC(
            element_id="toc",
            flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
            child_element_ids=ids,
            sub_frames=[text("TIT2", "Chapters")],
        )
    )
    bytes_at = offsets or [(NO_OFFSET, NO_OFFSET)] * len(marks)
    for element_id, mark, (start, end) in zip(ids, marks, bytes_at, strict=True):
        tags.add(
            id3.CHAP(
                element_id=element_id,
                start_time=mark.start_ms,
                end_time=mark.end_ms,
                start_offset=start,
                end_offset=end,
                sub_frames=[text("TIT2", mark.title)],
            )
        )
    return tags


def tag_mp3(
    path: Path,
    meta: Metadata,
    marks: list[Mark],
    total_ms: int,
    offsets: list[tuple[int, int]] | None = None,
) -> None:
    """Write the ID3 tag (with chapters) into the MP3 at ``path``, which has none yet.

    ``offsets`` are each chapter's byte offsets in the untagged file; the tag's own size
    is added to them. The tag is written twice, the second time in the very space of the
    first (the offsets are of fixed width), so its size is known when they are written.
    """
    from mutagen import MutagenError

    def keep(info: Any) -> int:
        return max(0, int(info.padding))  # the same space: not one byte more or less

    try:
        # ID3v2.3: what the most players, phones included, read chapters from.
        id3_tags(meta, marks, total_ms).save(str(path), v1=0, v2_version=3, padding=keep)
        if offsets:
            size = _id3_size(path)
            moved = [(start + size, end + size) for start, end in offsets]
            tags = id3_tags(meta, marks, total_ms, moved)
            tags.save(str(path), v1=0, v2_version=3, padding=keep)
            if _id3_size(path) != size:
                raise OSError(errno.EIO, "the MP3 tag changed size while it was written")
    except MutagenError as exc:
        raise _os_error(exc, "MP3") from None


def _id3_size(path: Path) -> int:
    """The size of the ID3v2 tag at the start of ``path``, header included."""
    with path.open("rb") as file:
        header = file.read(10)
    if header[:3] != b"ID3":
        return 0
    size = 0
    for byte in header[6:10]:
        size = size << 7 | byte  # a syncsafe integer: 7 bits a byte
    return 10 + size


def vorbis_comments(meta: Metadata, marks: list[Mark]) -> list[tuple[str, str]]:
    """Return the Vorbis comments of a FLAC or Ogg file, chapters included, in order."""
    comments = [
        ("TITLE", meta.title),
        ("ARTIST", meta.artist),
        ("ALBUM", meta.album),
        ("GENRE", meta.genre),
    ]
    if meta.comment:
        comments.append(("COMMENT", meta.comment))
    comments.append(("ENCODER", SOFTWARE))
    for number, mark in enumerate(marks, 1):
        comments.append((f"CHAPTER{number:03d}", timestamp(mark.start_ms)))
        comments.append((f"CHAPTER{number:03d}NAME", mark.title))
    return comments


_VORBIS_CLASSES = {
    "flac": "mutagen.flac.FLAC",
    "ogg": "mutagen.oggvorbis.OggVorbis",
    "opus": "mutagen.oggopus.OggOpus",
}


def tag_vorbis(path: Path, fmt: str, meta: Metadata, marks: list[Mark]) -> None:
    """Replace the Vorbis comments of the FLAC, Ogg Vorbis or Ogg Opus file at ``path``."""
    from mutagen import MutagenError

    module, _, name = _VORBIS_CLASSES[fmt].rpartition(".")
    kind: Any = getattr(importlib.import_module(module), name)
    try:
        audio = kind(str(path))
        if audio.tags is None:
            audio.add_tags()
        audio.tags.clear()
        for key, value in vorbis_comments(meta, marks):
            audio.tags.append((key, value))
        audio.save()
    except MutagenError as exc:
        raise _os_error(exc, fmt.upper()) from None


def ffmetadata(meta: Metadata, marks: list[Mark]) -> str:
    """Return ffmpeg's metadata file (``;FFMETADATA1``) with the tags and the chapters."""
    lines = [
        ";FFMETADATA1",
        f"title={_escape(meta.title)}",
        f"artist={_escape(meta.artist)}",
        f"album={_escape(meta.album)}",
        f"genre={_escape(meta.genre)}",
    ]
    if meta.comment:
        lines.append(f"comment={_escape(meta.comment)}")
    for mark in marks:
        lines += [
            "[CHAPTER]",
            "TIMEBASE=1/1000",
            f"START={mark.start_ms}",
            f"END={mark.end_ms}",
            f"title={_escape(mark.title)}",
        ]
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    """Escape what ffmetadata gives a meaning to: ``= ; # \\`` and line breaks."""
    for char in "\\=;#":
        value = value.replace(char, "\\" + char)
    return value.replace("\n", "\\\n")


def _os_error(exc: Exception, what: str) -> OSError:
    """Recover the system error behind a mutagen failure (a full disk, say)."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError):
        return cause
    return OSError(errno.EIO, f"cannot write the {what} tags ({exc})")
