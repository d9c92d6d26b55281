"""What ``auto`` means for the introduction and the instructions, decided from the history.

Pure functions of the history's rows, the routine's identity and the time now: no clock, no
files. The session layer reads the rows (:func:`voiceguide.practice.history.rows_for`) and
hands the choices to the compiler.

*Introduction.* The full one (title, posture, every caution, the length) until it has been
heard through once; again whenever the cautions differ from the ones last heard in full; and
again when the last full one is :data:`FULL_INTRO_EVERY_DAYS` days old. Otherwise the short
one. "Heard through" means a session that started at the beginning and got past the end
of the introduction, whether or not it then finished: one killed halfway through the
introduction does not count.

*Instructions.* Full until the routine has been played whole (from its start to its end)
:data:`FULL_DETAIL_UNTIL` times, then brief.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from voiceguide.practice.identity import RoutineIdentity
from voiceguide.practice.records import DetailChoice, SessionRow

FULL_INTRO_EVERY_DAYS = 30
FULL_DETAIL_UNTIL = 3

IntroReason = Literal["first time", "cautions changed", "due again", "heard recently"]
DetailReason = Literal["still learning", "played whole often enough"]


@dataclass(frozen=True)
class IntroDecision:
    """Which introduction ``auto`` gives, and why (for ``--json`` and the docs)."""

    intro: Literal["full", "short"]
    reason: IntroReason


@dataclass(frozen=True)
class DetailDecision:
    """Which instructions ``auto`` gives, and why."""

    detail: DetailChoice
    reason: DetailReason
    whole_sessions: int
    """How many times the routine has been played whole (counted up to the threshold)."""


def _of(rows: Iterable[SessionRow], routine: RoutineIdentity) -> list[SessionRow]:
    return [r for r in rows if r.routine == routine.name]


def decide_intro(
    rows: Iterable[SessionRow], routine: RoutineIdentity, now: datetime
) -> IntroDecision:
    """The introduction ``auto`` gives ``routine`` at ``now`` (an aware datetime)."""
    heard = [r for r in _of(rows, routine) if r.heard_intro and r.started <= now]
    if not heard:
        return IntroDecision("full", "first time")
    last = max(heard, key=lambda r: r.started)
    if last.cautions_hash != routine.cautions_hash:
        return IntroDecision("full", "cautions changed")
    if now - last.started >= timedelta(days=FULL_INTRO_EVERY_DAYS):
        return IntroDecision("full", "due again")
    return IntroDecision("short", "heard recently")


def decide_detail(
    rows: Iterable[SessionRow], routine: RoutineIdentity, now: datetime
) -> DetailDecision:
    """The instructions ``auto`` gives ``routine`` at ``now``."""
    whole = sum(1 for r in _of(rows, routine) if r.whole and r.started <= now)
    if whole >= FULL_DETAIL_UNTIL:
        return DetailDecision("brief", "played whole often enough", FULL_DETAIL_UNTIL)
    return DetailDecision("full", "still learning", whole)
