"""The export command, end to end but with a fake speech engine (cli/export.py)."""

from __future__ import annotations

import io
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.helpers import TWO_SIDED_ROUTINE
from tests.helpers import run_cli as run
from tests.output.helpers import SR, listing
from voiceguide import paths
from voiceguide.cli import main
from voiceguide.compile.timeline import Timeline
from voiceguide.output import targets
from voiceguide.output.export import marks
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines.base import Speech, Voice


class FakeEngine:
    """Speaks a 220 Hz tone, 20 ms a character, between stretches of silence."""

    name = "fake"

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        self.settings = settings or DEFAULT_VOICE

    def identity(self) -> str:
        return f"fake-export 1 rate={self.settings.rate_wpm}"

    def voices(self) -> list[Voice]:
        return [Voice(id="fake", name="Fake")]

    def synthesize(self, text: str) -> Speech:
        voiced = 0.5 * np.sin(2 * np.pi * 220 * np.arange(SR * 20 * len(text) // 1000) / SR)
        audio = np.concatenate([np.zeros(SR // 20), voiced, np.zeros(SR // 10)])
        return Speech(samples=np.round(audio * 32767).astype(np.int16), sample_rate=SR)

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speak with :class:`FakeEngine` whatever engine is asked for."""
    from voiceguide.sound import engines

    def make_engine(*args: object, **kwargs: object) -> FakeEngine:
        return FakeEngine()

    monkeypatch.setattr(engines, "make_engine", make_engine)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TWO_SIDED_ROUTINE)
    return path


def session_timeline(path: Path, *extra: str) -> Timeline:
    """The timeline the CLI exports for ``path`` with the same options."""
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.compile.compiler import CompileOptions

    options = CompileOptions(intro="none" if "--skip-intro" in extra else "full")
    return open_session(SessionRequest(str(path), options)).timeline


def test_export_writes_a_file_and_one_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.wav"
    code, out, err = run(["export", str(tiny), "-o", str(target), "--skip-intro"], capsys)
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"wrote {re.escape(str(target))} \([\d.]+s\)\n", out)
    timeline = session_timeline(tiny, "--skip-intro")
    assert soundfile.info(target).frames == timeline.total


def test_export_defaults_to_an_mp3_named_after_the_routine(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["export", str(tiny), "--captions", "srt", "--cues", "json"], capsys)
    assert code == 0
    chapters = marks(session_timeline(tiny))
    assert re.fullmatch(
        rf"wrote tiny\.mp3 \(\d+\.?\d*s, {len(chapters)} chapters?\) with tiny\.srt, tiny\.json\n",
        out,
    )
    assert listing(tmp_path) == ["tiny.json", "tiny.mp3", "tiny.srt", "tiny.yaml"]
    written = json.loads((tmp_path / "tiny.json").read_text())["chapters"]
    assert [c["title"] for c in written] == [c.title for c in chapters]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-o", "{tmp}/tiny.yaml/x.mp3"], 1, "voiceguide: {tmp}/tiny.yaml/x.mp3: {tmp}/tiny.yaml"),
        (["-o", "/dev/null"], 1, "voiceguide: /dev/null: is not a regular file; refusing"),
        (["-o", "x.wav", "-f", "ogg"], 2, "voiceguide: --format: ogg does not match the file"),
        (["-o", "x.aac"], 2, "voiceguide: --format: cannot tell it from the name x.aac; end"),
        (["-f", "aac"], 2, "voiceguide: --format: expected one of mp3, wav, flac, ogg, opus,"),
        (["-o", "-", "--captions", "vtt"], 2, "voiceguide: --captions and --cues need a file"),
        (["--all", "{tmp}"], 2, "voiceguide: --all exports every routine; give no ROUTINE"),
        (["--captions", "txt"], 2, "voiceguide: --captions: expected vtt or srt, got 'txt'\n"),
    ],
)
def test_export_refuses_with_one_line(
    args: list[str],
    code: int,
    message: str,
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    got, out, err = run(["export", str(tiny), *args], capsys)
    assert (got, out) == (code, "")
    assert err.startswith(message.replace("{tmp}", str(tmp_path)))
    assert err.count("\n") == 1


@pytest.fixture
def no_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the routine is ever synthesized (whole first, or while it is written)."""
    from voiceguide.app import session

    def synthesis(*args: object, **kwargs: object) -> None:
        raise AssertionError("synthesis began")

    monkeypatch.setattr(session, "open_session", synthesis)
    monkeypatch.setattr(session, "open_stream", synthesis)


def test_a_folder_given_as_output_gets_the_routine_name_and_format(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run(["export", str(tiny), "-o", str(out_dir), "--captions", "vtt"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {out_dir}/tiny.mp3 (")
    code, out, err = run(["export", str(tiny), "-o", str(out_dir), "-f", "flac"], capsys)
    assert (code, err) == (0, "")
    assert listing(out_dir) == ["tiny.flac", "tiny.mp3", "tiny.vtt"]
    assert soundfile.info(out_dir / "tiny.flac").format == "FLAC"


def test_a_folder_where_the_routine_file_would_go_is_refused_before_synthesis(
    tiny: Path, tmp_path: Path, no_synthesis: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tiny.wav").mkdir()
    code, out, err = run(["export", str(tiny), "-o", str(tmp_path), "-f", "wav"], capsys)
    assert (code, out) == (1, "")
    assert err == f"voiceguide: {tmp_path}/tiny.wav: is a directory; refusing to replace it\n"


def test_export_creates_missing_folders(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x" / "y" / "s.wav"
    code, out, err = run(["export", str(tiny), "-o", str(target), "--cues", "json"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {target} (")
    assert listing(target.parent) == ["s.json", "s.wav"]


def test_no_folder_is_made_for_an_export_that_fails_its_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: Broken\nsteps:\n  - press: {hold: 3s}\n")
    code, _, err = run(["export", str(broken), "-o", str(tmp_path / "x" / "s.wav")], capsys)
    assert code == 2
    assert "broken.yaml:3:" in err
    code, _, err = run(["export", "no-such-routine", "-o", str(tmp_path / "x" / "s.wav")], capsys)
    assert code == 3
    assert listing(tmp_path) == ["broken.yaml"]


def test_a_folder_made_for_a_failed_export_is_removed(
    tiny: Path, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = full_disk / "new" / "out.flac"
    code, out, err = run(["export", str(tiny), "-o", str(target)], capsys)
    assert (code, out) == (1, "")
    assert err == f"voiceguide: {target}: no space left on the device; nothing was written\n"
    assert listing(full_disk) == []


def test_export_checks_each_file_twice_and_finds_the_routine_once(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Once in the command, before synthesis; once in atomic_path, before writing.
    from voiceguide import atomic
    from voiceguide.script import library

    checked: list[str] = []
    found: list[str] = []
    real_check, real_find = atomic.check_target, library.find

    def check_target(target: Path) -> None:
        checked.append(target.name)
        real_check(target)

    def find(name: str) -> library.Entry:
        found.append(name)
        return real_find(name)

    monkeypatch.setattr(atomic, "check_target", check_target)
    monkeypatch.setattr(targets, "check_target", check_target)
    monkeypatch.setattr(library, "find", find)
    target = tmp_path / "s.wav"
    code, _, err = run(["export", str(tiny), "-o", str(target), "--captions", "srt"], capsys)
    assert (code, err) == (0, "")
    assert sorted(checked) == ["s.srt", "s.srt", "s.wav", "s.wav"]
    assert found == [str(tiny)]


def test_the_progress_bar_reads_the_clock_in_minutes_and_seconds(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, _, _ = run(["export", str(tiny), "-o", str(tmp_path / "s.wav")], capsys)
    assert code == 0
    total_s = session_timeline(tiny).total_ms // 1000
    shown = terminal.getvalue()
    assert f"/{total_s // 60}:{total_s % 60:02d}" in shown  # m:ss, as a person reads a clock
    assert not re.search(r"\d:\d\d\.\d{3}", shown), "no milliseconds"
    # Cold, yet one bar: the file is written while its phrases are made.
    assert "Preparing speech" not in shown
    assert shown.startswith("\rWriting s.wav [")


def test_export_needs_a_routine_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["export"], capsys) == (
        2,
        "",
        "voiceguide: give a ROUTINE to export, or --all DIR\n",
    )


def test_a_full_disk_exits_1_with_one_line(
    tiny: Path, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = full_disk / "out.flac"
    code, out, err = run(["export", str(tiny), "-o", str(target)], capsys)
    assert (code, out) == (1, "")
    assert err == f"voiceguide: {target}: no space left on the device; nothing was written\n"
    assert listing(full_disk) == []


def test_export_to_standard_output_writes_only_a_wav_stream(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer))
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tiny), "-o", "-", "--skip-intro"])
    assert exit_info.value.code in (0, None)
    samples, rate = soundfile.read(io.BytesIO(buffer.getvalue()), dtype="int16")
    assert rate == SR
    assert len(samples) == session_timeline(tiny, "--skip-intro").total
    assert capsys.readouterr().err == ""


def test_export_all_writes_every_routine_and_reports_a_broken_one(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    shutil.copy(tiny, builtin / "first.yaml")
    monkeypatch.setattr(paths, "builtin_scripts_dir", lambda: builtin)
    mine = paths.user_scripts_dir()
    mine.mkdir(parents=True)
    shutil.copy(tiny, mine / "mine.yaml")
    (mine / "broken.yaml").write_text("title: Broken\nsteps:\n  - press: {hold: 3s}\n")
    out_dir = tmp_path / "out" / "nested"
    code, out, err = run(["export", "--all", str(out_dir), "-f", "flac", "--skip-intro"], capsys)
    assert code == 2
    assert listing(out_dir) == ["first.flac", "mine.flac"]
    lines = out.splitlines()
    assert len(lines) == 2
    shape = r"wrote .*/(first|mine)\.flac \([\d.]+s, \d+ chapters?\)"
    assert all(re.fullmatch(shape, line) for line in lines)
    assert err.startswith("voiceguide: skipped broken: ")
    assert "broken.yaml:3:" in err
    assert err.count("\n") == 1


def test_export_all_leaves_no_empty_folder_when_it_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out" / "nested"
    code, _, err = run(["export", "--all", str(out_dir), "--captions", "txt"], capsys)
    assert code == 2
    assert err == "voiceguide: --captions: expected vtt or srt, got 'txt'\n"
    assert listing(tmp_path) == []


def test_export_help_names_the_formats_and_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["export", "--help"], capsys)
    assert code == 0
    flat = " ".join(out.split())
    for words in [
        "./ROUTINE.mp3",
        "an existing folder to write ROUTINE.mp3",
        "missing folders in -o are created",
        "mp3, wav, flac, ogg, opus, m4a or m4b",
        "--captions",
        "--all DIR",
        "130",
        "143 terminated",
    ]:
        assert words in flat
    assert "Example: voiceguide export" in flat


def test_export_all_without_the_encoder_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from voiceguide.output import ffmpeg

    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: None)
    code, out, err = run(["export", "--all", str(tmp_path / "out"), "-f", "m4b"], capsys)
    assert (code, out) == (1, "")
    assert err == (
        "voiceguide: m4b export needs ffmpeg, which is not installed: install the package "
        "'ffmpeg' (apt-get install ffmpeg), or choose mp3, ogg or flac\n"
    )
    assert listing(tmp_path) == []


def test_a_missing_encoder_is_reported_before_synthesis(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_synthesis: None,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from voiceguide.output import ffmpeg

    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: None)
    code, _, err = run(["export", str(tiny), "-o", str(tmp_path / "s.opus")], capsys)
    assert code == 1
    assert err.startswith("voiceguide: opus export needs ffmpeg")
    assert err.count("\n") == 1
