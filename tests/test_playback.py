"""A session playing on a recording player: position, samples sent, keys, spoken answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.play_helpers import (
    RATE,
    FakeClips,
    LoggingPlayer,
    ScriptedKeys,
    playback,
    rendered,
    spoken,
)
from voiceguide.compile import phrases
from voiceguide.play.answers import resume_words, where_words
from voiceguide.play.keys import Command
from voiceguide.play.navigation import last_instruction_start, steps_of
from voiceguide.play.playback import NoKeys
from voiceguide.sound.cache import PhraseCache


def test_plays_exactly_the_rendered_samples_in_one_run() -> None:
    pb, player, _ = playback()
    pb.start()
    assert len(player.buffers) == 1
    np.testing.assert_array_equal(player.buffers[0], rendered(pb))


def test_position_comes_from_what_the_player_has_played() -> None:
    pb, _, clock = playback(start=2000)
    pb.start()
    assert pb.position == 2000
    clock.advance(1500)
    assert pb.position == 3500
    clock.advance(10**9)  # long past the end: the position stops at the end
    assert pb.position == pb.timeline.total
    pb.tick()
    assert pb.status().mode == "finished"


def test_long_sessions_are_split_at_a_breath_and_play_every_sample() -> None:
    pb, player, clock = playback(run_limit_ms=20_000)
    pb.start()
    first = len(player.buffers[0])
    assert first == 17400  # the breath after 'First of three. Press firmly…'
    cue = pb.timeline.cues[pb.timeline.index_at(first)]
    before = pb.timeline.cues[pb.timeline.index_at(first) - 1]
    assert cue.start == first
    assert cue.kind == "silence"
    assert before.kind == "speech"
    while pb.status().mode == "playing":
        clock.advance(1000)
        pb.tick()
    assert pb.status().mode == "finished"
    assert len(player.buffers) >= 3
    np.testing.assert_array_equal(np.concatenate(player.buffers), rendered(pb))


# -- playback: controls ------------------------------------------------------------------------


def test_pause_says_paused_then_resume_says_where_and_replays_the_cut_words() -> None:
    pb, player, clock = playback()
    pb.start()
    clock.advance(5000)  # inside the find instruction (2000-10900)
    pb.command(Command.PAUSE)
    assert pb.status().mode == "speaking"
    assert pb.paused
    assert pb.position == 2000
    np.testing.assert_array_equal(player.buffers[-1], spoken(phrases.PAUSED))
    clock.advance(10_000)
    pb.tick()
    assert pb.status().mode == "paused"
    assert pb.position == 2000
    clock.advance(60_000)  # waiting does not move it
    pb.tick()
    assert pb.position == 2000
    pb.command(Command.PAUSE)
    assert pb.said == [phrases.PAUSED, resume_words(pb.timeline, 2000, steps_of(pb.timeline))]
    np.testing.assert_array_equal(player.buffers[-1], spoken(pb.said[-1]))
    clock.advance(10_000)
    pb.tick()
    assert pb.status().mode == "playing"
    np.testing.assert_array_equal(player.buffers[-1], rendered(pb, 2000))


def test_pause_in_a_hold_resumes_at_the_same_sample() -> None:
    pb, player, clock = playback()
    pb.start()
    clock.advance(25_000)
    pb.command(Command.PAUSE)
    clock.advance(5000)
    pb.tick()
    pb.command(Command.PAUSE)
    clock.advance(10_000)
    pb.tick()
    np.testing.assert_array_equal(player.buffers[-1], rendered(pb, 25_000))


def test_next_previous_and_repeat_seek_and_play() -> None:
    pb, player, clock = playback("sides-repeat")
    pb.start()
    clock.advance(25_000)
    pb.command(Command.NEXT)
    assert pb.position == 39350
    assert pb.status().mode == "playing"
    np.testing.assert_array_equal(player.buffers[-1], rendered(pb, 39350))
    clock.advance(500)
    pb.command(Command.PREVIOUS)  # just after a step's start: the step before
    assert pb.position == 21350
    clock.advance(20_000)
    pb.command(Command.REPEAT)
    target = last_instruction_start(pb.timeline, 41_350)
    assert target is not None
    assert pb.position == target
    assert pb.said == []


def test_where_am_i_interjects_then_goes_on_where_it_was() -> None:
    pb, player, clock = playback()
    pb.start()
    clock.advance(25_000)
    pb.command(Command.WHERE)
    assert pb.said == [where_words(pb.timeline, steps_of(pb.timeline), 25_000)]
    assert pb.status().mode == "speaking"
    assert not pb.paused
    assert pb.position == 25_000
    clock.advance(30_000)
    pb.tick()
    assert pb.status().mode == "playing"
    np.testing.assert_array_equal(player.buffers[-1], rendered(pb, 25_000))


def test_volume_changes_the_samples_sent_from_where_it_was() -> None:
    pb, player, clock = playback()
    pb.start()
    clock.advance(25_000)
    pb.command(Command.SOFTER)
    assert pb.volume_pct == 90
    assert pb.said == []
    np.testing.assert_array_equal(player.buffers[-1], rendered(pb, 25_000, volume_pct=90))
    pb.command(Command.PAUSE)
    np.testing.assert_array_equal(player.buffers[-1], spoken(phrases.PAUSED, 90))


def test_a_key_during_an_interjection_acts_on_the_session() -> None:
    pb, _, clock = playback()
    pb.start()
    clock.advance(25_000)
    pb.command(Command.PAUSE)  # 'Paused.' is being said
    pb.command(Command.PAUSE)  # so this resumes
    assert not pb.paused
    assert pb.said[-1].startswith("Resuming")
    pb.command(Command.PAUSE)  # and this pauses again, mid 'Resuming…'
    assert pb.paused
    assert pb.said[-1] == phrases.PAUSED


def test_quit_stops_the_device() -> None:
    pb, player, clock = playback()
    pb.start()
    clock.advance(3000)
    pb.command(Command.QUIT)
    assert pb.done
    assert pb.status().mode == "quit"
    assert not player.is_playing()
    assert player.stops == 1


def test_a_key_stops_the_device_once() -> None:
    pb, player, clock = playback()
    events: list[str] = []
    pb.player = LoggingPlayer(player, events)
    pb.start()
    clock.advance(25_000)
    for command in (Command.PAUSE, Command.PAUSE, Command.NEXT, Command.SOFTER, Command.QUIT):
        events.clear()
        pb.command(command)
        assert events.count("stop") == 1, command
    assert player.stops == 5  # each key cut something short: the session or an answer


def test_a_phrase_the_engine_cannot_say_does_not_end_the_session() -> None:
    pb, player, clock = playback(clips=FakeClips(fail_on=frozenset({phrases.PAUSED})))
    pb.start()
    clock.advance(25_000)
    pb.command(Command.PAUSE)
    assert pb.status().mode == "paused"
    assert len(player.buffers) == 1


def test_run_plays_to_the_end_with_no_keys() -> None:
    pb, player, clock = playback()
    first: list[int] = []
    pb._on_first_audio = lambda: first.append(len(player.buffers))
    assert pb.run(ScriptedKeys(pb, clock, [])) == "finished"
    assert first == [1]


def test_run_quits_on_q_and_suspends_on_ctrl_z() -> None:
    pb, _, clock = playback()
    keys = ScriptedKeys(pb, clock, [(20_000, Command.SUSPEND), (20_000, Command.PAUSE)])
    keys.script.append((0, Command.QUIT))
    assert pb.run(keys) == "quit"
    assert keys.suspended == 1
    assert pb.said[0].startswith("Resuming")  # Ctrl-Z paused silently; Space resumed


def test_ctrl_c_stops_the_device_at_once() -> None:
    pb, player, _ = playback()

    class Interrupt:
        def read(self, timeout_s: float) -> list[Command]:
            raise KeyboardInterrupt

        def suspend(self) -> None:
            pass

    with pytest.raises(KeyboardInterrupt):
        pb.run(Interrupt())
    assert not player.is_playing()
    assert player.stops == 1


# -- playback: spoken answers ---------------------------------------------------------------------


def test_fixed_answers_are_made_ready_after_the_first_audio_one_a_tick() -> None:
    events: list[str] = []
    pb, player, clock = playback(clips=FakeClips(events=events))
    pb.player = LoggingPlayer(player, events)
    fixed = pb.controller.fixed_sentences()
    ticks = 0

    class CountingKeys(ScriptedKeys):
        def read(self, timeout_s: float) -> list[Command]:
            nonlocal ticks
            ticks += 1
            made = [e for e in events if e.removeprefix("speech ") in fixed]
            assert len(made) <= ticks  # one a tick: keys are read between them
            return super().read(timeout_s)

    pb.run(CountingKeys(pb, clock, []))
    first_audio = events.index("play")
    made = [i for i, e in enumerate(events) if e.removeprefix("speech ") in fixed]
    assert [events[i] for i in made] == [f"speech {text}" for text in fixed]
    assert min(made) > first_audio


def test_without_keys_no_answers_are_made_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    pb, _, clock = playback(clips=FakeClips(events=events))

    def read(self: NoKeys, timeout_s: float) -> list[Command]:
        clock.advance(int(timeout_s * RATE) or 1)
        return []

    monkeypatch.setattr(NoKeys, "read", read)
    assert pb.run() == "finished"
    assert not set(events) & {f"speech {text}" for text in pb.controller.fixed_sentences()}


def test_no_answer_is_made_ready_while_the_next_run_is_due() -> None:
    events: list[str] = []
    pb, player, clock = playback(clips=FakeClips(events=events), run_limit_ms=20_000)
    pb.player = LoggingPlayer(player, events)
    pb.run(ScriptedKeys(pb, clock, []))
    # The first run is 17.4 s long: all of it within 20 s of its end, when the next is due.
    second_run = [i for i, e in enumerate(events) if e == "play"][1]
    first_made = events.index(f"speech {phrases.PAUSED}")
    assert first_made > second_run


def test_answers_that_say_where_are_spoken_once_and_the_fixed_ones_kept() -> None:
    events: list[str] = []
    pb, _, clock = playback(clips=FakeClips(events=events))
    pb.start()
    clock.advance(25_000)
    for command, kept in (
        (Command.PAUSE, True),  # 'Paused.'
        (Command.SOFTER, True),  # 'Volume, ninety percent.'
        (Command.WHERE, False),  # 'Step one of one. Hold, …'
        (Command.PAUSE, False),  # 'Resuming: hold, …'
    ):
        events.clear()
        pb.command(command)
        assert events[0] == f"{'speech' if kept else 'once'} {pb.said[-1]}"


def test_speak_once_keeps_a_new_clip_neither_in_memory_nor_in_the_cache(tmp_path: Path) -> None:
    from tests.test_speech import FakeEngine, clips

    engine = FakeEngine()
    source = clips(engine, PhraseCache(tmp_path))
    text = "Resuming: left side, hold, twelve seconds left."
    once = source.speak_once(text)
    np.testing.assert_array_equal(once, clips(cache=None).speech(text))  # processed alike
    assert PhraseCache(tmp_path).info().entries == 0
    source.speak_once(text)
    assert engine.spoken == [text, text]


def test_speak_once_takes_a_clip_from_memory_or_the_cache(tmp_path: Path) -> None:
    from tests.test_speech import FakeEngine, clips

    engine = FakeEngine()
    source = clips(engine, PhraseCache(tmp_path))
    kept = source.speech(phrases.PAUSED)
    assert source.speak_once(phrases.PAUSED) is kept
    other = FakeEngine()
    np.testing.assert_array_equal(clips(other, PhraseCache(tmp_path)).speak_once("Paused."), kept)
    assert engine.spoken == [phrases.PAUSED]
    assert other.spoken == []
