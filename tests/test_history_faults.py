"""A real ``voiceguide play`` records its session, whatever happens to the history file.

Each test plays a short routine into ALSA's file plugin (see tests/test_play_alsa.py): into
the ``null`` device, which has no clock (the session "plays" at once), or, where the session
must still be playing when the test acts, into a FIFO read at the real-time rate.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import TWO_SIDED_ROUTINE
from voiceguide.practice.records import SessionRow
from voiceguide.practice.store import HistoryStore, damaged_copies, history_path

pytestmark = pytest.mark.audio

BYTES_PER_SECOND = 22_050 * 2 * 2  # 16-bit stereo, as sessions play unless told --mono
WARNING = "voiceguide: warning: practice history: "


@pytest.fixture
def routine(tmp_path: Path) -> Path:
    """A routine of four steps, the second starting about four seconds in."""
    path = tmp_path / "two-sided.yaml"
    path.write_text(TWO_SIDED_ROUTINE, encoding="utf-8")
    return path


def alsa_env(tmp_path: Path, device: Path) -> dict[str, str]:
    """The environment with ALSA's default device writing raw audio to ``device``."""
    home = tmp_path / f"home-{device.name}"
    home.mkdir()
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{device}"; format "raw" }}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HOME": str(home)}
    env.pop("ALSA_CONFIG_PATH", None)
    return env


def play(
    routine: Path, tmp_path: Path, *args: str, device: str = "played.raw"
) -> subprocess.CompletedProcess[str]:
    """Play ``routine`` to the end into a file; return the finished process."""
    env = alsa_env(tmp_path, tmp_path / device)
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", str(routine), "--skip-intro", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


DEVICE_SILENCE_FRAMES = 22_050 // 4
"""PortAudio starts a stream with its buffer of silence and pads the last block."""


def played_whole(result: subprocess.CompletedProcess[str], device: Path) -> None:
    """The session played to its end, and all of it reached the device."""
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert lines[-1].endswith("[end]")

    def samples(line: str) -> int:
        minutes, seconds = line.split(maxsplit=1)[0].split(":")  # M:SS.mmm
        return (int(minutes) * 60_000 + round(float(seconds) * 1000)) * 22_050 // 1000

    expected = (samples(lines[-1]) - samples(lines[0])) * 2 * 2  # 16-bit stereo frames
    # Printed to the ms; the device adds its buffer of silence before and after (PortAudio).
    padding = 2 * DEVICE_SILENCE_FRAMES * 2 * 2
    assert -BYTES_PER_SECOND // 100 <= device.stat().st_size - expected <= padding


def rows() -> list[SessionRow]:
    store = HistoryStore.open(history_path())
    try:
        return store.rows()
    finally:
        store.close()


class PacedReader(threading.Thread):
    """Read a FIFO at the real-time rate, as a sound card would (see tests/test_play_alsa.py)."""

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        self.done = threading.Event()

    def run(self) -> None:
        started, total = time.monotonic(), 0
        while not self.done.is_set():
            if not select.select([self.fd], [], [], 0.02)[0]:
                continue
            total += len(os.read(self.fd, 882))
            ahead = started + total / BYTES_PER_SECOND - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def close(self) -> None:
        self.done.set()
        self.join(5)
        os.close(self.fd)


def read_row_while_playing(timeout_s: float) -> SessionRow | None:
    """The session's row as another reader sees it now (without writing to the file)."""
    path = history_path()
    if not path.exists():
        return None
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=timeout_s)
    try:
        found = connection.execute(
            f"SELECT {', '.join(SessionRow.columns())} FROM sessions"
        ).fetchall()
    except sqlite3.OperationalError:
        return None  # not created yet
    finally:
        connection.close()
    return SessionRow(*found[0]) if found else None


def test_kill_9_mid_session_leaves_a_row_marked_unfinished_with_how_far_it_got(
    routine: Path, tmp_path: Path
) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    reader = PacedReader(fifo)
    reader.start()
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", str(routine), "--skip-intro", "-q"],
        env=alsa_env(tmp_path, fifo),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        seen = None
        while time.monotonic() < deadline and process.poll() is None:
            seen = read_row_while_playing(timeout_s=1)
            if seen is not None and seen.step >= 2:
                break
            time.sleep(0.05)
        assert seen is not None, "no row while playing"
        assert (seen.step, seen.step_title) == (2, "Right side")  # written as it goes
        process.send_signal(signal.SIGKILL)
        assert process.wait(10) == -signal.SIGKILL
    finally:
        process.kill()
        process.wait()
        reader.close()
        assert process.stderr is not None
        errors = process.stderr.read()
        process.stderr.close()
    assert errors == b""
    [row] = rows()
    assert (row.outcome, row.ended_at, row.step, row.step_title) == (
        "unfinished", None, 2, "Right side"
    )  # fmt: skip
    assert 3000 < row.reached_ms < row.total_ms
    assert (row.routine, row.engine, row.intro, row.pid) == (
        "two-sided",
        "espeak",
        "none",
        process.pid,
    )
    history = subprocess.run(
        [sys.executable, "-m", "voiceguide", "history"], capture_output=True, text=True, check=True
    )
    assert history.stdout.splitlines()[1].endswith("unfinished at step 2 (Right side)")


