"""Measure what the practice history saves a regular: the first session against the tenth.

    python tools/bench_adapt.py [ROUTINE...]      (default: back-pain stomach sitting-foot)

For each routine, a real ``voiceguide play --dry-run`` (espeak, the real compile, the real
history decisions) in a fresh home: once with no history (the first session), once after
nine completed sessions seeded through the practice store (the tenth: the short
introduction, brief instructions). Printed: when the first instruction after the
introduction is heard, when the first press sound is (``-``: a routine without presses), and
the session's length, in session time; and the wall time of the dry run's process (speech
made and cached on the first run).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import timedelta

ROUTINES = ("back-pain", "stomach", "sitting-foot")
LINE = re.compile(r"^(\d+):(\d\d)\.(\d{3})\s+(\S+)\s+(.*)$")


def clock(ms: int) -> str:
    return f"{ms // 60_000}:{ms // 1000 % 60:02d}.{ms % 1000 // 100}"


def dry_run(routine: str, env: dict[str, str]) -> tuple[dict[str, int], float]:
    """When the first instruction and the first press come, and the end; and the wall time."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", routine, "--dry-run", "--speed", "1000"],
        env=env, capture_output=True, text=True, check=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    wall = time.perf_counter() - started
    found: dict[str, int] = {}
    for line in result.stdout.splitlines():
        match = LINE.match(line)
        if match is None:
            if line.endswith("[end]"):
                minutes, seconds = line.split()[0].split(":")
                found["end"] = int(minutes) * 60_000 + round(float(seconds) * 1000)
            continue
        minutes, seconds, millis, phase, what = match.groups()
        ms = int(minutes) * 60_000 + int(seconds) * 1000 + int(millis)
        if phase in ("instruction", "find") and "instruction" not in found:
            found["instruction"] = ms
        if what == "[press sound]" and "press" not in found:
            found["press"] = ms
    return found, wall


def seed(routine: str, sessions: int) -> None:
    """Record ``sessions`` completed sessions of ``routine``, one a day, the first full."""
    from voiceguide.practice.identity import identify
    from voiceguide.practice.records import SessionRow, stamp, utc_now
    from voiceguide.practice.store import HistoryStore, history_path
    from voiceguide.script import library

    identity = identify(library.load(routine))
    store = HistoryStore.open(history_path())
    try:
        for n in range(sessions):
            at = stamp(utc_now() - timedelta(days=sessions - n))
            store.save(
                SessionRow(
                    id=f"bench-{routine}-{n}", routine=routine, title=routine,
                    script_hash=identity.script_hash, cautions_hash=identity.cautions_hash,
                    started_at=at, updated_at=at, ended_at=at, outcome="completed", from_ms=0,
                    reached_ms=600_000, total_ms=600_000, intro_ms=60_000, step=9, steps=9,
                    step_title="", engine="espeak", voice=None, rate_wpm=150, pace=1.0,
                    repeat=1, intro="full" if n == 0 else "short",
                    detail="full" if n < 3 else "brief", pid=os.getpid(),
                )
            )  # fmt: skip
    finally:
        store.close()


def main() -> int:
    routines = sys.argv[1:] or list(ROUTINES)
    print(f"CPU count {os.cpu_count()}, load average {os.getloadavg()[0]:.2f}")
    print(f"{'routine':<14}{'session':<9}{'first instruction':>18}{'first press':>13}"
          f"{'length':>10}{'dry run wall':>14}")  # fmt: skip
    with tempfile.TemporaryDirectory() as home:
        os.environ["VOICEGUIDE_HOME"] = home
        env = {**os.environ, "VOICEGUIDE_HOME": home}
        for routine in routines:
            for label, history in (("first", 0), ("tenth", 9)):
                if history:
                    seed(routine, history)
                found, wall = dry_run(routine, env)
                print(
                    f"{routine:<14}{label:<9}{clock(found['instruction']):>18}"
                    f"{clock(found['press']) if 'press' in found else '-':>13}"
                    f"{clock(found['end']):>10}{wall:>13.2f}s"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
