"""A real ``play``, four evenings running: the history it writes shapes the next session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import TWO_SIDED_ROUTINE
from tests.test_history_faults import alsa_env, rows

pytestmark = pytest.mark.audio

ROUTINE = TWO_SIDED_ROUTINE.replace(
    "  - say: Sit down.", "  - say: {text: Sit down on a firm chair., brief: Sit down.}"
).replace("summary:", "cautions:\n  - Stop if anything hurts.\nsummary:")


def play(path: Path, tmp_path: Path, n: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", str(path)],
        env=alsa_env(tmp_path, tmp_path / f"played-{n}.raw"),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_four_sessions_from_the_full_introduction_to_brief_instructions(tmp_path: Path) -> None:
    path = tmp_path / "evening.yaml"
    path.write_text(ROUTINE, encoding="utf-8")
    results = [play(path, tmp_path, n) for n in range(4)]
    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    chosen = [(row.intro, row.detail) for row in sorted(rows(), key=lambda r: r.started_at)]
    assert chosen == [("full", "full"), ("short", "full"), ("short", "full"), ("short", "brief")]
    first, second, _, fourth = (r.stdout for r in results)
    assert "Stop if anything hurts." in first
    assert "As always, stop if anything hurts." not in first
    assert "As always, stop if anything hurts." in second
    assert "Sit down on a firm chair." in second
    assert "Sit down on a firm chair." not in fourth
    assert "instruction  Sit down.\n" in fourth
    assert results[3].stderr == (
        "voiceguide: short introduction (heard recently), "
        "brief instructions (played whole often enough)\n"
    )
