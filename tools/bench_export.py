"""Measure export by hand: ``python tools/bench_export.py`` (not a test; prints figures).

1. Speed, warm cache: ``voiceguide export back-pain -o x.FORMAT`` as a whole process, for
   each of ``--formats`` (default wav, mp3, opus, m4a), repeated, median wall time, as a
   multiple of real time (the session's length), with the machine's load average around
   each figure (the machine is shared: read the figures with it). ``--code DIR`` runs
   the voiceguide package found in DIR instead (a checkout of main, say, for a figure
   from before a change); a format that code cannot write is reported, not fatal.
2. Speed, cold cache: the same with a fresh ``VOICEGUIDE_HOME`` each run, and a
   hand-made pipeline for the same timeline: ``espeak-ng -w`` once per phrase (same
   voice, rate and pitch), each clip fitted to its place with ``sox ... pad ... trim``,
   and the pieces joined with one ``sox`` call.
3. Peak memory (the child's ``ru_maxrss``) exporting a generated two-hour routine.

Everything runs in a temporary folder with its own ``VOICEGUIDE_HOME``, so the user's
phrase cache is neither used nor touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from voiceguide import paths
from voiceguide.app.session import SessionRequest, open_session
from voiceguide.compile.compiler import CompileOptions
from voiceguide.compile.timeline import Timeline
from voiceguide.script import library

ROUTINE = "back-pain"
TWO_HOURS_MS = 2 * 3600 * 1000
DEFAULT_ESPEAK_VOICE = "en-us"  # what voiceguide picks when no voice is set


EXTRA: list[str] = []
"""More options for every timed export (``--extra``), such as ``--mono`` or ``--bed rain``."""

CODE: list[Path] = []
"""The source tree to run voiceguide from (``--code``); none: this one."""


class Failed(Exception):
    """A voiceguide run exited non-zero."""


LAST_CPU: list[float] = []
"""CPU seconds (user and system) of each run, its encoder processes included."""


def voiceguide(*args: str, home: Path, cwd: Path) -> tuple[float, int]:
    """Run ``voiceguide ARGS`` to the end; return its wall time (s) and peak RSS (KiB).

    Its CPU time, with the processes it started and reaped (ffmpeg), goes to LAST_CPU.
    """
    env = {**os.environ, "VOICEGUIDE_HOME": str(home)}
    if CODE:
        env["PYTHONPATH"] = os.pathsep.join(str(p) for p in CODE)
    command = [sys.executable, "-m", "voiceguide", *args]
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    LAST_CPU.append(usage.ru_utime + usage.ru_stime)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        message = process.stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        process.stderr.close()
        raise Failed(f"exited {process.returncode}: {message[0] if message else ''}")
    process.stderr.close()
    return elapsed, usage.ru_maxrss


def timeline_of(name: str, home: Path) -> tuple[Timeline, str, int, int]:
    """Compile ``name`` as ``voiceguide export`` does; return it with voice, rate and pitch."""
    os.environ["VOICEGUIDE_HOME"] = str(home)
    session = open_session(SessionRequest(library.load(name), CompileOptions()))
    voice = session.voice
    return session.timeline, voice.voice or DEFAULT_ESPEAK_VOICE, voice.rate_wpm, voice.pitch


def hand_made(
    timeline: Timeline, voice: str, rate: int, pitch: int, work: Path
) -> dict[str, float]:
    """Build the session with espeak-ng and sox alone; return the seconds each part took."""
    phrases = work / "phrases"
    pieces = work / "pieces"
    phrases.mkdir()
    pieces.mkdir()
    start = time.perf_counter()
    spoken: dict[str, Path] = {}
    for cue in timeline.cues:
        if cue.kind == "speech" and cue.text not in spoken:
            path = phrases / f"{len(spoken):04d}.wav"
            espeak = ["espeak-ng", "-v", voice, "-s", str(rate), "-p", str(pitch), "-w", str(path)]
            subprocess.run([*espeak, cue.text], check=True)
            spoken[cue.text] = path
    synthesized = time.perf_counter()
    names: list[str] = []
    position = 0
    for cue in timeline.cues:
        if cue.kind == "silence":
            continue
        if cue.kind == "speech":
            source = spoken[cue.text]
        else:
            source = paths.builtin_audio_dir() / f"{cue.text}.wav"
        gap = cue.start - position
        piece = pieces / f"{len(names):05d}.wav"
        # Silence up to the cue, then the clip cut or padded to the cue's length.
        fit = ["pad", f"{gap}s", f"{cue.duration}s", "trim", "0", f"{gap + cue.duration}s"]
        sox = ["sox", "-V1", str(source), "-r", str(timeline.sample_rate), "-c", "1", "-b", "16"]
        subprocess.run([*sox, str(piece), *fit], check=True)
        names.append(str(piece))
        position = cue.end
    tail = ["pad", "0", f"{timeline.total - position}s"]
    subprocess.run(["sox", "-V1", *names, str(work / "session.wav"), *tail], check=True)
    joined = time.perf_counter()
    frames = int(
        subprocess.run(
            ["soxi", "-s", str(work / "session.wav")], capture_output=True, check=True, text=True
        ).stdout
    )
    if frames != timeline.total:
        print(f"  note: the hand-made file has {frames} samples, the timeline {timeline.total}")
    return {"espeak": synthesized - start, "sox": joined - synthesized}


TWO_HOUR_HEAD = """\
title: Two hours of presses
summary: Generated by tools/bench_export.py to measure memory.
settings: {find: 2s, lead_in: 1s}
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit comfortably. This is a long session.
"""
TWO_HOUR_STEP = """\
  - say: Part {n}.
  - press: {{point: web, hold: 60s, reps: 2, rest: 10s}}
