"""What the history decides and sums up, with a fake clock; which routine version was played."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.test_history import T0, make_row
from voiceguide.practice.decide import (
    FULL_DETAIL_UNTIL,
    FULL_INTRO_EVERY_DAYS,
    decide_detail,
    decide_intro,
)
from voiceguide.practice.identity import RoutineIdentity, cautions_hash, identify
from voiceguide.practice.records import SessionRow, stamp
from voiceguide.practice.summary import LIVE_GRACE_S, status_of, streak, summarize
from voiceguide.script import library

FOOT = RoutineIdentity("sitting-foot", "a" * 64, "c" * 64)


def day(n: float) -> datetime:
    return T0 + timedelta(days=n)


# -- the introduction -------------------------------------------------------------------------


def test_the_first_time_a_routine_is_played_the_intro_is_full() -> None:
    other = make_row(0, routine="hand")
    assert decide_intro([], FOOT, day(0)).intro == "full"
    assert decide_intro([other], FOOT, day(1)).reason == "first time"


def test_after_a_full_intro_heard_the_next_ones_are_short_for_30_days() -> None:
    rows = [make_row(0)]
    assert decide_intro(rows, FOOT, day(1)) == decide_intro(rows, FOOT, day(29.9))
    assert decide_intro(rows, FOOT, day(1)).intro == "short"
    assert decide_intro(rows, FOOT, day(1)).reason == "heard recently"
    due = decide_intro(rows, FOOT, day(FULL_INTRO_EVERY_DAYS))
    assert (due.intro, due.reason) == ("full", "due again")
    # Short sessions in between do not renew it; a full one does.
    rows += [make_row(n, id=f"short{n}", intro="short") for n in (5, 10, 20)]
    assert decide_intro(rows, FOOT, day(31)).intro == "full"
    rows.append(make_row(31))
    assert decide_intro(rows, FOOT, day(32)).intro == "short"


def test_changed_cautions_bring_the_full_intro_back() -> None:
    rows = [make_row(0), make_row(1, intro="short")]
    changed = RoutineIdentity(FOOT.name, "b" * 64, "d" * 64)
    decision = decide_intro(rows, changed, day(2))
    assert (decision.intro, decision.reason) == ("full", "cautions changed")
    rows.append(make_row(2, cautions_hash="d" * 64))
    assert decide_intro(rows, changed, day(3)).intro == "short"
    # An edit that leaves the cautions alone keeps the short intro.
    edited = RoutineIdentity(FOOT.name, "e" * 64, "c" * 64)
    assert decide_intro([make_row(0)], edited, day(1)).intro == "short"


@pytest.mark.parametrize(
    ("changes", "heard"),
    [
        ({"intro": "none", "intro_ms": 0}, False),  # --skip-intro
        ({"outcome": "unfinished", "reached_ms": 20_000}, False),  # killed during it
        ({"outcome": "stopped", "reached_ms": 50_000}, True),  # quit just after it
        ({"from_ms": 120_000}, False),  # --from a later step
    ],
)
def test_only_an_intro_heard_through_counts(changes: dict[str, object], heard: bool) -> None:
    rows = [make_row(0, **changes)]
    assert rows[0].heard_intro is heard
    assert decide_intro(rows, FOOT, day(1)).intro == ("short" if heard else "full")


def test_sessions_after_now_are_ignored() -> None:
    assert decide_intro([make_row(5)], FOOT, day(1)).intro == "full"


# -- the instructions -------------------------------------------------------------------------


def test_instructions_are_full_until_three_whole_sessions_then_brief() -> None:
    rows: list[SessionRow] = []
    for n in range(FULL_DETAIL_UNTIL):
        decision = decide_detail(rows, FOOT, day(n))
        assert (decision.detail, decision.whole_sessions) == ("full", n)
        rows.append(make_row(n))
    decision = decide_detail(rows, FOOT, day(FULL_DETAIL_UNTIL))
    assert (decision.detail, decision.reason) == ("brief", "played whole often enough")


def test_only_whole_sessions_count_towards_brief_instructions() -> None:
    partial = [
        make_row(0, outcome="stopped", reached_ms=200_000),
        make_row(1, from_ms=120_000),  # completed, but from a later step
        make_row(2, routine="hand"),
        make_row(3, outcome="unfinished"),
    ]
    assert decide_detail(partial, FOOT, day(5)).whole_sessions == 0
    # Starting inside the introduction, or without one, is still the whole routine.
    whole = [make_row(4, from_ms=30_000), make_row(5, intro="none", intro_ms=0), make_row(6)]
    assert decide_detail(partial + whole, FOOT, day(7)).detail == "brief"


# -- summaries --------------------------------------------------------------------------------

ZONE = timezone(timedelta(hours=-5))
"""A zone where T0 (19:00 UTC) is 14:00 on the same day, and 03:00 UTC is the evening before."""


def at(text: str) -> str:
    """A stamp for a local time in ZONE."""
    return stamp(datetime.fromisoformat(text).replace(tzinfo=ZONE))


def test_summary_counts_practice_this_week_and_days_in_the_last_30() -> None:
    now = datetime(2025, 5, 14, 22, 0, tzinfo=ZONE)  # a Wednesday evening
    rows = [
        make_row(1, started_at=at("2025-05-14T21:00")),
        make_row(2, started_at=at("2025-05-12T08:00")),  # Monday
        make_row(3, started_at=at("2025-05-11T23:30")),  # Sunday late: last week
        make_row(4, started_at=at("2025-05-11T07:00"), routine="hand"),
        make_row(5, started_at=at("2025-04-15T12:00")),  # 29 days before: inside 30
        make_row(6, started_at=at("2025-04-14T12:00")),  # 30 days before: outside
        make_row(7, started_at=at("2025-05-13T12:00"), outcome="stopped", reached_ms=30_000),
        make_row(8, started_at=at("2025-05-13T13:00"), outcome="unfinished", reached_ms=60_000),
        make_row(9, started_at=at("2025-05-13T14:00"), from_ms=270_000),  # the last half minute
    ]
    summary = summarize(rows, now)
    # Rows 7 and 9 (half a minute) are not practice; row 8 (a minute) is, though unfinished.
    assert (summary.this_week, summary.days_last_30, summary.sessions) == (3, 5, 7)
    foot, hand = summary.routines
    assert (foot.routine, foot.this_week, foot.days_last_30, foot.sessions, foot.completed) == (
        "sitting-foot", 3, 5, 6, 5
    )  # fmt: skip
    assert foot.last == datetime(2025, 5, 14, 21, 0, tzinfo=ZONE)
    assert (hand.routine, hand.this_week, hand.days_last_30, hand.sessions) == ("hand", 0, 1, 1)


def test_days_are_the_users_local_days() -> None:
    morning = make_row(0, started_at="2025-05-12T15:00:00.000Z")  # 10:00 on the 12th in ZONE
    late = make_row(1, started_at="2025-05-14T03:00:00.000Z")  # 22:00 on the 13th in ZONE
    now = datetime(2025, 5, 13, 23, 0, tzinfo=ZONE)
    assert streak([morning, late], now).current == 2
    assert streak([morning, late], now.astimezone(UTC)).current == 1  # the 12th and the 14th


def test_streak_counts_days_in_a_row_and_is_alive_until_today_ends() -> None:
    days = [1, 2, 3, 5, 6, 7, 8, 9, 11, 12]
    rows = [make_row(n, started_at=stamp(day(n))) for n in days]
    rows.append(make_row(12, id="twice", started_at=stamp(day(12) + timedelta(hours=1))))
    assert streak(rows, day(12)) == streak(rows, day(13))  # today not yet practised
    found = streak(rows, day(12))
    assert (found.current, found.longest) == (2, 5)
    assert streak(rows, day(14)).current == 0
    assert streak([], day(0)) == streak([make_row(0, reached_ms=10, outcome="stopped")], day(0))


def test_an_unfinished_row_of_a_live_process_reads_as_playing() -> None:
    row = make_row(0, outcome="unfinished", ended_at=None)
    recent = day(0) + timedelta(seconds=LIVE_GRACE_S - 1)
    assert status_of(row, recent, alive=lambda pid: True) == "playing"
    assert status_of(row, recent, alive=lambda pid: False) == "unfinished"
    late = day(0) + timedelta(seconds=LIVE_GRACE_S + 1)
    assert status_of(row, late, alive=lambda pid: True) == "unfinished"
    assert status_of(make_row(0), recent, alive=lambda pid: True) == "completed"


# -- which version was played -----------------------------------------------------------------

MAIN = """\
title: Main
cautions:
  - Stop if anything hurts.
  - Check with your doctor first.
