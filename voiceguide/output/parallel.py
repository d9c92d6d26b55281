"""Encode an MP3 on every core: the session cut in silence, chunks encoded side by side, joined.

A session is mostly silence (holds, rests), and silence is where it can be cut without
a trace. Each chunk goes to its own LAME (ffmpeg) process; this process renders the
chunks' blocks in turn and feeds whichever encoder is ready, so every core encodes.
Joining independent MP3 streams needs three things, each taken care of here:

- **The bit reservoir.** A frame may keep part of its data in the frames before it; the
  first frame of a fresh stream never does, so chunks join at frame boundaries as they are.
- **Delay and padding.** A decoder turns chunk A's frames into ``576 * frames(A)`` samples
  that begin ``576 + 529`` samples early; the next chunk's input therefore starts exactly
  that many samples after A's start (:func:`frames_for`), dropping a stretch of silence
  that A's padding and B's delay stand for. Every cue lands on its sample.
- **No click.** A cut has :data:`GUARD` samples of digital silence on each side, so both
  encoders see only zeros around it and the decoder's filters carry nothing across.

The joined stream gets one information frame (:func:`voiceguide.output.mp3frames.info_frame`)
with the whole stream's frames, bytes, seek table, delay, padding and CRC. If a chunk
does not hold the frames LAME's arithmetic promises, :class:`ChunkMismatch` tells the
caller to encode in one piece instead.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import tempfile
from collections.abc import Callable, Iterable, Iterator
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

    Render = Callable[[int, int], Iterable[npt.NDArray[np.int16]]]

FRAME = 576
"""Samples in an MPEG-2 Layer III frame (16,000, 22,050 and 24,000 Hz)."""
SAMPLE_RATES = frozenset({16_000, 22_050, 24_000})
ENCODER_DELAY = 576
"""LAME's own delay; with the decoder's 529, a stream starts 1105 samples late."""
GUARD = 2 * FRAME
"""Digital silence kept on each side of a cut."""
PIPE_BYTES = 1 << 20
"""Each encoder's input pipe: about 24 seconds of audio waiting for it."""
MIN_CHUNK_MS = 30_000
"""Shorter chunks are not worth another encoder's start-up."""


class ChunkMismatch(Exception):
    """A chunk's encoder wrote other frames than planned: encode in one piece."""


@dataclass(frozen=True)
class Chunk:
    """The samples one encoder gets: ``start`` to ``end``."""

    start: int
    end: int


