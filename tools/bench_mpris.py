"""MPRIS figures: ``playerctl pause`` to silence, and time to first sound with and without MPRIS.

Run by hand (not a test): ``python tools/bench_mpris.py [--routine R] [--trials N] [--runs N]``
(``--only first-sound`` or ``--only pause`` for one of the two).

Everything real: ``voiceguide play --mono`` (the sink's rate is one channel's) plays into
ALSA's file plugin with a FIFO as its file, read here at 44,100 bytes a second as a sound
card would (the clocked sink of tests/test_play_clocked.py), on a private ``dbus-daemon``,
controlled by the real ``playerctl``.

*Pause latency*: from just before ``playerctl -p voiceguide pause`` is started to the end of
the last sound read before the stream falls silent (the device is closed, so nothing comes
for a while; then "Paused." is said). It includes playerctl's own start-up, printed beside
it, and the sink's pipe (about 0.1 s, as a sound card's buffer). Target: under 300 ms.

*Time to first sound*: from spawning ``voiceguide play`` to the first byte read from the sink,
warm phrase cache, with ``--no-mpris``, with MPRIS on a bus, and with MPRIS and no bus
(``DBUS_SESSION_BUS_ADDRESS`` pointing nowhere), the three interleaved in a shuffled order.
MPRIS must not make it grow. With a bus it also says when the player was first seen on the bus.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import fcntl
import itertools
import math
import os
import pty
import random
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path

BYTES_PER_SECOND = 22_050 * 2
CHUNK = 441 * 2  # 10 ms
GAP_S = 0.06
"""Nothing read for this long is silence (a playing stream comes every 10 ms)."""
TARGET_MS = 300
RESUMED_S = 5.0
"""After resuming, "Resuming: …" is said, then the session plays on: pause again after this."""
_STARTS = itertools.count()


class Sink(threading.Thread):
    """A FIFO read at the real-time rate, like a sound card: what came, and when each chunk did."""

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 4096)
        self.data = bytearray()
        self.chunks: list[tuple[int, float]] = []
        """(offset in :attr:`data`, monotonic time read) of every chunk."""
        self.lock = threading.Lock()
        self.done = threading.Event()

    def run(self) -> None:
        started: float | None = None
        read = 0
        while not self.done.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.005)
            if not ready:
                continue
            chunk = os.read(self.fd, CHUNK)
            now = time.monotonic()
            started = now if started is None else started
            with self.lock:
                self.chunks.append((len(self.data), now))
                self.data += chunk
            read += len(chunk)
            ahead = started + read / BYTES_PER_SECOND - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
            else:
                started -= ahead  # after a gap the card's clock starts again

    def since(self, t: float) -> list[float]:
        """When each chunk read at or after ``t`` came."""
        with self.lock:
            return [at for _, at in self.chunks if at >= t]

    def heard_at(self, offset: int) -> float:
        """When byte ``offset`` was read (heard)."""
        with self.lock:
            i = bisect.bisect_right(self.chunks, (offset, math.inf)) - 1
            start, at = self.chunks[i]
        return at + (offset - start) / BYTES_PER_SECOND

    def snapshot(self) -> bytes:
        with self.lock:
            return bytes(self.data)

    def close(self) -> None:
        self.done.set()
        self.join(5)
        os.close(self.fd)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.01)


def steady(sink: Sink, seconds: float) -> bool:
    """Whether the stream has come without a gap for the last ``seconds``."""
    now = time.monotonic()
    recent = sink.since(now - seconds - GAP_S)
    if not recent or recent[0] > now - seconds or now - recent[-1] > GAP_S:
        return False
    return all(b - a < GAP_S for a, b in itertools.pairwise(recent))


def main_audio_end(sink: Sink, exported: bytes, before: int) -> float:
    """When the session's own audio stopped: where the stream parts from what export wrote.

    The stream up to byte ``before`` was the session playing; the second before it is found
    in the exported audio, and the two are followed until they differ (an answer, or nothing).
    """
    time.sleep(2.5)  # the answer has been said (a streaming device then sends silence)
    played = sink.snapshot()
    window = played[before - BYTES_PER_SECOND : before]
    at = exported.find(window)
    if at < 0 or exported.find(window, at + 2) >= 0:
        raise LookupError("the second before the pause is not unique in the session")
    s, e = before - BYTES_PER_SECOND, at
    while s < len(played) and e < len(exported) and played[s] == exported[e]:
        s, e = s + 1, e + 1
    return sink.heard_at(s - 1)


def environment(tmp: Path, sink: Path, bus: str) -> dict[str, str]:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{sink}"; format "raw" }}\n',
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "HOME": str(home),
        "VOICEGUIDE_HOME": str(tmp / "voiceguide"),
        "DBUS_SESSION_BUS_ADDRESS": bus,
    }
    env.pop("ALSA_CONFIG_PATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode on, as an installed package runs
    return env


def playerctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["playerctl", "-p", "voiceguide", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def spawn(env: dict[str, str], routine: str, *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", routine, "--quiet", "--mono", *options],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.wait(10)


def exported_pcm(env: dict[str, str], tmp: Path, routine: str) -> bytes:
    out = tmp / "exported.wav"
    subprocess.run(
        [sys.executable, "-m", "voiceguide", "export", routine, "--mono", "-o", str(out), "-fwav"],
        env=env,
        capture_output=True,
        check=True,
    )
    with wave.open(str(out), "rb") as wav:
        return wav.readframes(wav.getnframes())


class Terminal(threading.Thread):
    """A pty for the player's keys; everything it shows is read and dropped."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.master, self.slave = pty.openpty()

    def run(self) -> None:
        with contextlib.suppress(OSError):
            while os.read(self.master, 65536):
                pass


