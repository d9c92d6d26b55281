"""Record a session as it plays, from a thread of its own, so that nothing waits for the disk.

The player calls :meth:`Recorder.begin` once the first sound has been handed to the device,
:meth:`Recorder.progress` as often as it likes (every tick is fine: it only notes the
position, and hands a new row to the writer when the step changes, or once a minute), and
:meth:`Recorder.finish` at the end. Each of those takes a lock for a few microseconds.
``begin`` starts the writer thread, which imports sqlite3, opens the file and owns the
connection: nothing of the history runs before the first sound. It writes the whole row
each time, so a write that failed (a locked file) is simply made good by the next one. A
problem gives one warning line, through ``warn``, for the whole session, and the session
plays on.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.practice.records import (
    DetailChoice,
    IntroChoice,
    Outcome,
    SessionRow,
    stamp,
    utc_now,
)

if TYPE_CHECKING:
    from voiceguide.practice.store import HistoryStore

HEARTBEAT_S = 60.0
"""Write how far the session got at least this often (wall time), even within one step."""
FINISH_WAIT_S = 1.5
"""How long the end of a session waits for its last write (the sound has stopped already)."""
WARNING_PREFIX = "voiceguide: warning: practice history: "

Warn = Callable[[str], None]


def print_warning(line: str) -> None:
    """Write a warning line on stderr."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


@dataclass(frozen=True)
class StepMark:
    """Where a step of the session starts (numbered as ``play --steps`` lists them)."""

    number: int
    start_ms: int
    title: str


@dataclass(frozen=True)
class SessionPlan:
    """What is about to be played, as the history records it."""

    routine: str
    title: str
    script_hash: str
    cautions_hash: str
    total_ms: int
    from_ms: int
    intro_ms: int
    """Where the introduction ends (0 without one)."""
    steps: tuple[StepMark, ...]
    engine: str
    voice: str | None
    rate_wpm: int
    pace: float
    repeat: int
    intro: IntroChoice
    detail: DetailChoice

    def __post_init__(self) -> None:
        starts = tuple(s.start_ms for s in self.steps)
        object.__setattr__(self, "_starts", starts)  # step_at runs every tick

    def step_at(self, position_ms: int) -> StepMark:
        """The step playing at ``position_ms``."""
        if not self.steps:
            return StepMark(1, 0, self.title)
        starts: tuple[int, ...] = getattr(self, "_starts")  # noqa: B009 - set in __post_init__
        return self.steps[max(0, bisect.bisect_right(starts, position_ms) - 1)]


