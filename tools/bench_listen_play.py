"""Measure voice commands inside ``voiceguide play --listen``: latency to the tone, CPU.

Run by hand from the checkout: ``python tools/bench_listen_play.py [--phrases 12]`` (also
``python tools/bench_listen.py --skip detection,false,live`` runs it, as its ``play`` part).

The whole path is real: ``voiceguide play --listen --mono`` through ALSA into a clocked sink
(a FIFO read at the device's rate), capture by ``arecord`` from ALSA's file plugin reading
another FIFO written in real time (tests/test_listen_wired.py's microphone, room noise at
-25 dB), "guide where am i" synthesized by the project's engine, said again and again inside
a long hold, each once the speaker has been silent for a second (the gate shuts while the
guide speaks: a phrase said over an answer or a prompt is not for it). Latency: from the
last voiced sample of the phrase written into the capture to the ``heard`` sound reaching the
sink. CPU: the play process and its arecord, over the same
stretch of the hold, with and without ``--listen`` (percent of one core).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.test_listen import spoken  # noqa: E402
from tests.test_listen_wired import Microphone, arecord_children, room, tone_onsets  # noqa: E402
from tests.test_play_alsa import alsa_env  # noqa: E402
from tests.test_play_clocked import RATE, Sink  # noqa: E402
from voiceguide.listen.recognizer import RATE_HZ  # noqa: E402

LONG = """\
title: Long hold
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down and rest your hands in your lap.
  - press: {point: web, hold: 150s, find: 0s}
  - say: That is all for now.
"""
SETTLE_S = 12.0
"""From the first sound to well inside the hold (the instructions take about 10 s)."""
PHRASE = "guide where am i"
QUIET = 64
"""Below this (of 32,767) the speaker counts as silent: the session speaks nothing then."""


def cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Arrivals(threading.Thread):
    """Note when the sink's byte count grew, every 5 ms."""

    def __init__(self, sink: Sink) -> None:
        super().__init__(daemon=True)
        self.sink = sink
        self.marks: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.marks.append((time.monotonic(), len(self.sink.data) // 2))
            time.sleep(0.005)

    def time_of(self, sample: int) -> float:
        return next(t for t, count in self.marks if count > sample)


def wait_for_quiet(sink: Sink, quiet_s: float = 1.0, timeout_s: float = 30.0) -> None:
    """Wait until the speaker has been silent for ``quiet_s`` (an answer or a prompt ended)."""
    deadline = time.monotonic() + timeout_s
    span = int(quiet_s * RATE)
    while time.monotonic() < deadline:
        heard = sink.samples()
        if len(heard) >= span and int(np.abs(heard[-span:]).max(initial=0)) < QUIET:
            return
        time.sleep(0.05)


def session(folder: Path, listen: bool, phrases: int) -> tuple[list[float], float, float]:
    """Play the long hold; return the latencies, the CPU share and the load meanwhile."""
    routine = folder / "long.yaml"
    routine.write_text(LONG, encoding="utf-8")
    speaker, microphone = folder / "speaker", folder / "microphone"
    for fifo in (speaker, microphone):
        if not fifo.exists():
            os.mkfifo(fifo)
    env = alsa_env(folder, room(speaker, microphone))
    sink, mic = Sink(speaker), Microphone(microphone)
    arrivals = Arrivals(sink)
    sink.start()
    mic.start()
    arrivals.start()
    args = [sys.executable, "-m", "voiceguide", "play", str(routine), "--skip-intro", "--mono"]
    process = subprocess.Popen(
        [*args, "--quiet", *(["--listen"] if listen else [])],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    clip = spoken(PHRASE)
    voiced = np.flatnonzero(np.abs(clip) > 0.01)
    trailing_s = (len(clip) - voiced[-1]) / RATE_HZ
    latencies: list[float] = []
    try:
        while not sink.samples().any():
            time.sleep(0.01)
        time.sleep(SETTLE_S)
        pids = [process.pid, *arecord_children(process.pid)]
        cpu0, wall0, load0 = sum(cpu_s(p) for p in pids), time.monotonic(), os.getloadavg()[0]
        for _ in range(phrases):
            wait_for_quiet(sink)  # said over the guide's own voice, a phrase is gated out
            base = max(0, len(sink.data) // 2 - RATE)  # look only at what comes from now on
            said = len(mic.finished)
            mic.say(clip if listen else np.zeros_like(clip))
            while len(mic.finished) == said:
                time.sleep(0.002)
            ended = time.monotonic() - trailing_s
            deadline = time.monotonic() + 8
            onsets: list[int] = []
            while listen and time.monotonic() < deadline and not onsets:
                time.sleep(0.05)
                onsets = tone_onsets(sink.samples()[base:])
            if onsets:
                latencies.append(arrivals.time_of(base + onsets[0]) - ended)
            time.sleep(1.0)  # the answer starts after the tone
        cpu = sum(cpu_s(p) for p in pids) - cpu0
        share = 100 * cpu / (time.monotonic() - wall0)
        load = (load0 + os.getloadavg()[0]) / 2
    finally:
        process.terminate()
        process.wait(30)
        arrivals.done.set()
        sink.close()
        mic.close()
    return latencies, share, load


def bench_play(phrases: int) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        latencies, listening, load = session(folder, True, phrases)
        _, without, load_without = session(folder, False, phrases)
    ms = sorted(int(s * 1000) for s in latencies)
    print(f"\nplay --listen: {len(ms)} of {phrases} phrases acknowledged")
    if ms:
        print(f"  end of phrase to the heard sound at the device: median "
              f"{statistics.median(ms):.0f} ms, min {ms[0]} ms, max {ms[-1]} ms: {ms}")  # fmt: skip
    print(f"  CPU of play (and arecord) in a hold: {listening:.1f} % of one core listening "
          f"(load {load:.1f}), {without:.1f} % without (load {load_without:.1f})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--phrases", type=int, default=12, help="phrases said (at least 10)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    bench_play(args.phrases)


if __name__ == "__main__":
    main()
