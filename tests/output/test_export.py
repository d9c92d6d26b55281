"""The atomic multi-file export: every file whole or not at all (output/export.py)."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import pytest
import soundfile

from tests.output.helpers import NoiseClips, ToneClips, export_files, listing, needs_ffmpeg
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import AudioError, ExportError
from voiceguide.output.formats import Format


@pytest.mark.parametrize("fmt", ["wav", "mp3", pytest.param("m4a", marks=needs_ffmpeg)])
def test_a_failure_mid_render_leaves_the_old_file_and_no_temporary_file(
    fmt: Format, timeline: Timeline, tmp_path: Path
) -> None:
    (tmp_path / f"s.{fmt}").write_bytes(b"the old export")
    clips = ToneClips(fail_on="Now the left hand.")
    with pytest.raises(AudioError):
        export_files(timeline, tmp_path / f"s.{fmt}", fmt, "srt", "json", clips=clips)
    assert listing(tmp_path) == [f"s.{fmt}"]
    assert (tmp_path / f"s.{fmt}").read_bytes() == b"the old export"


@pytest.mark.parametrize("fmt", ["mp3", "flac", pytest.param("opus", marks=needs_ffmpeg)])
def test_an_interrupt_leaves_nothing(fmt: Format, timeline: Timeline, tmp_path: Path) -> None:
    def interrupt(done: int, total: int) -> None:
        if done > total // 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(timeline, tmp_path / f"s.{fmt}", fmt, "vtt", "json", progress=interrupt)
    assert listing(tmp_path) == []


@pytest.fixture
def old_set(tmp_path: Path) -> list[Path]:
    """An earlier export's audio, captions and cues, each holding b"old"."""
    paths = [tmp_path / "s.wav", tmp_path / "s.vtt", tmp_path / "s.json"]
    for path in paths:
        path.write_bytes(b"old")
    return paths


def test_every_file_is_on_disk_before_the_first_rename(
    timeline: Timeline, old_set: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk can surface only at fsync: the cues failing there must stop the renames
    # before the audio is replaced, not after.
    opened: dict[int, str] = {}
    real_open, real_fsync = os.open, os.fsync

    def tracking_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = os.fspath(path)
        return fd

    def fsync(fd: int) -> None:
        if Path(opened.get(fd, "")).name.startswith(".s.json."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "fsync", fsync)
    message = f"^{tmp_path}/s.json: no space left on the device; nothing was written$"
    with pytest.raises(ExportError, match=message):
        export_files(timeline, tmp_path / "s.wav", "wav", "vtt", "json")
    assert [p.read_bytes() for p in old_set] == [b"old"] * 3
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]


def fail_to_rename(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make renaming a file over ``name`` fail, as a folder turned read-only would."""
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        if Path(target).name == name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)


def test_the_audio_is_renamed_first_so_its_failure_replaces_nothing(
    timeline: Timeline, old_set: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_to_rename(monkeypatch, "s.wav")
    message = f"^{tmp_path}/s.wav: cannot write there \\(Permission denied\\); nothing was written$"
    with pytest.raises(ExportError, match=message):
        export_files(timeline, tmp_path / "s.wav", "wav", "vtt", "json")
    assert [p.read_bytes() for p in old_set] == [b"old"] * 3
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]


def test_a_rename_that_fails_midway_says_which_files_were_replaced(
    timeline: Timeline, old_set: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_to_rename(monkeypatch, "s.vtt")
    with pytest.raises(ExportError) as info:
        export_files(timeline, tmp_path / "s.wav", "wav", "vtt", "json")
    assert str(info.value) == (
        f"{tmp_path}/s.vtt: cannot rename it into place (Permission denied); "
        f"{tmp_path}/s.wav was replaced but s.vtt and s.json were not, "
        "so the files do not match: export again"
    )
    assert soundfile.info(tmp_path / "s.wav").frames == timeline.total
    assert [p.read_bytes() for p in old_set[1:]] == [b"old"] * 2
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]


@pytest.mark.parametrize(
    "fmt",
    ["wav", "flac", "ogg", "mp3", *(pytest.param(f, marks=needs_ffmpeg) for f in ("opus", "m4a"))],
)
def test_a_full_disk_leaves_nothing_and_says_so(
    fmt: Format, noisy_timeline: Timeline, full_disk: Path
) -> None:
    target = full_disk / f"s.{fmt}"
    message = f"^{re.escape(str(target))}: no space left on the device; nothing was written$"
    with pytest.raises(ExportError, match=message):
        export_files(noisy_timeline, target, fmt, "vtt", "json", clips=NoiseClips())
    assert listing(full_disk) == []


def test_mp3_through_libsndfile_on_a_full_disk_leaves_nothing(
    noisy_timeline: Timeline, full_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.output import ffmpeg

    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: None)
    with pytest.raises(ExportError, match=r"no space left on the device; nothing was written$"):
        export_files(noisy_timeline, full_disk / "s.mp3", "mp3", clips=NoiseClips())
    assert listing(full_disk) == []
