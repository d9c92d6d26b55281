"""Signals during cold synthesis: the exit code is the documented one, and nothing is left.

Each test starts a real ``voiceguide`` in its own process group, lets it start speaking a
routine with an empty phrase cache, ends it the way a system or a user would (SIGTERM,
SIGHUP, SIGKILL), and checks that every process it started has gone, that the pipe it
wrote to reaches its end (nothing holds it open), and that no temporary file is left.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.audio, pytest.mark.slow]

DEADLINE_S = 30.0
"""How long to wait for any step before failing (a bound for a hang, not a measurement)."""


def long_routine(folder: Path, steps: int = 300) -> Path:
    """A routine of many different phrases: its cold synthesis takes a while."""
    lines = ["title: Many phrases", "summary: For the signal tests.", "steps:"]
    lines += [f"  - say: Step number {n}, breathe in slowly and let it go." for n in range(steps)]
    path = folder / "many.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def group_members(group: int) -> set[int]:
    """Every live process in process group ``group`` (zombies included until reaped)."""
    members = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            members.add(int(entry.name))
    return members


def speaker_started(group: int) -> bool:
    for pid in group_members(group):
        try:
            if b"espeak_speaker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE_S:.0f} s for {what}")
        time.sleep(0.02)


def read_to_end(stream: int) -> bytes:
    """Read a pipe until its end; fail if something still holds it open at the deadline."""
    data = bytearray()
    deadline = time.monotonic() + DEADLINE_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([stream], [], [], remaining)[0]:
            pytest.fail("the output pipe never reached its end: a process still holds it")
        chunk = os.read(stream, 1 << 16)
        if not chunk:
            return bytes(data)
        data += chunk


@pytest.fixture(params=["export", "play"])
def cold_start(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """``voiceguide export`` or ``play`` of a long routine, empty cache, in its own group."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "VOICEGUIDE_HOME": str(tmp_path / "home"), "TMPDIR": str(temp)}
    routine = str(long_routine(tmp_path))
    if request.param == "export":
        arguments = ["export", routine, "-o", str(tmp_path / "many.wav")]
    else:
        arguments = ["play", routine, "--dry-run", "--quiet"]  # no device needed
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", *arguments],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        yield process, temp
    finally:
        for pid in group_members(process.pid):
            os.kill(pid, signal.SIGKILL)  # leave nothing behind whatever the test found
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGKILL, -signal.SIGKILL)],
    ids=["SIGTERM", "SIGHUP", "SIGKILL"],
)
def test_a_signal_during_cold_synthesis_ends_every_process(
    cold_start: tuple[subprocess.Popen[bytes], Path], signum: signal.Signals, code: int
) -> None:
    process, temp = cold_start
    wait_for(lambda: speaker_started(process.pid), "the speaker process to start")
    time.sleep(0.3)  # well into synthesis: phrases are being spoken and finished

    os.kill(process.pid, signum)  # the main process only, as `kill PID` does

    assert process.wait(DEADLINE_S) == code
    assert process.stdout is not None
    read_to_end(process.stdout.fileno())
    wait_for(lambda: not group_members(process.pid), "every process of the group to end")
    assert list(temp.iterdir()) == []  # no temporary folder or file left behind
