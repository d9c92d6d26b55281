"""Commands turned into actions, on the timeline alone."""

from __future__ import annotations

from tests.play_helpers import RATE, timeline_of
from voiceguide.compile import phrases
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.play.answers import resume_words, where_words
from voiceguide.play.controller import Action, Controller
from voiceguide.play.keys import Command
from voiceguide.play.navigation import steps_of


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
        phrases.LAST_STEP,  # from the start of the words it cut into
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
        "play", 25_000, phrases.LOUDEST
    )
    assert controller.handle(Command.SOFTER, position=25_000, paused=False) == Action(
        "play", 25_000, None, volume_pct=90
    )
    paused = controller.handle(Command.SOFTER, position=25_000, paused=True)
    assert paused == Action("pause", 25_000, "Volume, eighty percent.", volume_pct=80)
    quiet = Controller(timeline_of("press-reps"), volume_pct=5)  # --volume 5
    assert quiet.handle(Command.SOFTER, position=0, paused=False).say == phrases.QUIETEST
    assert quiet.handle(Command.LOUDER, position=0, paused=False).volume_pct == 15


def test_every_volume_answer_is_a_fixed_sentence() -> None:
    timeline = timeline_of("press-reps")
    for start in (100, 75, 5):
        controller = Controller(timeline, volume_pct=start)
        fixed = controller.fixed_sentences()
        assert fixed[:4] == [phrases.PAUSED, phrases.LOUDEST, phrases.QUIETEST, phrases.LAST_STEP]
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


def test_a_session_with_nothing_said_is_one_step() -> None:
    silence = Cue(0, 5000, "silence", "", "pause", "steps[0]", None, "Quiet")
    timeline = Timeline(RATE, (silence,), "Quiet", "quiet")
    steps = steps_of(timeline)
    assert [(s.number, s.start, s.end) for s in steps] == [(1, 0, 5000)]
    action = Controller(timeline).handle(Command.NEXT, position=10, paused=False)
    assert action.say == phrases.LAST_STEP
    assert where_words(timeline, steps, 1000) == (
        "Step one of one. Pause, four seconds left. Four seconds left in the session."
    )
