"""Export end to end with the real voice (espeak-ng): levels, onsets, chapters, Ctrl-C, pipes.

Phrases are synthesized once for the whole file: every test gets its own home folder
(conftest.py), but they share one phrase cache.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile

from tests.helpers import TWO_SIDED_ROUTINE
from tests.helpers import run_cli as run
from tests.output.helpers import listing, parse_captions, read_id3
from voiceguide.sound.meter import peak_dbfs, program_lufs
from voiceguide.sound.speech import LEAD_PAD_MS

pytestmark = [
    pytest.mark.audio,
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"),
]

needs_ffprobe = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="needs ffprobe")


LONG = """\
title: Long holds
settings: {find: 1s, lead_in: 1s}
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down.
  - press: {point: web, hold: 10m, reps: 2, rest: 10s}
  - say: Done.
"""


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("phrase-cache")


@pytest.fixture(autouse=True)
def warm_cache(isolated_home: Path, shared_cache: Path) -> None:
    """Let this file's tests share synthesized phrases (each still has its own home)."""
    (isolated_home / "cache").symlink_to(shared_cache, target_is_directory=True)


def export(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code, out, err = run(["export", *args], capsys)
    assert (code, err) == (0, "")
    return out


def cli(*args: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    """Start ``voiceguide`` in a real process (with this test's VOICEGUIDE_HOME)."""
    command = [sys.executable, "-m", "voiceguide", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def test_a_session_is_exact_in_length_onsets_and_level(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export(["stomach", "--skip-intro", "-o", str(tmp_path / "s.wav"), "--cues", "json"], capsys)
    samples, rate = soundfile.read(tmp_path / "s.wav", dtype="int16")
    timeline = json.loads((tmp_path / "s.json").read_text())
    cues = timeline["cues"]
    assert rate == timeline["sample_rate"]
    assert len(samples) == timeline["total_samples"]

    # Onsets: every sound that follows a silence starts where the timeline says. Each
    # phrase opens with the engine's own lead-in (speech.LEAD_PAD_MS), so the voice is
    # heard up to that much after its cue starts; nothing is heard before it.
    threshold = 32768 * 10 ** (-60 / 20)
    tolerance = rate * (LEAD_PAD_MS + 1) // 1000
    checked = 0
    for before, cue in itertools.pairwise(cues):
        if before["kind"] == "silence":
            assert not np.any(samples[before["start"] : cue["start"]]), "silence is silent"
            if cue["kind"] != "silence" and before["duration"] > rate // 20:
                span = samples[before["start"] : cue["start"] + cue["duration"]]
                window = np.abs(span.astype(np.int32)).max(axis=1)  # the louder ear
                first = before["start"] + int(np.argmax(window > threshold))
                assert abs(first - cue["start"]) <= tolerance, cue
                checked += 1
    assert checked >= 15

    # Levels: spoken-word loudness (stereo: the channels' energies summed), peaks under
    # -1 dBFS, nothing clipped.
    floats = samples.astype(np.float32) / 32768
    assert program_lufs(floats, rate) == pytest.approx(-16, abs=1)
    assert peak_dbfs(floats) < -1
    assert not np.any((samples == 32767) | (samples == -32768))


@needs_ffprobe
@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_each_format_reads_back_at_the_session_length(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / f"s.{fmt}"
    export(["stomach", "--skip-intro", "-o", str(target), "--cues", "json"], capsys)
    total = json.loads((tmp_path / "s.json").read_text())["total_samples"]
    frames = soundfile.info(target).frames
    if fmt in ("wav", "flac"):
        assert frames == total
    else:
        assert abs(frames - total) <= 22_050 * 30 // 1000
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", target],
        capture_output=True,
        text=True,
        check=True,
    )
    assert abs(float(probe.stdout) - total / 22_050) < 0.1


def test_mp3_chapters_and_captions_follow_the_routine(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "hands.yaml").write_text(TWO_SIDED_ROUTINE)
    target = tmp_path / "hands.mp3"
    out = export([str(tmp_path / "hands.yaml"), "-o", str(target), "--captions", "vtt"], capsys)
    out += export(
        [str(tmp_path / "hands.yaml"), "-o", str(tmp_path / "h.wav"), "--cues", "json"], capsys
    )
    assert out.startswith(f"wrote {target} (")
    timeline = json.loads((tmp_path / "h.json").read_text())
    chapters = timeline["chapters"]  # the chapters the files carry
    assert f", {len(chapters)} chapters) with hands.vtt\n" in out
    # Named for what happens, never the routine's own title; none shorter than 15 s (the
    # sides' few seconds of holds are joined to their neighbours').
    titles = [c["title"] for c in chapters]
    assert titles[0] == "Introduction"
    assert set(titles) <= {"Introduction", "Right side", "Left side", "Closing"}
    assert all(c["end_ms"] - c["start_ms"] >= 15_000 for c in chapters)
    tags = read_id3(target)
    toc = tags.getall("CTOC")[0]
    frames = {f.element_id: f for f in tags.getall("CHAP")}
    got = [frames[i] for i in toc.child_element_ids]
    assert [f.sub_frames["TIT2"].text[0] for f in got] == [c["title"] for c in chapters]
    assert [f.start_time for f in got] == [round(c["start_ms"]) for c in chapters]
    assert tags["TIT2"].text == ["Hand point, both sides"]

    captions = parse_captions((tmp_path / "hands.vtt").read_text())
    speech = [c for c in timeline["cues"] if c["kind"] == "speech"]
    assert [c[2] for c in captions] == [" ".join(c["text"].split()) for c in speech]
    assert [c[0] for c in captions] == [round(c["start_ms"]) for c in speech]
    stamps = [t for c in captions for t in c[:2]]
    assert stamps == sorted(stamps)

    if shutil.which("ffprobe"):
        probe = subprocess.run(
            ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(target)],
            capture_output=True,
            text=True,
            check=True,
        )
        listed = json.loads(probe.stdout)["chapters"]
        assert [c["tags"]["title"] for c in listed] == [c["title"] for c in chapters]
        assert [round(float(c["start_time"]) * 1000) for c in listed] == [
            round(c["start_ms"]) for c in chapters
        ]


def test_standard_output_carries_a_wav_stream_and_nothing_else(tmp_path: Path) -> None:
    shown = cli("show", "stomach", "--skip-intro", "--json")
    out, _ = shown.communicate(timeout=120)
    total = json.loads(out)["total_samples"]
    process = cli("export", "stomach", "--skip-intro", "-o", "-", cwd=tmp_path)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, err) == (0, b"")
    assert out[:4] == b"RIFF"
    samples, rate = soundfile.read(io.BytesIO(out), dtype="int16")
    assert (len(samples), rate) == (total, 22_050)
    assert len(out) == 44 + 2 * 2 * total  # 16-bit stereo
    assert listing(tmp_path) == []


def test_ctrl_c_leaves_no_file_and_exits_130(tmp_path: Path) -> None:
    (tmp_path / "long.yaml").write_text(LONG)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    process = cli("export", str(tmp_path / "long.yaml"), "-o", str(out_dir / "long.mp3"))
    deadline = time.monotonic() + 120
    while not list(out_dir.glob(".long.mp3.*.part")):  # encoding has begun
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the export never started writing"
        time.sleep(0.02)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert out == b""
    assert err == b"voiceguide: interrupted; no partial file was left\n"
    assert listing(out_dir) == []


def test_a_file_that_exists_is_replaced_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "s.flac"
    target.write_bytes(b"old")
    export(["stomach", "--skip-intro", "-o", str(target)], capsys)
    assert soundfile.info(target).format == "FLAC"
    assert listing(tmp_path) == ["s.flac"]


def test_a_folder_as_output_or_a_missing_one_works_as_a_user_expects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The review's cases: `export stomach -o /tmp` and `export stomach -o /tmp/x/y.mp3`.
    out = export(["stomach", "--skip-intro", "-o", str(tmp_path)], capsys)
    assert out.startswith(f"wrote {tmp_path}/stomach.mp3 (")
    target = tmp_path / "x" / "y.mp3"
    out = export(["stomach", "--skip-intro", "-o", str(target)], capsys)
    assert out.startswith(f"wrote {target} (")
    assert soundfile.info(target).frames == soundfile.info(tmp_path / "stomach.mp3").frames
    assert listing(tmp_path) == ["stomach.mp3", "x"]


HOUR = LONG.replace("reps: 2", "reps: 6")
"""An hour of audio: seconds to encode, time enough to be interrupted mid-encode."""


def _children(pid: int) -> set[int]:
    """The processes ``pid`` has started (ffmpeg, while it encodes)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # a thread ended
            found.update(int(p) for p in (task / "children").read_text().split())
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _start_encoding(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[bytes], Path, set[int]]:
    """Start exporting an hour to out/hour.mp3 over an old file; return when encoding runs."""
    (tmp_path / "hour.yaml").write_text(HOUR)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "hour.mp3").write_bytes(b"the old export")
    process = cli("export", str(tmp_path / "hour.yaml"), "-o", str(out_dir / "hour.mp3"), *extra)
    try:
        deadline = time.monotonic() + 120
        encoders: set[int] = set()
        while not (list(out_dir.glob(".hour.mp3.*.part")) and encoders):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the export never started encoding"
            encoders = _children(process.pid)
            time.sleep(0.02)
        time.sleep(0.2)
    except BaseException:
        process.kill()
        process.communicate()
        raise
    return process, out_dir, encoders


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_mid_encode_leaves_the_old_file_no_part_and_no_encoder(
    sig: signal.Signals, code: int, tmp_path: Path
) -> None:
    process, out_dir, encoders = _start_encoding(tmp_path, "--captions", "vtt")
    process.send_signal(sig)
    out, err = process.communicate(timeout=60)
    assert (process.returncode, out, err) == (code, b"", b"")
    assert listing(out_dir) == ["hour.mp3"]
    assert (out_dir / "hour.mp3").read_bytes() == b"the old export"
    assert not any(_running(pid) for pid in encoders), "ffmpeg ended with the export"


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
def test_after_kill_9_the_encoder_ends_and_the_next_export_sweeps_the_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    process, out_dir, encoders = _start_encoding(tmp_path, "--captions", "vtt")
    process.kill()
    process.communicate(timeout=60)
    stale = sorted(p.name for p in out_dir.glob(".*.part"))
    assert any(name.startswith(f".hour.mp3.{process.pid}.") for name in stale), stale
    deadline = time.monotonic() + 60
    while any(_running(pid) for pid in encoders):  # ffmpeg reads the end of its input
        assert time.monotonic() < deadline, "ffmpeg outlived the export"
        time.sleep(0.05)
    assert (out_dir / "hour.mp3").read_bytes() == b"the old export"

    (tmp_path / "hands.yaml").write_text(TWO_SIDED_ROUTINE)
    export([str(tmp_path / "hands.yaml"), "-o", str(out_dir / "hands.mp3")], capsys)
    assert listing(out_dir) == ["hands.mp3", "hour.mp3"]
