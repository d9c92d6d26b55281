"""A WAV recording as the recogniser takes it: 16 kHz mono 16-bit, block by block.

Whatever the file's rate (16 kHz or more) and channels, it is mixed to mono and resampled
in blocks, so a recording as long as :data:`MAX_SECONDS` never sits in memory whole.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import NotFoundError
from voiceguide.listen.errors import RecordingError
from voiceguide.listen.recognizer import RATE_HZ

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

MAX_SECONDS = 6 * 3600
"""The longest recording taken: six hours, longer than any session repeated."""
MIN_RATE_HZ = RATE_HZ
"""Below this the sounds that tell the phrases apart are missing: refused, not upsampled."""
WAV_FORMATS = frozenset({"WAV", "WAVEX", "RF64"})
_BLOCK_S = 10


@dataclass(frozen=True)
class Recording:
    """A WAV file that was checked and can be read."""

    path: Path
    rate_hz: int
    channels: int
    frames: int

    @property
    def seconds(self) -> float:
        """Its length."""
        return self.frames / self.rate_hz


def open_recording(path: Path) -> Recording:
    """Check that ``path`` is a WAV file voice commands can be found in; say why not."""
    import soundfile

    if not path.exists():
        raise NotFoundError(f"{path}: no such file")
    if not path.is_file():
        raise RecordingError(f"{path}: expected a WAV file, got a folder or a device")
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise RecordingError(f"{path}: expected a WAV file, got {_why(error)}") from None
    if info.format not in WAV_FORMATS:
        raise RecordingError(f"{path}: expected a WAV file, got {info.format_info or info.format}")
    if info.frames <= 0 or info.channels <= 0:
        raise RecordingError(f"{path}: expected a recording, got an empty WAV file")
    if info.samplerate < MIN_RATE_HZ:
        raise RecordingError(
            f"{path}: expected a recording at {MIN_RATE_HZ} Hz or more, "
            f"got {info.samplerate} Hz (too coarse to hear the commands in)"
        )
    if info.frames / info.samplerate > MAX_SECONDS:
        raise RecordingError(
            f"{path}: expected at most {MAX_SECONDS // 3600} hours, "
            f"got {info.frames / info.samplerate / 3600:.1f} hours"
        )
    return Recording(path, int(info.samplerate), int(info.channels), int(info.frames))


def _why(error: BaseException) -> str:
    """libsndfile's reason, without the path it repeats: 'Format not recognised.' → 'a file …'."""
    text = str(error).rsplit("': ", 1)[-1].strip().rstrip(".")
    return (
        f"a file it cannot read ({text[:1].lower() + text[1:]})" if text else "another kind of file"
    )


def blocks(recording: Recording) -> Iterator[bytes]:
    """Yield the recording as 16 kHz mono 16-bit PCM, a few seconds at a time.

    A file shorter than its header says (cut off while being written) ends where its data does.
    """
    import numpy as np
    import soundfile

    rate = recording.rate_hz
    step_in = rate // math.gcd(rate, RATE_HZ)
    step_out = RATE_HZ // math.gcd(rate, RATE_HZ)
    block = max(1, _BLOCK_S * rate // step_in) * step_in
    margin = max(1, (rate // 50) // step_in) * step_in  # >= 20 ms either side, whole steps
    try:
        with soundfile.SoundFile(str(recording.path)) as file:
            previous = np.zeros(margin, dtype=np.float32)
            current = _mono(file.read(block, dtype="float32", always_2d=True))
            while len(current):
                following = _mono(file.read(block, dtype="float32", always_2d=True))
                tail = following[:margin]
                yield _convert(previous, current, tail, margin, rate, step_in, step_out)
                previous = current[-margin:] if len(current) >= margin else current
                current = following
    except (soundfile.LibsndfileError, RuntimeError) as error:
        raise RecordingError(
            f"{recording.path}: cannot read the recording ({_why(error)})"
        ) from None


def _mono(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    import numpy as np

    mono: npt.NDArray[np.float32] = np.asarray(samples.mean(axis=1), dtype=np.float32)
    return mono


def _convert(
    before: npt.NDArray[np.float32],
    block: npt.NDArray[np.float32],
    after: npt.NDArray[np.float32],
    margin: int,
    rate: int,
    step_in: int,
    step_out: int,
) -> bytes:
    """Resample ``block`` with ``margin`` samples of context each side (blocks join seamlessly)."""
    import numpy as np

    if rate == RATE_HZ:
        return _pcm(block)
    from voiceguide.pcm import resample

    length = len(block)
    padded_length = -(-length // step_in) * step_in
    piece = np.zeros(margin + padded_length + margin, dtype=np.float32)
    piece[margin - len(before) : margin] = before[-margin:]
    piece[margin : margin + length] = block
    piece[margin + padded_length : margin + padded_length + len(after)] = after
    out = resample(piece, rate, RATE_HZ)
    start = margin // step_in * step_out
    wanted = round(length * RATE_HZ / rate)
    return _pcm(out[start : start + wanted])


def _pcm(samples: npt.NDArray[np.float32]) -> bytes:
    import numpy as np

    return bytes(np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes())
