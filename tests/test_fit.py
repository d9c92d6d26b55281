"""Fitting a session to a length: golden timelines, the bounds kept, speech unchanged."""

from __future__ import annotations

from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.golden import check_golden
from tests.lengths import FixedRateLengths
from tests.test_compiler import LENGTHS, load, render_text
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.fit import Fit, fit_length
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import SettingError
from voiceguide.script import library
from voiceguide.script.durations import format_ms
from voiceguide.script.model import Routine

CASES = DATA / "compile"
BUILT_IN = (
    "back-pain", "bedtime", "elbow", "five-minute", "hand", "hipbone", "knee-back", "lower-back",
    "sitting-foot", "sleeping-foot", "stomach",
)  # fmt: skip
GENERATED = ("First of", "Second of", "Third of", "Fourth of", "Fifth of", "Sixth of",
             "This session takes", "Press firmly", "Press gently", "Press steadily")  # fmt: skip
"""Sentences the compiler makes from a count or a length, which a fit may change."""


@pytest.fixture(autouse=True)
def _no_user_routines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path))


@cache
def builtin(name: str) -> Routine:
    return library.load(name)


def fitted(routine: Routine, length_ms: int, **options: object) -> Timeline:
    return compile_routine(routine, LENGTHS, CompileOptions(length_ms=length_ms, **options))  # type: ignore[arg-type]


def spans(timeline: Timeline, phase: str) -> list[int]:
    """The length of each run of ``phase`` (a hold, a rest…), in ms (the test rate is 1 kHz)."""
    runs: list[int] = []
    previous = None
    for cue in timeline.cues:
        key = (cue.phase, cue.step, cue.side, cue.round, cue.rep)
        if cue.phase == phase:
            if key == previous:
                runs[-1] += cue.duration
            else:
                runs.append(cue.duration)
        previous = key
    return runs


def said(timeline: Timeline) -> Counter[str]:
    return Counter(
        c.text for c in timeline.cues if c.kind == "speech" and not c.text.startswith(GENERATED)
    )


# -- golden timelines ---------------------------------------------------------


@pytest.mark.parametrize("length", ["1m30s", "2m30s", "4m", "5m"])
def test_golden_fitted_timeline(length: str, regen: bool) -> None:
    from voiceguide.script.durations import parse_duration_ms

    timeline = fitted(load("fit"), parse_duration_ms(length))
    check_golden(CASES / f"fit.length-{length}.timeline.txt", render_text(timeline), regen)


@pytest.mark.parametrize(("name", "length"), [("stomach", "4m"), ("sitting-foot", "8m")])
def test_golden_fitted_builtin(name: str, length: str, regen: bool) -> None:
    from voiceguide.script.durations import parse_duration_ms

    timeline = fitted(builtin(name), parse_duration_ms(length))
    check_golden(CASES / "builtin" / f"{name}.length-{length}.timeline.txt",
                 render_text(timeline), regen)  # fmt: skip


# -- what a fit keeps -----------------------------------------------------------