"""


def two_hour_routine(folder: Path, home: Path) -> tuple[Path, Timeline]:
    """Write a routine of press steps that lasts at least two hours."""
    path = folder / "two-hours.yaml"
    steps = 40
    while True:
        path.write_text(TWO_HOUR_HEAD + "".join(TWO_HOUR_STEP.format(n=n) for n in range(steps)))
        timeline, *_ = timeline_of(str(path), home)
        if timeline.total_ms >= TWO_HOURS_MS:
            return path, timeline
        steps = steps * TWO_HOURS_MS // timeline.total_ms + 1


def median_run(args: Sequence[str], homes: Sequence[Path], cwd: Path) -> tuple[float, int]:
    """Run ``voiceguide ARGS`` once per home; return the median seconds and the peak RSS."""
    runs = [voiceguide(*args, home=home, cwd=cwd) for home in homes]
    return statistics.median(t for t, _ in runs), max(rss for _, rss in runs)


def load() -> str:
    """The machine's load average over the last minute (other work slows every figure)."""
    return f"{os.getloadavg()[0]:.1f}"


def warm_speeds(
    formats: Sequence[str], repeat: int, home: Path, root: Path, length_s: float
) -> None:
    """Print the whole-process speed of exporting to each format, phrase cache warm."""
    for fmt in formats:
        run = ["export", ROUTINE, "-o", f"x.{fmt}", *EXTRA]
        before = load()
        try:
            voiceguide(*run, home=home, cwd=root)  # the OS caches the encoder too
            LAST_CPU.clear()
            seconds, _ = median_run(run, [home] * repeat, root)
            cpu = statistics.median(LAST_CPU)
        except Failed as exc:
            print(f"warm cache, {fmt}: not written ({exc})")
            continue
        size = (root / f"x.{fmt}").stat().st_size / 1e6
        name = " ".join([fmt, *EXTRA])
        print(
            f"warm cache, {name}: {seconds:.3f} s  = {length_s / seconds:.0f}x real time, "
            f"{size:.1f} MB; CPU {cpu:.2f} s  (load {before} -> {load()})"
        )


