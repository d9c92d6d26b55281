"""Time to first sound of ``voiceguide play``: process start until audio reaches the device.

Run by hand (not a test): ``python tools/bench_play.py [ROUTINE] [--runs N]``.

Each run starts ``python -m voiceguide play ROUTINE`` with ALSA's default device pointed at a
file (a temporary ``HOME/.asoundrc``, so no sound card is needed) and
``VOICEGUIDE_TRACE_FIRST_AUDIO=1``, which makes the player print the monotonic time at which
the first sound is heard (before 2026-12-04: handed to the device, plus its buffer). The
figure is that time minus the monotonic time
taken just before the process was spawned (CLOCK_MONOTONIC is shared by all processes).

*Warm*: the phrase cache already holds every phrase (the usual case). *Cold*: an empty
phrase cache, so every phrase is synthesized first. The target is under 400 ms warm.

The child runs with bytecode caching on (``PYTHONDONTWRITEBYTECODE`` removed), as an
installed package runs: compiling every module from source on each start costs ~70 ms.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRACE = re.compile(r"first audio (?:heard|handed over) at monotonic (\d+\.\d+)")
TARGET_MS = 400


def first_sound_ms(routine: str, env: dict[str, str]) -> float:
    """Spawn one play and return the milliseconds until its first audio was heard."""
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", routine, "--quiet"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    match = TRACE.search(result.stderr)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"play failed ({result.returncode}): {result.stderr.strip()}")
    return (float(match.group(1)) - start) * 1000


def main() -> None:
    """Print cold and warm time to first sound."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routine", nargs="?", default="sitting-foot")
    parser.add_argument("--runs", type=int, default=7, help="warm runs (default 7)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-play-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        played = Path(tmp) / "played.raw"
        (home / ".asoundrc").write_text(
            f'pcm.!default {{ type file; slave.pcm "null"; file "{played}"; format "raw" }}\n',
            encoding="utf-8",
        )
        env = {
            **os.environ,
            "HOME": str(home),
            "VOICEGUIDE_HOME": str(Path(tmp) / "voiceguide"),
            "VOICEGUIDE_TRACE_FIRST_AUDIO": "1",
        }
        env.pop("ALSA_CONFIG_PATH", None)
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cold = first_sound_ms(args.routine, env)
        warm = [first_sound_ms(args.routine, env) for _ in range(args.runs)]
    median = statistics.median(warm)
    print(f"time to first sound, {args.routine} ({sys.version.split()[0]}):")
    print(f"  cold (empty phrase cache): {cold:7.0f} ms")
    print(
        f"  warm (median of {len(warm)}):     {median:7.0f} ms"
        f"  (min {min(warm):.0f}, max {max(warm):.0f})"
        f"  target < {TARGET_MS} ms: {'ok' if median < TARGET_MS else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
