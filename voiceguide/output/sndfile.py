"""Write and read back audio through libsndfile (bundled in soundfile's wheel)."""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide.output.codecs import sndfile_codec
from voiceguide.output.formats import Format

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.output.tags import Metadata


def write(
    path: Path,
    fmt: Format,
    blocks: Iterable[npt.NDArray[np.int16]],
    *,
    sample_rate: int,
    channels: int,
    total: int,
    meta: Metadata | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Stream ``blocks`` of int16 into a new ``fmt`` file at ``path``; return frames written.

    ``total`` is the session's length as far as known (for ``progress`` only); the file
    holds what ``blocks`` gave. ``meta`` becomes the WAV file's RIFF INFO tags (other
    formats are tagged afterwards, with their chapters). Raises :class:`OSError` when the
    file cannot be written.
    """
    import soundfile

    spec = sndfile_codec(fmt)
    try:
        sound_file = soundfile.SoundFile(
            str(path),
            "w",
            samplerate=sample_rate,
            channels=channels,
            subtype=spec.subtype,
            format=spec.major,
            compression_level=spec.compression_level,
            bitrate_mode=spec.bitrate_mode,
        )
    except soundfile.LibsndfileError as exc:
        raise OSError(errno.EIO, f"cannot start the {fmt} file ({exc})") from None
    done = 0
    try:
        if meta is not None and fmt == "wav":
            from voiceguide.output.tags import SOFTWARE

            sound_file.title = meta.title
            sound_file.artist = meta.artist
            sound_file.album = meta.album
            sound_file.genre = meta.genre
            sound_file.software = SOFTWARE
            if meta.comment:
                sound_file.comment = meta.comment
        for block in blocks:
            sound_file.write(block)
            done += len(block)
            if progress is not None:
                progress(done, max(total, done))
        sound_file.close()
    except soundfile.LibsndfileError as exc:
        raise _os_error(sound_file, exc) from None
    finally:
        if not sound_file.closed:
            # Already failing (or interrupted): the file is discarded, and an error from
            # flushing it must not hide the first one.
            with contextlib.suppress(RuntimeError):
                sound_file.close()
    return done


def _os_error(sound_file: Any, exc: Exception) -> OSError:
    """Recover the system error behind a libsndfile failure, which says only "System error"."""
    reason = str(exc)
    try:
        import soundfile

        # The per-file message holds strerror(), e.g. "System error : No space left on device."
        reason = soundfile._ffi.string(soundfile._snd.sf_strerror(sound_file._file)).decode()
    except (AttributeError, TypeError, UnicodeDecodeError):
        pass
    for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES):
        if os.strerror(code) in reason:
            return OSError(code, os.strerror(code))
    return OSError(errno.EIO, f"cannot write the audio ({reason})")


def read_length(path: Path, fmt: Format) -> tuple[int, int]:
    """Return the frames a decoder gets from the file at ``path``, and their sample rate."""
    import soundfile

    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise OSError(errno.EIO, f"the written {fmt} file cannot be read back ({exc})") from None
    return int(info.frames), int(info.samplerate)
