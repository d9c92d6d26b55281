"""``voiceguide play`` as an MPRIS player, end to end: real ALSA, a private bus, real playerctl.

The session plays into ALSA's file plugin with a FIFO as its file, read at 44,100 bytes a
second as a sound card would (the clocked sink of tests/test_play_clocked.py), from a pty as
a terminal would run it. What was played is compared with what ``voiceguide export`` writes
for the same routine, so a jump or a volume change is checked by the very samples heard.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

pytestmark = [pytest.mark.audio, pytest.mark.slow]

# Mono keeps the arithmetic of the played stream simple: one sample is two bytes.
ROUTINE = ["stomach", "--skip-intro", "--mono"]
TITLE = "Stomach point, below the navel"
RATE = 22_050
BYTES_PER_SECOND = RATE * 2
WINDOW = BYTES_PER_SECOND  # one second of a step's onset, to find in what was played
DEADLINE_S = 30.0


def voiceguide(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=240,  # under the test's own limit: a hung child fails with its output
        check=False,
    )


def wait_for(predicate: Callable[[], bool], what: str, timeout_s: float = DEADLINE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s:g} s"
        time.sleep(0.05)


def play_env(tmp_path: Path, sink: Path, bus_address: str) -> dict[str, str]:
    """The environment: ALSA's default device writes into ``sink``; the bus is ``bus_address``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{sink}"; format "raw" }}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HOME": str(home), "DBUS_SESSION_BUS_ADDRESS": bus_address}
    env.pop("ALSA_CONFIG_PATH", None)
    return env


def exported(env: dict[str, str], tmp_path: Path, *options: str) -> bytes:
    """The raw PCM ``voiceguide export`` writes for the routine with ``options``."""
    out = tmp_path / f"exported{'-'.join(options)}.wav"
    result = voiceguide(["export", *ROUTINE, *options, "-o", str(out), "--format", "wav"], env)
    assert result.returncode == 0, result.stderr.decode()
    with wave.open(str(out), "rb") as wav:
        return wav.readframes(wav.getnframes())


def step_starts(env: dict[str, str]) -> dict[int, int]:
    """Each step's first sample: the times ``--steps`` lists, found among the cues of ``show``."""
    shown = voiceguide(["show", *ROUTINE, "--json"], env)
    assert shown.returncode == 0, shown.stderr.decode()
    cue_starts = [cue["start"] for cue in json.loads(shown.stdout)["cues"]]
    listed = voiceguide(["play", *ROUTINE, "--steps"], env)
    assert listed.returncode == 0, listed.stderr.decode()
    starts = {}
    for number, minutes, seconds in re.findall(rb"^(\d+)\s+(\d+):(\d+\.\d+)", listed.stdout, re.M):
        ms = int(minutes) * 60_000 + round(float(seconds) * 1000)
        starts[int(number)] = min(cue_starts, key=lambda s: abs(s * 1000 / RATE - ms))
    return starts


class ClockedSink(threading.Thread):
    """Read a FIFO at the real-time rate, as a sound card would; keep what came, and when.

    The FIFO is held open read-write with its buffer shrunk to one page (about 0.1 s of
    audio), so what ALSA writes is read, "heard", at most that long after.
    """

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 4096)
        self.data = bytearray()
        self.last_read = 0.0
        self.lock = threading.Lock()
        self.done = threading.Event()

    @property
    def total(self) -> int:
        with self.lock:
            return len(self.data)

    def run(self) -> None:
        started: float | None = None
        read = 0
        while not self.done.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.02)
            if not ready:
                continue
            chunk = os.read(self.fd, 441 * 2)  # 10 ms
            now = time.monotonic()
            started = now if started is None else started
            read += len(chunk)
            with self.lock:
                self.data += chunk
                if any(chunk):  # a streaming device goes on sending silence while paused
                    self.last_read = now
            ahead = started + read / BYTES_PER_SECOND - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            else:
                started -= ahead  # a gap (the device was closed): the clock starts again

    def wait_quiet(self, quiet_s: float) -> int:
        """Wait until nothing audible has come for ``quiet_s``; return how much had come."""
        wait_for(lambda: time.monotonic() - self.last_read > quiet_s, "the sound stopping")
        return self.total

    def find(self, wanted: bytes, after: int) -> int:
        """Wait until ``wanted`` has been played past byte ``after``; return where it began."""
        found = -1

        def played() -> bool:
            nonlocal found
            with self.lock:
                found = self.data.find(wanted, after)
            return found >= 0

        wait_for(played, "the expected samples being played")
        return found

    def close(self) -> None:
        self.done.set()
        self.join(5)
        os.close(self.fd)


