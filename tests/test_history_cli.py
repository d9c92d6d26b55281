"""``voiceguide history``: the table, the summary, JSON, CSV and forgetting."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.helpers import run_cli as run
from tests.test_history import make_row
from voiceguide.app import recording
from voiceguide.cli import history as history_cli
from voiceguide.practice.records import SessionRow, stamp, utc_now
from voiceguide.practice.store import HistoryStore, damaged_copies, history_path


def recorded(*rows: SessionRow) -> list[SessionRow]:
    store = HistoryStore.open(history_path())
    for row in rows:
        store.save(row)
    found = store.rows()
    store.close()
    return found


def ago(hours: float, n: int, **changes: object) -> SessionRow:
    """Session ``n``, started ``hours`` ago — all of them today, however early today is.

    Just after midnight "three hours ago" is yesterday, and the summary counts days: the
    hours shrink to fit between local midnight and now (a day is what these tests count).
    """
    now = utc_now()
    local = now.astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    hour = min(timedelta(hours=1), (local - midnight) / 4)
    moment = stamp(now - hour * hours)
    fields: dict[str, object] = {"started_at": moment, "updated_at": moment, "ended_at": moment}
    return make_row(n, **{**fields, **changes})


@pytest.fixture
def three() -> list[SessionRow]:
    return recorded(
        ago(1, 1),
        ago(2, 2, routine="hand", outcome="stopped", reached_ms=200_000, step=2, step_title="Left"),
        ago(3, 3, outcome="unfinished", ended_at=None, from_ms=65_000, reached_ms=125_000, step=3,
            step_title="Right foot", pid=2**22 + 1),  # no such process
    )  # fmt: skip


def test_no_history_yet_says_so_and_creates_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["history"], capsys)
    assert (code, err) == (0, "")
    assert out == f"No sessions recorded yet (the history is kept in {history_path()}).\n"
    assert not history_path().exists()
    code, out, _ = run(["history", "--json"], capsys)
    assert json.loads(out)["sessions"] == []


def test_the_table_lists_the_last_sessions_and_a_summary(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["history"], capsys)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].split() == ["WHEN", "ROUTINE", "REACHED", "RESULT"]
    assert lines[1].split()[2:] == ["sitting-foot", "5:00", "of", "5:00", "completed"]
    assert lines[2].endswith("hand          3:20 of 5:00       stopped at step 2 (Left)")
    assert lines[3].endswith("1:05-2:05 of 5:00  unfinished at step 3 (Right foot)")
    assert "Days practised in the last 30: 1." in out
    assert "sitting-foot  " in lines[-2] or "sitting-foot  " in lines[-1]
    assert "Days in a row" not in out  # only when asked


def test_routine_limit_and_streak(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["history", "--routine", "hand", "--streak"], capsys)
    assert code == 0
    assert [line.split()[2] for line in out.splitlines()[1:2]] == ["hand"]
    assert "This week: 1 session. " in out
    assert "Days in a row: 1 (longest: 1)." in out
    code, out, _ = run(["history", "-n", "1"], capsys)
    assert "… and 2 earlier (--limit 0 lists them all)" in out
    code, out, _ = run(["history", "--routine", "elbow"], capsys)
    assert out.startswith("No sessions of elbow recorded yet")


def test_json_has_the_rows_and_the_summary(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["history", "--json", "--limit", "2"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["path"] == str(history_path())
    assert [s["id"] for s in data["sessions"]] == ["s1", "s2"]
    assert data["sessions"][0] == {**three[0].to_dict(), "status": "completed"}
    assert data["summary"]["this_week"] >= 1  # depends on the weekday; counted in summary tests
    assert [r["routine"] for r in data["summary"]["routines"]] == ["sitting-foot", "hand"]
    assert "streak" not in data
    code, out, _ = run(["history", "--json", "--streak"], capsys)
    assert json.loads(out)["streak"] == {"current": 1, "longest": 1}
    assert json.loads(out)["sessions"][2]["status"] == "unfinished"


def test_csv_exports_every_session_oldest_first(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(["history", "--csv", "--limit", "1"], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["s3", "s2", "s1"]
    assert list(rows[0]) == list(SessionRow.columns())
    assert (rows[0]["ended_at"], rows[0]["from_ms"], rows[2]["title"]) == (
        "", "65000", "Foot massage, sitting"
    )  # fmt: skip
    target = tmp_path / "practice.csv"
    code, out, err = run(["history", "--csv", "-o", str(target), "--routine", "hand"], capsys)
    assert (code, out) == (0, "")
    assert err == f"wrote 1 session to {target}\n"
    assert [r["routine"] for r in csv.DictReader(io.StringIO(target.read_text("utf-8")))] == [
        "hand"
    ]
    code, _, err = run(["history", "--csv", "-o", str(tmp_path)], capsys)
    assert code == 1
    assert err == f"voiceguide: {tmp_path}: is a directory; refusing to replace it\n"


def test_forget_asks_and_refuses_to_guess_without_a_terminal(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = run(["history", "--forget"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "voiceguide: --forget asks before deleting, and this is not a terminal: add --yes\n"
    )
    monkeypatch.setattr(history_cli, "_at_terminal", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, _ = run(["history", "--forget"], capsys)
    assert code == 0
    assert out == (
        f"Delete 3 sessions from {history_path().parent}? This cannot be undone [y/N]: "
        "Nothing was deleted.\n"
    )
    assert len(recorded()) == 3
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    code, out, _ = run(["history", "--forget", "--routine", "hand"], capsys)
    assert out.endswith("Deleted 1 session.\n")
    assert [r.routine for r in recorded()] == ["sitting-foot", "sitting-foot"]


def test_forget_yes_deletes_the_history_and_the_damaged_copies(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    aside = history_path().with_name("history.sqlite.damaged-20250101T000000Z")
    aside.write_bytes(b"old damaged history")
    Path(f"{aside}-wal").write_bytes(b"its log")
    monkeypatch.setattr(history_cli, "_at_terminal", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("n\n"))
    code, out, _ = run(["history", "--forget"], capsys)
    assert out.startswith("Delete 3 sessions and 1 damaged copy moved aside earlier from ")
    code, out, _ = run(["history", "--forget", "--yes"], capsys)
    assert (code, out) == (0, "Deleted 3 sessions and the damaged copies.\n")
    assert recorded() == []
    assert list(history_path().parent.glob("*damaged*")) == []
    code, out, _ = run(["history", "--forget", "--yes"], capsys)
    assert out == "Nothing to forget: no sessions are recorded.\n"


def test_a_damaged_history_is_moved_aside_with_one_warning(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = history_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database at all" * 100)
    code, out, err = run(["history"], capsys)
    assert code == 0
    [aside] = damaged_copies()
    assert err == (
        f"voiceguide: warning: practice history: {path} was damaged: "
        f"moved it aside to {aside} and started a new one\n"
    )
    assert out.startswith("No sessions recorded yet")
    assert aside.read_bytes() == b"this is not a database at all" * 100


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "x.csv"], "--output: only with --csv"),
        (["--yes"], "--yes: only with --forget"),
        (["--csv", "--json"], "--csv and --json: choose one"),
        (["--json", "--forget", "--yes"], "--json and --forget: choose one"),
        (["--limit", "-1"], "--limit: expected 0 or more, got -1"),
    ],
)
def test_options_that_do_not_go_together(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["history", *args], capsys)
    assert (code, out, err) == (2, "", f"voiceguide: {message}\n")


def test_play_help_offers_no_history(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["play", "--help"], capsys)
    assert code == 0
    assert "--no-history" in out
    assert "practice history" in out


def test_one_warning_a_session_held_while_a_live_view_owns_the_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    warnings = recording.HeldWarnings()
    warnings.hold()
    warnings("first")
    assert capsys.readouterr().err == ""
    warnings.release()
    assert capsys.readouterr().err == "first\n"
    warnings("second")
    assert capsys.readouterr().err == ""
    now = recording.HeldWarnings()
    now("at once")
    assert capsys.readouterr().err == "at once\n"


def test_a_row_edited_into_nonsense_is_left_out_not_a_traceback(
    three: list[SessionRow], capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    connection = sqlite3.connect(history_path(), isolation_level=None)
    connection.execute("UPDATE sessions SET started_at = 'yesterday' WHERE id = 's1'")
    connection.execute("UPDATE sessions SET from_ms = 'soon' WHERE id = 's2'")
    connection.close()
    code, out, err = run(["history", "--json"], capsys)
    assert (code, err) == (0, "")
    assert [s["id"] for s in json.loads(out)["sessions"]] == ["s3"]
    store = HistoryStore.open(history_path())
    assert store.count() == 3  # kept in the file
    store.close()
