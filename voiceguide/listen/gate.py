"""When to act on what the microphone hears: only while the session itself is silent.

The guide's own voice comes back through the microphone. Rather than cancel that echo, the
recogniser acts only on audio captured while the timeline has nothing to play (the silence
cues of holds, rests and pauses) at least :data:`GUARD_MS` away from any sound on both
sides, and while the session is paused. The guard covers the room's reverberation after a
sound, the lag between the session's clock and the capture's, and a phrase's own length.

:class:`SilenceGate` works on session samples and is pure: ``voiceguide commands --detect
--routine`` uses it alone. :class:`LiveGate` is what a player feeds while it plays: it tells,
for audio captured between two moments of the monotonic clock, whether the session was silent
all along.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline

GUARD_MS = 400
"""Silence kept on both sides of every sound before listening (measured: docs/listen.md)."""

State = Literal["playing", "paused", "speaking", "stopped"]
"""What a player is doing: playing the timeline, waiting, saying an answer, or not yet/no more."""


class SilenceGate:
    """The stretches of a session, in its samples, where nothing sounds (less the guard)."""

    def __init__(
        self, timeline: Timeline, *, guard_ms: int = GUARD_MS, complete: bool = True
    ) -> None:
        """Find the silent stretches of ``timeline``; past its end counts as silent too.

        With ``complete`` false, ``timeline`` is a prefix of a session still being laid
        out: what follows its end is unknown, so it counts as a sound (the last silence
        closes a guard before the end, and nothing past it is open).
        """
        rate = timeline.sample_rate
        guard = guard_ms * rate // 1000
        windows: list[tuple[int, int]] = []
        run_start: int | None = None
        for cue in (*timeline.cues, None):
            if cue is not None and cue.kind == "silence":
                run_start = cue.start if run_start is None else run_start
                continue
            end = cue.start if cue is not None else (None if complete else timeline.total)
            if run_start is not None:
                start = run_start + (guard if run_start > 0 else 0)
                stop = end - guard if end is not None else None
                if stop is None or stop > start:
                    windows.append((start, stop if stop is not None else _FOREVER))
            run_start = None
        if complete and timeline.cues and timeline.cues[-1].kind != "silence":
            windows.append((timeline.total + guard, _FOREVER))
        self.sample_rate = rate
        self.windows: tuple[tuple[int, int], ...] = tuple(windows)
        """``(start, end)`` session samples where listening is allowed, in order."""
        self._starts = [start for start, _ in windows]

    def is_open(self, start: int, end: int) -> bool:
        """Whether the session samples ``[start, end)`` lie wholly inside one silent stretch."""
        i = bisect.bisect_right(self._starts, start) - 1
        if i < 0:
            return False
        window_start, window_end = self.windows[i]
        return window_start <= start and end <= window_end

    def open_ms(self) -> int:
        """How long, in all, the gate is open within the session (for the docs and the bench)."""
        total = 0
        for start, end in self.windows:
            if end != _FOREVER:
                total += end - start
        return total * 1000 // self.sample_rate


_FOREVER = 1 << 62


@dataclass(frozen=True)
class _Mark:
    at_s: float
    state: State
    position: int
    since_s: float
    """When the player entered ``state`` (the first mark of this run of it)."""


class LiveGate:
    """Whether audio captured while a player plays may be acted on.

    The player calls :meth:`follow` whenever its state changes and may call it on every tick;
    the listener's thread calls :meth:`is_open` for each stretch of audio it captured. Audio is
    acted on only if, all the while it was captured, the session was playing inside a silent
    stretch of its timeline, or was paused for at least the guard already. Thread-safe.
    """

    def __init__(
        self,
        silence: SilenceGate,
        *,
        guard_ms: int = GUARD_MS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Gate by ``silence`` (the session's timeline); ``clock`` is the capture's clock."""
        self.silence = silence
        self.guard_s = guard_ms / 1000
        self.clock = clock
        self._marks: deque[_Mark] = deque(maxlen=256)
        self._lock = threading.Lock()

    def relayout(self, silence: SilenceGate) -> None:
        """Gate by ``silence`` from now on: the session is laid out further."""
        self.silence = silence  # one reference swapped: is_open reads it once

    def follow(self, state: State, position: int, *, at_s: float | None = None) -> None:
        """The session is in ``state`` at sample ``position`` now (or at monotonic ``at_s``)."""
        at = self.clock() if at_s is None else at_s
        with self._lock:
            last = self._marks[-1] if self._marks else None
            since = last.since_s if last is not None and last.state == state else at
            self._marks.append(_Mark(at, state, position, since))

    def is_open(self, start_s: float, end_s: float) -> bool:
        """Whether audio captured from ``start_s`` to ``end_s`` (monotonic) may be acted on."""
        with self._lock:
            marks = list(self._marks)
        at = [mark.at_s for mark in marks]
        first = bisect.bisect_right(at, start_s) - 1
        if first < 0:
            return False  # before the player said anything
        covering = marks[first : bisect.bisect_right(at, end_s)]
        state = covering[0].state
        if any(mark.state != state for mark in covering):
            return False  # the state changed meanwhile
        # Whatever came before this state (an answer said, the device stopped) gets the guard too.
        if state not in ("paused", "playing") or start_s < covering[0].since_s + self.guard_s:
            return False
        if state == "paused":
            return True
        silence = self.silence
        rate = silence.sample_rate
        begin = covering[0].position + int((start_s - covering[0].at_s) * rate)
        finish = covering[-1].position + int((end_s - covering[-1].at_s) * rate)
        return silence.is_open(begin, max(begin, finish))
