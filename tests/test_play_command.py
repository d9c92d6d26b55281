"""``voiceguide play`` in-process, with a session compiled from fake clips (no engine)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.play_helpers import FakeClips, FakeSounddevice
from voiceguide.compile.compiler import compile_routine

ROUTINE = """\
title: Tiny
posture: sitting on a chair
points:
  p:
    name: the tiny point
    where: here
steps:
  - say: Sit.
  - press: {point: p, hold: 2s, find: 0s}
  - say: Done.
"""


@pytest.fixture
def fake_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A routine file, and open_stream made to compile it with fake clips (no engine)."""
    from voiceguide.app import session as session_module

    path = tmp_path / "tiny.yaml"
    path.write_text(ROUTINE, encoding="utf-8")

    def fake_open_stream(
        request: session_module.SessionRequest, **kwargs: object
    ) -> session_module.StreamingSession:
        from voiceguide.play.source import FixedSource
        from voiceguide.script.model import Routine
        from voiceguide.script.spec import DEFAULT_VOICE
        from voiceguide.sound.mix import MONO

        routine = request.routine
        assert isinstance(routine, Routine)
        clips = FakeClips()
        timeline = compile_routine(routine, clips, request.options)
        fake: Any = clips  # it wants SpeechClips; the renderer needs only a ClipSource
        stream: Any = FixedSource(timeline, clips, MONO)  # laid out whole already
        return session_module.StreamingSession(
            routine, stream, fake, DEFAULT_VOICE, MONO, request.options
        )

    monkeypatch.setattr(session_module, "open_stream", fake_open_stream)
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from voiceguide.cli import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_dry_run_prints_the_cues_as_they_sound(
    fake_session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["play", str(fake_session), "--dry-run", "--speed", "1000", "--skip-intro"], capsys
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "-- Step 1: Tiny",
        "0:00.000  intro        [start sound]",
        "0:02.000  instruction  Sit.",
        "-- Step 2: Tiny",
        "0:02.800  find         Find the tiny point. Here.",
        "0:04.700  instruction  Press firmly, and hold for two seconds.",
        "0:07.250  hold         [press sound]",
        "0:09.250  release      [release sound]",
        "0:09.850  release      Release, and let go.",
        "-- Step 3: Tiny",
        "0:11.450  instruction  Done.",
        "0:12.300  closing      [end sound]",
        "0:14.800  [end]",
    ]


def test_steps_and_from(fake_session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["play", str(fake_session), "--steps", "--skip-intro"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["STEP", "TIME", "TITLE", "FIRST", "WORDS"]
    assert out.splitlines()[3].split()[:3] == ["3", "0:11.450", "Tiny"]
    code, out, _ = run_cli(
        ["play", str(fake_session), "--dry-run", "--speed", "1000", "--from", "3", "-q"], capsys
    )
    assert (code, out) == (0, "")
    code, out, _ = run_cli(
        ["play", str(fake_session), "--dry-run", "--speed", "1000", "--from", "0:01"], capsys
    )
    assert code == 0
    assert out.splitlines()[0] == "-- Introduction: Introduction"


def test_a_bad_from_is_one_line_naming_the_flag_and_exit_2(
    fake_session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["play", str(fake_session), "--dry-run", "--from", "9"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "voiceguide: --from: expected a step number from 0 to 3 "
        "('voiceguide play ROUTINE --steps' lists them), got 9\n"
    )


def test_speed_without_dry_run_is_refused(
    fake_session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["play", str(fake_session), "--speed", "2"], capsys)
    assert code == 2
    assert err == "voiceguide: --speed: only with --dry-run (audio always plays in real time)\n"


def test_no_audio_device_is_one_line_and_exit_4(
    fake_session: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.play import player

    monkeypatch.setattr(player, "probe_alsa", lambda device=b"default": "No such file or directory")
    code, out, err = run_cli(["play", str(fake_session)], capsys)
    assert (code, out) == (4, "")
    assert err == (
        "voiceguide: no audio device could be opened (ALSA: No such file or directory); "
        f"to listen elsewhere, write it to a file: voiceguide export {fake_session}\n"
    )


def test_a_device_that_fails_when_playing_starts_is_one_line_and_exit_4(
    fake_session: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.play import player

    monkeypatch.setattr(player, "probe_alsa", lambda device=b"default": None)
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSounddevice(fail=True))
    code, out, err = run_cli(["play", str(fake_session), "-q"], capsys)
    assert (code, out) == (4, "")
    assert err == (
        "voiceguide: no audio device could be opened "
        "(Error opening OutputStream: Device unavailable [-9985]); "
        f"to listen elsewhere, write it to a file: voiceguide export {fake_session}\n"
    )
