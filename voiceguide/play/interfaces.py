"""What playback talks to: views, command sources, answer clips, and the status it reports.

A **view** (:class:`View`) is told when playing starts, what is said, how far the session
is laid out, and a :class:`Status` a few times a second. A **command source** is either a
:class:`KeySource` the loop reads (the terminal), or anything calling
:meth:`voiceguide.play.playback.Playback.submit` from its own thread (a remote control, a
voice): both end up in :meth:`~voiceguide.play.playback.Playback.command`, in order, on
the loop's thread. A **listener** that wants the state polls
:meth:`~voiceguide.play.playback.Playback.status` or wraps the view.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from voiceguide.play.keys import Command
from voiceguide.sound.clips import ClipSource

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.sound.clips import FloatArray

Mode = Literal["playing", "waiting", "paused", "finished", "quit"]


@dataclass(frozen=True)
class Status:
    """What a view (or a remote control) shows."""

    position: int
    """The sample of the session heard now (or where it waits)."""
    mode: Mode
    paused: bool
    volume_pct: int
    saying: str | None = None
    """The answer being said, if any."""
    silent: bool = False
    """Whether nothing of the session sounds at :attr:`position` (a silence, or a wait)."""


class AnswerClips(ClipSource, Protocol):
    """The clips a session is rendered from, and the answers to keys spoken with its voice."""

    def speak_once(self, text: str) -> FloatArray:
        """``text`` spoken, and kept nowhere unless it already was (an answer said once)."""
        ...


class View(Protocol):
    """Shows a sighted helper what is happening."""

    def started(self, position: int) -> None:
        """The session (re)starts playing at ``position``."""
        ...

    def update(self, status: Status) -> None:
        """Show ``status`` (called a few times a second)."""
        ...

    def said(self, text: str, position: int) -> None:
        """An answer is being said, with the session at ``position``."""
        ...

    def laid_out(self, timeline: Timeline) -> None:
        """The session is laid out this far now (it grows while synthesis runs ahead)."""
        ...

    def close(self) -> None:
        """Leave the terminal as a shell expects it; the next update starts afresh."""
        ...


class KeySource(Protocol):
    """Where commands come from (a terminal, or nowhere)."""

    def read(self, timeout_s: float) -> list[Command]:
        """Wait up to ``timeout_s`` for commands and return them (maybe none)."""
        ...

    def suspend(self) -> None:
        """Hand the terminal back and stop the process (Ctrl-Z); return once continued."""
        ...


class NoKeys:
    """No controls (stdin is not a terminal): just wait."""

    def read(self, timeout_s: float) -> list[Command]:
        """Sleep ``timeout_s``; there are never commands."""
        time.sleep(timeout_s)
        return []

    def suspend(self) -> None:
        """Nothing to hand back."""


class NoView:
    """Show nothing."""

    def started(self, position: int) -> None:
        pass

    def update(self, status: Status) -> None:
        pass

    def said(self, text: str, position: int) -> None:
        pass

    def laid_out(self, timeline: Timeline) -> None:
        pass

    def close(self) -> None:
        pass
