"""What several test files share: running the CLI in-process, a small routine, a voice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from voiceguide.cli import main
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE

TWO_SIDED_ROUTINE = """\
title: Hand point, both sides
summary: A short routine with sides, for tests.
settings: {find: 1s, lead_in: 1s}
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down.
  - sides: [right, left]
    steps:
      - press:
          point: web
          hold: 3s
  - say: Done.
"""
"""A routine of a few seconds' holds on both sides: chapters, tones and speech, quickly."""


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the CLI in-process; return its exit code, stdout and stderr."""
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def voice_settings(**fields: Any) -> VoiceSettings:
    """The default voice with ``fields`` changed (``engine="piper"``, ``rate_wpm=120``)."""
    return replace(DEFAULT_VOICE, **fields)
