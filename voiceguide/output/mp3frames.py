"""MPEG audio frames, and the Xing/LAME header that tells players an MP3's exact length (pure).

An MP3 from LAME starts with an information frame: a frame that decodes to silence and
holds, after the ``Xing`` mark, the number of audio frames and bytes, a table of 100 seek
points, and LAME's tag with the encoder's delay and padding (which a gapless decoder
skips) and two CRC-16s. Joining MP3 streams encoded apart (:mod:`voiceguide.output.parallel`)
takes one such frame for the whole: :func:`info_frame` rewrites the first stream's.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass

DECODER_DELAY = 529
"""Samples every MP3 decoder's filter bank adds before the encoder's delay (528 + 1)."""

_KBPS = {
    1: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2 and 2.5
}
_RATES = {3: (44_100, 48_000, 32_000), 2: (22_050, 24_000, 16_000), 0: (11_025, 12_000, 8_000)}

# Offsets after the "Xing" mark (all four of its fields present), and in LAME's tag.
_FRAMES, _BYTES, _TOC = 8, 12, 16
_DELAY_PADDING = 141
_MUSIC_LENGTH, _MUSIC_CRC, _TAG_CRC = 148, 152, 154
_TAG_CRC_SPAN = 190
"""The tag's own CRC covers the first 190 bytes of the frame (as LAME and ffmpeg write it)."""


class FrameError(ValueError):
    """Bytes that are not the MPEG Layer III frames they should be."""


@dataclass(frozen=True)
class Frame:
    """One MPEG Layer III frame: where it starts, how long it is, its samples and rate."""

    offset: int
    size: int
    samples: int
    sample_rate: int
    side_info: int
    """Bytes of side information after the 4-byte header (where a Xing mark would start)."""