def test_two_sessions_at_once_on_a_new_history_both_record(routine: Path, tmp_path: Path) -> None:
    play(routine, tmp_path, "--from", "4")  # the phrase cache warm: both start at once
    for path in history_path().parent.glob("history.sqlite*"):
        path.unlink()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "play", str(routine), "--skip-intro"],
            env=alsa_env(tmp_path, tmp_path / f"played-{n}.raw"),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in (1, 2)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert (process.returncode, err) == (0, "")
        assert out.splitlines()[-1].endswith("[end]")
    found = rows()
    assert sorted(r.pid for r in found) == sorted(p.pid for p in processes)
    assert [r.outcome for r in found] == ["completed", "completed"]


@contextlib.contextmanager
def mounted_tmpfs(point: Path, options: str) -> Iterator[Path]:
    """A small tmpfs at ``point``, or skip where mounting is not permitted."""
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("needs Linux and root to mount a tmpfs")
    point.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, f"vg-{uuid.uuid4().hex[:6]}", str(point)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)


def remount(point: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(point)], check=True)


def one_warning(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(WARNING)
    return lines[0].removeprefix(WARNING)


@pytest.mark.parametrize("history", ["none yet", "some"])
def test_a_read_only_data_folder_gives_one_warning_and_the_session_plays(
    routine: Path, tmp_path: Path, history: str
) -> None:
    folder = history_path().parent
    with mounted_tmpfs(folder, "size=4m") as point:
        if history == "some":
            assert play(routine, tmp_path, "--from", "4", device="first.raw").returncode == 0
            assert len(rows()) == 1
        before = {p.name: p.read_bytes() for p in point.iterdir()}
        remount(point, "ro")
        result = play(routine, tmp_path, "--from", "3")
        played_whole(result, tmp_path / "played.raw")
        if history == "none yet":
            assert one_warning(result) == (
                f"{history_path()} is read-only here; this session is not recorded"
            )
        else:
            assert one_warning(result).endswith("; this session is not recorded")
        assert {p.name: p.read_bytes() for p in point.iterdir()} == before


def test_a_full_disk_gives_one_warning_and_the_session_plays(routine: Path, tmp_path: Path) -> None:
    with mounted_tmpfs(history_path().parent, "size=8k"):
        result = play(routine, tmp_path, "--from", "4")
        played_whole(result, tmp_path / "played.raw")
        assert one_warning(result) == (
            f"no space left on the device for {history_path()}; this session is not recorded"
        )


@pytest.mark.parametrize("damage", ["random bytes", "truncated"])
def test_a_damaged_history_is_moved_aside_and_the_session_plays_and_is_recorded(
    routine: Path, tmp_path: Path, damage: str
) -> None:
    path = history_path()
    if damage == "random bytes":
        path.parent.mkdir(parents=True)
        path.write_bytes(os.urandom(50_000))
    else:
        store = HistoryStore.open(path)
        for n in range(200):
            connection = store.connection
            connection.execute(
                "INSERT INTO sessions VALUES (?, 'r', ?, '', '', '2025-01-01T00:00:00.000Z', '',"
                " NULL, 'completed', 0, 0, 0, 0, 0, 0, '', 'espeak', NULL, 150, 1.0, 1, 'full',"
                " 'full', 1)",
                (f"id{n}", "title " * 100),
            )
        store.close()
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    broken = path.read_bytes()
    result = play(routine, tmp_path, "--from", "4")
    played_whole(result, tmp_path / "played.raw")
    [aside] = damaged_copies()
    assert one_warning(result) == (
        f"{path} was damaged: moved it aside to {aside.name} and started a new one"
    )
    assert aside.read_bytes() == broken
    [row] = rows()
    assert (row.outcome, row.from_ms > 0) == ("completed", True)


def test_a_locked_history_gives_one_warning_and_the_session_plays(
    routine: Path, tmp_path: Path
) -> None:
    HistoryStore.open(history_path()).close()
    holder = sqlite3.connect(history_path(), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("DELETE FROM sessions")  # holds the write lock until the end of the test
    try:
        result = play(routine, tmp_path, "--from", "4")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    played_whole(result, tmp_path / "played.raw")
    assert one_warning(result) == (
        f"{history_path()} is locked by another program; this session may not be recorded"
    )


def test_no_history_records_nothing(routine: Path, tmp_path: Path) -> None:
    result = play(routine, tmp_path, "--from", "4", "--no-history")
    played_whole(result, tmp_path / "played.raw")
    assert result.stderr == ""
    assert not history_path().exists()


def test_nothing_of_the_history_runs_before_the_first_sound(routine: Path, tmp_path: Path) -> None:
    """At the first sound sqlite3 is not even imported and no history thread exists."""
    driver = (
        "import sys, threading\n"
        "from voiceguide.app import playing\n"
        "from voiceguide.cli import main\n"
        "def first(at):\n"
        "    threads = sorted(t.name for t in threading.enumerate())\n"
        "    print('AT FIRST SOUND', 'sqlite3' in sys.modules, 'history' in threads,\n"
        "          file=sys.stderr)\n"
        "playing._trace_first_audio = first\n"
        "main(sys.argv[1:])\n"
    )
    env = {**alsa_env(tmp_path, tmp_path / "played.raw"), "VOICEGUIDE_TRACE_FIRST_AUDIO": "1"}
    result = subprocess.run(
        [sys.executable, "-c", driver, "play", str(routine), "--skip-intro", "--from", "4", "-q"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    # Synthesis and the device have threads of their own by then; the history has none.
    assert result.stderr == "AT FIRST SOUND False False\n"
    assert [r.outcome for r in rows()] == ["completed"]  # and yet it was recorded
