"""What the practice history costs a session: at its start, in the background, at its end.

Run by hand (not a test): ``python tools/bench_history.py [ROUTINE] [--rows N] [--runs N]``.

In a temporary ``VOICEGUIDE_HOME`` whose history already holds ``--rows`` sessions (default
1000, about three years of evenings), each run does what ``voiceguide play`` does, warm (the
file exists, the modules are imported), and times each part separately:

- *identity*: hashing the routine as loaded (main thread, before the first sound);
- *recorder made*: making the recorder, which starts its thread (main thread, before speech
  is prepared);
- *begin*: ``begin`` when the first sound goes out (main thread, on the audio path);
- *background open+insert*: from making the recorder to the first row on disk (the writer
  thread, while speech is prepared and the session starts; nobody waits for it);
- *read for decisions*: reading the routine's rows and deciding ``auto`` for the
  introduction and the instructions (main thread, once the compiler asks for it);
- *finish*: ``finish`` at the end of the session (the sound has stopped already).

Medians of ``--runs`` (default 10). The time to first sound with and without the history is
``tools/bench_play.py`` (compare ``play ROUTINE`` and ``play ROUTINE --no-history``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.2f} ms  (min {min(samples) * 1000:.2f})"


def main() -> None:
    """Print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("routine", nargs="?", default="back-pain")
    parser.add_argument("--rows", type=int, default=1000, help="sessions already recorded")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        os.environ["VOICEGUIDE_HOME"] = tmp
        run(args.routine, args.rows, args.runs)


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
            "identity",
            "recorder made",
            "begin",
            "background open+insert",
            "read for decisions",
            "finish",
        )
    }
    clock: Callable[[], float] = time.perf_counter
    for _ in range(runs + 1):  # the first run warms up
        t = clock()
        identify(routine)
        times["identity"].append(clock() - t)
        t = clock()
        recorder = Recorder(path)
        times["recorder made"].append(clock() - t)
        b = clock()
        recorder.begin(replace(plan))
        times["begin"].append(clock() - b)
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