def frame_at(data: bytes, offset: int) -> Frame:
    """Read the header of the Layer III frame at ``offset``."""
    if offset + 4 > len(data) or data[offset] != 0xFF or data[offset + 1] & 0xE0 != 0xE0:
        raise FrameError(f"no MPEG frame at byte {offset}")
    version = data[offset + 1] >> 3 & 3
    layer = data[offset + 1] >> 1 & 3
    bitrate_index = data[offset + 2] >> 4
    rate_index = data[offset + 2] >> 2 & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        raise FrameError(f"not an MPEG Layer III frame at byte {offset}")
    padding = data[offset + 2] >> 1 & 1
    mono = data[offset + 3] >> 6 == 3
    rate = _RATES[version][rate_index]
    if version == 3:  # MPEG-1: 1152 samples a frame
        kbps = _KBPS[1][bitrate_index]
        return Frame(offset, 144_000 * kbps // rate + padding, 1152, rate, 17 if mono else 32)
    kbps = _KBPS[2][bitrate_index]
    return Frame(offset, 72_000 * kbps // rate + padding, 576, rate, 9 if mono else 17)


def frames(data: bytes, start: int = 0) -> list[int]:
    """Return the offset of every frame of ``data`` from ``start`` on, to its very end.

    The frames of one stream share their version, rate and mode (LAME's do), so after the
    first, only the bit rate and padding (the third header byte) change a frame's size:
    a table of those keeps the walk quick (some 80,000 frames for half an hour).
    """
    frame_at(data, start)  # the first must be a frame, whatever follows
    sizes = {}
    for third in range(256):
        header = data[start : start + 2] + bytes([third]) + data[start + 3 : start + 4]
        with contextlib.suppress(FrameError):
            sizes[third] = frame_at(header, 0).size
    found: list[int] = []
    offset, end, second = start, len(data), data[start + 1]
    while offset < end:
        if data[offset] != 0xFF or data[offset + 1] != second or data[offset + 2] not in sizes:
            if offset + 4 > end:
                raise FrameError(f"the frame at byte {offset} is cut short")
            frame_at(data, offset)  # says what is wrong
            raise FrameError(f"the frame at byte {offset} does not belong to the stream")
        found.append(offset)
        offset += sizes[data[offset + 2]]
    if offset != end:
        raise FrameError(f"the frame at byte {found[-1]} is cut short")
    return found


def xing_offset(data: bytes, frame: Frame) -> int | None:
    """Where the ``Xing`` (or ``Info``) mark of ``frame`` starts, if it is an information frame."""
    at = frame.offset + 4 + frame.side_info
    return at if data[at : at + 4] in (b"Xing", b"Info") else None


def xing_fields(data: bytes, frame: Frame) -> tuple[int, int, int]:
    """Return the information frame's audio frames, bytes and music CRC."""
    at = xing_offset(data, frame)
    if at is None or data[at + 4 : at + 8] != b"\x00\x00\x00\x0f":
        raise FrameError("the first frame is not a Xing header with all its fields")
    count = int.from_bytes(data[at + _FRAMES : at + _FRAMES + 4], "big")
    size = int.from_bytes(data[at + _BYTES : at + _BYTES + 4], "big")
    crc = int.from_bytes(data[at + _MUSIC_CRC : at + _MUSIC_CRC + 2], "big")
    return count, size, crc


def delay_and_padding(data: bytes, frame: Frame) -> tuple[int, int]:
    """Return the encoder delay and padding LAME's tag records (samples)."""
    at = xing_offset(data, frame)
    if at is None:
        raise FrameError("the first frame is not a Xing header")
    packed = int.from_bytes(data[at + _DELAY_PADDING : at + _DELAY_PADDING + 3], "big")
    return packed >> 12, packed & 0xFFF


def info_frame(
    template: bytes,
    audio_frames: list[int],
    audio_bytes: int,
    *,
    delay: int,
    padding: int,
    music_crc: int,
) -> bytes:
    """Rewrite the information frame ``template`` for a stream of other audio frames.

    ``audio_frames`` are the byte offsets of the audio frames, counted from the start of
    the first audio frame; ``audio_bytes`` their total size. The seek table maps each
    hundredth of the frames to a 256th of the bytes, both counted with the information
    frame, as LAME does.
    """
    frame = frame_at(template, 0)
    at = xing_offset(template, frame)
    if at is None or frame.size != len(template):
        raise FrameError("the template is not one information frame")
    if not 0 <= padding < 4096 or not 0 <= delay < 4096:
        raise FrameError(f"delay {delay} or padding {padding} does not fit LAME's tag")
    out = bytearray(template)
    total = len(template) + audio_bytes
    count = len(audio_frames)
    out[at + _FRAMES : at + _FRAMES + 4] = count.to_bytes(4, "big")
    out[at + _BYTES : at + _BYTES + 4] = total.to_bytes(4, "big")
    toc = bytes(
        min(255, 256 * (len(template) + audio_frames[i * count // 100]) // total)
        for i in range(100)
    )
    out[at + _TOC : at + _TOC + 100] = toc
    out[at + _DELAY_PADDING : at + _DELAY_PADDING + 3] = (delay << 12 | padding).to_bytes(3, "big")
    out[at + _MUSIC_LENGTH : at + _MUSIC_LENGTH + 4] = total.to_bytes(4, "big")
    out[at + _MUSIC_CRC : at + _MUSIC_CRC + 2] = music_crc.to_bytes(2, "big")
    out[at + _TAG_CRC : at + _TAG_CRC + 2] = b"\x00\x00"
    tag_crc = crc16(bytes(out[: min(_TAG_CRC_SPAN, at + _TAG_CRC)]))
    out[at + _TAG_CRC : at + _TAG_CRC + 2] = tag_crc.to_bytes(2, "big")
    return bytes(out)


# CRC-16 as LAME's tag uses it: polynomial 0x8005, reflected, initial value 0 ("ARC").
_TABLE = []
for _byte in range(256):
    _crc = _byte
    for _ in range(8):
        _crc = (_crc >> 1) ^ 0xA001 if _crc & 1 else _crc >> 1
    _TABLE.append(_crc)


def crc16(data: bytes, crc: int = 0) -> int:
    """CRC-16/ARC of ``data`` (for a few hundred bytes: it runs in Python)."""
    for byte in data:
        crc = (crc >> 8) ^ _TABLE[(crc ^ byte) & 0xFF]
    return crc


def crc16_combine(crcs: Iterable[tuple[int, int]]) -> int:
    """CRC-16/ARC of pieces joined, from each piece's CRC and length, without their bytes.

    The CRC is linear with no initial value, so the CRC of A then B is the CRC of A moved
    through len(B) zero bytes, xor the CRC of B; moving through n zero bytes is a 16×16
    bit matrix to the n-th power, found by squaring.
    """
    total = 0
    for crc, length in crcs:
        total = _through_zeros(total, length) ^ crc
    return total


def _through_zeros(crc: int, count: int) -> int:
    """The CRC after ``count`` more zero bytes (the register moves by a fixed linear map)."""
    step = [_zero_byte(1 << bit) for bit in range(16)]  # one zero byte, column by column
    while count:
        if count & 1:
            crc = _apply(step, crc)
        step = [_apply(step, column) for column in step]  # the map composed with itself
        count >>= 1
    return crc


def _zero_byte(crc: int) -> int:
    return (crc >> 8) ^ _TABLE[crc & 0xFF]


def _apply(columns: list[int], value: int) -> int:
    result = 0
    for bit, column in enumerate(columns):
        if value >> bit & 1:
            result ^= column
    return result
