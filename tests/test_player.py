"""Playback without a device: position, controls, --from, views, terminal, no-device errors.

Timelines are compiled with lengths by rule at 1000 samples a second (samples are ms), and a
:class:`~voiceguide.play.player.NullPlayer` on a clock the test moves records what would be heard.
"""

from __future__ import annotations

import io
import os
import pty
import signal
import subprocess
import sys
import termios
import textwrap
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from voiceguide.compile import phrases
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import AudioDeviceError, EngineError, UsageError
from voiceguide.play.controls import (
    LAST_STEP,
    LOUDEST,
    QUIETEST,
    Action,
    Command,
    Controller,
    last_instruction_start,
    next_step_start,
    parse_from,
    parse_keys,
    place_words,
    previous_step_start,
    resume_words,
    sound_start,
    steps_of,
    where_words,
)
from voiceguide.play.liveview import LineView, TerminalView
from voiceguide.play.playback import RUN_LIMIT_MS, NoKeys, Playback, Status, split_point
from voiceguide.play.player import NullPlayer, SimpleaudioPlayer, describe_simpleaudio_error
from voiceguide.play.terminal import TerminalKeys
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.render import render, to_pcm

RATE = 1000


class FakeClips(FixedRateLengths):
    """Lengths by rule, and audio to match: each phrase its own constant level.

    Notes in ``events`` each phrase asked for: ``speech TEXT`` (kept), ``once TEXT`` (not).
    """

    def __init__(
        self, *, fail_on: frozenset[str] = frozenset(), events: list[str] | None = None
    ) -> None:
        super().__init__(sample_rate=RATE)
        self.fail_on = fail_on
        self.events = [] if events is None else events

    def speech(self, text: str) -> npt.NDArray[np.float32]:
        self.events.append(f"speech {text}")
        return self._spoken(text)

    def speak_once(self, text: str) -> npt.NDArray[np.float32]:
        self.events.append(f"once {text}")
        return self._spoken(text)

    def _spoken(self, text: str) -> npt.NDArray[np.float32]:
        if text in self.fail_on:
            raise EngineError("no engine here")
        level = 0.05 + (zlib.crc32(text.encode()) % 40) / 100
        return np.full(self.speech_samples(text), level, dtype=np.float32)

    def sound(self, name: str) -> npt.NDArray[np.float32]:
        return np.full(self.sound_samples(name), -0.3, dtype=np.float32)


