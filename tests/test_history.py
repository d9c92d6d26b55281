"""The practice history's store, schema and recorder, on a real SQLite file."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voiceguide.practice.recorder import (
    HEARTBEAT_S,
    WARNING_PREFIX,
    Recorder,
    SessionPlan,
    StepMark,
)
from voiceguide.practice.records import SessionRow, parse_stamp, stamp
from voiceguide.practice.schema import MIGRATIONS, SCHEMA_VERSION, migrate, version_of
from voiceguide.practice.store import HistoryStore, HistoryUnavailable, damaged_copies, move_aside

T0 = datetime(2025, 5, 1, 19, 0, tzinfo=UTC)


def make_row(n: int = 0, **changes: object) -> SessionRow:
    """A completed session of ``sitting-foot``, ``n`` days after T0."""
    at = stamp(T0 + timedelta(days=n))
    row = SessionRow(
        id=f"s{n}", routine="sitting-foot", title="Foot massage, sitting", script_hash="a" * 64,
        cautions_hash="c" * 64, started_at=at, updated_at=at, ended_at=at, outcome="completed",
        from_ms=0, reached_ms=300_000, total_ms=300_000, intro_ms=50_000, step=4, steps=4,
        step_title="Foot massage", engine="espeak", voice=None, rate_wpm=150, pace=1.0, repeat=1,
        intro="full", detail="full", pid=1,
    )  # fmt: skip
    return replace(row, **changes)  # type: ignore[arg-type]


PLAN = SessionPlan(
    routine="hand", title="Hand point", script_hash="a" * 64, cautions_hash="c" * 64,
    total_ms=90_000, from_ms=0, intro_ms=20_000,
    steps=(StepMark(0, 0, "Introduction"), StepMark(1, 20_000, "Right side"),
           StepMark(2, 55_000, "Left side")),
    engine="espeak", voice="en-gb", rate_wpm=140, pace=1.25, repeat=1, intro="full", detail="full",
)  # fmt: skip


def database(tmp_path: Path) -> Path:
    return tmp_path / "data" / "history.sqlite"


def stored(path: Path) -> list[SessionRow]:
    store = HistoryStore.open(path)
    try:
        return store.rows()
    finally:
        store.close()


# -- time stamps and schema -------------------------------------------------------------------


def test_stamps_are_utc_with_milliseconds_and_sort_as_text() -> None:
    local = datetime(2025, 5, 1, 21, 2, 3, 120_999, tzinfo=UTC).astimezone()
    assert stamp(local) == "2025-05-01T21:02:03.120Z"
    assert parse_stamp("2025-05-01T21:02:03.120Z") == datetime(2025, 5, 1, 21, 2, 3, 120_000, UTC)
    times = [T0 + timedelta(milliseconds=ms) for ms in (5, 999, 1000, 86_400_000)]
    assert sorted(stamp(t) for t in reversed(times)) == [stamp(t) for t in times]


def test_a_new_file_is_migrated_to_the_current_schema_once(tmp_path: Path) -> None:
    path = database(tmp_path)
    HistoryStore.open(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    assert version_of(connection) == SCHEMA_VERSION == len(MIGRATIONS)
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert migrate(connection) == SCHEMA_VERSION  # nothing to do the second time
    connection.close()


def test_a_later_migration_is_applied_to_an_older_file_and_keeps_its_rows(tmp_path: Path) -> None:
    path = database(tmp_path)
    store = HistoryStore.open(path)
    store.save(make_row())
    store.close()
    connection = sqlite3.connect(path, isolation_level=None)
    later = (*MIGRATIONS, ("ALTER TABLE sessions ADD COLUMN mood TEXT",))
    assert migrate(connection, later) == SCHEMA_VERSION + 1
    assert connection.execute("SELECT routine, mood FROM sessions").fetchall() == [
        ("sitting-foot", None)
    ]
    connection.close()


def test_a_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = database(tmp_path)
    HistoryStore.open(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    broken = (*MIGRATIONS, ("CREATE TABLE extra (x)", "THIS IS NOT SQL"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(connection, broken)
    assert version_of(connection) == SCHEMA_VERSION
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("sessions",)]
    connection.close()


def test_a_file_from_a_newer_voiceguide_is_left_alone(tmp_path: Path) -> None:
    path = database(tmp_path)
    HistoryStore.open(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    before = path.read_bytes()
    with pytest.raises(HistoryUnavailable) as raised:
        HistoryStore.open(path)
    assert raised.value.kind == "newer"
    assert str(raised.value) == (
        f"{path} was written by a newer voiceguide "
        f"(schema version {SCHEMA_VERSION + 1}; this voiceguide knows up to {SCHEMA_VERSION})"
    )
    assert path.read_bytes() == before
    assert damaged_copies(path) == []


# -- the store --------------------------------------------------------------------------------


def test_saving_a_session_again_replaces_its_row(tmp_path: Path) -> None:
    path = database(tmp_path)
    store = HistoryStore.open(path)
    store.save(make_row(0, outcome="unfinished", ended_at=None, reached_ms=1000))
    store.save(make_row(0))
    store.save(make_row(1, routine="hand"))
    assert store.count() == 2
    assert [r.id for r in store.rows()] == ["s1", "s0"]  # newest first
    assert store.rows("sitting-foot") == [make_row(0)]
    assert store.rows(limit=1) == [make_row(1, routine="hand")]
    store.close()


def test_forget_deletes_the_rows_and_leaves_no_trace_in_the_files(tmp_path: Path) -> None:
    path = database(tmp_path)
    store = HistoryStore.open(path)
    store.save(make_row(0, title="Zebra crossing practice"))
    store.save(make_row(1, routine="hand", title="Hand point"))

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in path.parent.glob("history.sqlite*"))

    assert b"Zebra crossing" in on_disk()
    assert store.forget("sitting-foot") == 1
    assert [r.routine for r in store.rows()] == ["hand"]
    assert b"Zebra crossing" not in on_disk()
    assert store.forget() == 1
    assert store.count() == 0
    assert b"Hand point" not in on_disk()
    store.close()


@pytest.mark.parametrize("damage", ["random bytes", "truncated", "a page overwritten"])
def test_a_damaged_file_is_moved_aside_whole_and_a_new_one_started(
    tmp_path: Path, damage: str
) -> None:
    path = database(tmp_path)
    store = HistoryStore.open(path)
    for n in range(300):
        store.save(make_row(n, title=f"Session number {n} " + "x" * 200))
    store.close()  # checkpoints: everything is in the main file
    data = path.read_bytes()
    assert len(data) > 16 * 4096
    if damage == "random bytes":
        broken = os.urandom(len(data))
    elif damage == "truncated":
        broken = data[: len(data) // 2]
    else:
        broken = data[: 8 * 4096] + b"\xff" * 4096 + data[9 * 4096 :]
    path.write_bytes(broken)
    store = HistoryStore.open(path)
    assert store.moved_aside is not None
    assert store.moved_aside.name.startswith("history.sqlite.damaged-")
    assert store.moved_aside.read_bytes() == broken  # kept, byte for byte
    assert damaged_copies(path) == [store.moved_aside]
    assert store.count() == 0
    store.save(make_row())
    store.close()
    again = HistoryStore.open(path)  # the new file is sound: not moved again
    assert again.moved_aside is None
    assert again.count() == 1
    again.close()


def test_moving_aside_never_overwrites_an_earlier_copy(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite"
    moments = []
    for content in (b"first", b"second"):
        path.write_bytes(content)
        Path(f"{path}-wal").write_bytes(content + b"-wal")
        moments.append(move_aside(path, T0))
    assert [m.name for m in moments] == [
        "history.sqlite.damaged-20250501T190000Z",
        "history.sqlite.damaged-20250501T190000Z-2",
    ]
    assert [m.read_bytes() for m in moments] == [b"first", b"second"]
    assert Path(f"{moments[1]}-wal").read_bytes() == b"second-wal"
    assert not path.exists()


def test_a_folder_in_the_way_is_one_clear_error(tmp_path: Path) -> None:
    path = database(tmp_path)
    path.mkdir(parents=True)
    with pytest.raises(HistoryUnavailable, match=r"history\.sqlite is not a file$"):
        HistoryStore.open(path)
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(HistoryUnavailable) as raised:
        HistoryStore.open(blocker / "history.sqlite")
    assert str(raised.value) == f"{blocker} is a file, not a folder"


# -- the recorder -----------------------------------------------------------------------------


class Clock:
    """A fake wall clock and monotonic clock that move only when told."""

    def __init__(self) -> None:
        self.now = T0
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.mono += seconds


def recorder(path: Path, clock: Clock, warnings: list[str]) -> Recorder:
    return Recorder(
        path, warn=warnings.append, clock=lambda: clock.now, monotonic=lambda: clock.mono
    )


def test_a_session_is_recorded_as_it_goes_and_at_its_end(tmp_path: Path) -> None:
    path, clock = database(tmp_path), Clock()
    warnings: list[str] = []
    rec = recorder(path, clock, warnings)
    rec.begin(PLAN)
    assert rec.flush()
    [row] = stored(path)
    assert (row.outcome, row.step, row.reached_ms, row.ended_at) == ("unfinished", 0, 0, None)
    assert (row.started_at, row.pid, row.voice, row.pace) == (stamp(T0), os.getpid(), "en-gb", 1.25)
    clock.advance(21)
    rec.progress(21_000)  # a new step: written
    assert rec.flush()
    assert (stored(path)[0].step, stored(path)[0].reached_ms) == (1, 21_000)
    clock.advance(10)
    rec.progress(31_000)  # the same step, within the minute: not written
    assert rec.flush()
    assert stored(path)[0].reached_ms == 21_000
    clock.advance(HEARTBEAT_S)
    rec.progress(31_000)  # paused a minute: written, to show it still plays
    assert rec.flush()
    assert stored(path)[0].updated_at == stamp(clock.now)
    clock.advance(30)
    rec.finish("stopped", 61_000)
    [row] = stored(path)
    assert (row.outcome, row.step, row.step_title, row.reached_ms) == (
        "stopped", 2, "Left side", 61_000
    )  # fmt: skip
    assert row.ended_at == stamp(clock.now)
    assert warnings == []


def test_a_completed_session_reached_its_end(tmp_path: Path) -> None:
    path, clock = database(tmp_path), Clock()
    warnings: list[str] = []
    rec = recorder(path, clock, warnings)
    rec.begin(replace(PLAN, from_ms=30_000))
    rec.progress(89_950)
    rec.finish("completed", 89_950)
    [row] = stored(path)
    assert (row.outcome, row.from_ms, row.reached_ms, row.step) == ("completed", 30_000, 90_000, 2)
    rec.progress(10)  # after the end: nothing changes
    assert stored(path) == [row]


def test_a_session_that_never_began_leaves_no_row(tmp_path: Path) -> None:
    path = database(tmp_path)
    warnings: list[str] = []
    rec = recorder(path, Clock(), warnings)
    rec.finish("failed", 0)
    assert stored(path) == []
    assert warnings == []


def test_no_history_writes_nothing_at_all(tmp_path: Path) -> None:
    path = database(tmp_path)
    rec = Recorder(path, enabled=False)
    rec.begin(PLAN)
    rec.progress(30_000)
    rec.finish("completed")
    assert not path.parent.exists()


def test_a_locked_file_gives_one_warning_and_the_next_write_makes_it_good(tmp_path: Path) -> None:
    path, clock = database(tmp_path), Clock()
    warnings: list[str] = []
    HistoryStore.open(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("DELETE FROM sessions")
    rec = Recorder(path, warn=warnings.append, clock=lambda: clock.now, busy_ms=50)
    rec.begin(PLAN)
    assert rec.flush()
    rec.progress(25_000)
    assert rec.flush()
    assert warnings == [
        f"{WARNING_PREFIX}{path} is locked by another program; this session may not be recorded"
    ]
    holder.execute("COMMIT")
    holder.close()
    rec.finish("completed")
    [row] = stored(path)
    assert row.outcome == "completed"
    assert len(warnings) == 1


def test_a_folder_that_cannot_be_made_gives_one_warning_and_nothing_raises(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be", encoding="utf-8")
    warnings: list[str] = []
    rec = recorder(tmp_path / "data" / "history.sqlite", Clock(), warnings)
    rec.begin(PLAN)
    for ms in range(0, 90_000, 5_000):
        rec.progress(ms)
    rec.finish("completed")
    assert warnings == [
        f"{WARNING_PREFIX}{tmp_path}/data is a file, not a folder; this session is not recorded"
    ]


def test_sessions_opening_a_new_file_at_the_same_moment_all_open_it(tmp_path: Path) -> None:
    # Turning a new file to WAL answers "busy" at once, past SQLite's busy wait: the
    # opening itself must wait its turn, or a session that starts with another is lost.
    failures: list[str] = []

    def open_once(path: Path) -> None:
        try:
            HistoryStore.open(path).close()
        except HistoryUnavailable as error:
            failures.append(str(error))

    for attempt in range(60):
        path = tmp_path / f"race-{attempt}" / "history.sqlite"
        threads = [threading.Thread(target=open_once, args=(path,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert failures == []


def test_two_recorders_at_once_both_record_every_step(tmp_path: Path) -> None:
    path = database(tmp_path)
    warnings: list[str] = []
    steps = tuple(StepMark(n, n * 10, f"Step {n}") for n in range(200))
    plan = replace(PLAN, steps=steps, total_ms=2000, intro_ms=0)

    def session(name: str) -> None:
        rec = Recorder(path, warn=warnings.append)
        rec.begin(replace(plan, routine=name))
        for ms in range(0, 2000, 10):
            rec.progress(ms)
            rec.flush()
        rec.finish("completed")

    threads = [threading.Thread(target=session, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert warnings == []
    rows = stored(path)
    assert sorted((r.routine, r.outcome, r.step) for r in rows) == [
        ("one", "completed", 199),
        ("two", "completed", 199),
    ]


def test_a_failure_inside_the_recorder_is_one_warning_never_an_exception(tmp_path: Path) -> None:
    path = database(tmp_path)
    warnings: list[str] = []
    rec = recorder(path, Clock(), warnings)

    def no_plan() -> SessionPlan:
        raise ValueError("no plan today")

    rec.begin(no_plan)
    rec.progress(30_000)
    rec.finish("completed")
    assert warnings == [f"{WARNING_PREFIX}no plan today; this session is not recorded"]
    assert stored(path) == []
    rec = recorder(path, Clock(), warnings)
    rec.begin(lambda: PLAN)  # a plan made when the first sound goes out
    rec.finish("completed")
    assert [r.routine for r in stored(path)] == ["hand"]
