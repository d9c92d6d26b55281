"""Export: formats, lengths to the sample, onsets, chapters, captions, atomic writes, the CLI.

These tests use plain sine clips and a fake speech engine, so they run in moments and
every onset is known to the sample. The real voice is exercised in test_export_e2e.py.
"""

from __future__ import annotations

import contextlib
import errno
import io
import itertools
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tests.helpers import TWO_SIDED_ROUTINE
from tests.helpers import run_cli as run
from voiceguide import paths
from voiceguide.cli import main
from voiceguide.compile.timeline import Cue, CueKind, Timeline
from voiceguide.errors import AudioError, ExportError, SettingError, UsageError
from voiceguide.output import export as ex
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines.base import Speech, Voice
from voiceguide.sound.render import render

SR = 22_050
MS = SR // 1000  # whole samples per millisecond, for tolerances
ONSET_THRESHOLD = 10 ** (-40 / 20)  # -40 dBFS, as a float sample
FloatArray = npt.NDArray[np.float32]


# --- A timeline of sine clips ------------------------------------------------------------


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
        return _sine(330, self.speech_samples(text), 0.3)

    def sound(self, name: str) -> FloatArray:
        return _sine(880, self.sound_samples(name), 0.2)


class NoiseClips(ToneClips):
    """Speech as white noise: audio no codec can squeeze into a tiny disk."""

    def speech(self, text: str) -> FloatArray:
        noise = np.random.default_rng(len(text)).uniform(-0.3, 0.3, self.speech_samples(text))
        return noise.astype(np.float32)


def _sine(freq_hz: int, samples: int, amplitude: float) -> FloatArray:
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


@pytest.fixture
def timeline() -> Timeline:
    return build(PLAN)


@pytest.fixture
def long_timeline() -> Timeline:
    """Twenty seconds, mostly silence."""
    return build([*PLAN, ("silence", 8 * SR, "Closing"), ("speech", "Still here.", "Closing")] * 2)


@pytest.fixture
def noisy_timeline() -> Timeline:
    """Half a minute of noise (with :class:`NoiseClips`): more than a tiny disk holds."""
    return build([("speech", "n" * 5000, "Noise"), ("silence", SR, "Noise")] * 2)


def export_files(
    timeline: Timeline,
    target: Path,
    fmt: ex.Format,
    captions: str | None = None,
    cues: str | None = None,
    clips: ToneClips | None = None,
    **kwargs: Any,
) -> ex.Outputs:
    outputs = ex.Outputs.plan(target, fmt, captions, cues)
    meta = ex.Metadata(title=timeline.title, comment="A routine for tests.")
    ex.export(timeline, clips or ToneClips(), outputs, meta=meta, **kwargs)
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
    import importlib

    id3: Any = importlib.import_module("mutagen.id3")
    return id3.ID3(path)


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- Choosing the format -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "requested", "expected"),
    [
        (None, None, "mp3"),
        ("x.wav", None, "wav"),
        ("x.WAV", None, "wav"),
        ("x.flac", None, "flac"),
        ("x.oga", None, "ogg"),
        ("x.ogg", "OGG", "ogg"),
        ("session", "flac", "flac"),
        (None, "wav", "wav"),
        ("x.mp3", ".mp3", "mp3"),
    ],
)
def test_the_format_comes_from_the_option_or_the_name(
    output: str | None, requested: str | None, expected: str
) -> None:
    assert ex.choose_format(Path(output) if output else None, requested) == expected


@pytest.mark.parametrize(
    ("output", "requested", "message"),
    [
        ("x.aac", None, "x.aac: cannot tell the format from the name; end it in .mp3, "),
        ("session", None, "session: cannot tell the format from the name"),
        ("x.wav", "mp3", "format: mp3 does not match the file name x.wav (wav)"),
        (None, "aac", "format: expected one of mp3, wav, flac, ogg, got 'aac'"),
    ],
)
def test_a_format_that_cannot_be_settled_is_refused(
    output: str | None, requested: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match="^" + re.escape(message)):
        ex.choose_format(Path(output) if output else None, requested)


