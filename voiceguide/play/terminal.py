"""Single keys from a terminal, and the terminal put back as it was on every way out.

:class:`TerminalKeys` switches the terminal to cbreak mode (keys arrive one by one, without
Enter and without echo; Ctrl-C still interrupts) and restores the saved settings on leaving
its ``with`` block, however it is left: the end, ``q``, an error, Ctrl-C, or SIGTERM and
SIGHUP (turned into :class:`Terminated` by :func:`exit_on_signals`, so ``finally`` blocks
run). Ctrl-Z pauses playback and gives the terminal back before the process stops (playback
closes its view first, which shows the cursor again).
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
from types import FrameType, TracebackType
from typing import Any

from voiceguide.play.keys import Command, parse_keys
from voiceguide.signals import Terminated, exit_on_signals

__all__ = ["TerminalKeys", "Terminated", "exit_on_signals", "stdin_keys"]


class TerminalKeys:
    """Read commands from the terminal on ``fd`` in cbreak mode (a ``with`` block)."""

    def __init__(self, fd: int) -> None:
        """Read keys from ``fd``, which must be a terminal."""
        self.fd = fd
        self._saved: list[Any] | None = None
        self._suspend_requested = False
        self._old_tstp: Any = None

    def __enter__(self) -> TerminalKeys:
        """Save the terminal's settings and switch to cbreak mode."""
        self._saved = _get_attrs(self.fd)
        self._cbreak()
        if hasattr(signal, "SIGTSTP"):
            self._old_tstp = signal.signal(signal.SIGTSTP, self._on_tstp)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Put the terminal back as it was."""
        if self._old_tstp is not None:
            signal.signal(signal.SIGTSTP, self._old_tstp)
            self._old_tstp = None
        self._restore()

    def read(self, timeout_s: float) -> list[Command]:
        """Wait up to ``timeout_s`` for keys and return their commands."""
        if self._suspend_requested:
            self._suspend_requested = False
            return [Command.SUSPEND]
        try:
            ready, _, _ = select.select([self.fd], [], [], timeout_s)
        except InterruptedError:  # pragma: no cover - PEP 475 retries; kept for safety
            ready = []
        if self._suspend_requested:
            self._suspend_requested = False
            return [Command.SUSPEND]
        if not ready:
            return []
        try:
            data = os.read(self.fd, 64)
        except OSError:
            data = b""
        return parse_keys(data)

    def suspend(self) -> None:
        """Give the terminal back, stop the process, and take the terminal again on continue."""
        self._restore()
        signal.signal(signal.SIGTSTP, signal.SIG_DFL)
        try:
            os.kill(os.getpid(), signal.SIGTSTP)  # stops here until 'fg'
        finally:
            signal.signal(signal.SIGTSTP, self._on_tstp)
            self._saved = _get_attrs(self.fd)
            self._cbreak()

    def _on_tstp(self, signum: int, frame: FrameType | None) -> None:
        # Stopping at once would leave the terminal without echo and the audio playing on;
        # the playback loop pauses first, then calls suspend().
        self._suspend_requested = True

    def _cbreak(self) -> None:
        import termios
        import tty

        tty.setcbreak(self.fd, termios.TCSANOW)

    def _restore(self) -> None:
        import termios

        if self._saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)


def _get_attrs(fd: int) -> list[Any]:
    import termios

    return termios.tcgetattr(fd)


def stdin_keys() -> TerminalKeys | None:
    """Keys from stdin when it is a terminal (and the platform has termios), else ``None``."""
    try:
        import termios  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        return None
    try:
        fd = sys.stdin.fileno()
    except (AttributeError, OSError, ValueError):
        return None
    return TerminalKeys(fd) if os.isatty(fd) else None
