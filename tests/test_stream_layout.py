"""The prefix layout: laid out as phrases arrive, it gives the pure compile's cues exactly."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from tests.test_compiler import load
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.estimate import EstimatedLengths
from voiceguide.compile.lengths import Lengths
from voiceguide.compile.stream import PrefixLayout, waitable_after
from voiceguide.errors import ScriptError
from voiceguide.script import library
from voiceguide.script.model import Routine

CASES = sorted(p.stem for p in (DATA / "compile").glob("*.yaml"))
BUILTINS = sorted(
    name
    for name, entry in library.entries().items()
    if entry.origin == "built-in" and not library.is_point_library(entry.path)
)


@pytest.fixture(autouse=True)
def _no_user_routines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path))


def streamed(
    routine: Routine,
    lengths: Lengths,
    options: CompileOptions,
    announce: Lengths | None,
    seed: int,
) -> PrefixLayout:
    """Lay ``routine`` out as a pool would make its phrases: in order, a few at a time."""
    layout = PrefixLayout(routine, lengths, options, announce=announce)
    order = layout.phrases()
    ready: set[str] = set()
    chance = random.Random(seed)
    laid = [0]
    while not layout.done:
        ready.update(order[: len(ready) + chance.randint(0, 3)])
        before = layout.laid_out
        layout.advance(ready.__contains__)
        assert layout.laid_out >= before  # a prefix only grows
        assert layout.safe_end <= layout.laid_out
        laid.append(layout.laid_out)
        if len(ready) >= len(order):
            layout.advance(ready.__contains__)
            break
    assert layout.done
    return layout


@pytest.mark.parametrize("case", CASES)
def test_every_golden_case_streams_to_the_same_cues(case: str) -> None:
    routine, lengths = load(case), FixedRateLengths()
    for options in (CompileOptions(), CompileOptions(intro="none", repeat=2)):
        expected = compile_routine(routine, lengths, options)
        layout = streamed(routine, lengths, options, None, seed=len(case))
        assert layout.prefix() == expected


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_routine_streams_to_the_same_cues(name: str) -> None:
    routine = library.load(name)
    lengths = EstimatedLengths(150)
    announce = EstimatedLengths(140)  # measures what the introduction says, before synthesis
    for options in (CompileOptions(), CompileOptions(pace=1.5, tones=False)):
        expected = compile_routine(routine, lengths, options, announce=announce)
        layout = streamed(routine, lengths, options, announce, seed=len(name))
        assert layout.prefix() == expected
        assert layout.phrases() == list(
            dict.fromkeys(c.text for c in expected.cues if c.kind == "speech")
        )


def test_a_cue_starts_before_the_later_phrases_are_spoken() -> None:
    layout = PrefixLayout(library.load("back-pain"), EstimatedLengths(150))
    first = layout.phrases()[0]
    layout.advance(lambda text: text == first)
    assert layout.cues  # the start tone and the title are placed
    assert not layout.done
    assert [c.text for c in layout.cues if c.kind == "speech"] == [first]


def test_playback_may_wait_after_an_instruction_never_inside_a_hold() -> None:
    layout = PrefixLayout(load("press-reps"), FixedRateLengths())
    order = layout.phrases()
    safe = []
    for count in range(len(order) + 1):
        layout.advance(set(order[:count]).__contains__)
        safe.append(layout.safe_end)
    holds = [(c.start, c.end) for c in layout.cues if c.phase in ("hold", "rest")]
    for point in safe:
        assert not any(start < point < end for start, end in holds), point
        assert point == 0 or any(c.end == point for c in layout.cues)
    assert any(not waitable_after(s) for s in layout.segments)  # the holds and rests


def test_the_stream_stops_at_a_phase_its_words_do_not_fit() -> None:
    lengths = FixedRateLengths(ms_per_char=400)  # slow speech: a prompt overflows its hold
    routine = load("press-reps")
    with pytest.raises(ScriptError) as pure:
        compile_routine(routine, lengths)
    layout = PrefixLayout(routine, lengths)
    with pytest.raises(ScriptError) as streamed_error:
        layout.advance(lambda _: True)
    assert str(streamed_error.value).splitlines()[0] == str(pure.value).splitlines()[0]
    # What was laid out ends where the phase that does not fit starts, and goes no further.
    end = layout.laid_out
    assert all(c.end <= end for c in layout.cues)
    assert layout.cues[-1].end == end


@pytest.mark.parametrize("name", BUILTINS)
def test_every_builtin_streams_as_it_compiles_with_each_intro_and_detail(name: str) -> None:
    routine = library.load(name)
    lengths, announce = EstimatedLengths(150), EstimatedLengths(140)
    for options in (
        CompileOptions(intro="short", detail="brief"),
        CompileOptions(intro="none", detail="brief", repeat=2),
        CompileOptions(intro="full", detail="brief"),
    ):
        expected = compile_routine(routine, lengths, options, announce=announce)
        layout = streamed(routine, lengths, options, announce, seed=len(name) + 1)
        assert layout.prefix() == expected


@pytest.mark.parametrize("name", ["sitting-foot", "back-pain", "stomach"])
def test_a_session_fitted_to_a_length_streams_as_it_compiles(name: str) -> None:
    from dataclasses import replace

    from voiceguide.compile.fit import fit_length

    routine = library.load(name)
    lengths = EstimatedLengths(150)
    written = compile_routine(routine, lengths).total_ms
    for length_ms in (written * 3 // 4 // 1000 * 1000, written * 5 // 4 // 1000 * 1000):
        asked = CompileOptions(intro="short", length_ms=length_ms)
        expected = compile_routine(routine, lengths, asked)  # fits it itself
        fitted = replace(asked, fit=fit_length(routine, lengths, asked))
        layout = streamed(routine, lengths, fitted, None, seed=length_ms)
        assert layout.prefix() == expected
        assert abs(expected.total_ms - length_ms) <= 1000


def test_a_prefix_layout_refuses_a_length_not_fitted_yet() -> None:
    with pytest.raises(ValueError, match="fit"):
        PrefixLayout(library.load("sitting-foot"), EstimatedLengths(150), CompileOptions(
            length_ms=600_000
        ))  # fmt: skip
