"""Measure how fast hostile routines are refused: repeat and include bombs. Run by hand.

    python tools/bench_bombs.py [--timeout SECONDS]

Each bomb is checked by ``voiceguide check --estimate`` in a child process; the figures
are its wall time, its peak memory (max RSS) and its exit code with the first line it
printed. Target (issue 9): every bomb refused in well under a second, in bounded memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def repeat_bomb(folder: Path, depth: int = 5, rounds: int = 20) -> Path:
    """Nested ``repeat: rounds`` blocks, ``depth`` deep, around a 0.1 s pause (~200 bytes)."""
    lines = ["title: Repeat bomb", "steps:"]
    for level in range(depth):
        pad = "  " * (2 * level)
        lines += [f"{pad}  - repeat: {rounds}", f"{pad}    steps:"]
    lines.append("  " * (2 * depth) + "  - pause: 0.1s")
    path = folder / "repeat-bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def silent_bomb(folder: Path, depth: int = 6, rounds: int = 100) -> Path:
    """Nested repeats around a sound step: no time at all once tones are off."""
    lines = ["title: Silent bomb", "settings: {tones: false}", "steps:"]
    for level in range(depth):
        pad = "  " * (2 * level)
        lines += [f"{pad}  - repeat: {rounds}", f"{pad}    steps:"]
    lines.append("  " * (2 * depth) + "  - sound: tick")
    path = folder / "silent-bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def include_bomb(folder: Path, files: int = 7, includes: int = 10) -> Path:
    """``files`` files, each including the next ``includes`` times; the last one says a word."""
    (folder / f"part{files}.yaml").write_text(
        f"title: Part {files}\nsteps:\n  - say: Breathe.\n", encoding="utf-8"
    )
    for i in range(files - 1, 0, -1):
        body = "".join(f"  - include: part{i + 1}\n" for _ in range(includes))
        (folder / f"part{i}.yaml").write_text(f"title: Part {i}\nsteps:\n{body}", encoding="utf-8")
    return folder / "part1.yaml"


def run(path: Path, timeout: float) -> str:
    """Check ``path`` in a child process; return its wall time, peak memory and first line."""
    env = {**os.environ, "VOICEGUIDE_HOME": str(path.parent / "home")}
    with tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "voiceguide", "check", "--estimate", str(path)],
            stdout=out, stderr=out, env=env,
        )  # fmt: skip
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() - started > timeout:
                child.kill()
                child.wait()
                return f"{path.name:<18} over {timeout:.0f} s (stopped)"
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        first = out.read().decode("utf-8", "replace").strip().splitlines()[:1] or [""]
    peak_mib = usage.ru_maxrss / 1024
    return (
        f"{path.name:<18} {elapsed:6.2f} s  peak {peak_mib:6.0f} MiB  "
        f"exit {child.returncode}  {first[0][:110]}"
    )


def in_process(path: Path) -> str:
    """Load ``path`` here; return the time and the peak of traced memory until it is refused."""
    import tracemalloc

    from voiceguide.errors import VoiceguideError
    from voiceguide.script.library import load_path

    os.environ["VOICEGUIDE_HOME"] = str(path.parent / "home")
    load_path(path.parent.parent / "warm-up.yaml")  # imports and the point library, once
    tracemalloc.start()
    started = time.perf_counter()
    try:
        load_path(path)
        outcome = "loaded"
    except VoiceguideError:
        outcome = "refused"
    elapsed_ms = (time.perf_counter() - started) * 1000
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return f"{'':<18} in process: {outcome} in {elapsed_ms:6.1f} ms, peak {peak / 2**20:5.1f} MiB"


def main() -> int:
    """Build each bomb in a temporary folder and check it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "warm-up.yaml").write_text("title: Warm\nsteps: [{say: Hi.}]\n", "utf-8")
        for make in (repeat_bomb, silent_bomb, include_bomb):
            sub = folder / make.__name__
            sub.mkdir()
            path = make(sub)
            print(run(path, args.timeout), flush=True)
            print(in_process(path), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
