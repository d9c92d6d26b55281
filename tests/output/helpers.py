"""What the export tests share: timelines of sine clips, onsets, read-back helpers, a tmpfs.

These timelines use plain sine clips, so they export in moments and every onset is known
to the sample. The real voice is exercised in tests/test_export_e2e.py.
"""

from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from voiceguide.compile.timeline import Cue, CueKind, Timeline
from voiceguide.errors import AudioError
from voiceguide.output.export import export
from voiceguide.output.formats import Format
from voiceguide.output.tags import Metadata
from voiceguide.output.targets import Outputs

SR = 22_050
MS = SR // 1000  # whole samples per millisecond, for tolerances
ONSET_THRESHOLD = 10 ** (-40 / 20)  # -40 dBFS, as a float sample
FloatArray = npt.NDArray[np.float32]

needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None,
    reason="needs ffmpeg and ffprobe (tools/install-system-packages.sh installs them)",
)


class ToneClips:
    """A clip source of plain sines: speech 330 Hz, 3 ms a character; sounds 880 Hz, 200 ms."""

    sample_rate = SR

    def __init__(self, fail_on: str | None = None) -> None:
        self.fail_on = fail_on

    def speech_samples(self, text: str) -> int:
        return 3 * MS * len(text)

    def sound_samples(self, name: str) -> int:
        return 200 * MS

    def speech(self, text: str) -> FloatArray:
        if text == self.fail_on:
            raise AudioError(f"cannot read {text!r}")
        return sine(330, self.speech_samples(text), 0.3)

    def sound(self, name: str) -> FloatArray:
        return sine(880, self.sound_samples(name), 0.2)


class NoiseClips(ToneClips):
    """Speech as white noise: audio no codec can squeeze into a tiny disk."""

    def speech(self, text: str) -> FloatArray:
        noise = np.random.default_rng(len(text)).uniform(-0.3, 0.3, self.speech_samples(text))
        return noise.astype(np.float32)


def sine(freq_hz: int, samples: int, amplitude: float) -> FloatArray:
    t = np.arange(samples, dtype=np.float64) / SR
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


Plan = list[tuple[CueKind, "str | int", str]]

PLAN: Plan = [
    ("tone", "start", "Introduction"),
    ("silence", 300 * MS, "Introduction"),
    ("speech", "Sit comfortably & breathe <slowly>.", "Introduction"),
    ("silence", 500 * MS, "Introduction"),
    ("speech", "Find the point on your right hand.", "Right side"),
    ("silence", 250 * MS, "Right side"),
    ("tone", "press", "Right side"),
    ("silence", 1000 * MS, "Right side"),
    ("tone", "release", "Right side"),
    ("silence", 400 * MS, "Right side"),
    ("speech", "Now the left hand.", "Left side"),
    ("silence", 700 * MS, "Left side"),
    ("tone", "end", "Closing"),
    ("silence", 123, "Closing"),
]


def build(plan: Plan, clips: ToneClips | None = None, title: str = "Test routine") -> Timeline:
    """Lay ``plan`` out end to end, as the compiler would."""
    clips = clips or ToneClips()
    cues: list[Cue] = []
    start = 0
    for kind, what, chapter in plan:
        if kind == "silence":
            duration, text = int(what), ""
        elif kind == "speech":
            duration, text = clips.speech_samples(str(what)), str(what)
        else:
            duration, text = clips.sound_samples(str(what)), str(what)
        cues.append(Cue(start, duration, kind, text, "instruction", "steps[0]", None, chapter))
        start += duration
    return Timeline(SR, tuple(cues), title, "test")


def export_files(
    timeline: Timeline,
    target: Path,
    fmt: Format,
    captions: str | None = None,
    cues: str | None = None,
    clips: ToneClips | None = None,
    **kwargs: Any,
) -> Outputs:
    outputs = Outputs.plan(target, fmt, captions, cues)
    meta = Metadata(title=timeline.title, comment="A routine for tests.")
    export(timeline, clips or ToneClips(), outputs, meta=meta, **kwargs)
    return outputs


def onsets(samples: npt.NDArray[Any], threshold: float, gap: int = 50 * MS) -> list[int]:
    """Samples where sound starts: above ``threshold`` (either channel) after ``gap`` below it."""
    level = np.abs(samples) if samples.ndim == 1 else np.abs(samples).max(axis=1)
    loud = np.flatnonzero(level > threshold)
    if not len(loud):
        return []
    starts = [int(loud[0])]
    starts += [int(b) for a, b in itertools.pairwise(loud) if b - a > gap]
    return starts


def expected_onsets(timeline: Timeline, gap: int = 50 * MS) -> list[int]:
    """Starts of the sounds that open the session or follow ``gap`` samples of silence."""
    found = []
    for before, cue in zip((None, *timeline.cues), timeline.cues, strict=False):
        if cue.kind == "silence":
            continue
        if before is None or (before.kind == "silence" and before.duration > gap):
            found.append(cue.start)
    return found


def read_id3(path: Path) -> Any:
    """Read an MP3's ID3 tag (mutagen's annotations are partial: treat it as untyped)."""
    id3: Any = importlib.import_module("mutagen.id3")
    return id3.ID3(path)


def probe_chapters(path: Path) -> list[tuple[int, int, str]]:
    """Return (start ms, end ms, title) of every chapter ffprobe finds in ``path``."""
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(path)],
        capture_output=True,
        check=True,
        text=True,
    )
    return [
        (
            round(float(c["start_time"]) * 1000),
            round(float(c["end_time"]) * 1000),
            c.get("tags", {}).get("title", ""),
        )
        for c in json.loads(probe.stdout)["chapters"]
    ]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def parse_captions(text: str) -> list[tuple[int, int, str]]:
    """Read back (start ms, end ms, text) from VTT or SRT."""
    stamp = r"(\d\d):(\d\d):(\d\d)[.,](\d{3})"
    found = []
    for block in text.split("\n\n"):
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines):
            match = re.fullmatch(f"{stamp} --> {stamp}", line)
            if match:
                h1, m1, s1, f1, h2, m2, s2, f2 = (int(g) for g in match.groups())
                start = ((h1 * 60 + m1) * 60 + s1) * 1000 + f1
                end = ((h2 * 60 + m2) * 60 + s2) * 1000 + f2
                found.append((start, end, "\n".join(lines[i + 1 :])))
    return found


@contextlib.contextmanager
def tmpfs(options: str) -> Iterator[Path]:
    """Mount a small tmpfs for the test, or skip when that is not permitted."""
    if sys.platform != "linux" or shutil.which("mount") is None:
        pytest.skip("needs Linux and mount(8)")
    point = Path("/tmp") / f"voiceguide-test-{uuid.uuid4().hex[:8]}"
    point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", str(point)], check=False)
        point.rmdir()
