"""The compiler: golden timelines, the timing rule, options."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.golden import check_golden
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import CompileOptions, compile_routine, phrases_of
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import ScriptError, SettingError
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine
from voiceguide.script.model import Routine

CASES = DATA / "compile"
LENGTHS = FixedRateLengths()  # 50 ms a character, sample rate 1000: samples are ms


def load(name: str) -> Routine:
    """Load a case with the test point library, paths shown relative to the case folder."""
    return load_routine(
        CASES / f"{name}.yaml",
        resolve=resolve_include,
        shared_points=load_points(DATA / "points.yaml"),
        display=f"{name}.yaml",
    )


def render_text(timeline: Timeline) -> str:
    """A reviewable text form of a timeline: one cue a line, times in ms."""
    lines = [f"# {timeline.title}: {timeline.total} ms"]
    for c in timeline.cues:
        where = " ".join(
            f"{k}={v}" for k, v in (("side", c.side), ("round", c.round), ("rep", c.rep)) if v
        )
        lines.append(
            f"{c.start:>7} {c.duration:>6} {c.kind:<7} {c.phase:<11} {c.chapter} {where}".rstrip()
            + (f" | {c.text}" if c.text else "")
        )
    lines.append("# chapters: " + "; ".join(f"{ch.start} {ch.title}" for ch in timeline.chapters()))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.yaml")))
def test_golden_timeline(case: str, regen: bool) -> None:
    timeline = compile_routine(load(case), LENGTHS)
    check_golden(CASES / f"{case}.timeline.txt", render_text(timeline), regen)


VARIANTS = {
    "short-intro": CompileOptions(intro="short"),
    "brief": CompileOptions(detail="brief"),
    "brief-short-intro": CompileOptions(intro="short", detail="brief"),
}


@pytest.mark.parametrize(
    ("case", "variant"),
    [("press-reps", "short-intro"), ("traditional", "short-intro"), ("brief", "brief"),
     ("traditional", "brief")],
)  # fmt: skip
def test_golden_variant(case: str, variant: str, regen: bool) -> None:
    timeline = compile_routine(load(case), LENGTHS, VARIANTS[variant])
    check_golden(CASES / f"{case}.{variant}.timeline.txt", render_text(timeline), regen)


@pytest.mark.parametrize(
    ("name", "variant"),
    [("stomach", "brief"), ("sitting-foot", "brief"), ("hand", "brief"),
     ("lower-back", "brief-short-intro")],
)  # fmt: skip
def test_golden_builtin_variant(
    name: str, variant: str, regen: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from voiceguide.script import library

    monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path))  # the built-in routine, not one's own
    timeline = compile_routine(library.load(name), LENGTHS, VARIANTS[variant])
    path = CASES / "builtin" / f"{name}.{variant}.timeline.txt"
    check_golden(path, render_text(timeline), regen)


def test_cues_tile_the_timeline_without_gaps_or_overlaps() -> None:
    for case in ("press-reps", "sides-repeat", "activity", "include"):
        timeline = compile_routine(load(case), LENGTHS)
        position = 0
        for cue in timeline.cues:
            assert cue.start == position, (case, cue)
            assert cue.duration > 0
            position = cue.end
        assert timeline.total == position


def test_hold_is_exact_wall_time_from_press_to_release() -> None:
    timeline = compile_routine(load("press-reps"), LENGTHS)
    presses = [c.start for c in timeline.cues if c.text == "press"]
    releases = [c.start for c in timeline.cues if c.text == "release"]
    assert len(presses) == len(releases) == 3
    assert [r - p for p, r in zip(presses, releases, strict=True)] == [20_000] * 3
    # rest: release sound to the next press sound, exactly 8 s
    assert [presses[i + 1] - releases[i] for i in range(2)] == [8_000, 8_000]


def test_exact_at_real_sample_rate() -> None:
    lengths = FixedRateLengths(sample_rate=22_050)
    timeline = compile_routine(load("press-reps"), lengths)
    presses = [c.start for c in timeline.cues if c.text == "press"]
    releases = [c.start for c in timeline.cues if c.text == "release"]
    assert {r - p for p, r in zip(presses, releases, strict=True)} == {20 * 22_050}


def test_prompts_and_countdown_fall_where_declared() -> None:
    timeline = compile_routine(load("press-reps"), LENGTHS)
    first_press = next(c.start for c in timeline.cues if c.text == "press")
    said: dict[str, int] = {}
    for cue in timeline.cues:
        if cue.kind == "speech":
            said.setdefault(cue.text, cue.start - first_press)
    assert said["Breathe out."] == 3_000
    assert said["Halfway."] == 10_000
    ticks = [c.start - first_press for c in timeline.cues if c.text == "tick"][:2]
    assert ticks == [18_000, 19_000]


def test_next_press_cue_ends_just_before_the_press_sound() -> None:
    timeline = compile_routine(load("press-reps"), LENGTHS)
    cue = next(c for c in timeline.cues if c.text.startswith("Second of three"))
    press = next(c for c in timeline.cues if c.text == "press" and c.start > cue.start)
    assert press.start - cue.end == 300


def test_pace_scales_holds_not_speech() -> None:
    normal = compile_routine(load("press-reps"), LENGTHS)
    slow = compile_routine(load("press-reps"), LENGTHS, CompileOptions(pace=1.5))
    presses = [c.start for c in slow.cues if c.text == "press"]
    releases = [c.start for c in slow.cues if c.text == "release"]
    assert releases[0] - presses[0] == 30_000
    speech = [c.duration for c in normal.cues if c.kind == "speech"]
    slow_speech = [c.duration for c in slow.cues if c.kind == "speech"]
    assert speech[-3:] == slow_speech[-3:]


def test_no_tones_and_skip_intro() -> None:
    timeline = compile_routine(
        load("press-reps"), LENGTHS, CompileOptions(intro="none", tones=False)
    )
    assert not [c for c in timeline.cues if c.kind == "tone"]
    assert not [c for c in timeline.cues if c.phase == "intro"]
    assert timeline.cues[0].text.startswith("Find the point between your thumb")


def test_intro_says_cautions_of_points_and_includes_and_length() -> None:
    said = [c.text for c in compile_routine(load("include"), LENGTHS).cues if c.kind == "speech"]
    assert "Go gently." in said
    assert any(t.startswith("This session takes") for t in said)
    pressed = [c.text for c in compile_routine(load("press-reps"), LENGTHS).cues]
    assert "This point is traditionally avoided during pregnancy." in pressed


def test_repeat_whole_session() -> None:
    once = compile_routine(load("say-pause"), LENGTHS, CompileOptions(intro="none"))
    twice = compile_routine(load("say-pause"), LENGTHS, CompileOptions(intro="none", repeat=2))
    said = [c.text for c in twice.cues if c.kind == "speech"]
    assert said.count("Sit comfortably.") == 2
    assert "Round two of two." in said
    assert twice.total > 2 * once.total - 5_000


def test_options_out_of_range_name_the_setting() -> None:
    with pytest.raises(SettingError) as caught:
        CompileOptions(pace=10)
    assert (caught.value.field, caught.value.detail) == ("pace", "expected 0.25 to 4.0, got 10")
    with pytest.raises(SettingError) as caught:
        CompileOptions(repeat=0)
    assert (caught.value.field, caught.value.detail) == ("repeat", "expected 1 to 20, got 0")


def test_compile_is_deterministic() -> None:
    routine = load("sides-repeat")
    assert compile_routine(routine, LENGTHS) == compile_routine(routine, LENGTHS)


def test_phrases_of_lists_each_phrase_once() -> None:
    texts = phrases_of(load("sides-repeat"), LENGTHS, CompileOptions())
    assert len(texts) == len(set(texts))
    assert "Round 2 of 2, the second time." in texts
    assert "Your left foot." in texts


def test_session_longer_than_six_hours_is_refused(tmp_path: Path) -> None:
    script = tmp_path / "long.yaml"
    script.write_text(
        "title: Long\nsteps:\n  - repeat: 100\n    steps:\n      - pause: 1h\n", encoding="utf-8"
    )
    # Refused as it loads, at the block that makes it so long, without laying it out.
    with pytest.raises(ScriptError, match=r"long.yaml:3:5: repeat: at least 100h of pauses"):
        load_routine(script, resolve=resolve_include, display="long.yaml")


def test_a_pace_too_fast_for_the_words_is_blamed_on_the_pace() -> None:
    with pytest.raises(SettingError, match=r"^pace: at 0.25, what is said no longer fits \(press-"):
        compile_routine(load("press-reps"), LENGTHS, CompileOptions(pace=0.25))


def test_a_script_that_does_not_fit_at_any_pace_is_blamed_on_the_script(tmp_path: Path) -> None:
    script = tmp_path / "tight.yaml"
    script.write_text(
        "title: Tight\npoints: {p: {name: a point, where: here}}\nsteps:\n"
        "  - press: {point: p, hold: 2s, reps: 2, rest: 1s}\n",
        encoding="utf-8",
    )
    routine = load_routine(script, resolve=resolve_include, display="tight.yaml")
    with pytest.raises(ScriptError, match=r"tight\.yaml:4:5: the next press cue"):
        compile_routine(routine, LENGTHS, CompileOptions(pace=2.0))
