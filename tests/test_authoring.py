"""Mistakes authors make: one error says one thing, at the line of the mistake (issue 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import run_cli
from voiceguide.errors import ScriptError
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_routine
from voiceguide.script.model import Pause, Press, Routine

REPO = Path(__file__).resolve().parent.parent

OWN_POINT = """\
title: Shoulders
{summary}: Pressing the shoulder well.
points:
  shoulder-well:
    name: the shoulder well point
    where: on the top of your shoulder, halfway to your neck
steps:
  - press: {{point: shoulder-well, hold: 10s}}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_routine(path, resolve=resolve_include, display="script.yaml")
    return str(caught.value).splitlines()


def load(tmp_path: Path, text: str) -> Routine:
    path = tmp_path / "script.yaml"
    path.write_text(text, encoding="utf-8")
    return load_routine(path, resolve=resolve_include, display="script.yaml")


def test_a_misspelt_key_does_not_hide_the_files_own_points(tmp_path: Path) -> None:
    assert isinstance(load(tmp_path, OWN_POINT.format(summary="summary")).steps[0], Press)
    assert problems(tmp_path, OWN_POINT.format(summary="sumary")) == [
        "script.yaml:2:1: sumary: unknown key in routine; did you mean 'summary'?"
    ]


def test_a_broken_point_is_reported_once_not_at_every_press(tmp_path: Path) -> None:
    text = OWN_POINT.format(summary="summary").replace("    where:", "    wehre:")
    text += "  - press: {point: shoulder-well, hold: 5s}\n"
    assert problems(tmp_path, text) == [
        "script.yaml:5:5: shoulder-well: missing required key 'where'",
        "script.yaml:6:5: wehre: unknown key in point; did you mean 'where'?",
    ]


def test_bad_settings_do_not_stop_the_steps_being_checked(tmp_path: Path) -> None:
    text = "title: x\nsettings: {rate: 1000}\nsteps:\n  - pasue: 5s\n"
    assert problems(tmp_path, text) == [
        "script.yaml:2:18: rate: expected a whole number from 80 to 400, got 1000",
        "script.yaml:4:5: pasue: unknown step; did you mean 'pause'?",
    ]


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (
            "- press: {point: p, hold: 10s, prompts: [{at: 50%, say: Slowly, breathe out.}]}",
            "3:67: breathe out.: unknown key in prompt; put text that holds a comma in quotes: "
            'say: "Slowly, breathe out."',
        ),
        (
            "- {say: Sit down, and rest.}",
            "3:21: and rest.: unknown key in a 'say' step; put text that holds a comma in "
            'quotes: say: "Sit down, and rest."',
        ),
        (
            "- say: Slowly: breathe out.",
            "3:16: could not read YAML: mapping values are not allowed in this context; put "
            "text that holds ': ' in quotes",
        ),
    ],
)
def test_text_with_a_comma_or_a_colon_gets_a_hint_to_quote_it(
    tmp_path: Path, step: str, expected: str
) -> None:
    text = f"title: x\nsteps:\n  {step}\npoints: {{p: {{name: a point, where: here}}}}\n"
    (line,) = problems(tmp_path, text)
    assert line.startswith(f"script.yaml:{expected}")


@pytest.mark.parametrize(
    ("line", "shift", "expected"),
    [
        (17, 1, "17:4"),  # a caution pushed right: libyaml notices on line 18
        (33, -1, "33:10"),  # an activity's 'say' pulled left: noticed at 'for' on line 34
        (33, 1, "33:12"),
        (11, 1, "11:2"),  # the title pushed right: noticed at 'summary'
        (44, 1, "44:21"),  # a key pushed right, after a sibling: that very line
    ],
)
def test_a_mis_indented_line_is_reported_at_that_line(
    tmp_path: Path, line: int, shift: int, expected: str
) -> None:
    lines = (REPO / "scripts" / "elbow.yaml").read_text(encoding="utf-8").splitlines()
    original = lines[line - 1]
    indent = len(original) - len(original.lstrip())
    lines[line - 1] = " " * (indent + shift) + original.lstrip()
    (problem,) = problems(tmp_path, "\n".join(lines) + "\n")
    assert problem.startswith(f"script.yaml:{expected}: could not read YAML: ")


@pytest.mark.parametrize(
    ("written", "ms"),
    [("20 seconds", 20_000), ("10 sec", 10_000), ("2 min", 120_000),
     ("1 minute 30 seconds", 90_000), ("1 minute and 30 seconds", 90_000), ("1.5 s", 1_500)],
)  # fmt: skip
def test_durations_in_words_are_accepted(tmp_path: Path, written: str, ms: int) -> None:
    step = load(tmp_path, f"title: x\nsteps:\n  - pause: {written}\n").steps[0]
    assert isinstance(step, Pause)
    assert step.duration_ms == ms


def test_a_config_voice_that_is_a_number_is_exit_2_with_its_place(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from voiceguide.script.config import config_path

    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text("engine: espeak\nvoice: 123\n", encoding="utf-8")
    code, _, err = run_cli(["show", "sitting-foot"], capsys)
    assert code == 2
    assert err == (
        f"voiceguide: {path}:2:8: voice: expected text, got the number 123; "
        "put it in quotes if it is a name\n"
    )


BRIEF_TOO_LONG = """\
title: Brief
points:
  p: {name: the point, where: here}
steps:
  - press:
      point: p
      hold: 5s
      prompts:
        - at: 1s
          say:
            text: Breathe.
            brief: A brief form longer than its hold, which is not brief at all, and does not fit.
"""


def test_check_compiles_the_brief_instructions_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "brief.yaml"
    path.write_text(BRIEF_TOO_LONG, encoding="utf-8")
    code, out, err = run_cli(["check", "--estimate", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"{path}:9:11: prompt at 1s ('A brief form longer than its hold")
    assert "does not fit in the 5s hold" in err
    long = "A brief form longer than its hold, which is not brief at all, and does not fit."
    path.write_text(BRIEF_TOO_LONG.replace(long, "Out."), encoding="utf-8")
    code, out, _ = run_cli(["check", "--estimate", str(path)], capsys)
    assert code == 0
    assert out.startswith(f"ok: {path} (~")
    assert ", brief ~" in out