class Clock:
    """Time that passes only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms / RATE


def timeline_of(case: str, *, intro: bool = False) -> Timeline:
    routine = load_routine(
        DATA / "compile" / f"{case}.yaml",
        resolve=resolve_include,
        shared_points=load_points(DATA / "points.yaml"),
        display=f"{case}.yaml",
    )
    return compile_routine(routine, FakeClips(), CompileOptions(intro=intro))


def playback(
    case: str = "press-reps",
    *,
    intro: bool = False,
    clips: FakeClips | None = None,
    start: int = 0,
    run_limit_ms: int = RUN_LIMIT_MS,
) -> tuple[Playback, NullPlayer, Clock]:
    """A session of ``case`` on a NullPlayer that records, on a clock the test moves."""
    clock = Clock()
    player = NullPlayer(RATE, clock=clock, record=True)
    timeline = timeline_of(case, intro=intro)
    clips = clips or FakeClips()
    pb = Playback(timeline, clips, player, start=start, run_limit_ms=run_limit_ms)
    return pb, player, clock


def rendered(pb: Playback, start: int = 0, volume_pct: int = 100) -> npt.NDArray[np.int16]:
    whole = render(pb.timeline, pb.clips, gain=volume_pct / 100)
    return whole[start:]


def spoken(text: str, volume_pct: int = 100) -> npt.NDArray[np.int16]:
    return to_pcm(FakeClips().speech(text) * np.float32(volume_pct / 100))


class LoggingPlayer:
    """A player that notes in ``events`` each ``play`` and ``stop`` playback asks of it."""

    def __init__(self, inner: NullPlayer, events: list[str]) -> None:
        self.inner, self.events = inner, events

    @property
    def sample_rate(self) -> int:
        return self.inner.sample_rate

    def play(self, samples: npt.NDArray[np.int16]) -> None:
        self.events.append("play")
        self.inner.play(samples)

    def played(self) -> int:
        return self.inner.played()

    def is_playing(self) -> bool:
        return self.inner.is_playing()

    def stop(self) -> None:
        self.events.append("stop")
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()


# -- keys --------------------------------------------------------------------------------------


def test_keys_are_parsed_with_arrow_sequences_and_unknown_keys_ignored() -> None:
    data = b" nQ\x1b[C\x1b[Dxr\x1b[A\x1b[B+-w\x1b\x1bOCp"
    assert parse_keys(data) == [
        Command.PAUSE, Command.NEXT, Command.QUIT, Command.NEXT, Command.PREVIOUS,
        Command.REPEAT, Command.LOUDER, Command.SOFTER, Command.LOUDER, Command.SOFTER,
        Command.WHERE, Command.NEXT, Command.PREVIOUS,
    ]  # fmt: skip


def test_every_documented_key_is_in_help_and_docs() -> None:
    from typer.testing import CliRunner

    from voiceguide.cli import app
    from voiceguide.play.controls import KEY_HELP

    result = CliRunner().invoke(app, ["play", "--help"], terminal_width=100)
    docs = (Path(__file__).parent.parent / "docs" / "play.md").read_text(encoding="utf-8")
    for key, command in KEY_HELP:
        assert f"{key:<11}{command.value}" in result.output
        assert f"| {key} |" in docs.replace("`", "")


# -- steps -------------------------------------------------------------------------------------


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


# -- words -------------------------------------------------------------------------------------


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
    from voiceguide.play.controls import session_left_words

    stretched = Timeline(60, timeline.cues, "t", "t")  # 98,700 samples at 60 Hz: 27 minutes
    assert session_left_words(stretched, 0) == "about twenty-seven minutes left in the session"


# -- the controller ------------------------------------------------------------------------------


def test_controller_pause_and_resume() -> None:
    timeline = timeline_of("press-reps")
    controller = Controller(timeline)
    assert controller.handle(Command.PAUSE, position=5000, paused=False) == Action(
        "pause", 2000, phrases.PAUSED
    )
    resume = controller.handle(Command.PAUSE, position=2000, paused=True)
    assert resume == Action("play", 2000, resume_words(timeline, 2000, steps_of(timeline)))
    assert resume.say is not None
    assert resume.say.startswith("Resuming: finding the point")


def test_controller_moves_and_says_when_there_is_nowhere_to_go() -> None:
    timeline = timeline_of("sides-repeat")
    controller = Controller(timeline)
    assert controller.handle(Command.NEXT, position=100, paused=False) == Action("play", 3400)
    assert controller.handle(Command.NEXT, position=100, paused=True) == Action("play", 3400)
    assert controller.handle(Command.NEXT, position=79_000, paused=False) == Action(
        "play",
        77950,
        LAST_STEP,  # from the start of the words it cut into
    )
    assert controller.handle(Command.PREVIOUS, position=30_000, paused=False) == Action(
        "play", 21350
    )
    assert controller.handle(Command.QUIT, position=30_000, paused=False).then == "quit"
    where = controller.handle(Command.WHERE, position=30_000, paused=True)
    assert where.then == "pause"
    assert where.say
    assert where.say.startswith("Step three of six.")


def test_controller_volume_steps_and_limits() -> None:
    controller = Controller(timeline_of("press-reps"), volume_pct=100)
    assert controller.handle(Command.LOUDER, position=25_000, paused=False) == Action(
        "play", 25_000, LOUDEST
    )
    assert controller.handle(Command.SOFTER, position=25_000, paused=False) == Action(
        "play", 25_000, None, volume_pct=90
    )
    paused = controller.handle(Command.SOFTER, position=25_000, paused=True)
    assert paused == Action("pause", 25_000, "Volume, eighty percent.", volume_pct=80)
    quiet = Controller(timeline_of("press-reps"), volume_pct=5)  # --volume 5
    assert quiet.handle(Command.SOFTER, position=0, paused=False).say == QUIETEST
    assert quiet.handle(Command.LOUDER, position=0, paused=False).volume_pct == 15


def test_every_volume_answer_is_a_fixed_sentence() -> None:
    timeline = timeline_of("press-reps")
    for start in (100, 75, 5):
        controller = Controller(timeline, volume_pct=start)
        fixed = controller.fixed_sentences()
        assert fixed[:4] == [phrases.PAUSED, LOUDEST, QUIETEST, LAST_STEP]
        assert len(fixed) == len(set(fixed))
        said = set()
        for presses in range(12):  # down to the bottom and back up to the top, paused
            for command in [Command.SOFTER] * presses + [Command.LOUDER] * 12:
                action = controller.handle(command, position=0, paused=True)
                said.add(action.say)
            controller.volume_pct = start
        assert said - {None} <= set(fixed)
    assert "Volume, ten percent." in Controller(timeline, volume_pct=5).fixed_sentences()
    assert "Volume, fifteen percent." in Controller(timeline, volume_pct=5).fixed_sentences()


# -- --from ------------------------------------------------------------------------------------


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
    ("text", "message"),
    [
        ("9", "--from: expected a step number from 0 to 6 "
         "('voiceguide play ROUTINE --steps' lists them), got 9"),
        ("5:00", "--from: 5:00 is past the end of the session (1:26.700)"),
        ("1:75", "--from: expected a time such as 2:30, got '1:75'"),
        ("side", "--from: 'side' matches several steps ('Foot: right side', 'Foot: left side'); "
         "say which"),
        ("elbow", "--from: expected a step number, a time (M:SS) or a step's title "
         "('Introduction', 'Foot: right side', 'Foot: left side'), got 'elbow'"),
    ],
)  # fmt: skip
def test_from_errors_say_what_was_expected(text: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_from(text, timeline_of("sides-repeat", intro=True))
    assert str(caught.value) == message


# -- playback: position and samples ------------------------------------------------------------


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


def test_split_point_without_a_breath_is_the_limit() -> None:
    timeline = timeline_of("press-reps")
    assert split_point(timeline, 20_000, 10_000, 5000) == 30_000  # inside a hold: no breath
    assert split_point(timeline, 0, 10**6, 5000) == timeline.total


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


class ScriptedKeys:
    """Commands at given session positions; records suspends."""

    def __init__(self, pb: Playback, clock: Clock, script: list[tuple[int, Command]]) -> None:
        self.pb, self.clock, self.script = pb, clock, list(script)
        self.suspended = 0

    def read(self, timeout_s: float) -> list[Command]:
        self.clock.advance(int(timeout_s * RATE) or 1)
        if self.script and self.pb.position >= self.script[0][0]:
            return [self.script.pop(0)[1]]
        return []

    def suspend(self) -> None:
        self.suspended += 1


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


# -- views -------------------------------------------------------------------------------------


def test_line_view_prints_one_line_per_cue_as_it_starts() -> None:
    pb, _, clock = playback("say-pause", intro=True)
    out = io.StringIO()
    pb.view = LineView(out, pb.timeline, steps_of(pb.timeline))
    keys = ScriptedKeys(pb, clock, [(13_500, Command.PAUSE), (13_200, Command.PAUSE)])
    pb.run(keys)
    assert out.getvalue().splitlines() == [
        "-- Introduction: Introduction",
        "0:00.000  intro        [start sound]",
        "0:02.000  intro        Say and pause.",
        "0:03.300  intro        Get comfortable, sitting on a chair.",
        "0:05.700  intro        This session takes less than a minute.",
        "-- Step 1: Say and pause",
        "0:13.200  instruction  Sit comfortably.",
        "0:13.200  (control)    Paused.",
        "0:13.200  [paused]",
        "0:13.200  (control)    Resuming: step one.",
        "0:13.200  instruction  Sit comfortably.",  # cut by the pause: said again
        "0:16.600  sound        [tick sound]",
        "-- Step 2: Say and pause",
        "0:17.000  instruction  Done.",
        "0:17.850  closing      [end sound]",
        "0:20.350  [end]",
    ]


def test_terminal_view_redraws_one_block_in_place() -> None:
    timeline = timeline_of("press-reps")
    out = io.StringIO()
    now = [0.0]
    view = TerminalView(out, timeline, steps_of(timeline), width=lambda: 200, clock=lambda: now[0])
    status = Status(position=25_000, mode="playing", paused=False, volume_pct=90)
    assert view.lines(status) == [
        "Press with reps  |  Step 1 of 1: Press with reps",
        'Playing   "Breathe out."',
        "hold  press 1 of 3  0:13 left in this hold",
        "[#######-----------------------] 0:25 / 1:38   1:13 left   volume 90%",
        "Space pause | n/p next/previous | r repeat | w where am I | +/- volume | q quit",
    ]
    view.update(status)
    now[0] += 1
    view.update(Status(position=26_000, mode="paused", paused=True, volume_pct=90))
    view.close()
    text = out.getvalue()
    assert text.startswith("\x1b[?25l\x1b[2KPress with reps")
    assert text.count("\r\x1b[4A") == 1  # the second draw went back up over the first
    assert "Paused" in text
    assert text.endswith("\n\x1b[?25h")
    saying = view.lines(Status(25_000, "speaking", True, 90, saying="Paused."))
    assert saying[1] == 'Saying: "Paused."'


def test_ctrl_z_leaves_the_cursor_shown_and_draws_a_new_block_after_fg() -> None:
    pb, _, clock = playback()
    out = io.StringIO()
    pb.view = TerminalView(out, pb.timeline, steps_of(pb.timeline), width=lambda: 200, clock=clock)
    on_suspend: list[str] = []

    class Keys(ScriptedKeys):
        def suspend(self) -> None:
            super().suspend()
            on_suspend.append(out.getvalue())
            out.write("\n[1]+  Stopped    voiceguide play press-reps\n$ fg\n")  # the shell

    keys = Keys(pb, clock, [(20_000, Command.SUSPEND), (0, Command.PAUSE), (0, Command.QUIT)])
    pb.run(keys)
    (before,) = on_suspend
    assert before.endswith("\n\x1b[?25h")  # below the block, the cursor shown
    assert "Paused" in before.rsplit("\x1b[2KPress with reps", 1)[1]  # as it was left
    after = out.getvalue()[len(before) :].split("$ fg\n", 1)[1]
    assert after.startswith("\x1b[?25l\x1b[2KPress with reps")  # a new block, not over the shell
    assert after.count("\x1b[4A") == after.count("\r\x1b[4A")


# -- speaking once -------------------------------------------------------------------------------


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


# -- terminal ----------------------------------------------------------------------------------


def test_terminal_keys_restore_the_terminal_on_every_way_out() -> None:
    master, slave = pty.openpty()
    try:
        before = termios.tcgetattr(slave)
        for way_out in (None, RuntimeError, KeyboardInterrupt):
            try:
                with TerminalKeys(slave) as keys:
                    attrs = termios.tcgetattr(slave)
                    assert not attrs[3] & (termios.ICANON | termios.ECHO)
                    assert attrs[3] & termios.ISIG  # Ctrl-C still interrupts
                    os.write(master, b"n \x1b[D")
                    assert keys.read(1.0) == [Command.NEXT, Command.PAUSE, Command.PREVIOUS]
                    assert keys.read(0.01) == []
                    if way_out is not None:
                        raise way_out
            except (RuntimeError, KeyboardInterrupt):
                pass
            assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


def test_terminal_is_restored_on_sigterm() -> None:
    master, slave = pty.openpty()
    script = textwrap.dedent(
        """
        import sys
        from voiceguide.play.terminal import TerminalKeys, exit_on_signals
        with exit_on_signals(), TerminalKeys(0) as keys:
            print("ready", flush=True)
            while True:
                keys.read(0.05)
        """
    )
    try:
        before = termios.tcgetattr(slave)
        process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=slave, stdout=subprocess.PIPE
        )
        assert process.stdout is not None
        assert process.stdout.readline() == b"ready\n"
        assert not termios.tcgetattr(slave)[3] & termios.ECHO
        process.send_signal(signal.SIGTERM)
        assert process.wait(5) == 128 + signal.SIGTERM
        process.stdout.close()
        assert termios.tcgetattr(slave) == before
    finally:
        os.close(master)
        os.close(slave)


# -- the device --------------------------------------------------------------------------------


def test_simpleaudio_errors_read_as_one_short_reason() -> None:
    error = RuntimeError("Error opening PCM device. -- CODE: -2 -- MSG: No such file or directory")
    reason = describe_simpleaudio_error(error)
    assert reason == "error opening pcm device: No such file or directory"
    assert describe_simpleaudio_error(RuntimeError("odd")) == "odd"


def test_null_player_plays_faster_with_speed() -> None:
    clock = Clock()
    player = NullPlayer(RATE, speed=10, clock=clock)
    player.play(np.zeros(10_000, dtype=np.int16))
    clock.advance(500)
    assert player.played() == 5000
    assert player.is_playing()
    clock.advance(500)
    assert not player.is_playing()
    with pytest.raises(ValueError, match="speed"):
        NullPlayer(speed=0)


class FakeSimpleaudio:
    """Stands in for the simpleaudio module."""

    class SimpleaudioError(Exception):
        pass

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.buffers: list[object] = []

    def play_buffer(self, data: object, channels: int, width: int, rate: int) -> object:
        if self.fail:
            raise self.SimpleaudioError(
                "Error opening PCM device. -- CODE: -2 -- MSG: No such file or directory"
            )
        self.buffers.append(data)

        class Play:
            stopped = False

            def is_playing(self) -> bool:
                return not self.stopped

            def stop(self) -> None:
                self.stopped = True

        return Play()


def test_simpleaudio_player_keeps_the_buffer_until_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeSimpleaudio(fail=False)
    monkeypatch.setitem(sys.modules, "simpleaudio", fake)
    clock = Clock()
    player = SimpleaudioPlayer(RATE, quiet_alsa=False, clock=clock)
    samples = np.arange(5000, dtype=np.int16)
    player.play(samples)
    assert player.is_playing()
    assert fake.buffers[0] is player._buffer
    clock.advance(1200)
    assert player.played() == 1200
    player.stop()
    assert not player.is_playing()
    assert player.played() == 1200
    assert player._buffer is None


def test_simpleaudio_player_with_no_device_raises_one_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "simpleaudio", FakeSimpleaudio(fail=True))
    with pytest.raises(AudioDeviceError) as caught:
        SimpleaudioPlayer(quiet_alsa=False).play(np.zeros(10, dtype=np.int16))
    assert str(caught.value) == (
        "no audio device could be opened (error opening pcm device: No such file or directory)"
    )


# -- the command -------------------------------------------------------------------------------

ROUTINE = """\
title: Tiny
posture: sitting on a chair
points:
  p:
    name: the tiny point
    where: here
