"""The playback loop's end of the remote link: snapshots from what the loop shows, requests out.

No D-Bus here. Timelines are compiled with lengths by rule at 1000 samples a second (samples
are milliseconds); the session is a stub that records what it was asked to do.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pytest

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.phrases import LOUDEST, QUIETEST
from voiceguide.compile.phrases import volume as volume_words
from voiceguide.compile.timeline import Timeline
from voiceguide.play.controller import Action
from voiceguide.play.device import ManualOutput
from voiceguide.play.keys import Command
from voiceguide.play.navigation import sound_start, steps_of
from voiceguide.play.playback import Mode, Playback, Status
from voiceguide.play.source import FixedSource
from voiceguide.remote.bridge import JUMP_TOLERANCE_MS, PlayerSide, session_info
from voiceguide.remote.link import Request
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine
from voiceguide.sound.mix import Mix

DEADLINE_S = 10.0


def timeline_of(case: str = "sides-repeat") -> Timeline:
    routine = load_routine(
        DATA / "compile" / f"{case}.yaml",
        resolve=resolve_include,
        shared_points=load_points(DATA / "points.yaml"),
        display=f"{case}.yaml",
    )
    return compile_routine(routine, FixedRateLengths(), CompileOptions(intro="full"))


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class StubSession:
    """A session that records what it is asked, and decides actions where it stands."""

    def __init__(self, position: int = 0, *, paused: bool = False, volume_pct: int = 100) -> None:
        self.position = position
        self.paused = paused
        self.volume_pct = volume_pct
        self.done = False
        self.commands: list[Command] = []
        self.actions: list[Action] = []

    def command(self, command: Command) -> None:
        self.commands.append(command)
        self.done = command is Command.QUIT

    def act(self, decide: Callable[[int, bool], Action]) -> None:
        action = decide(self.position, self.paused)
        self.actions.append(action)
        if action.volume_pct is not None:
            self.volume_pct = action.volume_pct


def side_of(timeline: Timeline, clock: Clock | None = None, volume_pct: int = 100) -> PlayerSide:
    return PlayerSide(timeline, steps_of(timeline), volume_pct=volume_pct, clock=clock or Clock())


def carried_out(side: PlayerSide, session: StubSession, *requests: Request) -> StubSession:
    for request in requests:
        side.link.send(request)
    side.carry_out(session)
    return session


def status(position: int, mode: Mode = "playing", *, paused: bool = False) -> Status:
    return Status(position, mode, paused, 100)


def test_steps_are_titled_as_the_live_view_titles_them() -> None:
    timeline = timeline_of()
    steps = steps_of(timeline)
    info = session_info(timeline, steps)
    assert (info.title, info.sample_rate, info.total) == (
        "Sides and rounds", 1000, timeline.total
    )  # fmt: skip
    assert [s.start for s in info.steps] == [s.start for s in steps]
    last = steps[-1].number
    assert info.steps[0].title == "Introduction"
    assert info.steps[1].title == f"Step 1 of {last}: {steps[1].title}"
    assert "right side" in info.steps[1].title


@pytest.mark.parametrize(
    ("mode", "paused", "expected"),
    [
        ("playing", False, "Playing"),
        ("speaking", False, "Playing"),  # an answer, then playing on
        ("speaking", True, "Paused"),  # "Paused." being said
        ("paused", True, "Paused"),
        ("finished", False, "Stopped"),
        ("quit", False, "Stopped"),
    ],
)
def test_what_the_loop_shows_becomes_a_snapshot(mode: Mode, paused: bool, expected: str) -> None:
    timeline = timeline_of()
    clock = Clock()
    side = side_of(timeline, clock)
    third = steps_of(timeline)[2]
    side.publish(Status(third.start + 10, mode, paused, 70))
    snapshot = side.link.latest()
    assert snapshot.status == expected
    assert (snapshot.position, snapshot.stamp, snapshot.volume_pct) == (third.start + 10, 500.0, 70)
    assert snapshot.step == 2
    assert snapshot.advancing is (mode == "playing")


def test_a_jump_is_counted_when_the_position_moves_other_than_by_playing() -> None:
    clock = Clock()
    side = side_of(timeline_of(), clock)
    tolerance = JUMP_TOLERANCE_MS  # samples are milliseconds here
    side.publish(status(1000))
    clock.now += 2.0
    side.publish(status(3000 + tolerance))  # played on, within the tolerance
    assert side.link.latest().jumps == 0
    clock.now += 0.1
    side.publish(status(3100 + tolerance, "paused", paused=True))  # paused where it was
    clock.now += 30.0
    side.publish(status(3100 + tolerance, "paused", paused=True))  # and waited
    assert side.link.latest().jumps == 0
    side.publish(status(20_000))  # next step
    assert side.link.latest().jumps == 1
    clock.now += 1.0
    side.publish(status(21_000 - tolerance - 1, "paused", paused=True))  # back to a sentence
    assert side.link.latest().jumps == 2


@pytest.mark.parametrize(
    ("kind", "paused", "commands"),
    [
        ("play", True, [Command.PAUSE]),
        ("play", False, []),  # already playing: nothing at all, not even a stop
        ("pause", False, [Command.PAUSE]),
        ("pause", True, []),
        ("toggle", False, [Command.PAUSE]),
        ("toggle", True, [Command.PAUSE]),
        ("next", False, [Command.NEXT]),
        ("previous", True, [Command.PREVIOUS]),
        ("quit", False, [Command.QUIT]),
    ],
)
def test_requests_become_the_keys_commands(
    kind: str, paused: bool, commands: list[Command]
) -> None:
    session = carried_out(
        side_of(timeline_of()),
        StubSession(paused=paused),
        Request(kind),  # type: ignore[arg-type]
    )
    assert session.commands == commands
    assert session.actions == []


def test_a_seek_goes_to_the_start_of_the_step_that_holds_the_time() -> None:
    timeline = timeline_of()
    steps = steps_of(timeline)
    side = side_of(timeline)
    inside = steps[2].start + 500
    assert carried_out(side, StubSession(), Request("seek_to", inside)).actions == [
        Action("play", steps[2].start)
    ]
    here = steps[1].start + 100
    forward = steps[3].start + 10 - here
    assert carried_out(side, StubSession(here), Request("seek_by", forward)).actions == [
        Action("play", steps[3].start)
    ]
    assert carried_out(side, StubSession(here), Request("seek_by", -10 * here)).actions == [
        Action("play", 0)
    ]
    # Past the end: as Next (in the last step that says so, as the key does).
    past = carried_out(side, StubSession(here), Request("seek_by", timeline.total))
    assert (past.commands, past.actions) == ([Command.NEXT], [])


def test_a_volume_is_heard_at_once_while_playing_and_said_while_paused() -> None:
    timeline = timeline_of()
    side = side_of(timeline)
    speaking = next(c for c in timeline.cues if c.kind == "speech" and c.start > 5000)
    inside = speaking.start + 100
    playing = carried_out(side, StubSession(inside), Request("volume", 55))
    assert playing.actions == [Action("play", speaking.start, None, 55)]  # the sentence again
    assert sound_start(timeline, inside) == speaking.start
    paused = carried_out(side, StubSession(inside, paused=True), Request("volume", 40))
    assert paused.actions == [Action("pause", speaking.start, volume_words(40), 40)]


@pytest.mark.parametrize(
    ("start_pct", "asked", "expected"),
    [
        (100, 150, (None, LOUDEST)),  # asked past the top: the key's answer
        (100, 100, None),  # no change: nothing happens
        (10, 0, (None, QUIETEST)),
        (50, 0, (10, None)),  # as low as the keys go
        (50, 250, (100, None)),
        (5, 3, (None, QUIETEST)),  # --volume 5 is below the keys' lowest: kept
    ],
)
def test_a_volume_outside_the_range_is_held_to_it(
    start_pct: int, asked: int, expected: tuple[int | None, str | None] | None
) -> None:
    session = carried_out(
        side_of(timeline_of()), StubSession(20_400, volume_pct=start_pct), Request("volume", asked)
    )
    if expected is None:
        assert session.actions == []
    else:
        assert [(a.volume_pct, a.say) for a in session.actions] == [expected]


def test_of_several_volumes_only_the_last_counts_and_quit_ends_the_batch() -> None:
    side = side_of(timeline_of())
    session = carried_out(
        side,
        StubSession(20_400),
        Request("volume", 40),
        Request("next"),
        Request("volume", 30),
        Request("volume", 60),
        Request("quit"),
        Request("previous"),
    )
    assert session.commands == [Command.NEXT, Command.QUIT]
    assert [a.volume_pct for a in session.actions] == [60]
    assert side.link.take() == []  # everything that came was taken


def test_waiting_without_keys_ends_when_a_request_comes() -> None:
    side = side_of(timeline_of())
    keys = side.waking(None)
    sender = threading.Timer(0.05, side.link.send, [Request("pause")])
    sender.start()
    began = time.monotonic()
    assert keys.read(60.0) == []
    sender.join()
    assert time.monotonic() - began < 60.0  # woken, not timed out
    assert side.link.pending()


class SlowKeys:
    """Keys that come only when asked often enough."""

    def __init__(self) -> None:
        self.asked: list[float] = []
        self.suspended = False

    def read(self, timeout_s: float) -> list[Command]:
        self.asked.append(timeout_s)
        time.sleep(timeout_s)
        return [Command.WHERE] if len(self.asked) == 3 else []

    def suspend(self) -> None:
        self.suspended = True


def test_keys_are_read_in_slices_so_a_request_is_not_kept_waiting() -> None:
    side = side_of(timeline_of())
    keys = SlowKeys()
    waking = side.waking(keys)
    assert waking.read(60.0) == [Command.WHERE]
    assert max(keys.asked) <= 0.01
    side.link.send(Request("next"))
    assert waking.read(60.0) == []
    assert len(keys.asked) == 4  # one slice, then the request was seen
    waking.suspend()
    assert keys.suspended


# -- with the real playback loop (on an output the test makes take frames, no device) -------


class FakeClips(FixedRateLengths):
    """Lengths by rule, and audio to match; notes each answer asked for."""

    def __init__(self) -> None:
        super().__init__(sample_rate=1000)
        self.said: list[str] = []

    def speech(self, text: str) -> npt.NDArray[np.float32]:
        return np.full(self.speech_samples(text), 0.25, dtype=np.float32)

    def speak_once(self, text: str) -> npt.NDArray[np.float32]:
        self.said.append(text)
        return self.speech(text)

    def sound(self, name: str) -> npt.NDArray[np.float32]:
        return np.full(self.sound_samples(name), -0.3, dtype=np.float32)


def playing(clock: Clock) -> tuple[Playback, PlayerSide, ManualOutput]:
    timeline = timeline_of()
    output = ManualOutput()
    side = side_of(timeline, clock)
    clips = FakeClips()
    source = FixedSource(timeline, clips, Mix(channels=1))
    pb = Playback(source, clips, output, view=side.observe(None))
    return pb, side, output


def advance(pb: Playback, output: ManualOutput, ms: int) -> None:
    """Let ``ms`` pass: the loop ticks, the device takes 10 ms at a time (1000 Hz)."""
    for _ in range(ms // 10):
        pb.tick()
        if output.ring is not None:
            output.take(10)


def test_a_remote_volume_is_where_the_keys_go_on_from() -> None:
    clock = Clock()
    pb, side, output = playing(clock)
    advance(pb, output, 3000)
    side.link.send(Request("volume", 55))
    side.carry_out(pb)
    assert pb.volume_pct == 55
    pb.command(Command.LOUDER)
    assert pb.volume_pct == 65  # from the remote's 55, not from where the keys last left it


def test_the_loop_carries_requests_out_and_publishes_what_it_does() -> None:
    clock = Clock()
    pb, side, output = playing(clock)
    advance(pb, output, 3000)
    side.link.send(Request("pause"))
    side.carry_out(pb)
    pb.tick()
    assert pb.said == ["Paused."]
    assert side.link.latest().status == "Paused"
    advance(pb, output, 5000)  # "Paused." has been said
    side.link.send(Request("play"))
    side.link.send(Request("play"))  # the second finds it playing: nothing more
    side.carry_out(pb)
    assert len(pb.said) == 2
    assert pb.said[1].startswith("Resuming")
    third = steps_of(pb.source.prefix())[3]
    side.link.send(Request("seek_to", third.start + 700))
    side.carry_out(pb)
    pb.tick()
    assert (pb.mode, pb.position) == ("playing", third.start)
    assert side.link.latest().jumps >= 1


def test_a_request_ends_a_running_loop() -> None:
    clock = Clock()
    pb, side, _ = playing(clock)  # the device takes nothing: only the request can end it
    quitter = threading.Timer(0.05, side.link.send, [Request("quit")])
    quitter.start()
    try:
        assert pb.run(side.waking(None), remote=side.carry_out) == "quit"
    finally:
        quitter.join()
    assert side.link.latest().status == "Stopped"


def test_a_session_laid_out_while_it_plays_publishes_its_new_length() -> None:
    timeline = timeline_of()
    part = Timeline(timeline.sample_rate, timeline.cues[:5], timeline.title, timeline.routine)
    side = side_of(part)
    assert side.link.info.total == part.total
    view = side.observe(None)
    view.laid_out(timeline)
    assert side.link.info.total == timeline.total
    assert len(side.link.info.steps) == len(steps_of(timeline))
