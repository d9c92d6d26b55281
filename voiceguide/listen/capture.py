"""The microphone: ALSA's default capture device at 16 kHz mono, through ``arecord``.

``arecord`` (alsa-utils) runs as a child process writing raw PCM into a pipe that only this
process reads; nothing is written to disk. A separate process keeps capture off the
interpreter's lock, so a slow moment in the player never drops audio, and the pipe buffers
two seconds should the recogniser fall behind. ALSA converts from whatever rate and
channels the device has (its ``plug`` layer behind ``default``).
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Protocol

from voiceguide.listen.errors import ListenUnavailable
from voiceguide.listen.recognizer import FRAME_BYTES, RATE_HZ

CHUNK_BYTES = FRAME_BYTES * 2
"""60 ms of audio per read: small, so each chunk's capture time is known closely."""
START_TIMEOUT_S = 3.0
"""How long the device may take to deliver its first audio before it counts as missing."""
_PERIOD_US = 20_000
_BUFFER_US = 200_000


class Capture(Protocol):
    """A source of 16 kHz mono 16-bit PCM, read chunk by chunk."""

    def open(self) -> None:
        """Start capturing; raise :class:`ListenUnavailable` in one line if it cannot."""
        ...

    def read(self) -> tuple[bytes, float] | None:
        """The next chunk and the monotonic time it was read; ``None`` once it has ended."""
        ...

    def close(self) -> None:
        """Stop capturing (safe to call twice, and from another thread than ``read``)."""
        ...


class ArecordCapture:
    """Capture through an ``arecord`` child process from ALSA's ``device``."""

    def __init__(
        self, device: str = "default", *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """Capture from ALSA's ``device`` (``default`` is what ``~/.asoundrc`` says)."""
        self.device = device
        self.clock = clock
        self._process: subprocess.Popen[bytes] | None = None
        self._first: bytes | None = None

    def command(self) -> list[str]:
        """The ``arecord`` command line."""
        program = shutil.which("arecord")
        if program is None:
            raise ListenUnavailable(
                "no capture program: voice commands need arecord (install alsa-utils)"
            )
        return [
            program, "-q", "-D", self.device, "-t", "raw", "-f", "S16_LE", "-c", "1",
            "-r", str(RATE_HZ), f"--period-time={_PERIOD_US}", f"--buffer-time={_BUFFER_US}",
        ]  # fmt: skip

    def open(self) -> None:
        """Start ``arecord`` and wait for its first audio; say in one line why if none comes."""
        process = subprocess.Popen(
            self.command(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        self._process = process
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], START_TIMEOUT_S)
        first = os.read(process.stdout.fileno(), CHUNK_BYTES) if ready else b""
        if not first:
            reason = self._reason(process)
            self.close()
            raise ListenUnavailable(f"no capture device could be opened ({reason})")
        self._first = first

    def _reason(self, process: subprocess.Popen[bytes]) -> str:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)  # its output ended: it is exiting
        if process.poll() is None:
            return f"no audio came from ALSA's {self.device!r} in {START_TIMEOUT_S:g} s"
        assert process.stderr is not None
        text = process.stderr.read().decode("utf-8", "replace").strip().splitlines()
        last = text[-1] if text else f"arecord exited with {process.returncode}"
        # "arecord: main:831: audio open error: No such file or directory" → from "audio …".
        return "ALSA: " + last.split(": ", 2)[-1] if last.startswith("arecord:") else last

    def read(self) -> tuple[bytes, float] | None:
        """The next chunk (up to 60 ms) and when it was read; ``None`` at the end."""
        if self._first is not None:
            chunk, self._first = self._first, None
            return chunk, self.clock()
        process = self._process
        if process is None or process.stdout is None:
            return None
        try:
            chunk = os.read(process.stdout.fileno(), CHUNK_BYTES)
        except (OSError, ValueError):  # closed from another thread
            return None
        return (chunk, self.clock()) if chunk else None

    def close(self) -> None:
        """Stop ``arecord`` and reap it."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
