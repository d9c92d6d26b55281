"""The audio of every format: length to the sample, onsets, the encoders (output/audio.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tests.output.helpers import (
    MS,
    ONSET_THRESHOLD,
    SR,
    ToneClips,
    expected_onsets,
    export_files,
    needs_ffmpeg,
    onsets,
    sine,
)
from voiceguide.compile.timeline import Timeline
from voiceguide.output import ffmpeg
from voiceguide.output.audio import write_audio
from voiceguide.output.formats import Format
from voiceguide.sound.render import render

LOSSY_READ_BACK = ["ogg", "mp3", "opus"]
"""The lossy formats soundfile reads back (M4A it cannot)."""


def probe(path: Path) -> dict[str, Any]:
    command = ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", str(path)]
    result = subprocess.run(command, capture_output=True, check=True, text=True)
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def decode(path: Path, channels: int = 1) -> npt.NDArray[np.float32]:
    """Decode any file with ffmpeg to float samples at 22,050 Hz, as a player would."""
    command = ["ffmpeg", "-v", "error", "-i", str(path), "-f", "f32le", "-ar", str(SR)]
    raw = subprocess.run([*command, "-ac", str(channels), "-"], capture_output=True, check=True)
    samples = np.frombuffer(raw.stdout, dtype="<f4")
    return samples.reshape(-1, channels) if channels > 1 else samples


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_lossless_files_hold_exactly_the_rendered_samples(
    fmt: Format, timeline: Timeline, tmp_path: Path
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


@pytest.mark.parametrize("fmt", LOSSY_READ_BACK)
def test_lossy_files_read_back_at_the_timeline_length(
    fmt: Format, timeline: Timeline, tmp_path: Path
) -> None:
    export_files(timeline, tmp_path / f"s.{fmt}", fmt)
    info = soundfile.info(tmp_path / f"s.{fmt}")
    assert info.channels == 2  # stereo unless the mix says mono
    assert abs(info.frames * SR / info.samplerate - timeline.total) <= 30 * MS
    assert info.samplerate == (24_000 if fmt == "opus" else SR)


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3", "opus", "m4a", "m4b"])
def test_ffprobe_reads_each_format(fmt: Format, long_timeline: Timeline, tmp_path: Path) -> None:
    path = tmp_path / f"s.{fmt}"
    export_files(long_timeline, path, fmt)
    found = probe(path)
    stream = found["streams"][0]
    codec = {"wav": "pcm_s16le", "flac": "flac", "ogg": "vorbis", "mp3": "mp3"}.get(fmt, "")
    codec = codec or {"opus": "opus", "m4a": "aac", "m4b": "aac"}[fmt]
    rate = 48_000 if fmt == "opus" else SR  # Opus always decodes at 48 kHz
    found_stream = (stream["codec_name"], int(stream["sample_rate"]), stream["channels"])
    assert found_stream == (codec, rate, 2)
    # ffprobe estimates an MP3's length from its bit rate and counts the encoder's
    # padding: allow a few frames over the exact length.
    assert abs(float(found["format"]["duration"]) - long_timeline.total / SR) < 0.1
    tags = {**found["format"].get("tags", {}), **stream.get("tags", {})}  # Vorbis: per stream
    assert {k.lower(): v for k, v in tags.items()}["title"] == "Test routine"


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["ogg", "mp3", "opus", "m4a"])
def test_a_decoder_hears_the_session_where_and_as_long_as_rendered(
    fmt: Format, timeline: Timeline, tmp_path: Path
) -> None:
    export_files(timeline, tmp_path / f"s.{fmt}", fmt)
    heard = decode(tmp_path / f"s.{fmt}")
    # Gapless: the encoder's delay and padding are recorded (LAME header, Opus pre-skip,
    # the MP4 edit list), so what is heard starts and ends where the session does.
    # ffmpeg's own decoder leaves AAC's priming in (1024 samples at most).
    slack = {"m4a": 1024}.get(fmt, 2)
    assert abs(len(heard) - timeline.total) <= slack
    found = onsets(heard, 10 ** (-30 / 20))
    expected = expected_onsets(timeline)
    assert len(found) == len(expected)
    for got, want in zip(found, expected, strict=True):
        assert abs(got - want) <= 10 * MS


@needs_ffmpeg
def test_mp3_has_a_vbr_header_that_gives_the_exact_length(
    long_timeline: Timeline, tmp_path: Path
) -> None:
    export_files(long_timeline, tmp_path / "s.mp3", "mp3")
    data = (tmp_path / "s.mp3").read_bytes()
    audio = data[10 + _id3_size(data) :]  # after the ID3v2 tag
    assert audio[:2] == b"\xff\xf3"  # MPEG-2 Layer III: 22,050 Hz
    assert b"Xing" in audio[:64], "a VBR stream starts with a Xing header"
    frames = int.from_bytes(audio[audio.index(b"Xing") + 8 :][:4], "big")
    # The header counts the frames (576 samples each at 22,050 Hz) and the LAME tag the
    # delay and padding, so a decoder knows the length before it reads the file.
    assert frames * 576 >= long_timeline.total
    assert soundfile.info(tmp_path / "s.mp3").frames == long_timeline.total


def _id3_size(data: bytes) -> int:
    assert data[:3] == b"ID3"
    size = 0
    for byte in data[6:10]:
        size = size << 7 | byte  # a syncsafe integer: 7 bits a byte
    return size


def test_mp3_without_ffmpeg_is_written_by_libsndfile(
    timeline: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ffmpeg, "find_ffmpeg", lambda: None)
    export_files(timeline, tmp_path / "s.mp3", "mp3")
    data = (tmp_path / "s.mp3").read_bytes()
    assert b"Xing" in data[10 + _id3_size(data) :][:64]
    assert abs(soundfile.info(tmp_path / "s.mp3").frames - timeline.total) <= 30 * MS


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["mp3", "opus", "m4a", "flac", "ogg"])
def test_every_encoder_takes_two_channels(fmt: Format, tmp_path: Path) -> None:
    # Stereo comes next: a tone on the left, another on the right, kept apart.
    left = sine(440, 4 * SR, 0.3)
    right = sine(660, 4 * SR, 0.3)
    both = np.round(np.stack([left, right], axis=1) * 32767).astype(np.int16)
    blocks = [both[i : i + SR] for i in range(0, len(both), SR)]
    path = tmp_path / f"s.{fmt}"
    write_audio(path, fmt, blocks, sample_rate=SR, total=len(both), channels=2)
    heard = decode(path, channels=2)[SR // 2 : -SR // 2]
    assert heard.shape[1] == 2
    spectrum = np.abs(np.fft.rfft(heard, axis=0))
    freqs = np.fft.rfftfreq(len(heard), 1 / SR)
    assert abs(freqs[np.argmax(spectrum[:, 0])] - 440) < 5
    assert abs(freqs[np.argmax(spectrum[:, 1])] - 660) < 5


def test_volume_scales_the_samples(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "s.wav", "wav", gain=0.5)
    samples, _ = soundfile.read(tmp_path / "s.wav", dtype="int16")
    assert np.array_equal(samples, render(timeline, ToneClips(), gain=0.5))


@pytest.mark.parametrize("fmt", ["flac", pytest.param("mp3", marks=needs_ffmpeg)])
def test_progress_counts_samples_up_to_the_total(
    fmt: Format, timeline: Timeline, tmp_path: Path
) -> None:
    seen: list[tuple[int, int]] = []
    export_files(timeline, tmp_path / f"s.{fmt}", fmt, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (timeline.total, timeline.total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["mp3", "opus", "m4a", "ogg", "flac"])
def test_the_same_session_gives_the_same_bytes(
    fmt: Format, timeline: Timeline, tmp_path: Path
) -> None:
    export_files(timeline, tmp_path / f"a.{fmt}", fmt)
    export_files(timeline, tmp_path / f"b.{fmt}", fmt)
    assert (tmp_path / f"a.{fmt}").read_bytes() == (tmp_path / f"b.{fmt}").read_bytes()
