"""The ffmpeg encoder process: errors in one line, never left running (output/ffmpeg.py)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tests.output.helpers import ToneClips, export_files, listing, needs_ffmpeg
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import AudioError, ExportError
from voiceguide.output import ffmpeg


def test_ffmpegs_complaint_keeps_the_system_error_it_names() -> None:
    full = ffmpeg._os_error("Error writing trailer of file:x: No space left on device\n", 0)
    assert (full.errno, full.strerror) == (errno.ENOSPC, os.strerror(errno.ENOSPC))
    other = ffmpeg._os_error("Unknown encoder 'libmp3lame'\nsecond line\n", 1)
    assert other.errno == errno.EIO
    assert str(other) == "[Errno 5] ffmpeg could not encode the audio (second line)"
    assert "exit status 8" in str(ffmpeg._os_error("", 8))


def fake_ffmpeg(tmp_path: Path, script: str) -> str:
    path = tmp_path / "ffmpeg"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return str(path)


def test_an_ffmpeg_that_fails_gives_one_line_and_leaves_nothing(
    timeline: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    script = "cat > /dev/null; echo 'Unknown encoder libopus' >&2; exit 1\n"
    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: fake_ffmpeg(tmp_path, script))
    message = r"s\.opus: ffmpeg could not encode the audio \(Unknown encoder libopus\); nothing"
    with pytest.raises(ExportError, match=message):
        export_files(timeline, out / "s.opus", "opus")
    assert not out.exists()


def test_an_ffmpeg_that_stops_reading_is_an_error_not_a_short_file(
    timeline: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = "head -c 100 > /dev/null; exit 0\n"  # reads a little, then exits "fine"
    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: fake_ffmpeg(tmp_path, script))
    with pytest.raises(ExportError, match=r"s\.m4a: ffmpeg could not encode the audio"):
        export_files(timeline, tmp_path / "s.m4a", "m4a")
    assert listing(tmp_path) == ["ffmpeg"]


def _children() -> set[int]:
    """The processes this test process has started and not yet reaped."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        children = (task / "children").read_text().split()
        found.update(int(pid) for pid in children)
    return found


@needs_ffmpeg
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_an_interrupt_ends_ffmpeg_and_leaves_nothing(timeline: Timeline, tmp_path: Path) -> None:
    before = _children()
    seen: list[int] = []

    def interrupt(done: int, total: int) -> None:
        seen.extend(_children() - before)  # ffmpeg is running now
        if done > total // 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(timeline, tmp_path / "s.mp3", "mp3", progress=interrupt)
    assert seen, "ffmpeg ran"
    assert _children() - before == set(), "and was ended and reaped"
    assert listing(tmp_path) == []


def test_clips_that_fail_end_ffmpeg_too(timeline: Timeline, tmp_path: Path) -> None:
    if ffmpeg.find_ffmpeg() is None:
        pytest.skip("needs ffmpeg")
    before = _children()
    clips = ToneClips(fail_on="Now the left hand.")
    with pytest.raises(AudioError, match="cannot read"):
        export_files(timeline, tmp_path / "s.m4a", "m4a", clips=clips)
    assert _children() - before == set()
    assert listing(tmp_path) == []