def cold_figures(timeline: Timeline, voice: tuple[str, int, int], repeat: int, root: Path) -> None:
    """Print a cold-cache export's speed, and the hand-made pipeline's for comparison."""
    length_s = timeline.total / timeline.sample_rate
    colds = [root / f"cold-{i}" for i in range(repeat)]
    seconds, _ = median_run(["export", ROUTINE, "-o", "x.wav"], colds, root)
    print(f"cold cache, wav: {seconds:.3f} s  = {length_s / seconds:.0f}x real time")

    times = []
    for i in range(repeat):
        work = root / f"hand-{i}"
        work.mkdir()
        times.append(hand_made(timeline, *voice, work))
    espeak = statistics.median(t["espeak"] for t in times)
    sox = statistics.median(t["sox"] for t in times)
    phrases = len({c.text for c in timeline.cues if c.kind == "speech"})
    sounds = len(timeline.sounds())
    print(
        f"hand-made espeak-ng + sox: {espeak + sox:.3f} s  = "
        f"{length_s / (espeak + sox):.0f}x real time"
    )
    print(f"  espeak-ng -w for {phrases} phrases: {espeak:.3f} s")
    print(f"  sox: {sounds} clips fitted and joined: {sox:.3f} s\n")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--skip-memory", action="store_true", help="skip the two-hour export")
    parser.add_argument("--skip-cold", action="store_true", help="skip the cold-cache figures")
    parser.add_argument(
        "--formats", default="wav,mp3,opus,m4a", help="formats to time warm (comma-separated)"
    )
    parser.add_argument("--code", type=Path, help="run the voiceguide package in this folder")
    parser.add_argument(
        "--extra", default="", help="options for the warm exports, e.g. --extra='--mono'"
    )
    args = parser.parse_args(argv)
    EXTRA.extend(args.extra.split())
    if args.code is not None:
        CODE.append(args.code.resolve())
    for tool in ("espeak-ng", "sox", "soxi"):
        if shutil.which(tool) is None:
            print(f"bench_export: needs {tool}", file=sys.stderr)
            return 1

    with tempfile.TemporaryDirectory(prefix="vg-bench-") as tmp:
        root = Path(tmp)
        warm = root / "home"
        timeline, voice, rate, pitch = timeline_of(ROUTINE, warm)
        length_s = timeline.total / timeline.sample_rate
        print(f"{ROUTINE}: {length_s:.1f} s of audio, {len(timeline.cues)} cues")
        print(f"  voice {voice}, {rate} wpm, pitch {pitch}; {args.repeat} runs per figure\n")

        export = ["export", ROUTINE, "-o", "x.wav"]
        voiceguide(*export, home=warm, cwd=root)  # warm-up: the OS caches the files
        warm_speeds(args.formats.split(","), args.repeat, warm, root, length_s)
        print("  (whole process: start-up, load, compile from cached phrases, render, write)\n")
        if not args.skip_cold:
            cold_figures(timeline, (voice, rate, pitch), args.repeat, root)

        if not args.skip_memory:
            path, long = two_hour_routine(root, warm)
            hours = long.total / long.sample_rate / 3600
            print(f"two-hour routine: {hours:.2f} h, {len(long.cues)} cues")
            for fmt in ("wav", "mp3"):
                seconds, rss = voiceguide(
                    "export", str(path), "-o", f"long.{fmt}", home=warm, cwd=root
                )
                size = (root / f"long.{fmt}").stat().st_size / 1e6
                print(
                    f"  {fmt}: peak RSS {rss / 1024:.0f} MiB, {seconds:.1f} s, {size:.0f} MB file"
                )
            seconds, rss = voiceguide("show", ROUTINE, home=warm, cwd=root)
            print(f"  (for scale: 'voiceguide show {ROUTINE}' peaks at {rss / 1024:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
