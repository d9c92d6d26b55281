"""What a playing session and its remote control share across threads: snapshots and requests.

This is the whole interface between the player and the MPRIS part. The player (in its own
thread) calls :meth:`Link.publish` with a :class:`Snapshot` as often as it likes (each tick),
and takes the :class:`Request` objects that came with :meth:`Link.take`, carrying them out
between ticks as it does keys; :meth:`Link.wait` lets it sleep until one comes. The remote
(in another thread) reads :meth:`Link.latest` and :meth:`Link.send`\\ s requests; it hears of
changes worth a signal through the callback given to :meth:`Link.listen`.

Nothing here imports D-Bus, numpy or the player: a streaming player keeps the same interface.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

PlaybackStatus = Literal["Playing", "Paused", "Stopped"]
"""MPRIS's words: playing (or saying something, then playing on), paused, ended."""

RequestKind = Literal[
    "play", "pause", "toggle", "quit", "next", "previous", "seek_by", "seek_to", "volume"
]


@dataclass(frozen=True)
class Request:
    """Something a remote asks of the session."""

    kind: RequestKind
    value: int = 0
    """Samples for ``seek_by`` (an offset) and ``seek_to`` (a position); percent for ``volume``
    (as asked, maybe outside the range the session takes)."""


@dataclass(frozen=True)
class StepInfo:
    """One step of the session, as a remote shows it."""

    number: int
    """0 for the introduction, then 1, 2, …"""
    start: int
    """First sample."""
    title: str
    """What a remote shows: ``Step 2 of 4: Right side``, or ``Introduction``."""


@dataclass(frozen=True)
class SessionInfo:
    """What does not change while the session plays."""

    title: str
    """The routine's title."""
    sample_rate: int
    total: int
    """Length in samples."""
    steps: tuple[StepInfo, ...]

    def step_at(self, position: int) -> int:
        """Index of the step playing at ``position`` (0 when there are none)."""
        starts = [s.start for s in self.steps]
        return max(0, bisect.bisect_right(starts, position) - 1)

    def to_us(self, samples: int) -> int:
        """Samples as microseconds, MPRIS's unit."""
        return samples * 1_000_000 // self.sample_rate

    def from_us(self, us: int) -> int:
        """Microseconds as samples (towards minus infinity)."""
        return us * self.sample_rate // 1_000_000


@dataclass(frozen=True)
class Snapshot:
    """The session as the player last saw it."""

    status: PlaybackStatus
    position: int
    """The sample heard at :attr:`stamp` (or where the session waits)."""
    stamp: float
    """``time.monotonic()`` when :attr:`position` was read."""
    advancing: bool
    """Whether :attr:`position` moves on in real time from :attr:`stamp` (main audio playing)."""
    volume_pct: int
    step: int
    """Index into :attr:`SessionInfo.steps` of the step at :attr:`position`."""
    jumps: int = 0
    """How many times the position has moved other than by playing (for ``Seeked``)."""

    def position_at(self, now: float, info: SessionInfo) -> int:
        """Where the session is at monotonic time ``now``, from this snapshot."""
        if not self.advancing:
            return self.position
        moved = int(max(0.0, now - self.stamp) * info.sample_rate)
        return min(info.total, self.position + moved)

    def signalled(self) -> tuple[object, ...]:
        """The part whose changes a remote is told of (the position is read, never told)."""
        return (self.status, self.step, self.volume_pct, self.jumps)


Listener = Callable[[], None]


class Link:
    """Snapshots one way, requests the other; every method may be called from any thread."""

    def __init__(self, info: SessionInfo, first: Snapshot) -> None:
        """Link the session described by ``info``, as ``first`` shows it until published."""
        self.info = info
        self._latest = first
        self._requests: deque[Request] = deque()
        self._lock = threading.Lock()
        self._arrived = threading.Event()
        self._listener: Listener | None = None

    # -- the player's side ---------------------------------------------------------------------

    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` the latest; tell the listener if a remote should hear of it."""
        with self._lock:
            before, self._latest = self._latest, snapshot
            listener = self._listener
        if listener is not None and before.signalled() != snapshot.signalled():
            listener()

    def take(self) -> list[Request]:
        """Every request that came since the last call, oldest first."""
        with self._lock:
            taken = list(self._requests)
            self._requests.clear()
            self._arrived.clear()
        return taken

    def pending(self) -> bool:
        """Whether a request is waiting to be taken."""
        return self._arrived.is_set()

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for a request; return whether one is waiting."""
        return self._arrived.wait(max(0.0, timeout_s))

    # -- the remote's side ---------------------------------------------------------------------

    def latest(self) -> Snapshot:
        """The snapshot the player published last."""
        with self._lock:
            return self._latest

    def send(self, request: Request) -> None:
        """Queue ``request`` for the player."""
        with self._lock:
            self._requests.append(request)
            self._arrived.set()

    def listen(self, listener: Listener | None) -> None:
        """Call ``listener`` (in the player's thread: keep it short) on changes worth a signal."""
        with self._lock:
            self._listener = listener

    def position_now(self) -> int:
        """Where the session is now, from the latest snapshot."""
        return self.latest().position_at(time.monotonic(), self.info)
