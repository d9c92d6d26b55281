"""Measure by hand the loudness of every built-in's export: ``python tools/bench_loudness.py``.

Each built-in (``voiceguide list``) is exported stereo and mono, without and with a bed
(``--bed rain``), through the real command (``voiceguide export NAME -o x.mp3``), and the
file is measured by ffmpeg's own EBU R128 meter (``ebur128=peak=true``: integrated
loudness, and true peak at 4× oversampling), an implementation independent of the
project's. Prints a Markdown table for docs/export.md, with the machine's load, and
marks each figure off its target: -16 LUFS stereo, -19 LUFS mono (±1 LU, without a bed:
a bed's quiet holds lower the integrated figure by design), true peak at most -1 dBTP.
Exits 1 when a figure is off target. Everything runs in a temporary ``VOICEGUIDE_HOME``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from voiceguide.script import library

TARGET_LUFS = {"stereo": -16.0, "mono": -19.0}
TOLERANCE_LU = 1.0
PEAK_CEILING_DBTP = -1.0
VARIANTS = [("stereo", None), ("mono", None), ("stereo", "rain"), ("mono", "rain")]


@dataclass(frozen=True)
class Figure:
    """One export's loudness."""

    lufs: float
    true_peak_dbtp: float


def measure(path: Path) -> Figure:
    """Integrated loudness and true peak of ``path``, by ffmpeg's ebur128 filter."""
    command = ["ffmpeg", "-hide_banner", "-nostats", "-i", str(path)]
    command += ["-filter:a", "ebur128=peak=true:framelog=verbose", "-f", "null", "-"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stderr
    summary = output[output.rindex("Summary:") :]
    lufs = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    if lufs is None or peak is None:
        raise RuntimeError(f"ffmpeg's ebur128 gave no summary for {path}")
    return Figure(float(lufs.group(1)), float(peak.group(1)))


def export(name: str, channels: str, bed: str | None, fmt: str, home: Path, out: Path) -> Path:
    """Export ``name`` as ``voiceguide export`` does for a user; return the file."""
    path = out / f"{name}-{channels}-{bed or 'nobed'}.{fmt}"
    command = [sys.executable, "-m", "voiceguide", "export", name, "-o", str(path)]
    command += ["--mono"] if channels == "mono" else ["--stereo"]
    command += ["--bed", bed] if bed else []
    env = {**os.environ, "VOICEGUIDE_HOME": str(home)}
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
    return path


def verdict(figure: Figure, channels: str, bed: str | None) -> str:
    """What is off target in ``figure``, or an empty string."""
    off = []
    if bed is None and abs(figure.lufs - TARGET_LUFS[channels]) > TOLERANCE_LU:
        off.append(f"{figure.lufs - TARGET_LUFS[channels]:+.1f} LU off")
    if figure.true_peak_dbtp > PEAK_CEILING_DBTP:
        off.append("peak over -1 dBTP")
    return "; ".join(off)


def load() -> str:
    """The machine's load average over the last minute."""
    return f"{os.getloadavg()[0]:.1f}"


def main(argv: list[str] | None = None) -> int:
    """Export and measure every built-in; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", default="mp3", help="export format (default mp3)")
    parser.add_argument("--only", help="comma-separated routine names (default: every built-in)")
    args = parser.parse_args(argv)
    if shutil.which("ffmpeg") is None:
        print("bench_loudness: needs ffmpeg", file=sys.stderr)
        return 1
    names = sorted(n for n, e in library.entries().items() if e.origin == "built-in")
    if args.only:
        names = [n for n in names if n in args.only.split(",")]
    header = "| routine | " + " | ".join(f"{c}{', ' + b if b else ''}" for c, b in VARIANTS)
    print(f"{args.format}, LUFS integrated / dBTP true peak (load {load()} at the start)\n")
    print(header + " |")
    print("|---" * (len(VARIANTS) + 1) + "|")
    failures = []
    with tempfile.TemporaryDirectory(prefix="vg-loudness-") as tmp:
        home, out = Path(tmp) / "home", Path(tmp)
        for name in names:
            cells = []
            for channels, bed in VARIANTS:
                figure = measure(export(name, channels, bed, args.format, home, out))
                off = verdict(figure, channels, bed)
                if off:
                    failures.append(f"{name} {channels} {bed or ''}: {off}")
                mark = f" **{off}**" if off else ""
                cells.append(f"{figure.lufs:.1f} / {figure.true_peak_dbtp:.1f}{mark}")
            print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print(f"\n(load {load()} at the end)")
    for failure in failures:
        print(f"off target: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