steps:
  - say: Sit.
  - press: {point: p, hold: 2s, find: 0s}
  - say: Done.
"""


@pytest.fixture
def fake_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A routine file, and open_session made to compile it with fake clips (no engine)."""
    from voiceguide import session as session_module

    path = tmp_path / "tiny.yaml"
    path.write_text(ROUTINE, encoding="utf-8")

    def fake_open_session(
        routine: object, options: CompileOptions | None = None, *args: object, **kwargs: object
    ) -> session_module.Session:
        from voiceguide.script.model import Routine
        from voiceguide.sound.engines.base import VoiceSettings

        assert isinstance(routine, Routine)
        clips = FakeClips()
        timeline = compile_routine(routine, clips, options)
        fake: Any = clips  # Session wants SpeechClips; the renderer needs only a ClipSource
        return session_module.Session(routine, timeline, fake, "fake", VoiceSettings(), 100, 0)

    monkeypatch.setattr(session_module, "open_session", fake_open_session)
    return path


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from voiceguide.cli import main

    with pytest.raises(SystemExit) as exited:
        main(args)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 0), out, err


def test_dry_run_prints_the_cues_as_they_sound(
    fake_session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(
        ["play", str(fake_session), "--dry-run", "--speed", "1000", "--skip-intro"], capsys
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "-- Step 1: Tiny",
        "0:00.000  intro        [start sound]",
        "0:02.000  instruction  Sit.",
        "-- Step 2: Tiny",
        "0:02.800  find         Find the tiny point. Here.",
        "0:04.700  instruction  Press firmly, and hold for two seconds.",
        "0:07.250  hold         [press sound]",
        "0:09.250  release      [release sound]",
        "0:09.850  release      Release, and let go.",
        "-- Step 3: Tiny",
        "0:11.450  instruction  Done.",
        "0:12.300  closing      [end sound]",
        "0:14.800  [end]",
    ]


def test_steps_and_from(fake_session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(["play", str(fake_session), "--steps", "--skip-intro"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["STEP", "TIME", "TITLE", "FIRST", "WORDS"]
    assert out.splitlines()[3].split()[:3] == ["3", "0:11.450", "Tiny"]
    code, out, _ = run_cli(
        ["play", str(fake_session), "--dry-run", "--speed", "1000", "--from", "3", "-q"], capsys
    )
    assert (code, out) == (0, "")
    code, out, _ = run_cli(
        ["play", str(fake_session), "--dry-run", "--speed", "1000", "--from", "0:01"], capsys
    )
    assert code == 0
    assert out.splitlines()[0] == "-- Introduction: Introduction"


def test_speed_without_dry_run_is_refused(
    fake_session: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["play", str(fake_session), "--speed", "2"], capsys)
    assert code == 2
    assert err == "voiceguide: --speed: only with --dry-run (audio always plays in real time)\n"


def test_no_audio_device_is_one_line_and_exit_4(
    fake_session: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.play import player

    monkeypatch.setattr(player, "probe_alsa", lambda device=b"default": "No such file or directory")
    code, out, err = run_cli(["play", str(fake_session)], capsys)
    assert (code, out) == (4, "")
    assert err == (
        "voiceguide: no audio device could be opened (ALSA: No such file or directory); "
        f"to listen elsewhere, write it to a file: voiceguide export {fake_session}\n"
    )


def test_a_device_that_fails_when_playing_starts_is_one_line_and_exit_4(
    fake_session: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.play import player

    monkeypatch.setattr(player, "probe_alsa", lambda device=b"default": None)
    monkeypatch.setitem(sys.modules, "simpleaudio", FakeSimpleaudio(fail=True))
    code, out, err = run_cli(["play", str(fake_session), "-q"], capsys)
    assert (code, out) == (4, "")
    assert err == (
        "voiceguide: no audio device could be opened "
        "(error opening pcm device: No such file or directory); "
        f"to listen elsewhere, write it to a file: voiceguide export {fake_session}\n"
    )


def test_a_session_with_nothing_said_is_one_step() -> None:
    from voiceguide.compile.timeline import Cue

    silence = Cue(0, 5000, "silence", "", "pause", "steps[0]", None, "Quiet")
    timeline = Timeline(RATE, (silence,), "Quiet", "quiet")
    steps = steps_of(timeline)
    assert [(s.number, s.start, s.end) for s in steps] == [(1, 0, 5000)]
    assert Controller(timeline).handle(Command.NEXT, position=10, paused=False).say == LAST_STEP
    assert where_words(timeline, steps, 1000) == (
        "Step one of one. Pause, four seconds left. Four seconds left in the session."
    )
