"""Encode an MP3 on every core from the session's blocks in order, cut in its silences.

A session is mostly digital silence (holds, rests), and silence is where MP3 streams can
be cut and joined without a trace. The blocks come in order (rendered, or laid out while
they play): whatever sounds goes to one LAME (ffmpeg) process until a silence long
enough to cut in, then the next stretch to the encoder that has had the least so far,
which runs beside the first while this process renders on. Every cut also saves work:
the silence between its two margins is not encoded at all but written as copies of a
silent frame. What makes the join exact:

- **No bit reservoir** (``-reservoir 0``): every frame holds its own data, so frames of
  one encoder may follow frames of another, or copies of a silent frame.
- **The frame grid.** A decoder puts frame ``f`` of a stream at sample ``576 f - 1105``
  (LAME's delay of 576, its own of 529), so a cut is a session sample ``c`` with
  ``c + 1105`` a whole number of frames, and every encoder's input is kept on the
  session's grid (it starts with 47 zeros, and every stretch is whole frames long).
- **Silence on both sides of a cut** (:data:`MARGIN`): the two frames before it code
  nothing (:func:`voiceguide.output.mp3frames.is_silent`, checked after encoding), so
  the decoder carries nothing across; every cue lands on its sample, with no click.

The joined stream gets one information frame (:func:`voiceguide.output.mp3frames.info_frame`)
with the whole stream's frames, bytes, seek table, delay, padding and CRC. If an encoder
wrote other frames than planned, :class:`ChunkMismatch` tells the caller to encode in
one piece instead. The cuts depend on the samples alone, so the bytes do too.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from voiceguide.atomic import temporary_part
from voiceguide.output import ffmpeg, mp3frames
from voiceguide.output.codecs import ffmpeg_command

if TYPE_CHECKING:
    from subprocess import Popen

    import numpy as np
    import numpy.typing as npt

FRAME = 576
"""Samples in an MPEG-2 Layer III frame (16,000, 22,050 and 24,000 Hz)."""
SAMPLE_RATES = frozenset({16_000, 22_050, 24_000})
ENCODER_DELAY = 576
"""LAME's own delay; with the decoder's 529, a stream starts 1105 samples late."""
LEAD = ENCODER_DELAY + mp3frames.DECODER_DELAY
GRID = -LEAD % FRAME
"""A frame of the joined stream starts at every session sample 47 + 576 k."""
MARGIN = 3 * FRAME
"""Digital silence kept on each side of a cut: the frames around it then code nothing."""
QUEUE_BYTES = 32 << 20
"""Audio rendered ahead of the encoders at most (some 6 minutes of stereo)."""
PIPE_BYTES = 1 << 20
ENCODERS = 2
"""Encoders side by side: a fixed number, not the machine's cores, so that the bytes of a
session are the same on every machine (which stretch goes to which encoder shapes them)."""


class ChunkMismatch(Exception):
    """An encoder wrote other frames than planned: encode in one piece."""


def frames_for(samples: int) -> int:
    """The frames LAME (3.100, MPEG-2) writes for ``samples``: its delay and a frame of flush."""
    return -(-(samples + ENCODER_DELAY + FRAME) // FRAME)


@dataclass
class Piece:
    """A stretch of the session one encoder codes: from ``start`` to ``end`` (a cut)."""

    encoder: int
    start: int
    at: int
    """Where ``start`` is in that encoder's input."""
    end: int | None = None
    """``None`` for the last piece: it runs to the session's end."""


def cut(begin: int, end: int) -> tuple[int, int] | None:
    """Where a silence from ``begin`` to ``end`` is cut: (end of one piece, start of the next).

    Both on the grid, :data:`MARGIN` inside the silence; the frames between are not
    encoded. ``None`` when the silence is too short for that.
    """
    first = begin + MARGIN + (GRID - begin - MARGIN) % FRAME
    last = end - MARGIN - (end - MARGIN - GRID) % FRAME
    return (first, last) if first <= last else None


@dataclass
class _Encoder:
    process: Popen[bytes]
    part: Path
    errors: BinaryIO
    fd: int
    fed: int = 0
    """Samples given so far (the position in its input)."""
    queue: deque[bytes] = field(default_factory=deque)
    pending: memoryview = field(default_factory=lambda: memoryview(b""))
    queued: int = 0
    written: int = 0


