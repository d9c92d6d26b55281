"""MPEG frames, the Xing/LAME header and its CRCs (output/mp3frames.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.output.helpers import needs_ffmpeg
from voiceguide.output import mp3frames
from voiceguide.output.codecs import ffmpeg_command


def test_crc16_is_lames_crc16_arc() -> None:
    assert mp3frames.crc16(b"123456789") == 0xBB3D  # the catalogued check value
    assert mp3frames.crc16(b"") == 0


def test_crcs_of_pieces_combine_into_the_crc_of_the_whole() -> None:
    data = bytes(np.random.default_rng(3).integers(0, 256, 5000, dtype=np.uint8))
    for cut in (0, 1, 17, 2500, 4999, 5000):
        a, b = data[:cut], data[cut:]
        pieces = [(mp3frames.crc16(a), len(a)), (mp3frames.crc16(b), len(b))]
        assert mp3frames.crc16_combine(pieces) == mp3frames.crc16(data)


def test_a_frame_header_gives_its_size() -> None:
    # MPEG-2 Layer III, 64 kbit/s, 22,050 Hz, no padding, mono: 72000 * 64 // 22050 bytes.
    header = bytes([0xFF, 0xF3, 0x80, 0xC4])
    frame = mp3frames.frame_at(header, 0)
    assert (frame.size, frame.samples, frame.sample_rate, frame.side_info) == (208, 576, 22_050, 9)
    with pytest.raises(mp3frames.FrameError, match="no MPEG frame at byte 0"):
        mp3frames.frame_at(b"ID3\x03", 0)
    with pytest.raises(mp3frames.FrameError, match="cut short"):
        mp3frames.frames(header + bytes(100))


@pytest.fixture
def lame_file(tmp_path: Path) -> bytes:
    """What ffmpeg's LAME writes for four seconds of noise, Xing header first."""
    noise = (np.random.default_rng(0).standard_normal(4 * 22_050) * 3000).astype("<i2")
    path = tmp_path / "one.mp3"
    command = ffmpeg_command("ffmpeg", "mp3", path, sample_rate=22_050, channels=1)
    subprocess.run(command, input=noise.tobytes(), check=True)
    return path.read_bytes()


@needs_ffmpeg
def test_the_frames_of_a_lame_stream_tile_it(lame_file: bytes) -> None:
    offsets = mp3frames.frames(lame_file)
    info = mp3frames.frame_at(lame_file, 0)
    count, size, music_crc = mp3frames.xing_fields(lame_file, info)
    assert (count, size) == (len(offsets) - 1, len(lame_file))
    assert offsets[1] == info.size
    assert music_crc == mp3frames.crc16(lame_file[info.size :])
    assert mp3frames.delay_and_padding(lame_file, info)[0] == 576


@needs_ffmpeg
def test_rewriting_the_information_frame_keeps_what_lame_wrote(lame_file: bytes) -> None:
    info = mp3frames.frame_at(lame_file, 0)
    template = lame_file[: info.size]
    offsets = [o - info.size for o in mp3frames.frames(lame_file)[1:]]
    _, _, crc = mp3frames.xing_fields(lame_file, info)
    delay, padding = mp3frames.delay_and_padding(lame_file, info)
    rebuilt = mp3frames.info_frame(
        template, offsets, len(lame_file) - info.size, delay=delay, padding=padding, music_crc=crc
    )
    at = mp3frames.xing_offset(lame_file, info)
    assert at is not None
    assert len(rebuilt) == len(template)
    # Everything but the seek table (ours is exact, ffmpeg's sampled) and the tag's CRC.
    same = [i for i in range(len(template)) if not at + 16 <= i < at + 116]
    assert [rebuilt[i] for i in same if i < at + 154] == [template[i] for i in same if i < at + 154]
    toc = rebuilt[at + 16 : at + 116]
    assert toc[0] == info.size * 256 // len(lame_file)
    assert list(toc) == sorted(toc)
    tag_crc = int.from_bytes(rebuilt[at + 154 : at + 156], "big")
    assert tag_crc == mp3frames.crc16(rebuilt[: at + 154])


def test_a_padding_that_does_not_fit_is_refused(tmp_path: Path) -> None:
    frame = bytearray(208)
    frame[:4] = bytes([0xFF, 0xF3, 0x80, 0xC4])
    frame[13:21] = b"Xing\x00\x00\x00\x0f"
    with pytest.raises(mp3frames.FrameError, match="does not fit"):
        mp3frames.info_frame(bytes(frame), [0], 100, delay=576, padding=5000, music_crc=0)