def frames_for(samples: int) -> int:
    """The frames LAME (3.100, MPEG-2) writes for ``samples``: its delay and a frame of flush."""
    return -(-(samples + ENCODER_DELAY + FRAME) // FRAME)


def plan(
    total: int,
    silences: Iterable[tuple[int, int]],
    parts: int,
    sample_rate: int,
    min_chunk_ms: int = MIN_CHUNK_MS,
) -> list[Chunk]:
    """Cut ``total`` samples into up to ``parts`` chunks of about the same length, in silence.

    ``silences`` are spans of digital silence (start, end). A chunk ends :data:`GUARD`
    into a silence; the next starts where the decoder will put it, which must still be
    :data:`GUARD` before that silence ends. Fewer chunks when there is no such silence.
    """
    spans = sorted(silences)
    shortest = min_chunk_ms * sample_rate // 1000
    chunks: list[Chunk] = []
    start = 0
    for k in range(1, parts):
        target = total * k // parts
        best: tuple[int, int] | None = None
        for begin, end in spans:
            cut = begin + GUARD
            if begin < start or cut - start < shortest:
                continue
            following = start + frames_for(cut - start) * FRAME
            if following + GUARD > end or total - following < shortest:
                continue
            if best is None or abs(cut - target) < abs(best[0] - target):
                best = (cut, following)
        if best is None:
            break
        chunks.append(Chunk(start, best[0]))
        start = best[1]
    chunks.append(Chunk(start, total))
    return chunks


def cores() -> int:
    """How many cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def encode(
    program: str,
    path: Path,
    chunks: list[Chunk],
    render: Render,
    *,
    sample_rate: int,
    channels: int,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encode ``chunks`` of the session side by side and join them into the MP3 ``path``.

    Raises :class:`OSError` as :func:`voiceguide.output.ffmpeg.encode` does, and
    :class:`ChunkMismatch` if a chunk came out other than planned.
    """
    total = chunks[-1].end
    with contextlib.ExitStack() as stack:
        encoders = []
        for number, chunk in enumerate(chunks):
            part = stack.enter_context(temporary_part(path.parent, f"{path.name}.{number}"))
            errors = stack.enter_context(tempfile.TemporaryFile())
            command = ffmpeg_command(
                program, "mp3", part, sample_rate=sample_rate, channels=channels
            )
            process = ffmpeg.start(command, errors)
            stack.callback(ffmpeg.end, process)
            blocks = iter(render(chunk.start, chunk.end))
            encoders.append(_Encoder(chunk, part, process, errors, blocks, 2 * channels))
        _feed_all(encoders, total, progress)
        for encoder in encoders:
            fed_all = encoder.fed_bytes == encoder.length * encoder.frame_bytes
            ffmpeg.check(encoder.process, encoder.errors, fed_all=fed_all)
        with path.open("wb") as out:
            _join(out, [(e.part, e.length) for e in encoders])
    return total


@dataclass
class _Encoder:
    chunk: Chunk
    part: Path
    process: Popen[bytes]
    errors: BinaryIO
    blocks: Iterator[npt.NDArray[np.int16]]
    frame_bytes: int
    pending: memoryview = field(default_factory=lambda: memoryview(b""))
    fed_bytes: int = 0
    """Bytes the encoder has taken so far."""

    @property
    def length(self) -> int:
        return self.chunk.end - self.chunk.start


def _feed_all(
    encoders: list[_Encoder], total: int, progress: Callable[[int, int], None] | None
) -> None:
    """Feed every encoder its chunk, whichever is ready to take more, until all have theirs.

    Progress counts the session's samples, the silences dropped at the cuts included.
    """
    fed_in_all = sum(e.length * e.frame_bytes for e in encoders)
    for encoder in encoders:
        assert encoder.process.stdin is not None
        fd = encoder.process.stdin.fileno()
        os.set_blocking(fd, False)
        with contextlib.suppress(OSError, AttributeError):  # a larger pipe: fewer wake-ups
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    waiting = {e.process.stdin.fileno(): e for e in encoders if e.process.stdin is not None}
    while waiting:
        _, ready, _ = select.select([], list(waiting), [])
        for fd in ready:
            encoder = waiting[fd]
            if not encoder.pending:
                block = next(encoder.blocks, None)
                if block is None:
                    del waiting[fd]
                    _close_input(encoder)
                    continue
                encoder.pending = memoryview(block.astype("<i2", copy=False).tobytes())
            try:
                written = os.write(fd, encoder.pending)
            except BlockingIOError:
                continue
            except BrokenPipeError:  # it stopped reading: its status and message say why
                del waiting[fd]
                _close_input(encoder)
                continue
            encoder.pending = encoder.pending[written:]
            encoder.fed_bytes += written
        if progress is not None:
            progress(sum(e.fed_bytes for e in encoders) * total // fed_in_all, total)


def _close_input(encoder: _Encoder) -> None:
    if encoder.process.stdin is not None:
        with contextlib.suppress(OSError):
            encoder.process.stdin.close()


def _join(out: BinaryIO, parts: list[tuple[Path, int]]) -> None:
    """Write the chunks' audio frames after one information frame for all of them."""
    template = b""
    offsets: list[int] = []
    crcs: list[tuple[int, int]] = []
    audio: list[bytes] = []
    size = 0
    for number, (part, length) in enumerate(parts):
        data = part.read_bytes()
        try:
            found = mp3frames.frames(data)
            info = mp3frames.frame_at(data, 0)
            count, _, crc = mp3frames.xing_fields(data, info)
        except (mp3frames.FrameError, IndexError) as exc:
            raise OSError(errno.EIO, f"a chunk of the MP3 is not one ({exc})") from None
        if count != len(found) - 1 or count != frames_for(length):
            raise ChunkMismatch(f"chunk {number}: {count} frames, not {frames_for(length)}")
        if number == 0:
            template = data[: info.size]
        offsets += [size + offset - info.size for offset in found[1:]]
        crcs.append((crc, len(data) - info.size))
        audio.append(data[info.size :])
        size += len(data) - info.size
    last_length = parts[-1][1]
    # Decoders drop the encoder's delay and the decoder's 529 samples at the start, and
    # padding - 529 at the end: what is left is the session to the sample.
    padding = frames_for(last_length) * FRAME - last_length - ENCODER_DELAY
    out.write(
        mp3frames.info_frame(
            template,
            offsets,
            size,
            delay=ENCODER_DELAY,
            padding=padding,
            music_crc=mp3frames.crc16_combine(crcs),
        )
    )
    for piece in audio:
        out.write(piece)
