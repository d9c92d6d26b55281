"""The built-in routine library: every routine compiles and says what the source requires.

Timelines are compiled with :class:`FixedRateLengths`, so these tests do not depend on the
speech engine. "Spoken text" is every speech cue of a routine's timeline, introduction
included, joined with spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.lengths import FixedRateLengths
from voiceguide import paths
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Timeline
from voiceguide.script import library
from voiceguide.script.model import (
    Activity,
    Include,
    Pause,
    Press,
    Repeat,
    Routine,
    Say,
    Sides,
    Step,
)

TECHNIQUES = (
    "lower-back",
    "stomach",
    "elbow",
    "knee-back",
    "hipbone",
    "hand",
    "sitting-foot",
    "sleeping-foot",
)
SESSIONS = ("back-pain", "bedtime", "five-minute")
ALL = TECHNIQUES + SESSIONS

SITTING = {"lower-back", "elbow", "sitting-foot"}
LYING = {"stomach", "knee-back", "hipbone", "hand", "sleeping-foot"}

SAFETY_NOTE = (
    "Acupressure does not replace medical care. "
    "Check with your doctor or an acupressure therapist before you start."
)

# Words the listener must hear to find each point by touch (from the source's locations).
LOCATION_WORDS = {
    "lower-back": ("spine", "waist", "second and third lumbar vertebrae"),
    "stomach": ("navel", "two finger-widths"),
    "elbow": ("elbow", "four finger-widths", "bone", "palm"),
    "knee-back": ("back of the knee", "crease"),
    "hipbone": ("hipbone", "halfway", "base of your buttocks"),
    "hand": ("thumb", "index finger", "web of skin"),
    "sitting-foot": ("sole", "toes", "heel", "thumbs"),
    "sleeping-foot": ("big toe", "second toe", "web of skin"),
}

# Cautions each technique must speak, beyond the shared ones.
CAUTION_WORDS = {
    "lower-back": ("weak back",),
    "stomach": ("pregnant", "meal"),
    "elbow": (),
    "knee-back": ("varicose veins", "injured"),
    "hipbone": (),
    "hand": ("pregnant", "traditionally avoided"),
    "sitting-foot": (),
    "sleeping-foot": (),
}
SHARED_CAUTION_WORDS = ("doctor", "trained therapist", "broken skin", "dizzy", "blood thinners")

FIRM = {"lower-back", "stomach", "elbow", "knee-back", "hand"}
GENTLE = {"hipbone", "sleeping-foot"}

PROMISES = re.compile(r"\b(cur(e|es|ed|ing)|heal\w*|treat\w*)\b", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _no_user_routines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Hide the developer's own routines, so only the built-in library is seen."""
    monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path))


@cache
def routine(name: str) -> Routine:
    return library.load(name)


@cache
def timeline(name: str) -> Timeline:
    return compile_routine(routine(name), FixedRateLengths())


def spoken(name: str) -> str:
    return " ".join(c.text for c in timeline(name).cues if c.kind == "speech")


def walk(steps: tuple[Step, ...]) -> Iterator[Step]:
    """Every step, depth first, not entering includes."""
    for step in steps:
        yield step
        if isinstance(step, Sides | Repeat):
            yield from walk(step.steps)


def presses(name: str) -> list[Press]:
    return [s for s in walk(routine(name).steps) if isinstance(s, Press)]


def press_sounds(name: str) -> int:
    return sum(1 for c in timeline(name).cues if c.kind == "tone" and c.text == "press")


def included(name: str) -> list[str]:
    return [r.name for r in routine(name).included()]


# -- the whole library --------------------------------------------------------


def test_the_library_holds_every_routine() -> None:
    files = {p.stem for p in paths.builtin_scripts_dir().glob("*.yaml")} - {"points"}
    assert files == set(ALL)
    assert set(TECHNIQUES) == SITTING | LYING
    entries = library.entries()
    assert set(ALL) <= set(entries)
    assert all(entries[name].origin == "built-in" for name in ALL)
    assert all(entries[name].path.parent == paths.builtin_scripts_dir() for name in ALL)


@pytest.mark.parametrize("name", ALL)
def test_every_builtin_routine_loads_and_compiles(name: str) -> None:
    compiled = timeline(name)
    assert compiled.total_ms > 60_000
    assert spoken(name).startswith(routine(name).title)


@pytest.mark.parametrize("name", ALL)
def test_the_first_caution_is_the_safety_note(name: str) -> None:
    assert routine(name).cautions[0] == SAFETY_NOTE
    assert routine(name).all_cautions()[0] == SAFETY_NOTE
    text = spoken(name)
    assert text.index(SAFETY_NOTE) < text.index("This session takes about")