def shortest_and_longest(routine: Routine) -> tuple[int, int]:
    with pytest.raises(SettingError) as error:
        fitted(routine, 60_000 * 6 * 59)  # far past the longest
    words = error.value.detail.split()
    from voiceguide.script.durations import parse_duration_ms

    return parse_duration_ms(words[3]), parse_duration_ms(words[5].rstrip(";"))


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_length_in_reach_comes_within_a_second(name: str) -> None:
    shortest, longest = shortest_and_longest(builtin(name))
    natural = compile_routine(builtin(name), LENGTHS).total_ms
    assert shortest < natural < longest
    for target in {shortest + 1_000, (shortest + natural) // 2, natural, natural + 61_000,
                   (natural + longest) // 2, longest - 1_000}:  # fmt: skip
        assert abs(fitted(builtin(name), target).total_ms - target) <= 1_000, target


@pytest.mark.parametrize("name", ["back-pain", "elbow", "hand"])
def test_speech_is_unchanged_and_every_hold_is_whole_seconds(name: str) -> None:
    written = compile_routine(builtin(name), LENGTHS)
    for factor in (0.85, 1.3):  # within what the durations alone can do
        timeline = fitted(builtin(name), round(written.total_ms * factor))
        assert said(timeline) == said(written), factor
        assert all(ms % 1000 == 0 for ms in spans(timeline, "hold"))


def test_the_session_at_its_own_length_is_the_session_as_written() -> None:
    routine = builtin("stomach")
    written = compile_routine(routine, LENGTHS)
    same = fitted(routine, written.total_ms)
    assert abs(same.total_ms - written.total_ms) <= 1_000
    assert spans(same, "hold") == spans(written, "hold")


def test_declared_minimums_and_maximums_are_kept() -> None:
    routine = load("fit")
    short = fitted(routine, 90_000)
    long = fitted(routine, 300_000)
    assert min(spans(short, "hold")) == 12_000  # hold: {for: 20s, min: 12s}
    assert max(spans(long, "hold")) == 30_000  # max: 30s
    assert min(spans(short, "pause")) >= 4_000 * 50 // 100  # the last pause: half at most
    first_pause = spans(short, "pause")[0]
    assert first_pause == 8_000  # pause: {for: 10s, min: 8s}
    reps = {c.rep or 0 for c in short.cues if c.phase == "hold" and c.text == "press"}
    assert reps == {1}  # reps: {count: 2, min: 1}: one press a side at the shortest
    most = {c.rep or 0 for c in long.cues if c.phase == "hold" and c.text == "press"}
    assert max(most) == 3  # max: 3


def test_reps_change_only_once_the_durations_are_at_their_bounds() -> None:
    routine = load("fit")
    # Every duration at its shortest, reps as written: 2m00.6s.
    within = fitted(routine, 125_000)
    assert {c.rep for c in within.cues if c.text == "press"} == {1, 2}
    assert min(spans(within, "hold")) == 12_000
    below = fitted(routine, 110_000)
    assert {c.rep for c in below.cues if c.text == "press"} == {1}
    assert min(spans(below, "hold")) > 12_000  # one press fewer a side, each a little longer


def test_a_length_out_of_reach_says_the_shortest_and_longest() -> None:
    routine = load("fit")
    with pytest.raises(SettingError) as error:
        fitted(routine, 60_000)
    assert error.value.field == "length"
    assert error.value.detail == "fit lasts between 1m29s and 5m28s; got 1m"
    with pytest.raises(SettingError, match="fit lasts between 1m29s and 5m28s; got 6m"):
        fitted(routine, 360_000)


def test_a_routine_without_durations_cannot_be_fitted(tmp_path: Path) -> None:
    path = tmp_path / "words.yaml"
    path.write_text("title: Words\nsteps:\n  - say: Only words here.\n", encoding="utf-8")
    routine = library.load_path(path)
    message = r"words lasts 1\d(\.\d+)?s and cannot be made shorter or longer; got 2m"
    with pytest.raises(SettingError, match=message):
        fitted(routine, 120_000)


def test_speech_inside_a_hold_still_fits_at_the_shortest(tmp_path: Path) -> None:
    words = (
        "A prompt from the middle of the hold, long enough that half the hold is too short for "
        "all of it, so the hold stays longer."
    )
    path = tmp_path / "tight.yaml"
    path.write_text(
        "title: Tight\nsettings: {lead_in: 0}\npoints:\n  p: {name: the point, where: here}\n"
        "steps:\n  - press:\n      point: p\n      find: 0s\n      hold: 20s\n"
        f'      prompts:\n        - {{at: 50%, say: "{words}"}}\n  - pause: 3m\n',
        encoding="utf-8",
    )
    routine = library.load_path(path)
    shortest, _ = shortest_and_longest(routine)
    timeline = fitted(routine, shortest)
    (hold,) = spans(timeline, "hold")
    # Half of 20s would be 10s, but the prompt (6.1 s, from the middle) needs 12.2 s: in
    # whole seconds, 13 s.
    prompt = next(c for c in timeline.cues if c.phase == "hold" and c.kind == "speech")
    assert prompt.duration == len(words) * 50
    assert hold == -(-2 * prompt.duration // 1000) * 1000  # the shortest whole seconds it fits
    assert hold > 10_000


def test_pace_and_length_together_are_refused() -> None:
    with pytest.raises(SettingError, match="give a length or a pace, not both"):
        CompileOptions(pace=1.5, length_ms=600_000)


def test_the_fit_is_deterministic_and_can_be_given_back() -> None:
    routine = builtin("elbow")
    options = CompileOptions(length_ms=9 * 60_000)
    fit = fit_length(routine, LENGTHS, options)
    assert fit == fit_length(routine, LENGTHS, options)
    again = compile_routine(routine, LENGTHS, CompileOptions(length_ms=9 * 60_000, fit=fit))
    assert again == fitted(routine, 9 * 60_000)


def test_an_estimate_chooses_the_holds_and_the_real_lengths_the_rest() -> None:
    routine = builtin("sitting-foot")
    estimate = FixedRateLengths(ms_per_char=60)  # speech a fifth longer than the "real" one
    prepared: list[list[str]] = []
    options = CompileOptions(length_ms=7 * 60_000)
    fit = fit_length(routine, LENGTHS, options, estimate=estimate, prepare=prepared.append)
    timeline = compile_routine(routine, LENGTHS, CompileOptions(length_ms=7 * 60_000, fit=fit))
    assert abs(timeline.total_ms - 7 * 60_000) <= 1_000
    assert prepared, "the phrases the fit needs are made before they are measured"
    made = set().union(*prepared)
    assert {c.text for c in timeline.cues if c.kind == "speech"} - made <= {
        c.text for c in timeline.cues if c.text.startswith("This session takes")
    }


def test_changes_say_what_the_fit_did() -> None:
    routine = load("fit")
    fit = fit_length(routine, LENGTHS, CompileOptions(length_ms=95_000))
    assert isinstance(fit, Fit)
    changes = fit.changes(routine)
    assert changes["reps"] == [(2, 1)]
    ((written, hold),) = changes["hold"]
    assert written == 20_000
    assert 12_000 <= hold < 20_000
    assert "rest" not in changes or all(a == 6_000 for a, _ in changes["rest"])
    assert format_ms(fit.length_ms) == "1m35s"
