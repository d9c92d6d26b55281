"""Tags and chapters in every format that has them (output/tags.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.output.helpers import (
    SR,
    Plan,
    build,
    export_files,
    needs_ffmpeg,
    probe_chapters,
    read_id3,
)
from voiceguide.compile.timeline import Timeline
from voiceguide.output.export import marks
from voiceguide.output.formats import Format
from voiceguide.output.tags import Mark, Metadata, ffmetadata, vorbis_comments

CHAPTERED: Plan = [
    ("tone", "start", "Introduction"),
    ("speech", "Sit comfortably.", "Introduction"),
    ("silence", 16 * SR, "Introduction"),
    ("speech", "Find the point on your right hand.", "Right side"),
    ("silence", 20 * SR, "Right side"),
    ("speech", "Now the left hand.", "Left side"),
    ("silence", 20 * SR, "Left side"),
    ("tone", "end", "Closing"),
    ("silence", 16 * SR, "Closing"),
]


@pytest.fixture
def chaptered() -> Timeline:
    """Four chapters, each long enough to stay one."""
    return build(CHAPTERED)


def test_mp3_chapters_match_the_export_chapters(chaptered: Timeline, tmp_path: Path) -> None:
    export_files(chaptered, tmp_path / "s.mp3", "mp3")
    tags = read_id3(tmp_path / "s.mp3")
    assert tags.version[:2] == (2, 3)
    expected = marks(chaptered)
    assert [m.title for m in expected] == ["Introduction", "Right side", "Left side", "Closing"]
    toc = tags.getall("CTOC")
    assert len(toc) == 1
    frames = {f.element_id: f for f in tags.getall("CHAP")}
    assert len(frames) == len(expected)
    ordered = [frames[i] for i in toc[0].child_element_ids]
    for frame, mark in zip(ordered, expected, strict=True):
        assert frame.sub_frames["TIT2"].text == [mark.title]
        assert frame.start_time == mark.start_ms
        assert frame.end_time == mark.end_ms
    assert ordered[-1].end_time == chaptered.total_ms
    assert tags["TIT2"].text == ["Test routine"]
    assert tags["TALB"].text == ["voiceguide acupressure"]
    assert tags["TPE1"].text == ["voiceguide"]
    assert tags.getall("COMM")[0].text == ["A routine for tests."]
    assert tags["TLEN"].text == [str(chaptered.total_ms)]


@needs_ffmpeg
def test_ffprobe_lists_the_mp3_chapters_in_order(tmp_path: Path) -> None:
    # ffmpeg lists CHAP frames in file order, so the file must hold them in time order.
    plan: Plan = [("speech", f"Part {i}.", f"Part {i:02d} of many") for i in range(12)]
    timeline = build([item for p in plan for item in (p, ("silence", 16 * SR, p[2]))])
    export_files(timeline, tmp_path / "s.mp3", "mp3")
    chapters = probe_chapters(tmp_path / "s.mp3")
    assert [c[2] for c in chapters] == [f"Part {i:02d} of many" for i in range(12)]
    assert [c[0] for c in chapters] == [m.start_ms for m in marks(timeline)]


@needs_ffmpeg
def test_ffprobe_reads_the_same_chapters_from_every_format(
    chaptered: Timeline, tmp_path: Path
) -> None:
    expected = [(m.start_ms, m.end_ms, m.title) for m in marks(chaptered)]
    formats: list[Format] = ["mp3", "ogg", "opus", "flac", "m4a", "m4b"]
    for fmt in formats:
        export_files(chaptered, tmp_path / f"s.{fmt}", fmt)
        found = probe_chapters(tmp_path / f"s.{fmt}")
        assert [(start, title) for start, _, title in found] == [
            (start, title) for start, _, title in expected
        ], fmt
        if fmt in ("mp3", "m4a", "m4b"):  # Vorbis comments give starts only
            assert [end for _, end, _ in found] == [end for _, end, _ in expected], fmt


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["ogg", "opus", "flac"])
def test_vorbis_comment_chapters_are_numbered_from_one(
    fmt: Format, chaptered: Timeline, tmp_path: Path
) -> None:
    export_files(chaptered, tmp_path / f"s.{fmt}", fmt)
    command = ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json"]
    probe = subprocess.run(
        [*command, str(tmp_path / f"s.{fmt}")],
        capture_output=True,
        check=True,
        text=True,
    )
    found = json.loads(probe.stdout)
    tags = {**found["format"].get("tags", {}), **found["streams"][0].get("tags", {})}
    tags = {k.upper(): v for k, v in tags.items()}
    assert tags["TITLE"] == "Test routine"
    assert tags["ALBUM"] == "voiceguide acupressure"


def test_vorbis_comments_carry_the_chapters_as_android_players_read_them() -> None:
    meta = Metadata(title="T", comment="C")
    comments = vorbis_comments(meta, [Mark(0, 61_500, "One"), Mark(3_723_004, 3_800_000, "Two")])
    assert comments[:5] == [
        ("TITLE", "T"),
        ("ARTIST", "voiceguide"),
        ("ALBUM", "voiceguide acupressure"),
        ("GENRE", "Speech"),
        ("COMMENT", "C"),
    ]
    assert comments[-4:] == [
        ("CHAPTER001", "00:00:00.000"),
        ("CHAPTER001NAME", "One"),
        ("CHAPTER002", "01:02:03.004"),
        ("CHAPTER002NAME", "Two"),
    ]


def test_ffmetadata_escapes_what_ffmpeg_reads_as_syntax() -> None:
    text = ffmetadata(Metadata(title="a=b; #c\\d"), [Mark(0, 1000, "Line\nbreak")])
    assert text.startswith(";FFMETADATA1\ntitle=a\\=b\\; \\#c\\\\d\n")
    assert "[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=1000\ntitle=Line\\\nbreak\n" in text


@needs_ffmpeg
def test_titles_with_ffmetadata_syntax_reach_an_m4a_intact(tmp_path: Path) -> None:
    title = "Elbow point — right side; round 1 = #1 \\ last"
    timeline = build([("speech", "Press.", title), ("silence", 16 * SR, title)], title="A=B;C")
    export_files(timeline, tmp_path / "s.m4a", "m4a")
    assert [c[2] for c in probe_chapters(tmp_path / "s.m4a")] == [title]


@needs_ffmpeg
def test_mp3_chapters_give_the_byte_offset_of_their_frame(
    chaptered: Timeline, tmp_path: Path
) -> None:
    # A variable bit rate stream cannot be seeked by time to the frame; the CHAP frames'
    # byte offsets let a player land on the chapter's very frame.
    from voiceguide.output import mp3frames

    export_files(chaptered, tmp_path / "s.mp3", "mp3")
    data = (tmp_path / "s.mp3").read_bytes()
    tags = read_id3(tmp_path / "s.mp3")
    toc = tags.getall("CTOC")[0]
    frames = {f.element_id: f for f in tags.getall("CHAP")}
    chaps = [frames[i] for i in toc.child_element_ids]
    audio_start = data.index(b"\xff\xf3")  # the Xing frame, after the tag
    offsets = mp3frames.frames(data, audio_start)
    for chap in chaps:
        assert chap.start_offset in offsets
        frame = offsets.index(chap.start_offset) - 1  # audio frames come after the Xing one
        sample = chap.start_time * SR // 1000
        assert frame == (sample + 576 + 529) // 576
    assert [c.end_offset for c in chaps[:-1]] == [c.start_offset for c in chaps[1:]]
    assert chaps[-1].end_offset == len(data)