class Recorder:
    """Records one session into the history, off the audio path (see the module docstring)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        enabled: bool = True,
        warn: Warn = print_warning,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        busy_ms: int | None = None,
    ) -> None:
        """Record into the history at ``path`` (default: the user's) once :meth:`begin` is called;
        ``enabled=False`` records nothing (``--no-history``, ``history: false``)."""
        self.enabled = enabled
        self._path = path
        self._warn_line = warn
        self._clock = clock
        self._monotonic = monotonic
        self._busy_ms = busy_ms
        self._lock = threading.Condition()
        self._plan: SessionPlan | None = None
        self._row: SessionRow | None = None
        self._dirty = False
        self._closing = False
        self._busy = False
        """Whether the writer is writing a row it took (for :meth:`flush`)."""
        self._position_ms = 0
        self._written_at = 0.0
        self._warned = False
        self._warn_lock = threading.Lock()
        self._thread: threading.Thread | None = None

    # -- called by the player -------------------------------------------------------------

    def begin(self, plan: SessionPlan | Callable[[], SessionPlan]) -> None:
        """The session's first sound has gone out: record that it started.

        ``plan`` may be a function that makes it, called here, under the same guard.
        """
        if self.enabled:
            self._guard(self._begin, plan)

    def progress(self, position_ms: int) -> None:
        """The session is at ``position_ms``: written when the step changed, or once a minute."""
        if self.enabled:
            self._guard(self._progress, position_ms)

    def finish(self, outcome: Outcome, position_ms: int | None = None) -> None:
        """The session ended (at ``position_ms``, default the last known): record it, then stop.

        Waits up to :data:`FINISH_WAIT_S` for the write; a session that never began
        (no sound went out) leaves no row.
        """
        if self.enabled:
            self._guard(self._finish, outcome, position_ms)
        self.close()

    def _guard(self, action: Callable[..., None], *arguments: object) -> None:
        """Do ``action``; should it fail, warn and record no more (never stop the session)."""
        try:
            action(*arguments)
        except Exception as error:
            self.enabled = False
            self._warn(f"{error}; this session is not recorded")

    def _begin(self, plan: SessionPlan | Callable[[], SessionPlan]) -> None:
        if not isinstance(plan, SessionPlan):
            plan = plan()
        now = stamp(self._clock())
        step = plan.step_at(plan.from_ms)
        row = SessionRow(
            id=uuid.uuid4().hex,
            routine=plan.routine,
            title=plan.title,
            script_hash=plan.script_hash,
            cautions_hash=plan.cautions_hash,
            started_at=now,
            updated_at=now,
            ended_at=None,
            outcome="unfinished",
            from_ms=plan.from_ms,
            reached_ms=plan.from_ms,
            total_ms=plan.total_ms,
            intro_ms=plan.intro_ms,
            step=step.number,
            steps=plan.steps[-1].number if plan.steps else 1,
            step_title=step.title,
            engine=plan.engine,
            voice=plan.voice,
            rate_wpm=plan.rate_wpm,
            pace=plan.pace,
            repeat=plan.repeat,
            intro=plan.intro,
            detail=plan.detail,
            pid=os.getpid(),
        )
        with self._lock:
            self._plan, self._position_ms = plan, plan.from_ms
            self._hand_over(row)
        if self._thread is None:
            thread = threading.Thread(target=self._write_loop, name="history", daemon=True)
            thread.start()
            self._thread = thread

    def _progress(self, position_ms: int) -> None:
        with self._lock:
            row, plan = self._row, self._plan
            if row is None or plan is None or row.outcome != "unfinished":
                return
            self._position_ms = position_ms
            step = plan.step_at(position_ms)
            due = self._monotonic() - self._written_at >= HEARTBEAT_S
            if step.number != row.step or due:
                self._hand_over(self._moved(row, plan, position_ms))

    def _finish(self, outcome: Outcome, position_ms: int | None) -> None:
        with self._lock:
            row, plan = self._row, self._plan
            if row is not None and plan is not None and row.outcome == "unfinished":
                at = plan.total_ms if outcome == "completed" else position_ms
                at = self._position_ms if at is None else at
                ended = self._moved(row, plan, at)
                self._hand_over(replace(ended, outcome=outcome, ended_at=ended.updated_at))

    def flush(self, timeout_s: float = FINISH_WAIT_S) -> bool:
        """Wait until the writer has written (or given up on) every row handed to it.

        The player never needs this; it is for tests and benchmarks. False on timeout.
        """
        deadline = self._monotonic() + timeout_s
        with self._lock:
            while self._dirty or self._busy:
                if self._thread is None or not self._thread.is_alive():
                    return True  # the writer has stopped: nothing more will be written
                left = deadline - self._monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        """Stop the writer once it has written what it was given (at most :data:`FINISH_WAIT_S`)."""
        if self._thread is None:
            return
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        self._thread.join(FINISH_WAIT_S)
        self._thread = None

    # -- inside ----------------------------------------------------------------------------

    def _moved(self, row: SessionRow, plan: SessionPlan, position_ms: int) -> SessionRow:
        step = plan.step_at(position_ms)
        return replace(
            row,
            reached_ms=max(0, min(position_ms, plan.total_ms)),
            step=step.number,
            step_title=step.title,
            updated_at=stamp(self._clock()),
        )

    def _hand_over(self, row: SessionRow) -> None:
        """Give the writer a new row (the lock is held)."""
        self._row, self._dirty = row, True
        self._written_at = self._monotonic()
        self._lock.notify_all()

    def _warn(self, message: str) -> None:
        with self._warn_lock:
            if self._warned:
                return
            self._warned = True
        self._warn_line(WARNING_PREFIX + message)

    def _write_loop(self) -> None:
        time.sleep(0)  # hand the interpreter back at once: the session's thread goes first
        try:
            from voiceguide.practice.store import BUSY_MS, HistoryStore

            busy_ms = BUSY_MS if self._busy_ms is None else self._busy_ms
            store = HistoryStore.open(self._path, busy_ms=busy_ms)
        except Exception as error:  # HistoryUnavailable, or anything: never a traceback here
            self._warn(f"{error}; this session is not recorded")
            return
        if store.moved_aside is not None:
            self._warn(
                f"{store.path} was damaged: moved it aside to {store.moved_aside.name} "
                "and started a new one"
            )
        try:
            self._write_rows(store)
        finally:
            with contextlib.suppress(Exception):  # what was written stays written
                store.close()

    def _write_rows(self, store: HistoryStore) -> None:
        while True:
            with self._lock:
                while not self._dirty and not self._closing:
                    self._lock.wait()
                row = self._row if self._dirty else None
                self._dirty, self._busy = False, row is not None
                closing = self._closing
            try:
                if row is not None and not self._save(store, row):
                    return
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()
            if closing:
                return

    def _save(self, store: HistoryStore, row: SessionRow) -> bool:
        """Write ``row``; False if the writer should give up."""
        import sqlite3

        from voiceguide.practice.store import describe

        try:
            store.save(row)
        except sqlite3.Error as error:
            problem = describe(error, store.path)
            if problem.kind != "locked":
                self._warn(f"{problem}; this session is not recorded")
                return False
            # The next row replaces this one whole: nothing to retry now.
            self._warn(f"{problem}; this session may not be recorded")
        except Exception as error:
            self._warn(f"{error}; this session is not recorded")
            return False
        return True