def pause_latency(tmp: Path, bus: str, routine: str, trials: int) -> None:
    """Pause ``trials`` times with playerctl and as many with the space bar, alternately."""
    fifo = tmp / "pause.fifo"
    os.mkfifo(fifo)
    env = environment(tmp, fifo, bus)
    exported = exported_pcm(env, tmp, routine)
    sink = Sink(fifo)
    sink.start()
    terminal = Terminal()
    terminal.start()
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", routine, "--quiet", "--mono"],
        env=env,
        stdin=terminal.slave,
        stdout=terminal.slave,
        stderr=subprocess.DEVNULL,
    )
    ways: dict[str, Callable[[], None]] = {
        "playerctl pause": lambda: _ignore(playerctl(env, "pause")),
        "the space bar": lambda: _ignore(os.write(terminal.master, b" ")),
    }
    resume: dict[str, Callable[[], None]] = {
        **ways,
        "playerctl pause": lambda: _ignore(playerctl(env, "play")),
    }
    latencies: dict[str, list[float]] = {way: [] for way in ways}
    clients: list[float] = []
    try:
        wait_for(lambda: playerctl(env, "status").stdout.strip() == "Playing")
        for _ in range(trials):
            for way, pause in ways.items():
                wait_for(lambda: steady(sink, 2.0))
                before = len(sink.snapshot())
                t0 = time.monotonic()
                pause()
                if way.startswith("playerctl"):
                    clients.append((time.monotonic() - t0) * 1000)
                latencies[way].append((main_audio_end(sink, exported, before) - t0) * 1000)
                resume[way]()
                time.sleep(RESUMED_S)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        sink.close()
        os.close(terminal.slave)
        terminal.join(5)
        os.close(terminal.master)
    print(f"pause to silence in the played stream, {routine}, median of {trials}:")
    for way, found in latencies.items():
        median = statistics.median(found)
        verdict = "ok" if median < TARGET_MS else "MISSED"
        print(
            f"  {way:<16} {median:5.0f} ms  (min {min(found):.0f}, max {max(found):.0f})"
            f"  target < {TARGET_MS} ms: {verdict}"
        )
        print("    each: " + ", ".join(f"{x:.0f}" for x in found))
    print(f"  playerctl's own run: median {statistics.median(clients):.0f} ms")


def _ignore(_: object) -> None:
    return None


def one_start(tmp: Path, env: dict[str, str], routine: str, *options: str) -> tuple[float, float]:
    """Start one play; milliseconds to its first sound, and to its player on the bus (or 0)."""
    fifo = tmp / f"start-{next(_STARTS)}.fifo"
    os.mkfifo(fifo)
    env = environment(tmp, fifo, env["DBUS_SESSION_BUS_ADDRESS"])
    sink = Sink(fifo)
    sink.start()
    t0 = time.monotonic()
    process = spawn(env, routine, *options)
    try:
        wait_for(lambda: bool(sink.since(t0)))
        first = (sink.since(t0)[0] - t0) * 1000
        seen = 0.0
        if not options and "nowhere" not in env["DBUS_SESSION_BUS_ADDRESS"]:
            wait_for(lambda: playerctl(env, "status").returncode == 0)
            seen = (time.monotonic() - t0) * 1000
        return first, seen
    finally:
        stop(process)
        sink.close()


def first_sound(tmp: Path, bus: str, routine: str, runs: int) -> None:
    setups = {
        "--no-mpris": (bus, ["--no-mpris"]),
        "MPRIS, a bus": (bus, []),
        "MPRIS, no bus": (f"unix:path={tmp / 'nowhere'}", []),
    }
    times: dict[str, list[float]] = {name: [] for name in setups}
    on_bus: list[float] = []
    order = random.Random(12)  # each round in its own order: no setup always follows another
    for run in range(runs + 1):  # the first round warms the phrase cache, and is not counted
        names = list(setups)
        order.shuffle(names)
        for name in names:
            address, options = setups[name]
            first, seen = one_start(tmp, {"DBUS_SESSION_BUS_ADDRESS": address}, routine, *options)
            if run:
                times[name].append(first)
                if seen:
                    on_bus.append(seen)
    print(f"time to first sound, {routine}, warm, median of {runs} each:")
    for name, found in times.items():
        median = statistics.median(found)
        print(f"  {name:<14} {median:5.0f} ms  (min {min(found):.0f}, max {max(found):.0f})")
    print(f"  the player on the bus after {statistics.median(on_bus):.0f} ms (median)")


def main() -> None:
    """Print the pause latency and the times to first sound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routine", default="sitting-foot")
    parser.add_argument("--trials", type=int, default=10, help="pauses (default 10)")
    parser.add_argument("--runs", type=int, default=10, help="starts of each kind (default 10)")
    parser.add_argument("--only", choices=["first-sound", "pause"], help="measure only this")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-mpris-") as name:
        tmp = Path(name)
        daemon = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", f"--address=unix:path={tmp / 'bus'}",
             "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )  # fmt: skip
        try:
            assert daemon.stdout is not None
            bus = daemon.stdout.readline().strip()
            if args.only != "pause":
                first_sound(tmp, bus, args.routine, args.runs)
            if args.only != "first-sound":
                pause_latency(tmp, bus, args.routine, args.trials)
        finally:
            daemon.kill()
            daemon.wait()
            if daemon.stdout is not None:
                daemon.stdout.close()
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
