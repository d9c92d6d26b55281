"""Read the history where a session needs it: never raising, never in the way.

For the session layer, before compiling: ``rows_for(name)`` gives the routine's past sessions
for :mod:`voiceguide.practice.decide`; if the history cannot be read it warns once and
returns none, and ``auto`` then gives what a first session gets (the full introduction and
instructions), which is always safe.
"""

from __future__ import annotations

from pathlib import Path

from voiceguide.practice.recorder import WARNING_PREFIX, Warn, print_warning
from voiceguide.practice.records import SessionRow
from voiceguide.practice.store import HistoryStore, HistoryUnavailable, history_path

READ_BUSY_MS = 200
"""A read waits at most this long for a file another program holds (WAL readers rarely wait)."""


def rows_for(
    routine: str | None, *, path: Path | None = None, warn: Warn = print_warning
) -> list[SessionRow]:
    """The sessions of ``routine`` (every session for ``None``), newest first; ``[]`` if none.

    Reads without creating anything: no file yet means no sessions.
    """
    path = path or history_path()
    if not path.exists():
        return []
    try:
        store = HistoryStore.open(path, busy_ms=READ_BUSY_MS, read_only=True)
    except HistoryUnavailable as error:
        warn(f"{WARNING_PREFIX}{error}; deciding as for a first session")
        return []
    try:
        if store.moved_aside is not None:
            warn(
                f"{WARNING_PREFIX}{path} was damaged: moved it aside to "
                f"{store.moved_aside.name} and started a new one"
            )
        return store.rows(routine)
    except Exception as error:  # a read must never stop a session
        warn(f"{WARNING_PREFIX}{path}: {error}; deciding as for a first session")
        return []
    finally:
        store.close()
