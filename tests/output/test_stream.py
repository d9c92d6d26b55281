"""Writing to standard output, or any stream (output/stream.py)."""

from __future__ import annotations

import io
import struct
import tempfile
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.output.helpers import MS, SR, NoiseClips, ToneClips, needs_ffmpeg, read_id3
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import ExportError
from voiceguide.output.formats import Format
from voiceguide.output.stream import export_stream, wav_header
from voiceguide.sound.render import render


def test_the_wav_header_is_exact() -> None:
    header = wav_header(1000, SR)
    assert len(header) == 44
    stream = io.BytesIO(header + b"\x00\x00" * 1000)
    with wave.open(stream) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SR)
        assert wav.getnframes() == 1000
    assert struct.unpack("<I", header[4:8])[0] == 36 + 2000
    with pytest.raises(ExportError, match="too long for one WAV file"):
        wav_header(2**31, SR)


def test_a_stereo_wav_header_counts_frames_of_two_samples() -> None:
    with wave.open(io.BytesIO(wav_header(10, SR, channels=2) + b"\x00" * 40)) as wav:
        assert (wav.getnchannels(), wav.getnframes()) == (2, 10)


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", pytest.param("opus", marks=needs_ffmpeg)])
def test_a_stream_holds_the_whole_session(fmt: Format, timeline: Timeline) -> None:
    out = io.BytesIO()
    export_stream(out, timeline, ToneClips(), fmt)
    out.seek(0)
    samples, rate = soundfile.read(out, dtype="int16")
    if fmt in ("mp3", "opus"):
        assert abs(len(samples) * SR / rate - timeline.total) <= 30 * MS
    else:
        assert rate == SR
        assert np.array_equal(samples, render(timeline, ToneClips()))


def test_an_mp3_stream_keeps_its_tags_and_leaves_no_temporary_file(timeline: Timeline) -> None:
    before = set(Path(tempfile.gettempdir()).glob(".voiceguide-stream.*"))
    out = io.BytesIO()
    export_stream(out, timeline, ToneClips(), "mp3")
    path = Path(tempfile.gettempdir()) / "check-stream.mp3"
    try:
        path.write_bytes(out.getvalue())
        assert read_id3(path)["TIT2"].text == ["Test routine"]
    finally:
        path.unlink()
    assert set(Path(tempfile.gettempdir()).glob(".voiceguide-stream.*")) == before


def test_a_stream_to_a_full_disk_fails_with_one_line(
    noisy_timeline: Timeline, full_disk: Path
) -> None:
    with (
        (full_disk / "piped.wav").open("wb", buffering=0) as out,
        pytest.raises(ExportError, match=r"^standard output: No space left on device$"),
    ):
        export_stream(out, noisy_timeline, NoiseClips(), "wav")