class _Router:
    """Send the session's samples, in order, to the encoder of the piece they belong to."""

    def __init__(self, start: Callable[[int], _Encoder], most: int, channels: int) -> None:
        self.start = start
        self.most = most
        self.channels = channels
        self.frame_bytes = 2 * channels
        self.encoders: list[_Encoder] = []
        self.pieces: list[Piece] = []
        self.position = 0
        self.zeros_from: int | None = None
        """Where the silence being read began (its samples are not given to anyone yet)."""

    def feed(self, block: npt.NDArray[np.int16]) -> None:
        import numpy as np

        if not self.pieces:
            self.pieces.append(Piece(0, 0, 0))
            self.encoders.append(self.start(0))
        count = len(block)
        sounding = np.flatnonzero(_any_channel(block))
        if sounding.size == 0:
            if self.zeros_from is None:
                self.zeros_from = self.position
            self.position += count
            return
        if self.zeros_from is None and sounding[0] > 0:
            self.zeros_from = self.position
        if self.zeros_from is not None:
            self._silence(self.zeros_from, self.position + int(sounding[0]))
            self.zeros_from = None
        begin = int(sounding[0])
        for gap in np.flatnonzero(np.diff(sounding) > 2 * MARGIN).tolist():
            last, after = int(sounding[gap]) + 1, int(sounding[gap + 1])
            self._give(block[begin:last])
            self._silence(self.position + last, self.position + after)
            begin = after
        end = int(sounding[-1]) + 1
        self._give(block[begin:end])
        if end < count:
            self.zeros_from = self.position + end
        self.position += count

    def finish(self) -> int:
        """Give the last samples; return the session's length."""
        if self.zeros_from is not None:
            self._zeros(self.position - self.zeros_from)
        return self.position

    def _silence(self, begin: int, end: int) -> None:
        where = cut(begin, end)
        if where is None:
            self._zeros(end - begin)
            return
        first, last = where
        self._zeros(first - begin)
        self.pieces[-1].end = first
        number = min(range(self.most), key=self._load)
        if number == len(self.encoders):
            self.encoders.append(self.start(number))
            self._put(number, bytes(GRID * self.frame_bytes))  # onto the session's grid
        self.pieces.append(Piece(number, last, self.encoders[number].fed))
        self._zeros(end - last)

    def _load(self, number: int) -> int:
        return self.encoders[number].fed if number < len(self.encoders) else -1

    def _zeros(self, samples: int) -> None:
        self._put(self.pieces[-1].encoder, bytes(samples * self.frame_bytes))

    def _give(self, block: npt.NDArray[np.int16]) -> None:
        self._put(self.pieces[-1].encoder, block.astype("<i2", copy=False).tobytes())

    def _put(self, number: int, data: bytes) -> None:
        if not data:
            return
        encoder = self.encoders[number]
        encoder.queue.append(data)
        encoder.queued += len(data)
        encoder.fed += len(data) // self.frame_bytes
        _pump(self.encoders, wait=False)
        while sum(e.queued for e in self.encoders) > QUEUE_BYTES:
            _pump(self.encoders, wait=True)


