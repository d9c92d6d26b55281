"""``play`` decides ``auto`` from the practice history; ``show`` and ``export`` do not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_history import make_row
from tests.test_play_command import fake_session, run_cli  # noqa: F401 - a fixture
from voiceguide.practice.identity import identify
from voiceguide.practice.records import SessionRow, stamp, utc_now
from voiceguide.practice.store import HistoryStore, history_path
from voiceguide.script import library
from voiceguide.script.model import Routine


def seed(routine: Routine, *sessions: dict[str, object]) -> None:
    """Record past sessions of ``routine``: each a completed one, a day apart, changed as given."""
    identity = identify(routine)
    store = HistoryStore.open(history_path())
    try:
        for n, changes in enumerate(sessions):
            at = stamp(utc_now() - timedelta(days=len(sessions) - n))
            row: SessionRow = replace(
                make_row(n), routine=identity.name, script_hash=identity.script_hash,
                cautions_hash=identity.cautions_hash, started_at=at, updated_at=at, ended_at=at,
                intro_ms=1_000,
            )  # fmt: skip
            store.save(replace(row, **changes))  # type: ignore[arg-type]
    finally:
        store.close()


def dry_run(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    code, out, err = run_cli(["play", str(path), "--dry-run", "--speed", "1000", *args], capsys)
    assert code == 0, err
    return out, err


def test_a_first_session_gets_the_full_introduction(
    fake_session: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    out, err = dry_run(fake_session, capsys)
    assert "Get comfortable, sitting on a chair." in out
    assert "As always, stop if anything hurts." not in out
    assert err == ""


def test_after_the_full_introduction_a_short_one(
    fake_session: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(library.load_path(fake_session), {})
    out, err = dry_run(fake_session, capsys)
    assert "As always, stop if anything hurts." in out
    assert "Get comfortable" not in out
    assert err == "voiceguide: short introduction (heard recently)\n"
    out, _ = dry_run(fake_session, capsys, "--full-intro")
    assert "Get comfortable, sitting on a chair." in out


def test_changed_cautions_bring_the_full_introduction_back(
    fake_session: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    seed(library.load_path(fake_session), {})
    fake_session.write_text(
        fake_session.read_text(encoding="utf-8").replace(
            "posture:", "cautions:\n  - Stop if it hurts.\nposture:"
        ),
        encoding="utf-8",
    )
    out, _ = dry_run(fake_session, capsys)
    assert "Stop if it hurts." in out


def test_brief_instructions_after_three_whole_sessions(
    fake_session: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_session.write_text(
        fake_session.read_text(encoding="utf-8").replace(
            "  - say: Sit.", "  - say: {text: Sit down on the chair., brief: Sit.}"
        ),
        encoding="utf-8",
    )
    routine = library.load_path(fake_session)
    seed(routine, {}, {"intro": "short"})
    out, _ = dry_run(fake_session, capsys)
    assert "Sit down on the chair." in out
    seed(routine, {}, {"intro": "short"}, {"intro": "short", "id": "third"})
    out, err = dry_run(fake_session, capsys)
    assert "instruction  Sit.\n" in out
    assert "Sit down on the chair." not in out
    assert "brief instructions (played whole often enough)" in err
    out, _ = dry_run(fake_session, capsys, "--detail", "full")
    assert "Sit down on the chair." in out


def test_the_config_can_say_short_always(
    fake_session: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    from voiceguide.script.config import config_path

    config_path().parent.mkdir(parents=True, exist_ok=True)
    config_path().write_text("intro: short\n", encoding="utf-8")
    out, _ = dry_run(fake_session, capsys)  # no history at all, and yet short
    assert "As always, stop if anything hurts." in out


def test_a_history_that_cannot_be_read_gives_the_full_session(
    fake_session: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a database at all" * 100)
    out, err = dry_run(fake_session, capsys)
    assert "Get comfortable, sitting on a chair." in out
    assert err.count("\n") == 1
    assert err.startswith("voiceguide: warning: practice history: ")


def test_show_does_not_read_the_history(
    fake_session: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voiceguide.app import adapting
    from voiceguide.app.session import SessionRequest, estimate
    from voiceguide.app.settling import settle

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("the history was read")

    monkeypatch.setattr(adapting, "from_history", refuse)
    routine = library.load_path(fake_session)
    seed(routine, {})
    from voiceguide.prefs import PlaybackPrefs

    request = SessionRequest(routine, playback=PlaybackPrefs())
    assert settle(request, routine).intro == "full"
    cues = estimate(request).cues
    assert not any(c.text == "As always, stop if anything hurts." for c in cues)


def test_the_history_records_what_was_chosen() -> None:
    from tests.play_helpers import FakeClips
    from voiceguide.app.recording import session_plan
    from voiceguide.app.session import Session
    from voiceguide.compile.compiler import CompileOptions, compile_routine
    from voiceguide.script.spec import DEFAULT_VOICE

    routine = library.load("stomach")
    options = CompileOptions(intro="short", detail="brief")
    clips = FakeClips()
    timeline = compile_routine(routine, clips, options)
    session = Session(routine, timeline, clips, DEFAULT_VOICE, 0)  # type: ignore[arg-type]
    plan = session_plan(session, [], 0, options)
    assert (plan.intro, plan.detail) == ("short", "brief")
    assert plan.intro_ms > 0


def test_the_history_is_looked_for_where_the_store_keeps_it() -> None:
    from voiceguide.app.adapting import history_file

    assert history_file() == history_path()
