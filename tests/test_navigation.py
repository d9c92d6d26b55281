"""Steps of a session, the targets of next, previous and repeat, and ``--from``."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from tests.play_helpers import RATE, FakeClips, timeline_of
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import SettingError
from voiceguide.play.navigation import (
    last_instruction_start,
    next_step_start,
    parse_from,
    previous_step_start,
    sound_start,
    steps_of,
)
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_routine

WITH_A_PART = """\
title: Outer
steps:
  - say: Before.
  - include: part.yaml
  - say: After.
"""
PART = """\
title: The part
steps:
  - say: First inside.
  - pause: 1s
  - say: Second inside.
"""


def test_steps_split_at_top_level_steps_sides_and_rounds() -> None:
    steps = steps_of(timeline_of("sides-repeat", intro=True))
    assert [(s.number, s.start, s.title, s.text) for s in steps] == [
        (0, 0, "Introduction", "Sides and rounds."),
        (1, 8250, "Foot: right side", "Your right foot."),
        (2, 9650, "Foot: right side", "Round 1 of 2, the first time."),
        (3, 27600, "Foot: right side", "Round 2 of 2, the second time."),
        (4, 45600, "Foot: left side", "Your left foot."),  # from the switch sound
        (5, 48250, "Foot: left side", "Round 1 of 2, the first time."),
        (6, 66200, "Foot: left side", "Round 2 of 2, the second time."),
    ]
    assert steps[-1].end == timeline_of("sides-repeat", intro=True).total


def test_without_intro_the_start_sound_belongs_to_step_one_and_a_pause_to_the_step_before() -> None:
    steps = steps_of(timeline_of("say-pause"))
    assert [(s.number, s.start, s.end, s.text) for s in steps] == [
        (1, 0, 5800, "Sit comfortably."),  # the start sound, the words, the pause, the tick
        (2, 5800, 9150, "Done."),
    ]


def test_cues_carry_their_top_level_step_with_an_included_routine_spliced_in(
    tmp_path: Path,
) -> None:
    (tmp_path / "part.yaml").write_text(PART, encoding="utf-8")
    (tmp_path / "outer.yaml").write_text(WITH_A_PART, encoding="utf-8")
    routine = load_routine(tmp_path / "outer.yaml", resolve=resolve_include)
    timeline = compile_routine(routine, FakeClips(), CompileOptions(intro="full", repeat=2))
    said = [(c.text, c.top_step) for c in timeline.cues if c.kind == "speech"]
    body = [
        ("Before.", 0), ("First inside.", 1), ("Second inside.", 3), ("After.", 4),
    ]  # fmt: skip
    assert said[-10:] == [
        ("Round one of two.", None), *body, ("Round two of two.", None), *body
    ]  # fmt: skip
    assert all(top is None for _, top in said[:-10])  # the introduction
    texts = [s.text for s in steps_of(timeline)][1:]
    assert texts == [text for text, _ in said[-10:]]  # the part is two steps, as in its file
    # The step paths (display strings, relative to each file) play no part.
    blank = tuple(dataclasses.replace(c, step="") for c in timeline.cues)
    assert steps_of(Timeline(RATE, blank, timeline.title, timeline.routine)) == steps_of(timeline)


def test_next_and_previous_step() -> None:
    steps = steps_of(timeline_of("sides-repeat"))
    assert next_step_start(steps, 0) == 3400
    assert next_step_start(steps, 25_000) == 39350
    assert next_step_start(steps, 79_000) is None
    assert previous_step_start(steps, 25_000, RATE) == 21350  # back to the start of this step
    assert previous_step_start(steps, 22_000, RATE) == 3400  # just started: the one before
    assert previous_step_start(steps, 500, RATE) == 0  # nothing before the first


def test_repeat_goes_back_to_the_last_instruction_not_to_a_cue() -> None:
    timeline = timeline_of("press-reps")
    # In the second hold: the last instruction is 'First of three. Press firmly…' (14500),
    # not 'Second of three. Press.' (a cue in the rest) nor 'Breathe out.' (a prompt).
    assert last_instruction_start(timeline, 50_000) == 14500
    assert last_instruction_start(timeline, 15_000) == 2000  # within a second of it: the one before
    assert last_instruction_start(timeline, 1000) is None


def test_sound_start_never_cuts_into_a_sound() -> None:
    timeline = timeline_of("press-reps")
    assert sound_start(timeline, 5000) == 2000  # inside the words
    assert sound_start(timeline, 18_300) == 18000  # inside the press sound
    assert sound_start(timeline, 25_000) == 25_000  # silence of a hold: exactly there


def test_from_takes_a_step_number_a_time_or_a_title() -> None:
    timeline = timeline_of("sides-repeat", intro=True)
    assert parse_from("0", timeline) == 0
    assert parse_from("4", timeline) == 45600
    assert parse_from("0:05", timeline) == 4850  # inside 'This session takes…': from its start
    assert parse_from("0:08.250", timeline) == 8250
    assert parse_from("1m", timeline) == 60_000
    assert parse_from("foot: left side", timeline) == 45600
    assert parse_from("LEFT", timeline) == 45600


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("9", "expected a step number from 0 to 6 "
         "('voiceguide play ROUTINE --steps' lists them), got 9"),
        ("5:00", "5:00 is past the end of the session (1:26.700)"),
        ("1:75", "expected a time such as 2:30, got '1:75'"),
        ("side", "'side' matches several steps ('Foot: right side', 'Foot: left side'); "
         "say which"),
        ("elbow", "expected a step number, a time (M:SS) or a step's title "
         "('Introduction', 'Foot: right side', 'Foot: left side'), got 'elbow'"),
    ],
)  # fmt: skip
def test_from_errors_name_the_setting_and_say_what_was_expected(text: str, detail: str) -> None:
    with pytest.raises(SettingError) as caught:
        parse_from(text, timeline_of("sides-repeat", intro=True))
    assert (caught.value.field, caught.value.detail) == ("from", detail)