def _any_channel(block: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """Nonzero where any channel is (``any(axis=1)`` is several times slower on two columns)."""
    if block.ndim == 1:
        return block
    found = block[:, 0].copy()
    for column in range(1, block.shape[1]):
        found |= block[:, column]
    return found


def _pump(encoders: list[_Encoder], *, wait: bool) -> None:
    """Write what the encoders' pipes take now (``wait``: once at least one takes some)."""
    busy = [e for e in encoders if e.queued and e.fd >= 0]
    if not busy:
        return
    _, ready, _ = select.select([], [e.fd for e in busy], [], None if wait else 0)
    for encoder in busy:
        if encoder.fd not in ready:
            continue
        while encoder.queued:
            if not encoder.pending:
                encoder.pending = memoryview(encoder.queue.popleft())
            try:
                written = os.write(encoder.fd, encoder.pending)
            except BlockingIOError:
                break
            except BrokenPipeError:  # it stopped reading: its status and message say why
                _close_input(encoder)
                encoder.queue.clear()
                encoder.queued = 0
                break
            encoder.pending = encoder.pending[written:]
            encoder.queued -= written
            encoder.written += written


def _close_input(encoder: _Encoder) -> None:
    if encoder.fd >= 0:
        encoder.fd = -1
        if encoder.process.stdin is not None:
            with contextlib.suppress(OSError):
                encoder.process.stdin.close()


def encode(
    program: str,
    path: Path,
    blocks: Iterable[npt.NDArray[np.int16]],
    *,
    sample_rate: int,
    channels: int,
    total: int,
    encoders: int = ENCODERS,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encode ``blocks`` (int16, in order) with up to ``encoders`` LAMEs into the MP3 ``path``.

    ``total`` is the session's length as far as known (for ``progress`` only). Return the
    samples encoded. Raises :class:`OSError` as :func:`voiceguide.output.ffmpeg.encode`
    does, and :class:`ChunkMismatch` if an encoder wrote other frames than planned.
    """
    with contextlib.ExitStack() as stack:

        def start(number: int) -> _Encoder:
            part = stack.enter_context(temporary_part(path.parent, f"{path.name}.{number}"))
            errors = stack.enter_context(tempfile.TemporaryFile())
            command = ffmpeg_command(
                program, "mp3", part, sample_rate=sample_rate, channels=channels, reservoir=False
            )
            process = ffmpeg.start(command, errors)
            stack.callback(ffmpeg.end, process)
            assert process.stdin is not None
            fd = process.stdin.fileno()
            os.set_blocking(fd, False)
            with contextlib.suppress(OSError, AttributeError):  # a larger pipe: fewer wake-ups
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
            return _Encoder(process, part, errors, fd)

        router = _Router(start, encoders, channels)
        for block in blocks:
            router.feed(block)
            if progress is not None:
                progress(router.position, max(total, router.position))
        length = router.finish()
        while any(e.queued and e.fd >= 0 for e in router.encoders):
            _pump(router.encoders, wait=True)
        for encoder in router.encoders:
            _close_input(encoder)
        for encoder in router.encoders:
            fed_all = encoder.written == encoder.fed * 2 * channels
            ffmpeg.check(encoder.process, encoder.errors, fed_all=fed_all)
        if not router.encoders:
            raise OSError(errno.EIO, "there is no audio to encode")
        streams = [_Stream.read(e.part, e.fed) for e in router.encoders]
        with path.open("wb") as out:
            _join(out, streams, router.pieces, length)
    return length


@dataclass(frozen=True)
class _Stream:
    """One encoder's MP3: its bytes and where each audio frame starts."""

    data: bytes
    info: mp3frames.Frame
    frames: list[int]
    """Offsets of the audio frames, and the end of the data last."""

    @classmethod
    def read(cls, part: Path, fed: int) -> _Stream:
        data = part.read_bytes()
        try:
            found = mp3frames.frames(data)
            info = mp3frames.frame_at(data, 0)
            count, _, _ = mp3frames.xing_fields(data, info)
        except (mp3frames.FrameError, IndexError) as exc:
            raise OSError(errno.EIO, f"a piece of the MP3 is not one ({exc})") from None
        if count != len(found) - 1 or count != frames_for(fed):
            raise ChunkMismatch(f"{count} frames, not {frames_for(fed)}")
        return cls(data, info, [*found[1:], len(data)])

    def silent(self, first: int, last: int) -> bytes:
        """The frames ``first`` to ``last`` (both kept) must code nothing: return the last."""
        for index in range(max(first, 0), last + 1):
            frame = mp3frames.frame_at(self.data, self.frames[index])
            if not mp3frames.is_silent(self.data, frame):
                raise ChunkMismatch(f"frame {index} at a cut codes sound")
        return self.data[self.frames[last] : self.frames[last + 1]]


def _join(out: BinaryIO, streams: list[_Stream], pieces: list[Piece], length: int) -> None:
    """Write the pieces' frames in the session's order, silence between, after one header."""
    audio: list[bytes] = []
    offsets: list[int] = []
    size = 0
    for number, piece in enumerate(pieces):
        stream = streams[piece.encoder]
        first = 0 if number == 0 else (piece.at + LEAD) // FRAME
        if number > 0:
            stream.silent(first - 2, first - 1)
        if piece.end is None:
            end = len(stream.frames) - 1
        else:
            end = (piece.at + piece.end - piece.start + LEAD) // FRAME
        base = stream.frames[first]
        offsets += [size + offset - base for offset in stream.frames[first:end]]
        chunk = stream.data[base : stream.frames[end]]
        audio.append(chunk)
        size += len(chunk)
        if piece.end is not None:
            silence = stream.silent(end - 2, end - 1)
            skipped = (pieces[number + 1].start - piece.end) // FRAME
            offsets += range(size, size + skipped * len(silence), len(silence))
            audio.append(silence * skipped)
            size += skipped * len(silence)
    if len(offsets) != frames_for(length):
        raise ChunkMismatch(f"{len(offsets)} frames joined, not {frames_for(length)}")
    whole = b"".join(audio)
    template = streams[0].data[: streams[0].info.size]
    # Decoders drop the encoder's delay and the decoder's 529 samples at the start, and
    # padding - 529 at the end: what is left is the session to the sample.
    padding = len(offsets) * FRAME - length - ENCODER_DELAY
    out.write(
        mp3frames.info_frame(
            template,
            offsets,
            size,
            delay=ENCODER_DELAY,
            padding=padding,
            music_crc=mp3frames.crc16_of_many(whole),
        )
    )
    out.write(whole)