def test_mp3_is_64_kbps_at_every_mpeg_version() -> None:
    # libsndfile: bitrate = (int)(high - level * (high - low)), per MPEG version.
    for rate, low, high in [(44_100, 32, 320), (22_050, 8, 160), (11_025, 8, 64)]:
        level = ex.mp3_compression_level(64, rate)
        assert 0.0 <= level <= 1.0
        assert int(high - level * (high - low)) == 64


def test_sidecars_are_named_after_the_audio(tmp_path: Path) -> None:
    outputs = ex.Outputs.plan(tmp_path / "a.b.mp3", "mp3", "VTT", "json")
    assert outputs.paths() == [tmp_path / "a.b.mp3", tmp_path / "a.b.vtt", tmp_path / "a.b.json"]
    assert outputs.caption_format == "vtt"
    with pytest.raises(SettingError, match=r"^captions: expected vtt or srt, got 'ass'$"):
        ex.Outputs.plan(tmp_path / "a.mp3", "mp3", "ass")
    with pytest.raises(SettingError, match=r"^cues: expected json, got 'csv'$"):
        ex.Outputs.plan(tmp_path / "a.mp3", "mp3", None, "csv")
    with pytest.raises(UsageError, match="would have the same name"):
        ex.Outputs.plan(tmp_path / "a.json", "wav", None, "json")


# --- Audio: length, samples, onsets -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_lossless_files_hold_exactly_the_rendered_samples(
    fmt: ex.Format, timeline: Timeline, tmp_path: Path
) -> None:
    export_files(timeline, tmp_path / f"s.{fmt}", fmt)
    samples, rate = soundfile.read(tmp_path / f"s.{fmt}", dtype="int16")
    assert rate == SR
    assert len(samples) == timeline.total
    assert np.array_equal(samples, render(timeline, ToneClips()))


def test_cues_start_where_the_timeline_puts_them(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "s.wav", "wav")
    samples, _ = soundfile.read(tmp_path / "s.wav", dtype="float32")
    found = onsets(samples, ONSET_THRESHOLD)
    expected = expected_onsets(timeline)
    assert len(found) == len(expected) == 7
    for got, want in zip(found, expected, strict=True):
        assert abs(got - want) <= 5 * MS
    for cue in timeline.cues:
        if cue.kind == "silence":
            assert not np.any(samples[cue.start : cue.end]), "silence is digital zero"


@pytest.mark.parametrize("fmt", ["ogg", "mp3"])
def test_lossy_files_read_back_at_the_timeline_length(
    fmt: ex.Format, timeline: Timeline, tmp_path: Path
) -> None:
    export_files(timeline, tmp_path / f"s.{fmt}", fmt)
    info = soundfile.info(tmp_path / f"s.{fmt}")
    assert info.samplerate == SR
    assert info.channels == 2  # stereo unless the mix says mono
    assert abs(info.frames - timeline.total) <= 30 * MS


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_ffprobe_reads_each_format(fmt: ex.Format, long_timeline: Timeline, tmp_path: Path) -> None:
    path = tmp_path / f"s.{fmt}"
    export_files(long_timeline, path, fmt)
    probe = json.loads(
        subprocess.run(
            ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)],
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    )
    stream = probe["streams"][0]
    codec = {"wav": "pcm_s16le", "flac": "flac", "ogg": "vorbis", "mp3": "mp3"}[fmt]
    assert (stream["codec_name"], int(stream["sample_rate"]), stream["channels"]) == (codec, SR, 2)
    # ffprobe estimates an MP3's length from its bit rate and counts the encoder's
    # padding: allow two MPEG frames and change over the exact length.
    assert abs(float(probe["format"]["duration"]) - long_timeline.total / SR) < 0.1
    if fmt == "mp3":
        assert abs(int(probe["format"]["bit_rate"]) - 64_000) < 2_000
    found = {**probe["format"].get("tags", {}), **stream.get("tags", {})}  # Vorbis: per stream
    tags = {k.lower(): v for k, v in found.items()}
    assert tags["title"] == "Test routine"