points:
  web: {name: the web of your hand, where: between the thumb and the index finger}
steps:
  - say: Sit down.
  - include: part
  - press: {point: web, hold: 3s}
"""
PART = "title: Part\nsteps:\n  - say: Breathe in.\n"


def routine_in(folder: Path, main: str = MAIN, part: str = PART) -> RoutineIdentity:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "main.yaml").write_text(main, encoding="utf-8")
    (folder / "part.yaml").write_text(part, encoding="utf-8")
    return identify(library.load_path(folder / "main.yaml"))


def test_the_same_routine_elsewhere_or_with_comments_is_the_same_version(tmp_path: Path) -> None:
    first = routine_in(tmp_path / "a")
    assert routine_in(tmp_path / "a") == first
    assert routine_in(tmp_path / "b") == first  # another folder: positions and paths differ
    commented = "# my routine\n\n" + MAIN.replace("Sit down.", "Sit down.   # first")
    assert routine_in(tmp_path / "c", commented) == first
    assert len(first.script_hash) == len(first.cautions_hash) == 64


def test_an_edit_anywhere_is_a_new_version(tmp_path: Path) -> None:
    first = routine_in(tmp_path / "a")
    edits = {
        "text": (MAIN.replace("Sit down.", "Sit up."), PART),
        "hold": (MAIN.replace("hold: 3s", "hold: 4s"), PART),
        "point": (MAIN.replace("index finger", "first finger"), PART),
        "included part": (MAIN, PART.replace("Breathe in.", "Breathe out.")),
    }
    for number, (what, (main, part)) in enumerate(edits.items()):
        edited = routine_in(tmp_path / f"edit{number}", main, part)
        assert edited.script_hash != first.script_hash, what
        assert edited.cautions_hash == first.cautions_hash, what


def test_the_cautions_hash_follows_the_sentences_not_their_order(tmp_path: Path) -> None:
    first = routine_in(tmp_path / "a")
    lines = MAIN.splitlines(keepends=True)
    swapped = "".join([lines[0], lines[1], lines[3], lines[2], *lines[4:]])
    assert routine_in(tmp_path / "b", swapped).cautions_hash == first.cautions_hash
    reworded = MAIN.replace("Stop if anything hurts.", "Stop if it hurts.")
    assert routine_in(tmp_path / "c", reworded).cautions_hash != first.cautions_hash
    assert cautions_hash(["A  caution.", "B."]) == cautions_hash(["B.", "A caution."])


def test_every_built_in_routine_has_a_stable_distinct_version() -> None:
    names = sorted(library.entries())
    first = {name: identify(library.load(name)).script_hash for name in names}
    assert {name: identify(library.load(name)).script_hash for name in names} == first
    assert len(set(first.values())) == len(names)


def test_the_few_rows_read_for_deciding_decide_as_all_the_rows(tmp_path: Path) -> None:
    import random

    from voiceguide.practice.store import HistoryStore

    chance = random.Random(13)
    store = HistoryStore.open(tmp_path / "history.sqlite")
    for n in range(400):
        store.save(
            make_row(
                n,
                id=f"r{n}",
                started_at=stamp(day(n * 0.37)),
                routine=chance.choice(["sitting-foot", "hand"]),
                cautions_hash=chance.choice(["c" * 64, "d" * 64]),
                outcome=chance.choice(["completed", "stopped", "unfinished", "interrupted"]),
                intro=chance.choice(["full", "short", "none"]),
                from_ms=chance.choice([0, 0, 30_000, 120_000]),
                reached_ms=chance.choice([10_000, 50_000, 200_000]),
            )
        )
    identities = [FOOT, RoutineIdentity("hand", "a" * 64, "d" * 64)]
    checked = set()
    for moment in [day(d) for d in (-1, 0.5, 3, 10, 40, 80, 120, 150, 200)]:
        for identity in identities:
            every = store.rows(identity.name)
            few = store.decision_rows(identity.name, moment)
            assert len(few) <= 4
            intro, detail = (
                decide_intro(every, identity, moment),
                decide_detail(every, identity, moment),
            )
            assert decide_intro(few, identity, moment) == intro
            assert decide_detail(few, identity, moment) == detail
            checked.add((intro.reason, detail.detail))
    store.close()
    assert len(checked) >= 4  # the histories reach several different decisions