@pytest.mark.parametrize("name", ALL)
def test_no_medical_promises(name: str) -> None:
    assert PROMISES.search(spoken(name)) is None
    assert PROMISES.search(routine(name).summary or "") is None


def test_no_medical_promises_in_the_point_library() -> None:
    for point in library.shared_points().values():
        for text in (point.name, point.where, point.find or "", point.helps or "", *point.cautions):
            assert PROMISES.search(text) is None, (point.key, text)


@pytest.mark.parametrize("name", ALL)
def test_the_speech_is_calm(name: str) -> None:
    assert "!" not in spoken(name)


@pytest.mark.parametrize("name", ALL)
def test_every_routine_closes_with_words_and_a_pause(name: str) -> None:
    *_, say, pause = routine(name).steps
    assert isinstance(say, Say)
    assert isinstance(pause, Pause)
    assert 3_000 <= pause.duration_ms <= 30_000


# -- each technique -----------------------------------------------------------


@pytest.mark.parametrize("name", TECHNIQUES)
def test_technique_says_where_the_point_is(name: str) -> None:
    text = spoken(name)
    for words in LOCATION_WORDS[name]:
        assert words in text, words


@pytest.mark.parametrize("name", TECHNIQUES)
def test_technique_speaks_its_cautions(name: str) -> None:
    text = spoken(name)
    for words in SHARED_CAUTION_WORDS + CAUTION_WORDS[name]:
        assert words in text, words


@pytest.mark.parametrize("name", TECHNIQUES)
def test_technique_cautions_come_before_the_practice(name: str) -> None:
    cues = timeline(name).cues
    first_press = next(i for i, c in enumerate(cues) if c.phase in ("hold", "activity"))
    before = " ".join(c.text for c in cues[:first_press] if c.kind == "speech")
    for words in CAUTION_WORDS[name]:
        assert words in before, words


@pytest.mark.parametrize("name", sorted(FIRM))
def test_firm_points_are_pressed_firmly(name: str) -> None:
    assert {p.pressure for p in presses(name)} == {"firm"}
    assert "Press firmly" in spoken(name)


@pytest.mark.parametrize("name", sorted(GENTLE))
def test_gentle_points_are_pressed_gently(name: str) -> None:
    assert {p.pressure for p in presses(name)} == {"gentle"}
    assert "Press gently" in spoken(name)
    assert "Press firmly" not in spoken(name)


@pytest.mark.parametrize("name", sorted(FIRM | GENTLE))
def test_there_is_time_to_find_the_point(name: str) -> None:
    cues = timeline(name).cues
    first_press = next(i for i, c in enumerate(cues) if c.kind == "tone" and c.text == "press")
    quiet = [
        c.duration
        for c in cues[:first_press]
        if c.kind == "silence" and c.phase in ("find", "pause")
    ]
    assert max(quiet) >= 8_000 * timeline(name).sample_rate // 1000


@pytest.mark.parametrize(
    ("name", "second_side"),
    [
        ("elbow", "arm on the other side"),
        ("knee-back", "left knee"),
        ("hand", "left hand"),
        ("sitting-foot", "left foot"),
        ("sleeping-foot", "left foot"),
    ],
)
def test_both_sides_are_done(name: str, second_side: str) -> None:
    sides = [s for s in walk(routine(name).steps) if isinstance(s, Sides)]
    assert len(sides) == 1
    assert len(sides[0].sides) == 2
    assert second_side in spoken(name)
    assert sum(1 for c in timeline(name).cues if c.kind == "tone" and c.text == "switch") == 1


@pytest.mark.parametrize("name", TECHNIQUES)
def test_technique_posture(name: str) -> None:
    posture = "sitting" if name in SITTING else "lying"
    assert (routine(name).posture or "").startswith(posture)


def test_lower_back_points_are_by_the_spine_and_skipped_with_a_weak_back() -> None:
    text = spoken("lower-back")
    assert "If your back is weak, skip these points" in text
    assert text.index("weak, skip") < text.index("Find the lower back points")


def test_stomach_point_is_two_finger_widths_below_the_navel() -> None:
    (press,) = presses("stomach")
    assert press.point.key == "below-navel"
    assert press.point.traditional == "the Sea of Energy"
    assert "two finger-widths below your navel" in spoken("stomach")


def test_elbow_starts_with_the_side_that_hurts_more() -> None:
    (sides,) = (s for s in walk(routine("elbow").steps) if isinstance(s, Sides))
    assert "hurts more" in sides.sides[0]
    text = spoken("elbow")
    assert "Start with the arm on the side where your back hurts more" in text
    assert text.index("hurts more") < text.index("Press firmly")


