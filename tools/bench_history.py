"""What the practice history costs a session: at its start, in the background, at its end.

Run by hand (not a test): ``python tools/bench_history.py [ROUTINE] [--rows N] [--runs N]``.

In a temporary ``VOICEGUIDE_HOME`` whose history already holds ``--rows`` sessions (default
1000, about three years of evenings), each run does what ``voiceguide play`` does, warm (the
file exists, the modules are imported), and times each part separately:

- *recorder made*: making the recorder (main thread, before speech is prepared: it only
  notes its settings);
- *identity*: hashing the routine as loaded (main thread, once the first sound has been
  handed to the device);
- *begin*: ``begin``, which starts the writer thread (main thread, after the first sound);
- *background open+insert*: from ``begin`` to the first row on disk (the writer thread,
  while the session plays; nobody waits for it);
- *read for decisions*: reading the routine's rows and deciding ``auto`` for the
  introduction and the instructions (main thread, once the compiler asks for it);
- *finish*: ``finish`` at the end of the session (the sound has stopped already).

Medians of ``--runs`` (default 10).

``--first-sound N`` instead times ``voiceguide play ROUTINE`` to its first sound as
``tools/bench_play.py`` does, N times with the history and N times with ``--no-history``,
alternating (so a busy machine slows both alike), warm, in one ``VOICEGUIDE_HOME`` whose
history grows as it goes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms  (min {min(samples) * 1000:.2f})"


def main() -> None:
    """Print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routine", nargs="?", default="back-pain")
    parser.add_argument("--rows", type=int, default=1000, help="sessions already recorded")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--first-sound", type=int, default=0, metavar="N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        os.environ["VOICEGUIDE_HOME"] = tmp
        if args.first_sound:
            first_sound(args.routine, args.first_sound, Path(tmp))
        else:
            run(args.routine, args.rows, args.runs)


CPU_S: dict[str, list[float]] = {}
"""CPU seconds of each play spawned, by its extra arguments."""


def first_sound_ms(routine: str, env: dict[str, str], *extra: str) -> float:
    """Spawn one play and return the milliseconds until its first audio (as bench_play.py).

    The CPU time the whole process used (every thread) is added to :data:`CPU_S`.
    """
    import re
    import resource
    import subprocess
    import sys

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", routine, "--quiet", *extra],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    match = re.search(r"first audio (?:heard|handed over) at monotonic (\d+\.\d+)", result.stderr)
    if result.returncode != 0 or match is None:
        raise SystemExit(f"play failed ({result.returncode}): {result.stderr.strip()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    CPU_S.setdefault(" ".join(extra), []).append(used)
    return (float(match.group(1)) - start) * 1000


def first_sound(routine: str, runs: int, tmp: Path) -> None:
    """Time to first sound with and without the history, alternating."""
    from voiceguide.practice.store import HistoryStore

    home = tmp / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file; slave.pcm "null"; file "{tmp / "played.raw"}"; '
        'format "raw" }\n',
        encoding="utf-8",
    )
    env = {**os.environ, "HOME": str(home), "VOICEGUIDE_TRACE_FIRST_AUDIO": "1"}
    env.pop("ALSA_CONFIG_PATH", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    first_sound_ms(routine, env)  # warms the phrase cache and creates the history
    found: dict[str, list[float]] = {"with the history": [], "--no-history": []}
    for _ in range(runs):
        found["with the history"].append(first_sound_ms(routine, env) / 1000)
        found["--no-history"].append(first_sound_ms(routine, env, "--no-history") / 1000)
    pairs = [a - b for a, b in zip(*found.values(), strict=True)]
    print(f"time to first sound, {routine}, warm, {runs} alternating pairs:")
    for label, samples in found.items():
        print(f"  {label:24} {median_ms(samples)}")
    print(f"  {'difference (median)':24} {statistics.median(pairs) * 1000:7.2f} ms")
    print("CPU time of the whole process (all threads, to the end of the session):")
    for label, key in (("with the history", ""), ("--no-history", "--no-history")):
        print(f"  {label:24} {median_ms(CPU_S[key][-runs:])}")
    store = HistoryStore.open()
    print(f"  sessions recorded: {store.count()} (expected {runs + 1})")
    store.close()


def run(name: str, rows: int, runs: int) -> None:
    from datetime import UTC, datetime, timedelta

    from voiceguide.practice.decide import decide_detail, decide_intro
    from voiceguide.practice.history import rows_for
    from voiceguide.practice.identity import identify
    from voiceguide.practice.recorder import Recorder, SessionPlan, StepMark
    from voiceguide.practice.records import SessionRow, stamp
    from voiceguide.practice.store import HistoryStore, history_path
    from voiceguide.script import library

    routine = library.load(name)
    identity = identify(routine)
    path = history_path()
    store = HistoryStore.open(path)
    start = datetime(2022, 1, 1, 19, tzinfo=UTC)
    for n in range(rows):
        at = stamp(start + timedelta(days=n))
        other = (name, "sitting-foot", "stomach")[n % 3]
        row = SessionRow(
            f"old{n}", other, routine.title, identity.script_hash, identity.cautions_hash,
            at, at, at, "completed", 0, 600_000, 600_000, 60_000, 5, 5, "Done", "espeak",
            None, 150, 1.0, 1, "full", "full", 1,
        )  # fmt: skip
        store.save(row)
    store.close()
    plan = SessionPlan(
        routine=name, title=routine.title, script_hash=identity.script_hash,
        cautions_hash=identity.cautions_hash, total_ms=600_000, from_ms=0, intro_ms=60_000,
        steps=tuple(StepMark(n, n * 60_000, f"Step {n}") for n in range(10)),
        engine="espeak", voice=None, rate_wpm=150, pace=1.0, repeat=1, intro="full",
        detail="full",
    )  # fmt: skip
    times: dict[str, list[float]] = {
        k: []
        for k in (
            "recorder made",
            "identity",
            "begin",
            "background open+insert",
            "read for decisions",
            "finish",
        )
    }
    clock: Callable[[], float] = time.perf_counter
    for _ in range(runs + 1):  # the first run warms up
        t = clock()
        recorder = Recorder(path)
        times["recorder made"].append(clock() - t)
        t = clock()
        identify(routine)
        times["identity"].append(clock() - t)
        t = clock()
        recorder.begin(replace(plan))
        times["begin"].append(clock() - t)
        recorder.flush(10)
        times["background open+insert"].append(clock() - t)
        for ms in range(0, 600_000, 50):  # what a session's ticks hand it
            recorder.progress(ms)
        t = clock()
        now = datetime.now(UTC)
        found = rows_for(name, now, path=path)
        decide_intro(found, identity, now)
        decide_detail(found, identity, now)
        times["read for decisions"].append(clock() - t)
        t = clock()
        recorder.finish("completed")
        times["finish"].append(clock() - t)
    print(f"practice history, {name}, {rows} sessions recorded, median of {runs} (warm):")
    for label, samples in times.items():
        print(f"  {label:24} {median_ms(samples[1:])}")
    print(f"  file: {path.stat().st_size / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
