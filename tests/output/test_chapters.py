"""The chapters an exported file carries (output/chapters.py), and their golden lists."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from tests.conftest import DATA
from tests.golden import check_golden
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Cue, Phase, Timeline
from voiceguide.output.chapters import MIN_CHAPTER_MS, chapters
from voiceguide.script import library

TITLE = "The routine"


@dataclass(frozen=True)
class Run:
    """Some seconds of cues, as the compiler labels them."""

    seconds: float
    chapter: str
    side: str | None = None
    round: int | None = None
    phase: Phase = "instruction"
    said: str = "Something is said."


def timeline(*runs: Run, rate: int = 1000) -> Timeline:
    cues: list[Cue] = []
    start = 0
    for run in runs:
        samples = round(run.seconds * rate)
        cues.append(
            Cue(start, samples, "speech", run.said, run.phase, "steps[0]", None, run.chapter,
                side=run.side, round=run.round)
        )  # fmt: skip
        start += samples
    return Timeline(rate, tuple(cues), TITLE, "test")


def titles(found: Timeline) -> list[str]:
    return [c.title for c in chapters(found)]


INTRO = Run(40, "Introduction", phase="intro")
CLOSING = Run(3, "Closing", phase="closing")


def test_sides_and_rounds_are_named_after_their_block() -> None:
    found = timeline(
        INTRO,
        Run(10, "Hand point"),  # the block's own lead-in, too short: joins its first side
        Run(30, "Hand point: right side", "right"),
        Run(20, "Hand point: right side", "right", round=1),
        Run(20, "Hand point: right side", "right", round=2),
        Run(30, "Hand point: left side", "left"),
        Run(20, "Elbow point: the side that hurts more", "the side that hurts more"),
        Run(20, "Right side", "right"),
        CLOSING,
    )  # fmt: skip
    assert titles(found) == [
        "Introduction",
        "Hand point — right side",
        "Hand point — right side, round 1 of 2",
        "Hand point — right side, round 2 of 2",
        "Hand point — left side",
        "Elbow point — the side that hurts more",
        "Right side",
    ]


def test_short_rounds_join_into_a_range() -> None:
    found = timeline(
        INTRO,
        *[Run(8, "Feet: right side", "right", round=r) for r in (1, 2, 3, 4)],
        Run(30, "Feet: left side", "left"),
        CLOSING,
    )
    assert titles(found) == [
        "Introduction",
        "Feet — right side, rounds 1–2 of 4",
        "Feet — right side, rounds 3–4 of 4",
        "Feet — left side",
    ]


def test_the_routine_title_is_never_a_chapter_between_titled_parts() -> None:
    found = timeline(
        INTRO,
        Run(20, TITLE, said="We begin sitting. Take your shoes off."),
        Run(60, "Lower back points"),
        Run(40, TITLE, said="That is the end of the sitting part. Now lie down, slowly."),
        Run(60, "Hand point"),
        Run(30, TITLE, said="That is the end of the session."),
        CLOSING,
    )
    assert titles(found) == [
        "Introduction",  # the routine's first words join the introduction
        "Lower back points",
        "That is the end of the sitting part",
        "Hand point",
        "Closing",
    ]


def test_a_routine_without_titled_parts_keeps_its_title_once() -> None:
    found = timeline(INTRO, Run(120, TITLE), CLOSING)
    assert titles(found) == ["Introduction", TITLE]


def test_without_an_introduction_the_first_words_are_getting_ready() -> None:
    found = timeline(Run(20, TITLE), Run(60, "Lower back points"), Run(20, TITLE))
    assert titles(found) == ["Getting ready", "Lower back points", "Closing"]


def test_a_long_first_sentence_is_cut_at_a_word() -> None:
    said = "Now roll slowly onto your back and bring both of your knees up toward the ceiling."
    found = timeline(INTRO, Run(60, "A"), Run(30, TITLE, said=said), Run(60, "B"))
    middle = titles(found)[2]
    assert middle == "Now roll slowly onto your back and bring both…"
    assert len(middle) <= 49


def test_no_title_says_one_thing_twice() -> None:
    found = timeline(
        INTRO,
        Run(30, "Introduction: introduction side", "introduction"),
        Run(30, "Breathing"),
        Run(30, "Breathing: right side", "right"),
    )
    assert titles(found) == [
        "Introduction",
        "Introduction side",
        "Breathing",
        "Breathing — right side",
    ]


def test_a_title_that_comes_back_is_numbered() -> None:
    found = timeline(INTRO, Run(60, "Elbow point"), Run(60, "Hand point"), Run(60, "Elbow point"))
    assert titles(found) == ["Introduction", "Elbow point", "Hand point", "Elbow point (2)"]


def test_a_session_shorter_than_a_chapter_is_one_chapter() -> None:
    found = timeline(Run(2, "Introduction", phase="intro"), Run(5, "A"), Run(3, "B"))
    assert [(c.start, c.end) for c in chapters(found)] == [(0, found.total)]


def test_a_short_chapter_joins_the_neighbour_of_its_block() -> None:
    found = timeline(
        INTRO,
        Run(60, "Lower back points"),
        Run(10, "Elbow point"),  # lead-in: joins the first side of the elbow, not the back
        Run(60, "Elbow point: right side", "right"),
        Run(60, "Elbow point: left side", "left"),
        Run(10, "Elbow point"),  # the elbow's last words: join its last side
        Run(60, "Foot point"),
    )
    found_chapters = chapters(found)
    assert [c.title for c in found_chapters] == [
        "Introduction",
        "Lower back points",
        "Elbow point — right side",
        "Elbow point — left side",
        "Foot point",
    ]
    assert [c.start for c in found_chapters][2:] == [100_000, 170_000, 240_000]


ROUTINES = sorted(
    name for name, entry in library.entries().items() if not library.is_point_library(entry.path)
)


def _compiled(name: str) -> Timeline:
    return compile_routine(library.load(name), FixedRateLengths(), CompileOptions())


@pytest.mark.parametrize("name", ROUTINES)
def test_every_builtin_routine_has_chapters_that_tile_it_and_are_long_enough(name: str) -> None:
    found_timeline = _compiled(name)
    found = chapters(found_timeline)
    assert found[0].start == 0
    assert found[-1].end == found_timeline.total
    assert all(a.end == b.start for a, b in itertools.pairwise(found))
    if len(found) > 1:
        shortest = min(c.end - c.start for c in found)
        assert shortest * 1000 >= MIN_CHAPTER_MS * found_timeline.sample_rate
    got = [c.title for c in found]
    assert len(set(got)) == len(got), "no title twice"
    if len(found) > 2:
        assert found_timeline.title not in got, "the routine's title is the file's, not a part's"
    assert not any(": " in t for t in got)


@pytest.mark.parametrize("name", ["back-pain", "hand", "elbow"])
def test_golden_chapters_of_builtin_routines(name: str, regen: bool) -> None:
    found_timeline = _compiled(name)
    lines = [f"# {name}: chapters an export carries (speech at 50 ms a character)"]
    for chapter in chapters(found_timeline):
        start_s = chapter.start // found_timeline.sample_rate
        lines.append(f"{start_s // 60:3d}:{start_s % 60:02d}  {chapter.title}")
    check_golden(DATA / "chapters" / f"{name}.txt", "\n".join(lines) + "\n", regen)