def test_elbow_is_massaged_gently_then_pressed_three_to_four_times_for_thirty_seconds() -> None:
    (sides,) = (s for s in walk(routine("elbow").steps) if isinstance(s, Sides))
    kinds = [type(s) for s in sides.steps]
    assert kinds.index(Activity) < kinds.index(Press)
    massage = next(s for s in sides.steps if isinstance(s, Activity))
    assert "gently massage" in massage.say
    assert "raise that elbow" in massage.done
    (press,) = presses("elbow")
    assert 3 <= press.reps <= 4
    assert press.hold_ms == 30_000
    assert press_sounds("elbow") == 2 * press.reps
    assert (routine("elbow").posture or "").startswith("sitting comfortably")


def test_hand_is_short_presses_in_two_or_three_rounds_lying_down() -> None:
    hand = routine("hand")
    assert (hand.posture or "").startswith("lying")
    assert "flat surface" in spoken("hand")
    (rounds,) = (s for s in walk(hand.steps) if isinstance(s, Repeat))
    assert 2 <= rounds.rounds <= 3
    (press,) = presses("hand")
    assert press.reps == 2  # press, let go, press again
    assert press.hold_ms <= 10_000  # "a few seconds"
    assert press_sounds("hand") == 2 * rounds.rounds * press.reps
    assert "The third round" in spoken("hand")


def test_knee_back_is_the_centre_of_the_back_of_the_knee() -> None:
    (press,) = presses("knee-back")
    assert press.point.traditional == "the Commanding Middle"
    assert "centre of the back of the knee" in spoken("knee-back")


def test_hipbone_is_womb_and_vitals_pressed_gently() -> None:
    (press,) = presses("hipbone")
    assert press.point.traditional == "the Womb and Vitals"
    assert press.pressure == "gentle"


def test_sitting_foot_is_a_thumb_massage_of_each_sole_from_toe_to_heel() -> None:
    foot = routine("sitting-foot")
    assert presses("sitting-foot") == []
    massages = [s for s in walk(foot.steps) if isinstance(s, Activity)]
    assert len(massages) == 1
    assert massages[0].duration_ms >= 60_000
    text = spoken("sitting-foot")
    assert "Sit up straight on a chair or a couch" in text
    assert "clean" in text
    assert text.index("base of your toes") < text.index("Now the heel")


def test_sleeping_foot_is_gentle_between_big_toe_and_second_toe_lying_down() -> None:
    (press,) = presses("sleeping-foot")
    assert press.point.key == "big-toe-gap"
    assert press.pressure == "gentle"
    assert "clean" in spoken("sleeping-foot")


# -- the point library --------------------------------------------------------


def test_point_library_pressures_follow_the_source() -> None:
    points = library.shared_points()
    firm = {"lower-back", "below-navel", "elbow", "knee-back", "hand-valley"}
    gentle = {"hipbone", "big-toe-gap"}
    assert {k for k, p in points.items() if p.pressure == "firm"} == firm
    assert {k for k, p in points.items() if p.pressure == "gentle"} == gentle


TRADITIONAL = {
    "lower-back": "the Sea of Vitality",
    "below-navel": "the Sea of Energy",
    "knee-back": "the Commanding Middle",
    "hipbone": "the Womb and Vitals",
    "hand-valley": "the Joining Valley",
}


def test_point_library_traditional_names() -> None:
    points = library.shared_points()
    assert {k: p.traditional for k, p in points.items() if p.traditional} == TRADITIONAL
    assert "LI4 (Hegu)" in points["hand-valley"].also
    assert "BL40 (Weizhong)" in points["knee-back"].also


@pytest.mark.parametrize("name", ALL)
def test_every_point_pressed_is_named_where_it_is_found(name: str) -> None:
    cues = [c for c in timeline(name).cues if c.kind == "speech"]
    pressed = {s.point.key for s in presses(name)} | {
        s.point.key for part in routine(name).included() for s in presses(part.name)
    }
    for key in pressed & set(TRADITIONAL):
        said = [i for i, c in enumerate(cues) if c.text.endswith(f"called {TRADITIONAL[key]}.")]
        assert said, (name, key)
        # Said in the quiet before a press, once for each press step and side, not each round.
        assert all(cues[i].phase == "find" for i in said)
        assert all(cues[i].round in (None, 1) for i in said)


def test_the_full_session_says_every_traditional_name() -> None:
    text = spoken("back-pain")
    for words in ("Sea of Vitality", "Sea of Energy", "Commanding Middle", "Womb and Vitals"):
        assert f"traditionally called the {words}." in text
    assert "These points are traditionally called the Sea of Vitality." in text
    assert text.count("traditionally called the Joining Valley") == 2  # once for each hand


