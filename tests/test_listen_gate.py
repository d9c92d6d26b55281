"""When listening is allowed: the timeline's silences less a guard, and while paused."""

from __future__ import annotations

import pytest

from voiceguide.compile.timeline import Cue, CueKind, Timeline
from voiceguide.listen.gate import GUARD_MS, LiveGate, SilenceGate
from voiceguide.listen.vocabulary import DOES, PHRASES, Intent, command_for, phrase_named
from voiceguide.play.keys import Command

RATE = 1000  # one sample a millisecond keeps the arithmetic readable
GUARD = GUARD_MS


def timeline(*spans: tuple[CueKind, int]) -> Timeline:
    """A timeline of cues of the given kinds and lengths (in ms), back to back."""
    cues, start = [], 0
    for kind, length in spans:
        cues.append(Cue(start, length, kind, "", "hold", "steps[0]", None, "Test"))
        start += length
    return Timeline(RATE, tuple(cues), "Test", "test")


def test_silences_are_open_less_the_guard_on_both_sides() -> None:
    gate = SilenceGate(timeline(("speech", 2000), ("silence", 5000), ("tone", 500)))
    assert gate.windows[0] == (2000 + GUARD, 7000 - GUARD)
    assert gate.is_open(2000 + GUARD, 7000 - GUARD)
    assert not gate.is_open(2000 + GUARD - 1, 3000)  # the echo of the speech may still ring
    assert not gate.is_open(6000, 7000 - GUARD + 1)  # the tone is coming
    assert not gate.is_open(500, 1000)  # speech


def test_silent_cues_in_a_row_are_one_stretch_and_a_short_gap_is_never_open() -> None:
    gate = SilenceGate(
        timeline(
            ("speech", 1000),
            ("silence", 3000),
            ("silence", 3000),
            ("tone", 100),
            ("silence", 2 * GUARD - 10),  # between two ticks: too short to listen
            ("tone", 100),
        )
    )
    assert gate.windows[0] == (1000 + GUARD, 7000 - GUARD)
    assert gate.is_open(3500, 4500)  # across the join of the two silences
    end = 7000 + 100 + 2 * GUARD - 10 + 100
    assert gate.windows[1:] == ((end + GUARD, gate.windows[-1][1]),)  # then only past the end


def test_past_the_end_is_open_and_a_silent_start_opens_at_once() -> None:
    gate = SilenceGate(timeline(("silence", 3000), ("speech", 1000)))
    assert gate.windows[0] == (0, 3000 - GUARD)
    assert gate.is_open(4000 + GUARD, 10**9)
    assert not gate.is_open(4000, 4000 + GUARD)
    assert gate.open_ms() == 3000 - GUARD


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def live() -> tuple[LiveGate, Clock]:
    clock = Clock()
    silence = SilenceGate(timeline(("speech", 2000), ("silence", 10_000), ("speech", 2000)))
    return LiveGate(silence, clock=clock), clock


def test_live_gate_is_shut_until_the_player_says_where_it_is(
    live: tuple[LiveGate, Clock],
) -> None:
    gate, _ = live
    assert not gate.is_open(99.0, 100.0)


def test_live_gate_follows_the_session_clock_while_playing(live: tuple[LiveGate, Clock]) -> None:
    gate, _ = live
    gate.follow("playing", 0, at_s=100.0)  # session sample 0 at monotonic 100 s
    assert not gate.is_open(101.0, 101.5)  # the guide is speaking
    assert gate.is_open(104.0, 105.0)  # inside the hold's silence
    assert not gate.is_open(111.0, 112.5)  # runs into the next speech (and its guard)
    gate.follow("playing", 5000, at_s=105.0)  # a tick's update on the same course
    assert gate.is_open(104.5, 105.5)


def test_live_gate_shuts_across_any_change_of_state(live: tuple[LiveGate, Clock]) -> None:
    gate, _ = live
    gate.follow("playing", 4000, at_s=100.0)
    gate.follow("speaking", 4000, at_s=101.0)  # an answer is said over the hold
    assert not gate.is_open(100.5, 101.5)
    assert not gate.is_open(101.5, 102.0)
    gate.follow("playing", 4000, at_s=103.0)  # the answer ended: its echo gets the guard
    assert not gate.is_open(103.0, 103.0 + GUARD / 1000)
    assert gate.is_open(103.0 + GUARD / 1000, 104.0)


def test_live_gate_opens_a_guard_after_pausing_and_stays_open(
    live: tuple[LiveGate, Clock],
) -> None:
    gate, _ = live
    gate.follow("paused", 1000, at_s=100.0)  # "Paused." has just been said, over speech
    assert not gate.is_open(100.0, 100.1)
    assert gate.is_open(100.0 + GUARD / 1000, 101.0)
    gate.follow("paused", 1000, at_s=200.0)
    assert gate.is_open(150.0, 250.0)  # still the same pause
    gate.follow("stopped", 1000, at_s=300.0)
    assert not gate.is_open(300.5, 301.0)


def test_every_phrase_starts_with_guide_and_every_intent_can_be_said() -> None:
    assert all(p.words.startswith("guide ") for p in PHRASES)
    assert len({p.words for p in PHRASES}) == len(PHRASES)
    assert {p.intent for p in PHRASES} == set(Intent) == set(DOES)
    assert phrase_named("Guide  Where am I").intent is Intent.WHERE
    with pytest.raises(KeyError):
        phrase_named("guide dance")


def test_voice_commands_map_to_the_keys_but_never_toggle() -> None:
    assert command_for(Intent.PAUSE, paused=False) is Command.PAUSE
    assert command_for(Intent.PAUSE, paused=True) is None  # a second "pause" keeps the pause
    assert command_for(Intent.RESUME, paused=True) is Command.PAUSE
    assert command_for(Intent.RESUME, paused=False) is None
    assert command_for(Intent.STOP, paused=True) is Command.QUIT
    assert command_for(Intent.BACK, paused=False) is Command.PREVIOUS
    assert command_for(Intent.WHERE, paused=True) is Command.WHERE


def test_the_docs_list_exactly_the_phrases_that_can_be_said() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "listen.md").read_text("utf-8")
    rows = [line for line in text.splitlines() if line.startswith('| "guide ')]
    assert rows == [f'| "{p.words}" | {DOES[p.intent]} |' for p in PHRASES]
