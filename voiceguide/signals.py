"""Signals that end the process become an exit that unwinds: ``finally`` blocks run.

SIGTERM and SIGHUP raise :class:`Terminated` (a :class:`SystemExit` with code 128 + the
signal) in the main thread, so temporary files are removed, the terminal is restored and
the audio device is closed on the way out, as for Ctrl-C. The CLI installs this around
every command.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from types import FrameType


class Terminated(SystemExit):
    """The process was asked to end (SIGTERM, SIGHUP); exits with 128 + the signal."""


@contextlib.contextmanager
def exit_on_signals(*signals: signal.Signals) -> Iterator[None]:
    """Turn ``signals`` (default SIGTERM and SIGHUP) into :class:`Terminated` while inside."""
    wanted = signals or (signal.SIGTERM, signal.SIGHUP)

    def handler(signum: int, frame: FrameType | None) -> None:
        raise Terminated(128 + signum)

    previous = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
