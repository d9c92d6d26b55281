"""Voice commands wired into playback: the gate follows the session, the heard sound, then the key.

The playback here is the real loop over a timeline compiled with lengths by rule (samples are
milliseconds) and a device the test makes take frames; the listener is a stand-in that hands
over phrases (the real one, through ALSA, is in tests/test_listen_wired.py).
"""

from __future__ import annotations

import numpy as np

from tests.play_helpers import FakeClips, heard, playback, rendered, spoken, take
from voiceguide.app.listening import LOAD_BY_S, VoiceControl
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.listen.errors import ListenUnavailable
from voiceguide.listen.gate import GUARD_MS, LiveGate, SilenceGate
from voiceguide.listen.listener import HeardLive
from voiceguide.listen.recognizer import Heard
from voiceguide.listen.vocabulary import phrase_named
from voiceguide.play.interfaces import NoView, Status
from voiceguide.play.playback import Playback

TONE = -0.3
"""FakeClips' level for every sound: the heard sound among them."""


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeListener:
    """Hands over the phrases the test says, as the real listener's queue would."""

    def __init__(
        self, gate: LiveGate, *, fail: str | None = None, fail_loading: str | None = None
    ) -> None:
        self.gate = gate
        self.fail = fail
        self.fail_loading = fail_loading
        self.queued: list[HeardLive] = []
        self.opened = self.started = self.stopped = False
        self.started_at: int | None = None
        """The session sample the gate was last told of when the recogniser loaded."""

    def open(self) -> None:
        if self.fail is not None:
            raise ListenUnavailable(self.fail)
        self.opened = True

    def start(self) -> None:
        assert self.opened
        if self.fail_loading is not None:
            raise ListenUnavailable(self.fail_loading)
        marks = self.gate._marks
        self.started_at = marks[-1].position if marks else None
        self.started = True

    def stop(self) -> None:
        self.stopped = True

    @property
    def listening(self) -> bool:
        return self.started and not self.stopped

    def heard(self) -> list[HeardLive]:
        found, self.queued = self.queued, []
        return found

    def say(self, words: str) -> None:
        self.queued.append(HeardLive(Heard(phrase_named(words), 0, 1, 1, 0.0), 0.0, 0.0))


