"""What is said in answer to 'where am I' and on resuming."""

from __future__ import annotations

from tests.play_helpers import timeline_of
from voiceguide.compile.timeline import Timeline
from voiceguide.play.answers import place_words, resume_words, session_left_words, where_words
from voiceguide.play.navigation import steps_of


def test_where_am_i_says_step_side_round_press_and_time_left() -> None:
    timeline = timeline_of("sides-repeat")
    steps = steps_of(timeline)
    hold = next(c for c in timeline.cues if c.phase == "hold" and c.side == "left" and c.round == 2)
    at = hold.start + 1500
    assert where_words(timeline, steps, at) == (
        "Step six of six. Foot: left side, round two of two, hold, four seconds left. "
        "Eight seconds left in the session."
    )
    assert resume_words(timeline, at) == (
        "Resuming: foot: left side, round two of two, hold, four seconds left."
    )


def test_where_am_i_in_a_rest_between_presses() -> None:
    timeline = timeline_of("press-reps")
    assert place_words(timeline, 40_000) == "rest, before the second of three, six seconds left"
    assert where_words(timeline, steps_of(timeline), 40_000).endswith(
        "Fifty-nine seconds left in the session."
    )


def test_session_time_left_is_said_in_minutes_when_long() -> None:
    timeline = timeline_of("press-reps")
    long = Timeline(timeline.sample_rate, timeline.cues, timeline.title, timeline.routine)
    assert "about" not in where_words(long, [], 0)
    stretched = Timeline(60, timeline.cues, "t", "t")  # 98,700 samples at 60 Hz: 27 minutes
    assert session_left_words(stretched, 0) == "about twenty-seven minutes left in the session"
