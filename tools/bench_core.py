"""Measure the core's figures: CLI start-up and compiling a long routine. Run by hand.

    python tools/bench_core.py

Figures (issue 2): `voiceguide --help` and `voiceguide list`, whole process, under 250 ms;
compiling a generated 2-hour routine of 1,000 steps (phrase lengths given) under 0.5 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.script.durations import format_ms
from voiceguide.script.library import load_path

# The fixed-rate lengths are a test double: they live with the tests, beside this folder.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.lengths import FixedRateLengths

RUNS = 15


def wall_ms(args: list[str], env: dict[str, str], runs: int = RUNS) -> list[tuple[float, float]]:
    """Whole-process wall and CPU (user + system) times of ``args``, in ms.

    On a shared machine the CPU time is the steadier figure: other processes stretch
    the wall time, not the work done.
    """
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        if os.waitstatus_to_exitcode(status):
            sys.exit(f"{' '.join(args)} failed")
        times.append((wall, (usage.ru_utime + usage.ru_stime) * 1000))
    return times


def summary(times: list[tuple[float, float]] | list[float]) -> str:
    """Median and spread of wall times (and the median CPU time, when measured)."""
    walls = [t[0] if isinstance(t, tuple) else t for t in times]
    cpus = [t[1] for t in times if isinstance(t, tuple)]
    cpu = f", CPU median {statistics.median(cpus):.1f} ms" if cpus else ""
    return (
        f"median {statistics.median(walls):6.1f} ms  (min {min(walls):.1f}, max {max(walls):.1f})"
        f"{cpu}"
    )


def long_routine(folder: Path, steps: int = 1000) -> Path:
    """Write a routine of ``steps`` steps lasting about two hours."""
    lines = [
        "title: Two hours",
        "points:",
        "  p: {name: the point, where: somewhere on the hand}",
        "steps:",
    ]
    for i in range(steps):
        kind = i % 4
        if kind == 0:
            lines.append(
                "  - press: {point: p, hold: 13s, reps: 1, find: 2s, countdown: 3, "
                "prompts: [{at: 50%, say: Breathe out slowly.}]}"
            )
        elif kind == 2:
            lines.append("  - pause: 2s")
        else:
            lines.append(f"  - say: Instruction number {i}, said calmly and plainly.")
    path = folder / "long.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def main() -> None:
    """Print the figures."""
    exe = shutil.which("voiceguide") or sys.exit("voiceguide is not on PATH (activate .venv)")
    with tempfile.TemporaryDirectory() as home:
        # As an installed package runs: with bytecode (some shells set PYTHONDONTWRITEBYTECODE).
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["VOICEGUIDE_HOME"] = home
        print(f"CPU count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
        print(f"voiceguide --help        {summary(wall_ms([exe, '--help'], env))}")
        subprocess.run([exe, "list"], env=env, stdout=subprocess.DEVNULL, check=True)
        print(f"voiceguide list (warm)   {summary(wall_ms([exe, 'list'], env))}")
        cold: list[tuple[float, float]] = []
        for _ in range(5):
            index = Path(home) / "cache" / "list-index.json"
            index.unlink(missing_ok=True)
            cold += wall_ms([exe, "list"], env, runs=1)
        print(f"voiceguide list (cold)   {summary(cold)}  (no index: every routine compiled)")

        routine_path = long_routine(Path(home))
        started = time.perf_counter()
        routine = load_path(routine_path)
        load_ms = (time.perf_counter() - started) * 1000
        lengths = FixedRateLengths(sample_rate=22_050)
        times = []
        for _ in range(7):
            started = time.perf_counter()
            timeline = compile_routine(routine, lengths, CompileOptions())
            times.append((time.perf_counter() - started) * 1000)
        print(
            f"compile 1,000 steps ({format_ms(timeline.total_ms)}, {len(timeline.cues):,} cues) "
            f"{summary(times)}; loading the YAML {load_ms:.0f} ms"
        )


if __name__ == "__main__":
    main()