def test_every_point_is_described_for_touch_and_documented() -> None:
    for point in library.shared_points().values():
        assert point.find, point.key
        assert point.helps, point.key
        assert point.helps.startswith("The source says"), point.key


# -- composite sessions -------------------------------------------------------


def test_back_pain_includes_all_eight_techniques_sitting_first() -> None:
    parts = included("back-pain")
    assert sorted(parts) == sorted(TECHNIQUES)
    postures = ["sitting" if p in SITTING else "lying" for p in parts]
    assert postures == sorted(postures, reverse=True)  # one change: sitting, then lying


def test_back_pain_says_when_to_lie_down_and_gives_time_to_do_it() -> None:
    steps = routine("back-pain").steps
    lie_down = next(
        i for i, s in enumerate(steps) if isinstance(s, Say) and "Now lie down" in s.text
    )
    before = [s.routine.name for s in steps[:lie_down] if isinstance(s, Include)]
    assert set(before) == SITTING
    pause = steps[lie_down + 1]
    assert isinstance(pause, Pause)
    assert pause.duration_ms >= 20_000


def test_bedtime_only_includes_lying_down_routines() -> None:
    parts = included("bedtime")
    assert set(parts) == LYING
    for part in routine("bedtime").included():
        assert (part.posture or "").startswith("lying"), part.name


def test_five_minute_is_about_five_minutes_in_one_posture() -> None:
    parts = included("five-minute")
    assert parts == ["stomach", "hipbone"]
    assert set(parts) <= LYING
    # FixedRateLengths speaks faster than the 150 words a minute of `voiceguide show`.
    assert 4 * 60_000 <= timeline("five-minute").total_ms <= 6 * 60_000


@pytest.mark.parametrize("name", SESSIONS)
def test_sessions_speak_the_cautions_of_their_parts(name: str) -> None:
    text = spoken(name)
    for part in included(name):
        for caution in routine(part).all_cautions():
            assert caution in text
    assert text.count(SAFETY_NOTE) == 1


@pytest.mark.parametrize("name", ALL)
def test_the_counted_size_bounds_the_compiled_session(name: str) -> None:
    from voiceguide.compile.compiler import INTRO_CUES
    from voiceguide.script import extent

    size = extent.of_routine(routine(name), {})
    compiled = timeline(name)
    intro = INTRO_CUES + extent.OWN_CUES * len(routine(name).all_cautions())
    assert len(compiled.cues) <= size.cues + intro
    assert size.cues <= 2 * len(compiled.cues)  # an upper bound, not a wild one
    assert size.timed_ms + routine(name).settings.lead_in_ms <= compiled.total_ms


# -- brief instructions ------------------------------------------------------------

SAFETY_WORDS = ("pregnant", "weak", "pain", "hurt", "eaten", "strain")
"""Words that carry a caution: a brief form keeps them where its full text has them."""


def briefs(name: str) -> list[tuple[str, str]]:
    """Every (full, brief) pair of the routine's own steps, prompts and presses."""
    pairs = []
    for step in walk(routine(name).steps):
        if isinstance(step, Say) and step.brief:
            pairs.append((step.text, step.brief))
        if isinstance(step, Press):
            if step.say and step.say_brief:
                pairs.append((step.say, step.say_brief))
            pairs += [(p.say, p.brief) for p in step.prompts if p.brief]
        if isinstance(step, Activity):
            pairs += [(full, brief) for full, brief in ((step.say, step.say_brief),
                      (step.done, step.done_brief)) if brief]  # fmt: skip
            pairs += [(p.say, p.brief) for p in step.prompts if p.brief]
    return pairs


@cache
def brief_timeline(name: str) -> Timeline:
    return compile_routine(routine(name), FixedRateLengths(), CompileOptions(detail="brief"))


@pytest.mark.parametrize("name", TECHNIQUES)
def test_every_technique_has_brief_instructions(name: str) -> None:
    assert briefs(name)


@pytest.mark.parametrize("name", ALL)
def test_brief_instructions_are_shorter_and_keep_every_caution(name: str) -> None:
    for full, brief in briefs(name):
        assert len(brief) < len(full), brief
        for word in SAFETY_WORDS:
            assert word not in full.lower() or word in brief.lower(), (word, brief)
    assert brief_timeline(name).total < timeline(name).total


@pytest.mark.parametrize("name", ALL)
def test_brief_instructions_promise_nothing_and_stay_calm(name: str) -> None:
    said = " ".join(c.text for c in brief_timeline(name).cues if c.kind == "speech")
    assert PROMISES.search(said) is None
    assert "!" not in said


def test_every_point_has_a_brief_description() -> None:
    for point in library.shared_points().values():
        assert point.where_brief, point.key
        assert PROMISES.search(point.where_brief) is None
        assert len(point.where_brief) < len(point.where)
