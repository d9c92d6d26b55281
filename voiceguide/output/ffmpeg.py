"""Encode through an ffmpeg process that the session streams into as it renders.

ffmpeg encodes on the other core while this process renders the next blocks (a pipelined
encoder), which is what makes MP3 export fast. Its lifetime is this process's:

- it runs in a session of its own, so Ctrl-C in the terminal reaches only voiceguide,
  which then ends it (and removes the temporary file) on the way out;
- if voiceguide is killed outright (``kill -9``), ffmpeg reads the end of its input, ends
  its file and exits: it never outlives the export by more than a moment. The file it
  ended is a temporary one, swept by the next export (:mod:`voiceguide.atomic`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from subprocess import Popen
from typing import IO, TYPE_CHECKING

from voiceguide.output.codecs import ffmpeg_command
from voiceguide.output.formats import Format

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

PACKAGE = "ffmpeg"
"""The Debian (and Homebrew) package that brings the ``ffmpeg`` program."""


def find_ffmpeg() -> str | None:
    """Return the path of the ``ffmpeg`` program, or ``None`` when it is not installed."""
    return shutil.which("ffmpeg")


def encode(
    ffmpeg: str,
    path: Path,
    fmt: Format,
    blocks: Iterable[npt.NDArray[np.int16]],
    *,
    sample_rate: int,
    channels: int,
    total: int,
    metadata: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Encode ``blocks`` (int16, one column per channel) into ``path``; return frames written.

    ``total`` is the session's length as far as known (for ``progress`` only: the blocks
    may be laid out while they are read). ``metadata`` is the text of ffmpeg's metadata
    file (tags and chapters), if any.
    Raises :class:`OSError` if ffmpeg fails, with the system error it met when it says one
    (a full disk, say).
    """
    with contextlib.ExitStack() as stack:
        errors = stack.enter_context(tempfile.TemporaryFile())
        pass_fds: tuple[int, ...] = ()
        source = None
        if metadata is not None:
            read_end, write_end = os.pipe()
            pass_fds, source = (read_end,), f"pipe:{read_end}"
            _feed(write_end, metadata.encode("utf-8"))
        command = ffmpeg_command(
            ffmpeg, fmt, path, sample_rate=sample_rate, channels=channels, metadata=source
        )
        try:
            process = start(command, errors, pass_fds)
        finally:
            for fd in pass_fds:
                _close(fd)  # ffmpeg has its own copy; ours would keep the pipe open
        stack.callback(end, process)
        assert process.stdin is not None
        done = 0
        fed_all = False
        try:
            for block in blocks:
                process.stdin.write(block.astype("<i2", copy=False).tobytes())
                done += len(block)
                if progress is not None:
                    progress(done, max(total, done))
            process.stdin.close()
            fed_all = True  # every block reached ffmpeg, and the end of its input
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and message say why
        check(process, errors, fed_all=fed_all)
        return done


def start(command: list[str], errors: IO[bytes], pass_fds: tuple[int, ...] = ()) -> Popen[bytes]:
    """Start ffmpeg reading standard input, in a session of its own, its messages to ``errors``."""
    try:
        return subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
            pass_fds=pass_fds,
            start_new_session=True,  # the terminal's Ctrl-C is for voiceguide alone
        )
    except OSError as exc:
        raise OSError(exc.errno or errno.EIO, f"cannot start ffmpeg ({exc.strerror})") from None


def check(process: Popen[bytes], errors: IO[bytes], *, fed_all: bool) -> None:
    """Wait for ffmpeg to end; raise :class:`OSError` if it failed or was not given everything."""
    status = process.wait()
    errors.seek(0)
    message = errors.read().decode("utf-8", "replace")
    # ffmpeg exits 0 when only writing the file's trailer failed (a full disk): its
    # message is what tells.
    if status != 0 or not fed_all or _system_error(message) is not None:
        raise _os_error(message, status)


def _feed(fd: int, data: bytes) -> None:
    """Write ``data`` into the pipe ``fd``, then close it, while ffmpeg reads it when ready."""

    def write() -> None:
        with contextlib.suppress(OSError), os.fdopen(fd, "wb") as pipe:
            pipe.write(data)

    threading.Thread(target=write, name="ffmpeg-metadata", daemon=True).start()


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)


def end(process: Popen[bytes]) -> None:
    """Make sure ffmpeg is gone: killed if it is still running (an error, Ctrl-C), and reaped."""
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


_SYSTEM_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES)


def _system_error(message: str) -> int | None:
    """The system error ffmpeg's message names, if any."""
    return next((code for code in _SYSTEM_ERRORS if os.strerror(code) in message), None)


def _os_error(message: str, status: int) -> OSError:
    """Turn ffmpeg's complaint into an :class:`OSError`, keeping the system error it names."""
    code = _system_error(message)
    if code is not None:
        return OSError(code, os.strerror(code))
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    reason = lines[-1] if lines else f"exit status {status}"
    return OSError(errno.EIO, f"ffmpeg could not encode the audio ({reason})")


def probe_length(path: Path) -> tuple[int, int] | None:
    """Return the first audio stream's length in frames and its sample rate, as ffprobe reads it.

    ``None`` when ffprobe (installed with ffmpeg) is missing. Raises :class:`OSError` when
    the file cannot be read.
    """
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    entries = "stream=duration_ts,sample_rate,time_base"
    command = [ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", entries]
    probe = subprocess.run(
        [*command, "-of", "default=noprint_wrappers=1", f"file:{path}"],
        capture_output=True,
        text=True,
        check=False,
    )
    fields = dict(line.split("=", 1) for line in probe.stdout.splitlines() if "=" in line)
    try:
        rate = int(fields["sample_rate"])
        numerator, denominator = (int(x) for x in fields["time_base"].split("/"))
        frames = int(fields["duration_ts"]) * numerator * rate // denominator
    except (KeyError, ValueError):
        message = probe.stderr.strip().splitlines()[-1:] or ["no audio stream"]
        raise OSError(errno.EIO, f"the written file cannot be read back ({message[0]})") from None
    return frames, rate