class Screen(threading.Thread):
    """A terminal's end of a pty: read everything the program writes, always."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.data = b""
        self.changed = threading.Condition()

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""
            with self.changed:
                self.data += chunk
                self.changed.notify_all()
                if not chunk:
                    return

    def wait_for(self, wanted: bytes, since: int = 0) -> int:
        """Wait until ``wanted`` has been shown past byte ``since``; return where it ends."""
        deadline = time.monotonic() + DEADLINE_S
        with self.changed:
            while (found := self.data.find(wanted, since)) < 0:
                left = deadline - time.monotonic()
                assert left > 0, f"{wanted!r} never shown: {self.data[-300:]!r}"
                self.changed.wait(left)
            return found + len(wanted)


class Playerctl:
    """The real MPRIS client, on the test's bus."""

    def __init__(self, address: str) -> None:
        self.env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}
        self.followers: list[subprocess.Popen[str]] = []

    def __call__(self, *args: str) -> str | None:
        """Run ``playerctl -p voiceguide ARGS``: its output, or ``None`` if it failed."""
        result = subprocess.run(
            ["playerctl", "-p", "voiceguide", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=DEADLINE_S,
            check=False,
        )
        return result.stdout.strip() if result.returncode == 0 else None

    def follow(self, *args: str) -> Callable[[], str]:
        """Start ``playerctl --follow ARGS``; return a function giving its next line."""
        process = subprocess.Popen(
            ["playerctl", "-p", "voiceguide", "--follow", *args],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.followers.append(process)

        def next_line() -> str:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], DEADLINE_S)
            assert ready, f"playerctl --follow {' '.join(args)} printed nothing"
            return process.stdout.readline().strip()

        return next_line

    def close(self) -> None:
        for process in self.followers:
            process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def samples(pcm: bytes | bytearray) -> np.ndarray:
    return np.frombuffer(bytes(pcm[: len(pcm) // 2 * 2]), dtype="<i2").astype(np.float64)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x))) if len(x) else 0.0


def level_of(played: np.ndarray, reference: np.ndarray) -> float:
    """At what level ``reference`` (or its first second) sounds in ``played``: RMS over RMS.

    Found where it matches best whatever its scale (correlation normalised by both sides),
    so a stream played at any volume is found; the match must be clean (correlation > 0.999).
    """
    window = reference[: min(len(reference), RATE)]
    n = len(window)
    assert len(played) > n
    assert rms(window) > 0
    size = 1 << int(np.ceil(np.log2(len(played) + n)))
    dots = np.fft.irfft(np.fft.rfft(played, size) * np.conj(np.fft.rfft(window, size)), size)
    dots = dots[: len(played) - n + 1]
    energy = np.concatenate([[0.0], np.cumsum(played * played)])
    norms = np.sqrt(np.maximum(energy[n:] - energy[:-n], 1e-9 * n)) * np.sqrt(window @ window)
    found = int(np.argmax(dots / norms))
    assert dots[found] / norms[found] > 0.999, dots[found] / norms[found]
    stretch = played[found : found + len(reference)]
    return rms(stretch) / rms(reference[: len(stretch)])


def test_playerctl_controls_a_playing_session(tmp_path: Path, bus: str) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = play_env(tmp_path, fifo, bus)
    starts = step_starts(env)  # also fills the phrase cache that play and export share
    full = exported(env, tmp_path)
    sink = ClockedSink(fifo)
    sink.start()
    playerctl = Playerctl(bus)
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", *ROUTINE, "--from", "0:05"],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        process_group=0,  # a job of its own, as a shell starts it
    )
    screen = Screen(master)
    screen.start()
    try:
        wait_for(lambda: playerctl("status") == "Playing", "playerctl seeing it play")
        title = playerctl.follow("metadata", "xesam:title")
        assert title() == f"Step 1 of 4: {TITLE}"
        assert title() == f"Step 2 of 4: {TITLE}"  # by itself, as the session moves on

        assert playerctl("pause") == ""
        wait_for(lambda: playerctl("status") == "Paused", "the status saying Paused")
        shown = screen.wait_for(b'Saying: "Paused."')
        paused_at = sink.wait_quiet(1.0)
        time.sleep(1.0)
        with sink.lock:
            assert not any(sink.data[paused_at:])  # silent while paused

        assert playerctl("play") == ""
        wait_for(lambda: sink.last_read > time.monotonic() - 0.5, "playing again")
        assert playerctl("status") == "Playing"
        shown = screen.wait_for(b'Saying: "Resuming', shown)

        mark = sink.total
        assert playerctl("next") == ""
        sink.find(full[2 * starts[3] :][:WINDOW], mark)  # step 3 from its first sample
        assert title() == f"Step 3 of 4: {TITLE}"

        volume = playerctl.follow("volume")
        assert volume() == "1.000000"
        assert playerctl("volume", "0.5") == ""
        assert volume() == "0.500000"  # PropertiesChanged, from the value the ring now plays
        assert playerctl("volume") == "0.500000"  # and it reads back what was set
        mark = sink.total
        assert playerctl("next") == ""
        # Step 4 is a minute and a half away: only Next brings it this soon, at half volume.
        assert title() == f"Step 4 of 4: {TITLE}"
        step4 = samples(full)[starts[4] :][: 2 * RATE]
        assert rms(step4) > 0
        wait_for(lambda: sink.total > mark + 4 * BYTES_PER_SECOND, "step 4 being played")
        with sink.lock:
            after = samples(sink.data[mark:])
        # The ring scales int16 as the device takes it, so compare levels, not bytes: step 4
        # sounds at half the export's RMS (step 3, before the change, matched byte for byte).
        assert abs(level_of(after, step4) - 0.5) < 0.01

        assert playerctl("next") == ""  # in the last step: the key's answer
        screen.wait_for(b'Saying: "This is the last step."', shown)

        assert playerctl("stop") == ""
        assert process.wait(DEADLINE_S) == 0
        assert process.stderr is not None
        assert process.stderr.read() == b""  # no traceback, no note, not a word from ALSA
        assert screen.wait_for(b"\x1b[?25h", shown)  # the cursor shown again
        assert termios.tcgetattr(slave) == before  # echo and line editing back
        wait_for(lambda: playerctl("status") is None, "the player leaving the bus")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait()
        playerctl.close()
        sink.close()
        os.close(slave)
        screen.join(timeout=5)
        os.close(master)
        if process.stderr is not None:
            process.stderr.close()


@pytest.mark.parametrize("bus_kind", ["pointing nowhere", "a bus"])
def test_with_or_without_a_bus_play_sends_what_export_writes(
    tmp_path: Path, bus: str, bus_kind: str
) -> None:
    played = tmp_path / "played.raw"
    address = bus if bus_kind == "a bus" else f"unix:path={tmp_path / 'nowhere'}"
    env = play_env(tmp_path, played, address)
    # Exported first, so the phrases are cached: this sink has no clock and takes a session
    # at once, so a cold play would outrun synthesis and rightly wait ("One moment.").
    expected = exported(env, tmp_path)
    result = voiceguide(["play", *ROUTINE], env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""  # not a note, not a traceback
    from tests.test_play_alsa import DEVICE_SILENCE_FRAMES, session_in

    before, after = session_in(played.read_bytes(), expected, channels=1)
    assert max(before, after) <= DEVICE_SILENCE_FRAMES  # the device's own silence, no more


def test_no_mpris_leaves_the_bus_alone(tmp_path: Path, bus: str) -> None:
    env = play_env(tmp_path, tmp_path / "played.raw", bus)
    playerctl = Playerctl(bus)
    for option in ([], ["--no-mpris"]):
        process = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "play", *ROUTINE, "--dry-run", *option],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert process.stdout is not None
            process.stdout.readline()  # the first cue: it is playing
            if option:
                for _ in range(20):  # a while of playing, and never on the bus
                    assert playerctl("status") is None
                    time.sleep(0.1)
            else:
                wait_for(lambda: playerctl("status") == "Playing", "the player on the bus")
        finally:
            process.send_signal(signal.SIGINT)
            assert process.wait(DEADLINE_S) == 130
            if process.stdout is not None:
                process.stdout.close()