def test_volume_scales_the_samples(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "s.wav", "wav", gain=0.5)
    samples, _ = soundfile.read(tmp_path / "s.wav", dtype="int16")
    assert np.array_equal(samples, render(timeline, ToneClips(), gain=0.5))


def test_progress_counts_samples_up_to_the_total(timeline: Timeline, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    export_files(timeline, tmp_path / "s.flac", "flac", progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (timeline.total, timeline.total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# --- Chapters and tags -------------------------------------------------------------------


def test_mp3_chapters_match_the_timeline(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "s.mp3", "mp3")
    tags = read_id3(tmp_path / "s.mp3")
    assert tags.version[:2] == (2, 3)
    chapters = timeline.chapters()
    assert [c.title for c in chapters] == ["Introduction", "Right side", "Left side", "Closing"]
    toc = tags.getall("CTOC")
    assert len(toc) == 1
    frames = {f.element_id: f for f in tags.getall("CHAP")}
    assert len(frames) == len(chapters)
    ordered = [frames[i] for i in toc[0].child_element_ids]
    for frame, chapter in zip(ordered, chapters, strict=True):
        assert frame.sub_frames["TIT2"].text == [chapter.title]
        assert frame.start_time == timeline.to_ms(chapter.start)
        assert frame.end_time == timeline.to_ms(chapter.end)
    assert ordered[-1].end_time == timeline.total_ms
    assert tags["TIT2"].text == ["Test routine"]
    assert tags["TALB"].text == ["voiceguide acupressure"]
    assert tags["TPE1"].text == ["voiceguide"]
    assert tags.getall("COMM")[0].text == ["A routine for tests."]
    assert tags["TLEN"].text == [str(timeline.total_ms)]


@pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffprobe is not installed")
def test_ffprobe_lists_the_chapters_in_order(timeline: Timeline, tmp_path: Path) -> None:
    # ffmpeg lists CHAP frames in file order, so the file must hold them in time order.
    plan: Plan = [("speech", f"Part {i}.", f"Part {i:02d} of many") for i in range(12)]
    timeline = build([item for p in plan for item in (p, ("silence", 100 * MS, p[2]))])
    export_files(timeline, tmp_path / "s.mp3", "mp3")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_chapters", "-of", "json", str(tmp_path / "s.mp3")],
        capture_output=True,
        check=True,
        text=True,
    )
    chapters = json.loads(probe.stdout)["chapters"]
    assert [c["tags"]["title"] for c in chapters] == [c.title for c in timeline.chapters()]
    assert [round(float(c["start_time"]) * 1000) for c in chapters] == [
        timeline.to_ms(c.start) for c in timeline.chapters()
    ]


# --- Captions and cues -------------------------------------------------------------------


def test_vtt_captions_say_what_is_said_when(timeline: Timeline) -> None:
    text = ex.captions_text(timeline, "vtt")
    first = timeline.cues[2]
    assert text.startswith(
        "WEBVTT\n\n1\n"
        f"00:00:00.{timeline.to_ms(first.start):03d} --> 00:00:00.{timeline.to_ms(first.end):03d}\n"
        "Sit comfortably &amp; breathe &lt;slowly&gt;.\n\n2\n"
    )
    assert text.count(" --> ") == 3


def test_srt_captions_use_commas_and_plain_text(timeline: Timeline) -> None:
    text = ex.captions_text(timeline, "srt")
    blocks = text.strip("\n").split("\n\n")
    assert len(blocks) == 3
    number, times, words = blocks[0].split("\n")
    assert number == "1"
    assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)
    assert words == "Sit comfortably & breathe <slowly>."


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


@pytest.mark.parametrize("kind", ["vtt", "srt"])
def test_captions_are_monotonic_and_match_the_speech_cues(kind: ex.CaptionFormat) -> None:
    plan: Plan = [("speech", f"Phrase number {i}.", "Long") for i in range(40)]
    timeline = build([item for p in plan for item in (p, ("silence", 61_001 * MS // 7, "Long"))])
    assert timeline.total_ms > 3600_000 / 20
    parsed = parse_captions(ex.captions_text(timeline, kind))
    speech = [c for c in timeline.cues if c.kind == "speech"]
    assert [p[2] for p in parsed] == [c.text for c in speech]
    assert [(p[0], p[1]) for p in parsed] == [
        (timeline.to_ms(c.start), timeline.to_ms(c.end)) for c in speech
    ]
    flat = [t for p in parsed for t in p[:2]]
    assert flat == sorted(flat)


def test_hours_are_written_in_timestamps() -> None:
    assert ex.to_srt([ex.Caption(3_723_004, 3_723_005, "x")]).split("\n")[1] == (
        "01:02:03,004 --> 01:02:03,005"
    )


def test_captions_and_cues_are_written_beside_the_audio(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "s.wav", "wav", captions="vtt", cues="json")
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]
    assert json.loads((tmp_path / "s.json").read_text()) == timeline.to_json()
    assert (tmp_path / "s.vtt").read_text() == ex.captions_text(timeline, "vtt")


# --- Atomic writes -----------------------------------------------------------------------


def test_a_folder_is_never_replaced(timeline: Timeline, tmp_path: Path) -> None:
    (tmp_path / "s.wav").mkdir()
    with pytest.raises(ExportError, match=r"s\.wav: is a directory; refusing to replace it$"):
        export_files(timeline, tmp_path / "s.wav", "wav")
    assert listing(tmp_path) == ["s.wav"]


def test_a_device_is_never_replaced(timeline: Timeline) -> None:
    with pytest.raises(ExportError, match=r"^/dev/null: is not a regular file; refusing"):
        export_files(timeline, Path("/dev/null"), "wav")


def test_missing_folders_are_created(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "a" / "b" / "s.wav", "wav", captions="vtt")
    assert listing(tmp_path / "a" / "b") == ["s.vtt", "s.wav"]


def test_folders_made_for_a_failed_export_are_removed(timeline: Timeline, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    target = tmp_path / "mine" / "new" / "newer" / "s.wav"
    with pytest.raises(AudioError):
        export_files(timeline, target, "wav", "vtt", clips=ToneClips(fail_on="Now the left hand."))
    assert listing(tmp_path) == ["mine"]  # not made by the export: kept, though empty
    assert listing(tmp_path / "mine") == []


def test_a_made_folder_that_is_no_longer_empty_is_kept(timeline: Timeline, tmp_path: Path) -> None:
    def drop_a_file(done: int, total: int) -> None:
        (tmp_path / "new" / "someone-else.txt").write_text("mine")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(timeline, tmp_path / "new" / "deeper" / "s.wav", "wav", progress=drop_a_file)
    assert listing(tmp_path) == ["new"]
    assert listing(tmp_path / "new") == ["someone-else.txt"]


def test_a_file_in_the_way_of_a_folder_is_refused(timeline: Timeline, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    target = tmp_path / "file" / "sub" / "s.wav"
    outputs = ex.Outputs.plan(target, "wav")
    with pytest.raises(ExportError, match=f"^{re.escape(str(target))}: .*/file is not a folder$"):
        outputs.check()
    with pytest.raises(ExportError, match=r"/file: is not a folder; nothing was written$"):
        ex.export(timeline, ToneClips(), outputs)
    assert listing(tmp_path) == ["file"]


@pytest.mark.parametrize("fmt", ["wav", "mp3"])
def test_a_failure_mid_render_leaves_the_old_file_and_no_temporary_file(
    fmt: ex.Format, timeline: Timeline, tmp_path: Path
) -> None:
    (tmp_path / f"s.{fmt}").write_bytes(b"the old export")
    clips = ToneClips(fail_on="Now the left hand.")
    with pytest.raises(AudioError):
        export_files(timeline, tmp_path / f"s.{fmt}", fmt, "srt", "json", clips=clips)
    assert listing(tmp_path) == [f"s.{fmt}"]
    assert (tmp_path / f"s.{fmt}").read_bytes() == b"the old export"


def test_an_interrupt_leaves_nothing(timeline: Timeline, tmp_path: Path) -> None:
    def interrupt(done: int, total: int) -> None:
        if done > total // 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(timeline, tmp_path / "s.mp3", "mp3", "vtt", "json", progress=interrupt)
    assert listing(tmp_path) == []


@pytest.fixture
def old_set(tmp_path: Path) -> list[Path]:
    """An earlier export's audio, captions and cues, each holding b"old"."""
    paths = [tmp_path / "s.wav", tmp_path / "s.vtt", tmp_path / "s.json"]
    for path in paths:
        path.write_bytes(b"old")
    return paths


def test_every_file_is_on_disk_before_the_first_rename(
    timeline: Timeline, old_set: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk can surface only at fsync: the cues failing there must stop the renames
    # before the audio is replaced, not after.
    opened: dict[int, str] = {}
    real_open, real_fsync = os.open, os.fsync

    def tracking_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = os.fspath(path)
        return fd

    def fsync(fd: int) -> None:
        if Path(opened.get(fd, "")).name.startswith(".s.json."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "open", tracking_open)
    monkeypatch.setattr(os, "fsync", fsync)
    message = f"^{tmp_path}/s.json: no space left on the device; nothing was written$"
    with pytest.raises(ExportError, match=message):
        export_files(timeline, tmp_path / "s.wav", "wav", "vtt", "json")
    assert [p.read_bytes() for p in old_set] == [b"old"] * 3
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]


def fail_to_rename(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make renaming a file over ``name`` fail, as a folder turned read-only would."""
    real_replace = os.replace

    def replace(source: Any, target: Any) -> None:
        if Path(target).name == name:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)


def test_the_audio_is_renamed_first_so_its_failure_replaces_nothing(
    timeline: Timeline, old_set: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_to_rename(monkeypatch, "s.wav")
    message = f"^{tmp_path}/s.wav: cannot write there \\(Permission denied\\); nothing was written$"
    with pytest.raises(ExportError, match=message):
        export_files(timeline, tmp_path / "s.wav", "wav", "vtt", "json")
    assert [p.read_bytes() for p in old_set] == [b"old"] * 3
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]


def test_a_rename_that_fails_midway_says_which_files_were_replaced(
    timeline: Timeline, old_set: list[Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_to_rename(monkeypatch, "s.vtt")
    with pytest.raises(ExportError) as info:
        export_files(timeline, tmp_path / "s.wav", "wav", "vtt", "json")
    assert str(info.value) == (
        f"{tmp_path}/s.vtt: cannot rename it into place (Permission denied); "
        f"{tmp_path}/s.wav was replaced but s.vtt and s.json were not, "
        "so the files do not match: export again"
    )
    assert soundfile.info(tmp_path / "s.wav").frames == timeline.total
    assert [p.read_bytes() for p in old_set[1:]] == [b"old"] * 2
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]


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


@pytest.fixture
def full_disk() -> Iterator[Path]:
    """A 64 KiB filesystem: smaller than any export of the long timeline."""
    with tmpfs("size=64k") as point:
        yield point


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_a_full_disk_leaves_nothing_and_says_so(
    fmt: ex.Format, noisy_timeline: Timeline, full_disk: Path
) -> None:
    target = full_disk / f"s.{fmt}"
    message = f"^{re.escape(str(target))}: no space left on the device; nothing was written$"
    with pytest.raises(ExportError, match=message):
        export_files(noisy_timeline, target, fmt, "vtt", "json", clips=NoiseClips())
    assert listing(full_disk) == []


def test_a_read_only_folder_is_refused_by_the_early_check(timeline: Timeline) -> None:
    with tmpfs("size=64k,ro") as point:
        target = point / "s.wav"
        with pytest.raises(ExportError, match=f"^{target}: cannot write in the folder {point}$"):
            ex.Outputs.plan(target, "wav").check()
        target = point / "new" / "s.wav"
        message = f"^{target}: cannot create the folder {point}/new in {point}$"
        with pytest.raises(ExportError, match=message):
            ex.Outputs.plan(target, "wav").check()
        with pytest.raises(ExportError, match=f"^{point}/new: cannot create the folder \\(Read"):
            export_files(timeline, target, "wav")  # without the early check
        assert listing(point) == []


# --- Standard output ---------------------------------------------------------------------


def test_the_wav_header_is_exact() -> None:
    header = ex.wav_header(1000, SR)
    assert len(header) == 44
    stream = io.BytesIO(header + b"\x00\x00" * 1000)
    with wave.open(stream) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SR)
        assert wav.getnframes() == 1000
    assert struct.unpack("<I", header[4:8])[0] == 36 + 2000
    with pytest.raises(ExportError, match="too long for one WAV file"):
        ex.wav_header(2**31, SR)


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3"])
def test_a_stream_holds_the_whole_session(fmt: ex.Format, timeline: Timeline) -> None:
    out = io.BytesIO()
    ex.export_stream(out, timeline, ToneClips(), fmt)
    out.seek(0)
    samples, rate = soundfile.read(out, dtype="int16")
    assert rate == SR
    if fmt == "mp3":
        assert abs(len(samples) - timeline.total) <= 30 * MS
    else:
        assert np.array_equal(samples, render(timeline, ToneClips()))


def test_a_stream_to_a_full_disk_fails_with_one_line(
    noisy_timeline: Timeline, full_disk: Path
) -> None:
    with (
        (full_disk / "piped.wav").open("wb", buffering=0) as out,
        pytest.raises(ExportError, match=r"^standard output: No space left on device$"),
    ):
        ex.export_stream(out, noisy_timeline, NoiseClips(), "wav")


# --- The command line (with a fake speech engine) ----------------------------------------


class FakeEngine:
    """Speaks a 220 Hz tone, 20 ms a character, between stretches of silence."""

    name = "fake"

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        self.settings = settings or DEFAULT_VOICE

    def identity(self) -> str:
        return f"fake-export 1 rate={self.settings.rate_wpm}"

    def voices(self) -> list[Voice]:
        return [Voice(id="fake", name="Fake")]

    def synthesize(self, text: str) -> Speech:
        voiced = 0.5 * np.sin(2 * np.pi * 220 * np.arange(SR * 20 * len(text) // 1000) / SR)
        audio = np.concatenate([np.zeros(SR // 20), voiced, np.zeros(SR // 10)])
        return Speech(samples=np.round(audio * 32767).astype(np.int16), sample_rate=SR)

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speak with :class:`FakeEngine` whatever engine is asked for."""
    from voiceguide.sound import engines

    def make_engine(*args: object, **kwargs: object) -> FakeEngine:
        return FakeEngine()

    monkeypatch.setattr(engines, "make_engine", make_engine)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TWO_SIDED_ROUTINE)
    return path


def session_timeline(path: Path, *extra: str) -> Timeline:
    """The timeline the CLI exports for ``path`` with the same options."""
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.session import SessionRequest, open_session

    options = CompileOptions(intro="--skip-intro" not in extra)
    return open_session(SessionRequest(str(path), options)).timeline


def test_export_writes_a_file_and_one_line(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out.wav"
    code, out, err = run(["export", str(tiny), "-o", str(target), "--skip-intro"], capsys)
    assert (code, err) == (0, "")
    assert re.fullmatch(rf"wrote {re.escape(str(target))} \([\d.]+s\)\n", out)
    timeline = session_timeline(tiny, "--skip-intro")
    assert soundfile.info(target).frames == timeline.total


def test_export_defaults_to_an_mp3_named_after_the_routine(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["export", str(tiny), "--captions", "srt", "--cues", "json"], capsys)
    assert code == 0
    assert re.fullmatch(
        r"wrote tiny\.mp3 \(\d+\.?\d*s, 6 chapters\) with tiny\.srt, tiny\.json\n", out
    )
    assert listing(tmp_path) == ["tiny.json", "tiny.mp3", "tiny.srt", "tiny.yaml"]
    assert json.loads((tmp_path / "tiny.json").read_text())["chapters"][2]["title"] == "Right side"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["-o", "{tmp}/tiny.yaml/x.mp3"], 1, "voiceguide: {tmp}/tiny.yaml/x.mp3: {tmp}/tiny.yaml"),
        (["-o", "/dev/null"], 1, "voiceguide: /dev/null: is not a regular file; refusing"),
        (["-o", "x.wav", "-f", "ogg"], 2, "voiceguide: --format: ogg does not match the file"),
        (["-o", "-", "--captions", "vtt"], 2, "voiceguide: --captions and --cues need a file"),
        (["--all", "{tmp}"], 2, "voiceguide: --all exports every routine; give no ROUTINE"),
        (["--captions", "txt"], 2, "voiceguide: --captions: expected vtt or srt, got 'txt'\n"),
    ],
)
def test_export_refuses_with_one_line(
    args: list[str],
    code: int,
    message: str,
    tiny: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    got, out, err = run(["export", str(tiny), *args], capsys)
    assert (got, out) == (code, "")
    assert err.startswith(message.replace("{tmp}", str(tmp_path)))
    assert err.count("\n") == 1


@pytest.fixture
def no_synthesis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the routine is ever synthesized."""
    from voiceguide import session

    def open_session(*args: object, **kwargs: object) -> None:
        raise AssertionError("synthesis began")

    monkeypatch.setattr(session, "open_session", open_session)


def test_a_folder_given_as_output_gets_the_routine_name_and_format(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = run(["export", str(tiny), "-o", str(out_dir), "--captions", "vtt"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {out_dir}/tiny.mp3 (")
    code, out, err = run(["export", str(tiny), "-o", str(out_dir), "-f", "flac"], capsys)
    assert (code, err) == (0, "")
    assert listing(out_dir) == ["tiny.flac", "tiny.mp3", "tiny.vtt"]
    assert soundfile.info(out_dir / "tiny.flac").format == "FLAC"


def test_a_folder_where_the_routine_file_would_go_is_refused_before_synthesis(
    tiny: Path, tmp_path: Path, no_synthesis: None, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tiny.wav").mkdir()
    code, out, err = run(["export", str(tiny), "-o", str(tmp_path), "-f", "wav"], capsys)
    assert (code, out) == (1, "")
    assert err == f"voiceguide: {tmp_path}/tiny.wav: is a directory; refusing to replace it\n"


def test_export_creates_missing_folders(
    tiny: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x" / "y" / "s.wav"
    code, out, err = run(["export", str(tiny), "-o", str(target), "--cues", "json"], capsys)
    assert (code, err) == (0, "")
    assert out.startswith(f"wrote {target} (")
    assert listing(target.parent) == ["s.json", "s.wav"]


def test_no_folder_is_made_for_an_export_that_fails_its_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("title: Broken\nsteps:\n  - press: {hold: 3s}\n")
    code, _, err = run(["export", str(broken), "-o", str(tmp_path / "x" / "s.wav")], capsys)
    assert code == 2
    assert "broken.yaml:3:" in err
    code, _, err = run(["export", "no-such-routine", "-o", str(tmp_path / "x" / "s.wav")], capsys)
    assert code == 3
    assert listing(tmp_path) == ["broken.yaml"]


def test_a_folder_made_for_a_failed_export_is_removed(
    tiny: Path, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = full_disk / "new" / "out.flac"
    code, out, err = run(["export", str(tiny), "-o", str(target)], capsys)
    assert (code, out) == (1, "")
    assert err == f"voiceguide: {target}: no space left on the device; nothing was written\n"
    assert listing(full_disk) == []


def test_export_checks_each_file_twice_and_finds_the_routine_once(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Once in the command, before synthesis; once in atomic_path, before writing.
    from voiceguide import atomic
    from voiceguide.script import library

    checked: list[str] = []
    found: list[str] = []
    real_check, real_find = atomic.check_target, library.find

    def check_target(target: Path) -> None:
        checked.append(target.name)
        real_check(target)

    def find(name: str) -> library.Entry:
        found.append(name)
        return real_find(name)

    monkeypatch.setattr(atomic, "check_target", check_target)
    monkeypatch.setattr(ex, "check_target", check_target)
    monkeypatch.setattr(library, "find", find)
    target = tmp_path / "s.wav"
    code, _, err = run(["export", str(tiny), "-o", str(target), "--captions", "srt"], capsys)
    assert (code, err) == (0, "")
    assert sorted(checked) == ["s.srt", "s.srt", "s.wav", "s.wav"]
    assert found == [str(tiny)]


def test_the_progress_bar_reads_the_clock_as_show_does(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from voiceguide.script.durations import format_clock

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, _, _ = run(["export", str(tiny), "-o", str(tmp_path / "s.wav")], capsys)
    assert code == 0
    total_ms = session_timeline(tiny).total_ms
    assert f"/{format_clock(total_ms)}" in terminal.getvalue()


def test_export_needs_a_routine_or_all(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["export"], capsys) == (
        2,
        "",
        "voiceguide: give a ROUTINE to export, or --all DIR\n",
    )


def test_a_full_disk_exits_1_with_one_line(
    tiny: Path, full_disk: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = full_disk / "out.flac"
    code, out, err = run(["export", str(tiny), "-o", str(target)], capsys)
    assert (code, out) == (1, "")
    assert err == f"voiceguide: {target}: no space left on the device; nothing was written\n"
    assert listing(full_disk) == []


def test_export_to_standard_output_writes_only_a_wav_stream(
    tiny: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(buffer))
    with pytest.raises(SystemExit) as exit_info:
        main(["export", str(tiny), "-o", "-", "--skip-intro"])
    assert exit_info.value.code in (0, None)
    samples, rate = soundfile.read(io.BytesIO(buffer.getvalue()), dtype="int16")
    assert rate == SR
    assert len(samples) == session_timeline(tiny, "--skip-intro").total
    assert capsys.readouterr().err == ""


def test_export_all_writes_every_routine_and_reports_a_broken_one(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builtin = tmp_path / "builtin"
    builtin.mkdir()
    shutil.copy(tiny, builtin / "first.yaml")
    monkeypatch.setattr(paths, "builtin_scripts_dir", lambda: builtin)
    mine = paths.user_scripts_dir()
    mine.mkdir(parents=True)
    shutil.copy(tiny, mine / "mine.yaml")
    (mine / "broken.yaml").write_text("title: Broken\nsteps:\n  - press: {hold: 3s}\n")
    out_dir = tmp_path / "out" / "nested"
    code, out, err = run(["export", "--all", str(out_dir), "-f", "flac", "--skip-intro"], capsys)
    assert code == 2
    assert listing(out_dir) == ["first.flac", "mine.flac"]
    lines = out.splitlines()
    assert len(lines) == 2
    assert all(re.fullmatch(r"wrote .*/(first|mine)\.flac \([\d.]+s\)", line) for line in lines)
    assert err.startswith("voiceguide: skipped broken: ")
    assert "broken.yaml:3:" in err
    assert err.count("\n") == 1


def test_export_all_leaves_no_empty_folder_when_it_stops(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "out" / "nested"
    code, _, err = run(["export", "--all", str(out_dir), "--captions", "txt"], capsys)
    assert code == 2
    assert err == "voiceguide: --captions: expected vtt or srt, got 'txt'\n"
    assert listing(tmp_path) == []


def test_export_help_names_the_formats_and_the_default(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["export", "--help"], capsys)
    assert code == 0
    flat = " ".join(out.split())
    for words in [
        "./ROUTINE.mp3",
        "an existing folder to write ROUTINE.mp3",
        "missing folders in -o are created",
        "mp3, wav, flac or ogg",
        "--captions",
        "--all DIR",
        "130",
    ]:
        assert words in flat
    assert "Example: voiceguide export" in flat