def wired(pb: Playback, **kwargs: object) -> tuple[VoiceControl, FakeListener, list[str]]:
    made: list[FakeListener] = []
    warned: list[str] = []

    def make(gate: LiveGate) -> FakeListener:
        made.append(FakeListener(gate, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    control = VoiceControl(pb.source.prefix(), complete=True, warn=warned.append, listener=make)  # type: ignore[arg-type]
    pb.view = control.observe(NoView())
    control.begin()
    settle(control)
    return control, made[0], warned


def settle(control: VoiceControl) -> None:
    """Wait for what the control started on threads of its own (opening, loading)."""
    for starter in control._starters:
        starter.join(5)


def run(pb: Playback, output: object, control: VoiceControl, ms: int) -> None:
    """Let ``ms`` pass with the loop calling the voice control each time round."""
    for _ in range(ms // 10):
        control.carry_out(pb)
        take(pb, output, 10)  # type: ignore[arg-type]
        settle(control)


def hold_start(pb: Playback) -> int:
    return next(c.start for c in pb.source.prefix().cues if c.phase == "hold")


def test_pause_heard_in_a_hold_sounds_the_tone_then_pauses_as_the_key_does() -> None:
    pb, output = playback()
    control, listener, warned = wired(pb)
    at = hold_start(pb) + 5000
    run(pb, output, control, at)
    listener.say("guide pause now")
    run(pb, output, control, 3000)
    assert pb.paused
    assert control.heard == ["guide pause now"]
    assert control.acted == ["pause"]
    got = heard(output)
    expected = rendered(pb)
    tone = int(np.flatnonzero(got != expected[: len(got)])[0])
    assert abs(tone - at) <= 20  # at once, over the hold
    assert np.array_equal(got[:tone], expected[:tone])  # nothing before it moved
    length = FakeClips().sound_samples("heard")
    assert (got[tone : tone + length] == np.int16(TONE * 32767) + expected[tone]).all()
    said = spoken("Paused.")
    after = got[tone + length : tone + length + 200]
    assert np.array_equal(after[: len(said)], said[: len(after)])  # then the key's answer
    assert warned == []


def test_resume_heard_while_paused_sounds_the_tone_then_goes_on_where_it_was() -> None:
    pb, output = playback()
    control, listener, _ = wired(pb)
    run(pb, output, control, hold_start(pb) + 3000)
    listener.say("guide pause now")
    run(pb, output, control, 3000)
    where = pb.position
    before = len(heard(output))
    listener.say("guide continue")
    run(pb, output, control, 6000)
    assert not pb.paused
    assert control.acted == ["pause", "pause"]
    got = heard(output)[before:]
    tone = int(np.flatnonzero(got)[0])
    length = FakeClips().sound_samples("heard")
    assert (got[tone : tone + length] == np.int16(TONE * 32767)).all()  # said where it waits
    assert pb.position > where  # and on it goes from there


def test_what_is_already_so_is_dropped_without_a_sound() -> None:
    pb, output = playback()
    control, listener, _ = wired(pb)
    run(pb, output, control, hold_start(pb) + 3000)
    listener.say("guide resume")
    run(pb, output, control, 1000)
    assert control.heard == ["guide resume"]
    assert control.acted == [""]
    assert not pb.paused
    got = heard(output)
    assert np.array_equal(got, rendered(pb)[: len(got)])


def test_no_capture_is_one_line_and_the_session_plays_byte_for_byte() -> None:
    pb, output = playback()
    control, _, warned = wired(pb, fail="no capture device could be opened (ALSA: gone)")
    run(pb, output, control, 30_000)
    assert warned == [
        "voiceguide: no capture device could be opened (ALSA: gone); playing without listening"
    ]
    got = heard(output)
    assert np.array_equal(got, rendered(pb)[: len(got)])
    assert not control.listening


def test_close_stops_the_listener_and_a_late_start_stops_itself() -> None:
    pb, output = playback()
    control, listener, _ = wired(pb)
    run(pb, output, control, hold_start(pb) + 2000)
    assert control.listening
    control.close()
    assert listener.stopped
    assert not control.listening
    late = VoiceControl(pb.source.prefix(), complete=True, warn=print, listener=FakeListener)
    late.close()
    late._open()  # the session ended while the capture opened
    late._load()
    assert not late.listening


def test_the_recogniser_loads_in_the_first_long_silence_not_over_speech() -> None:
    pb, output = playback()
    control, listener, warned = wired(pb)
    assert listener.opened  # the capture opens at once
    assert not listener.started  # the recogniser waits for a silence
    hold = hold_start(pb)
    run(pb, output, control, hold + 2000)
    assert listener.started
    assert listener.started_at is not None
    silence = SilenceGate(pb.source.prefix())
    start = listener.started_at
    assert silence.is_open(start, start + 1000)  # a second of silence ahead of it (ms here)
    assert warned == []


def test_a_recogniser_that_cannot_load_is_one_line_and_the_session_plays_on() -> None:
    pb, output = playback()
    control, listener, warned = wired(pb, fail_loading="the speech recogniser would not start")
    run(pb, output, control, hold_start(pb) + 3000)
    assert warned == [
        "voiceguide: the speech recogniser would not start; playing without listening"
    ]
    assert listener.stopped  # the capture closed with it
    assert not control.listening
    got = heard(output)
    assert np.array_equal(got, rendered(pb)[: len(got)])


def test_with_no_long_silence_the_recogniser_loads_after_a_minute() -> None:
    clock = Clock()
    made: list[FakeListener] = []

    def make(gate: LiveGate) -> FakeListener:
        made.append(FakeListener(gate))
        return made[-1]

    speech = Timeline(
        1000, (Cue(0, 200_000, "speech", "On.", "instruction", "s", None, "T"),), "T", "t"
    )
    control = VoiceControl(speech, complete=True, warn=print, listener=make, clock=clock)  # type: ignore[arg-type]
    control.begin()
    settle(control)
    start = clock.now
    for ms in range(0, 70_000, 500):
        clock.now = start + ms / 1000
        control.follow(status(ms))
        settle(control)
        assert made[0].started == (ms >= LOAD_BY_S * 1000), ms
    control.close()


def status(position: int, mode: str = "playing", saying: str | None = None) -> Status:
    return Status(position, mode, mode == "paused", 100, saying, False)  # type: ignore[arg-type]


def prefix(total: int, *, silence_from: int) -> Timeline:
    """Speech, then a silence laid out up to ``total`` (more is still coming)."""
    cues = (
        Cue(0, silence_from, "speech", "Hello.", "instruction", "s", None, "T"),
        Cue(silence_from, total - silence_from, "silence", "", "hold", "s", None, "T"),
    )
    return Timeline(1000, cues, "T", "t")


def test_the_gate_opens_only_over_silence_laid_out_and_shuts_for_answers() -> None:
    clock = Clock()
    control = VoiceControl(
        prefix(10_000, silence_from=2000), complete=False, warn=print, clock=clock
    )
    gate = control.gate
    start = clock.now
    for ms in range(0, 12_000, 50):  # the device plays on, in real time
        clock.now = start + ms / 1000
        control.follow(status(ms))

    def at(ms: int) -> float:
        return start + ms / 1000

    assert gate.is_open(at(2000 + GUARD_MS), at(4000))
    assert not gate.is_open(at(1500), at(2500))  # the speech and its echo
    assert not gate.is_open(at(9000), at(10_000 - GUARD_MS + 50))  # what follows is unknown
    assert not gate.is_open(at(10_500), at(11_000))  # past what is laid out: never
    gate.relayout(SilenceGate(prefix(20_000, silence_from=2000), complete=False))
    assert gate.is_open(at(9000), at(11_000))  # laid out further: now it is known silent
    clock.now = at(12_000)
    control.follow(status(12_000, saying="Paused."))
    clock.now = at(13_000)
    control.follow(status(12_000, "paused"))
    clock.now = at(14_000)
    control.follow(status(12_000, "paused"))
    assert not gate.is_open(at(12_100), at(12_900))  # an answer being said
    assert not gate.is_open(at(13_000), at(13_000 + GUARD_MS - 10))  # its echo
    assert gate.is_open(at(13_000 + GUARD_MS), at(14_000))  # then paused: open
