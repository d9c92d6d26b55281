"""A session that knows you: ``auto`` decided from the practice history, for ``play`` alone.

:func:`for_play` loads the routine a ``play`` asks for and settles its request
(:mod:`voiceguide.app.settling`) with a decider that reads the routine's past sessions
(:func:`voiceguide.practice.history.rows_for`) and applies the rules of
:mod:`voiceguide.practice.decide`: the full introduction the first time, when the cautions
changed and every 30 days, else the short one; full instructions until the routine has been
played whole three times, then brief ones. The history is read only when something is
``auto``, and a history that cannot be read gives what a first session gets.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.app.session import SessionRequest
    from voiceguide.app.settling import Decide, Decisions, Settled
    from voiceguide.script.config import UserConfig
    from voiceguide.script.model import Routine


def history_file() -> Path:
    """Where the practice history is (:func:`voiceguide.practice.store.history_path`).

    Said again here so that looking for it imports nothing of SQLite.
    """
    from voiceguide import paths

    return paths.user_data_dir() / "history.sqlite"


def from_history(
    now: datetime | None = None,
    *,
    path: Path | None = None,
    warn: Callable[[str], None] | None = None,
) -> Decide:
    """A decider for ``auto`` that reads the practice history (at ``path``) as of ``now``."""

    def decide(routine: Routine, intro: bool, detail: bool) -> Decisions:
        from voiceguide.app.settling import Decisions
        from voiceguide.practice.decide import decide_detail, decide_intro
        from voiceguide.practice.identity import identify
        from voiceguide.practice.records import utc_now

        moment = now if now is not None else utc_now()
        identity = identify(routine)
        where = path if path is not None else history_file()
        rows = []
        if where.exists():  # else nothing to read: sqlite3 is not even imported
            from voiceguide.practice.history import rows_for
            from voiceguide.practice.recorder import print_warning

            rows = rows_for(identity.name, moment, path=where, warn=warn or print_warning)
        return Decisions(
            intro=decide_intro(rows, identity, moment) if intro else None,
            detail=decide_detail(rows, identity, moment) if detail else None,
        )

    return decide


def for_play(
    request: SessionRequest,
    *,
    config: UserConfig | None = None,
    decide: Decide | None = None,
) -> Settled:
    """Load the routine ``request`` names and settle it as ``play`` does (``auto`` decided).

    ``decide`` defaults to :func:`from_history` now. The settled request holds the loaded
    routine, so that opening it does not load it again.
    """
    from dataclasses import replace

    from voiceguide.app.session import load_routine
    from voiceguide.app.settling import settle

    routine = load_routine(request.routine, allow_outside=request.allow_outside)
    request = replace(request, routine=routine)
    return settle(request, routine, config, decide=decide or from_history())


def describe(decisions: Decisions) -> list[str]:
    """What ``auto`` chose and why, in words: "short introduction (heard recently)"."""
    lines = []
    intro, detail = decisions.intro, decisions.detail
    if intro is not None:
        lines.append(f"{intro.intro} introduction ({intro.reason})")
    if detail is not None:
        times = "" if detail.detail == "brief" else f", played whole {detail.whole_sessions} times"
        lines.append(f"{detail.detail} instructions ({detail.reason}{times})")
    return lines
