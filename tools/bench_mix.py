"""Measure by hand what stereo and a sound bed cost, and what the exports measure.

``python tools/bench_mix.py speed``: WAV export of back-pain with a warm cache, as a whole
process, repeated; the median wall time and the multiple of real time, for each variant
given with ``--variant`` (export's flags: ``--variant= "--variant=--bed rain"``). To time
another tree (say, main before a change), put it first on ``PYTHONPATH``.

``python tools/bench_mix.py render``: the rendering alone, in this process: back-pain's
timeline (synthesized once) rendered whole with each mix, the best of ``--runs``, so
process start-up and the phrase cache do not hide what stereo and a bed cost.

``python tools/bench_mix.py loudness``: export every built-in routine (or each
``--routine``) to WAV in each variant and measure each file with ffmpeg's ``ebur128``
filter (integrated loudness, true peak; BS.1770, channels summed) and with the project's
own meter, which also measures the speech alone (its cues joined end to end).

Not a test: it prints figures. The machine is shared; say its load beside the figures.
Everything runs with its own ``VOICEGUIDE_HOME`` in a temporary folder (phrases are
synthesized once, then warm), so the user's cache is neither used nor touched.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_VARIANTS = ("", "--mono", "--bed rain", "--mono --bed rain")


def voiceguide(args: list[str], home: Path) -> tuple[float, float]:
    """Run ``voiceguide ARGS``; return its wall time and its CPU time (user + system), in s.

    CPU time says more than wall time on a shared machine: it does not count the time
    spent waiting for a core.
    """
    env = {**os.environ, "VOICEGUIDE_HOME": str(home)}
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"voiceguide {' '.join(args)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def duration_s(path: Path) -> float:
    import soundfile

    info = soundfile.info(str(path))
    return float(info.frames / info.samplerate)


def speed(variants: list[str], routine: str, runs: int, home: Path, work: Path) -> None:
    out = work / "speed.wav"
    voiceguide(["export", routine, "-o", str(out)], home)  # warm the cache
    length = duration_s(out)
    print(f"{routine}: {length:.0f} s of audio; load average {os.getloadavg()[0]:.2f}")
    for variant in variants:
        flags = shlex.split(variant)
        timed = [voiceguide(["export", routine, "-o", str(out), *flags], home) for _ in range(runs)]
        wall = statistics.median(w for w, _ in timed)
        cpu = statistics.median(c for _, c in timed)
        print(
            f"  {variant or '(default)':<22} wall median {wall:6.3f} s "
            f"(min {min(w for w, _ in timed):.3f})  cpu median {cpu:6.3f} s  "
            f"{length / wall:6.0f}x real time (wall), {length / cpu:6.0f}x (cpu)"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


_EBUR128 = re.compile(r"I:\s+(-?[\d.]+|-inf) LUFS.*?Peak:\s+(-?[\d.]+|-inf) dBFS", re.S)


def ffmpeg_ebur128(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak of ``path`` by ffmpeg (4x oversampled peaks)."""
    result = subprocess.run(
        ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path), "-af",
         "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = result.stderr[result.stderr.rfind("Summary:") :]
    match = _EBUR128.search(summary)
    if match is None:
        raise SystemExit(f"cannot read ffmpeg's summary for {path}:\n{summary}")
    return float(match.group(1)), float(match.group(2))


def own_meter(path: Path) -> tuple[float, float, float]:
    """Integrated loudness (channels summed), true peak (loudest channel) by the project, and
    the loudness of the speech alone: every spoken cue (from the ``--cues`` file beside
    ``path``) joined end to end, which a bed under it would raise if it were loud there."""
    import json

    import numpy as np
    import soundfile

    from voiceguide.sound import meter

    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    channels = data.shape[1]

    def lufs(x: np.ndarray) -> float:
        return meter.program_lufs(x if channels > 1 else x[:, 0], rate)

    peak = max(
        max(float(p.max()) for p in meter.oversampled_peaks(data[:, c])) for c in range(channels)
    )
    cues = json.loads(path.with_suffix(".json").read_text())["cues"]
    spoken = [data[c["start"] : c["start"] + c["duration"]] for c in cues if c["kind"] == "speech"]
    return lufs(data), meter.amplitude_db(peak), lufs(np.concatenate(spoken))


def measure(variants: list[str], routines: list[str] | None, home: Path, work: Path) -> None:
    from voiceguide.script import library

    print(f"load average {os.getloadavg()[0]:.2f}")
    header = ("routine", "variant", "ffmpeg LUFS", "dBTP", "own LUFS", "dBTP", "speech LUFS")
    print("{:<14} {:<18} {:>11} {:>6}   {:>8} {:>6}  {:>11}".format(*header))
    for entry in library.entries().values():
        if entry.origin != "built-in" or library.is_point_library(entry.path):
            continue
        if routines and entry.name not in routines:
            continue
        for variant in variants:
            out = work / f"{entry.name}.wav"
            flags = ["-o", str(out), "--cues", "json", *shlex.split(variant)]
            voiceguide(["export", entry.name, *flags], home)
            lufs, peak = ffmpeg_ebur128(out)
            own_lufs, own_peak, speech = own_meter(out)
            print(
                f"{entry.name:<14} {variant or '(stereo)':<18} {lufs:11.1f} {peak:6.1f}   "
                f"{own_lufs:8.2f} {own_peak:6.2f}  {speech:11.2f}"
            )


def render_cost(routine: str, runs: int) -> None:
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.sound.bed import BedSource
    from voiceguide.sound.mix import Mix, prepare
    from voiceguide.sound.render import render_blocks

    session = open_session(SessionRequest(routine))
    timeline = session.timeline
    seconds = timeline.total / timeline.sample_rate
    print(f"{routine}: {seconds:.0f} s of audio; load average {os.getloadavg()[0]:.2f}")
    for mix in (Mix(channels=1), Mix(), Mix(bed=BedSource("rain")),
                Mix(channels=1, bed=BedSource("rain"))):  # fmt: skip
        prepare(mix, timeline.sample_rate)
        best = math.inf
        for _ in range(runs):
            start = time.process_time()
            for _block in render_blocks(timeline, session.clips, mix=mix):
                pass
            best = min(best, time.process_time() - start)
        print(f"  {mix.describe():<32} {best:6.3f} s CPU  {seconds / best:7.0f}x real time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("speed", "render", "loudness"))
    parser.add_argument("--variant", action="append", help="flags for export (repeatable)")
    parser.add_argument("--routine", action="append", help="speed: the one; loudness: these")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    variants = args.variant if args.variant is not None else list(DEFAULT_VARIANTS)
    with tempfile.TemporaryDirectory(prefix="voiceguide-bench-") as folder:
        work = Path(folder)
        home = work / "home"
        home.mkdir()
        os.environ["VOICEGUIDE_HOME"] = str(home)
        if args.what == "speed":
            speed(variants, (args.routine or ["back-pain"])[0], args.runs, home, work)
        elif args.what == "render":
            render_cost((args.routine or ["back-pain"])[0], args.runs)
        else:
            measure(variants, args.routine, home, work)


if __name__ == "__main__":
    main()
