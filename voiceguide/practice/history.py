"""Read the history where a session needs it: never raising, never in the way.

For the session layer, before compiling: ``rows_for(name, now)`` gives the routine's past
sessions that :mod:`voiceguide.practice.decide` needs; if the history cannot be read it
warns once and returns none, and ``auto`` then gives what a first session gets (the full
introduction and instructions), which is always safe.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from voiceguide.practice.recorder import WARNING_PREFIX, Warn, print_warning
from voiceguide.practice.records import SessionRow
from voiceguide.practice.store import HistoryStore, HistoryUnavailable, history_path

READ_BUSY_MS = 200
"""A read waits at most this long for a file another program holds (WAL readers rarely wait)."""


def rows_for(
    routine: str, now: datetime, *, path: Path | None = None, warn: Warn = print_warning
) -> list[SessionRow]:
    """The sessions of ``routine`` the decisions at ``now`` need, newest first; ``[]`` if none.

    Reads without creating anything: no file yet means no sessions. Only the few rows the
    decisions look at are read (:meth:`HistoryStore.decision_rows`).
    """
    path = path or history_path()
    if not path.exists():
        return []
    try:
        # No page-by-page check: the recorder's open does that, off the session's path.
        store = HistoryStore.open(path, busy_ms=READ_BUSY_MS, read_only=True, check=False)
    except HistoryUnavailable as error:
        warn(f"{WARNING_PREFIX}{error}; deciding as for a first session")
        return []
    try:
        if store.moved_aside is not None:
            warn(
                f"{WARNING_PREFIX}{path} was damaged: moved it aside to "
                f"{store.moved_aside.name} and started a new one"
            )
        return store.decision_rows(routine, now)
    except Exception as error:  # a read must never stop a session
        warn(f"{WARNING_PREFIX}{path}: {error}; deciding as for a first session")
        return []
    finally:
        store.close()
