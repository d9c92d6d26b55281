"""The files an export writes and the folders it makes for them (output/targets.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.output.helpers import ToneClips, export_files, listing, tmpfs
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import AudioError, ExportError, SettingError, UsageError
from voiceguide.output import ffmpeg
from voiceguide.output.export import export
from voiceguide.output.targets import Outputs


def test_sidecars_are_named_after_the_audio(tmp_path: Path) -> None:
    outputs = Outputs.plan(tmp_path / "a.b.mp3", "mp3", "VTT", "json")
    assert outputs.paths() == [tmp_path / "a.b.mp3", tmp_path / "a.b.vtt", tmp_path / "a.b.json"]
    assert outputs.caption_format == "vtt"
    with pytest.raises(SettingError, match=r"^captions: expected vtt or srt, got 'ass'$"):
        Outputs.plan(tmp_path / "a.mp3", "mp3", "ass")
    with pytest.raises(SettingError, match=r"^cues: expected json, got 'csv'$") as info:
        Outputs.plan(tmp_path / "a.mp3", "mp3", None, "csv")
    assert info.value.field == "cues"
    with pytest.raises(UsageError, match="would have the same name"):
        Outputs.plan(tmp_path / "a.json", "wav", None, "json")


def test_a_folder_is_never_replaced(timeline: Timeline, tmp_path: Path) -> None:
    (tmp_path / "s.wav").mkdir()
    with pytest.raises(ExportError, match=r"s\.wav: is a directory; refusing to replace it$"):
        export_files(timeline, tmp_path / "s.wav", "wav")
    assert listing(tmp_path) == ["s.wav"]


def test_a_device_is_never_replaced(timeline: Timeline) -> None:
    with pytest.raises(ExportError, match=r"^/dev/null: is not a regular file; refusing"):
        export_files(timeline, Path("/dev/null"), "wav")


def test_missing_folders_are_created(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "a" / "b" / "s.wav", "wav", captions="vtt")
    assert listing(tmp_path / "a" / "b") == ["s.vtt", "s.wav"]


def test_folders_made_for_a_failed_export_are_removed(timeline: Timeline, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    target = tmp_path / "mine" / "new" / "newer" / "s.wav"
    with pytest.raises(AudioError):
        export_files(timeline, target, "wav", "vtt", clips=ToneClips(fail_on="Now the left hand."))
    assert listing(tmp_path) == ["mine"]  # not made by the export: kept, though empty
    assert listing(tmp_path / "mine") == []


def test_a_made_folder_that_is_no_longer_empty_is_kept(timeline: Timeline, tmp_path: Path) -> None:
    def drop_a_file(done: int, total: int) -> None:
        (tmp_path / "new" / "someone-else.txt").write_text("mine")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(timeline, tmp_path / "new" / "deeper" / "s.wav", "wav", progress=drop_a_file)
    assert listing(tmp_path) == ["new"]
    assert listing(tmp_path / "new") == ["someone-else.txt"]


def test_a_file_in_the_way_of_a_folder_is_refused(timeline: Timeline, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "sub" / "s.wav"
    outputs = Outputs.plan(target, "wav")
    with pytest.raises(ExportError, match=f"^{re.escape(str(target))}: .*/file is not a folder$"):
        outputs.check()
    with pytest.raises(ExportError, match=r"/file: is not a folder; nothing was written$"):
        export(timeline, ToneClips(), outputs)
    assert listing(tmp_path) == ["file"]


def test_a_read_only_folder_is_refused_by_the_early_check(timeline: Timeline) -> None:
    with tmpfs("size=64k,ro") as point:
        target = point / "s.wav"
        with pytest.raises(ExportError, match=f"^{target}: cannot write in the folder {point}$"):
            Outputs.plan(target, "wav").check()
        target = point / "new" / "s.wav"
        message = f"^{target}: cannot create the folder {point}/new in {point}$"
        with pytest.raises(ExportError, match=message):
            Outputs.plan(target, "wav").check()
        with pytest.raises(ExportError, match=f"^{point}/new: cannot create the folder \\(Read"):
            export_files(timeline, target, "wav")  # without the early check
        assert listing(point) == []


@pytest.mark.parametrize("fmt", ["opus", "m4a", "m4b"])
def test_a_format_whose_encoder_is_missing_is_refused_early_naming_the_package(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: None)
    message = (
        f"^{fmt} export needs ffmpeg, which is not installed: install the package 'ffmpeg' "
        r"\(apt-get install ffmpeg\), or choose mp3, ogg or flac$"
    )
    with pytest.raises(ExportError, match=message):
        Outputs.plan(tmp_path / f"s.{fmt}", fmt).check()  # type: ignore[arg-type]
    Outputs.plan(tmp_path / "s.mp3", "mp3").check()  # MP3 has libsndfile's encoder too
