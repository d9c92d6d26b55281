"""Whole files or none: temporary parts, their locks, and the sweep of stale ones (atomic.py)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

from voiceguide.atomic import atomic_path, sweep_stale_parts, temporary_part


def dead_pid() -> int:
    """The id of a process that has ended and been reaped."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def part(folder: Path, name: str, pid: int, tail: str = "k3j_9x0a") -> Path:
    path = folder / f".{name}.{pid}.{tail}.part"
    path.write_bytes(b"half an export")
    return path


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_a_part_is_named_after_its_target_and_this_process_and_locked(tmp_path: Path) -> None:
    with atomic_path(tmp_path / "s.mp3") as tmp:
        assert tmp.name.startswith(f".s.mp3.{os.getpid()}.")
        assert tmp.name.endswith(".part")
        with tmp.open("rb") as other:
            try:
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
                locked = False
            except BlockingIOError:
                locked = True
        assert locked, "another open of the part cannot take its lock"
        tmp.write_bytes(b"new")
    assert names(tmp_path) == ["s.mp3"]


def test_a_later_write_sweeps_the_parts_of_dead_processes(tmp_path: Path) -> None:
    stale = [part(tmp_path, "s.mp3", dead_pid()), part(tmp_path, "other.vtt", dead_pid())]
    (tmp_path / "s.mp3").write_bytes(b"the old export")
    with atomic_path(tmp_path / "s.mp3") as tmp:
        assert not any(p.exists() for p in stale)
        tmp.write_bytes(b"new")
    assert names(tmp_path) == ["s.mp3"]


def test_a_live_export_is_never_swept(tmp_path: Path) -> None:
    mine = part(tmp_path, "s.mp3", os.getpid())  # a process that is running
    # A dead-looking id whose lock is held: a writer in another process namespace.
    held = part(tmp_path, "s.wav", dead_pid())
    with held.open("rb") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert sweep_stale_parts(tmp_path) == []
    assert mine.exists()
    assert held.exists()
    assert sweep_stale_parts(tmp_path) == [held]  # its writer gone, its lock free


def test_only_files_named_as_parts_are_swept(tmp_path: Path) -> None:
    pid = dead_pid()
    keep = [
        tmp_path / "notes.part",
        tmp_path / ".s.mp3.k3j_9x0a.part",  # an older voiceguide's: no process id
        tmp_path / f".s.mp3.{pid}.short.part",
        tmp_path / f".s.mp3.{pid}.k3j_9x0a.partial",
    ]
    for path in keep:
        path.write_bytes(b"x")
    (tmp_path / f".s.mp3.{pid}.aaaaaaaa.part").mkdir()
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x")
    (tmp_path / f".s.wav.{pid}.bbbbbbbb.part").symlink_to(target)
    assert sweep_stale_parts(tmp_path) == []
    assert len(names(tmp_path)) == len(keep) + 3


def test_a_temporary_part_goes_whatever_happens(tmp_path: Path) -> None:
    stale = part(tmp_path, "voiceguide-stream.mp3", dead_pid())
    try:
        with temporary_part(tmp_path, "voiceguide-stream.mp3") as path:
            assert not stale.exists()
            path.write_bytes(b"encoded")
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        pass
    assert names(tmp_path) == []


def test_sweeping_a_folder_that_is_gone_finds_nothing(tmp_path: Path) -> None:
    assert sweep_stale_parts(tmp_path / "missing") == []
