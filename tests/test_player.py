"""The device side: the ring the device takes frames from, ALSA's error text, the outputs."""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
import pytest

from tests.play_helpers import FakeSounddevice
from voiceguide.play.device import ClockOutput, ManualOutput, PortaudioOutput, default_output
from voiceguide.play.player import describe_simpleaudio_error
from voiceguide.play.ring import Ring


def test_simpleaudio_errors_read_as_one_short_reason() -> None:
    error = RuntimeError("Error opening PCM device. -- CODE: -2 -- MSG: No such file or directory")
    reason = describe_simpleaudio_error(error)
    assert reason == "error opening pcm device: No such file or directory"
    assert describe_simpleaudio_error(RuntimeError("odd")) == "odd"


def test_the_ring_hands_on_what_was_written_untouched_and_silence_after() -> None:
    ring = Ring(1000, capacity_s=1.0)
    data = np.arange(1, 901, dtype=np.int16)
    ring.push(data)
    out = ManualOutput()
    out.start(ring)
    taken = np.concatenate([out.take(300)[:, 0] for _ in range(4)])
    assert np.array_equal(taken[:900], data)
    assert not taken[900:].any()
    assert ring.heard() == 900
    ring.push(np.ones(950, dtype=np.int16))  # wraps round the end of the buffer
    assert np.array_equal(out.take(950)[:, 0], np.ones(950, dtype=np.int16))


def test_a_rewind_takes_back_only_what_the_device_has_not_taken() -> None:
    ring = Ring(1000)
    ring.push(np.full(500, 7, dtype=np.int16))
    out = ManualOutput()
    out.start(ring)
    out.take(100)
    assert ring.rewind(50) == 100  # cannot take back what was taken
    ring.push(np.full(10, 3, dtype=np.int16))
    assert np.array_equal(out.take(10)[:, 0], np.full(10, 3, dtype=np.int16))


def test_volume_and_overlays_apply_as_the_device_takes_frames() -> None:
    ring = Ring(1000)
    ring.push(np.full(200, 1000, dtype=np.int16))
    out = ManualOutput()
    out.start(ring)
    out.take(50)
    ring.set_volume(0.5)
    ring.overlay(ring.taken + 100, np.full(20, 100, dtype=np.int16))
    block = out.take(150)[:, 0]
    assert block[0] > 500  # a 30 ms ramp, then the new level
    assert block[29] == 500
    assert block[99] == 500
    assert block[100] == 600
    assert block[120] == 500


def test_the_clock_output_takes_frames_at_its_speed() -> None:
    ring = Ring(1000, capacity_s=20.0)
    ring.push(np.ones(10_000, dtype=np.int16))
    ring.ending = True
    out = ClockOutput(speed=100, block_frames=100)
    out.start(ring)
    out.close()  # returns once its thread has stopped
    assert out.stalled_s() == 0.0


def test_without_portaudio_the_simpleaudio_fallback_plays(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails
    assert type(default_output()).__name__ == "SimpleaudioOutput"
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSounddevice(fail=False))
    assert type(default_output()).__name__ == "PortaudioOutput"


def test_a_frame_is_heard_its_buffer_after_it_is_taken_where_the_start_is_not_known() -> None:
    ring = Ring(1000)
    ring.latency = 100
    ring.push(np.array([0, 0, 7, 7], dtype=np.int16))
    assert ring.first_heard_at() is None  # nothing taken yet
    ring.pull(np.zeros((4, 1), dtype=np.int16))
    assert ring.first_sound_at is not None
    assert ring.first_sound_frame == 2
    assert ring.first_heard_at() == ring.first_sound_at + 0.1


def test_after_a_known_start_each_frame_the_device_asked_for_is_heard_in_turn() -> None:
    ring = Ring(1000)
    ring.latency = 100
    ring.pull(np.zeros((10, 1), dtype=np.int16))  # nothing written: the device got silence
    ring.push(np.array([0] * 30 + [5] * 20, dtype=np.int16))
    ring.pull(np.zeros((50, 1), dtype=np.int16))
    assert ring.first_sound_frame == 40  # the 10 frames of silence count: they were played
    ring.started_at = time.monotonic() + 1.0  # a device that started after it was filled
    assert ring.first_heard_at() == ring.started_at + 0.040


class PrimingStream:
    """A PortAudio stream that, as PortAudio does when asked to prime, fills its buffer from
    the callback before it starts: its start returns once the device plays."""

    def __init__(self, *, callback: Any, latency: float, samplerate: int, **_: object) -> None:
        self.callback, self.latency, self.rate = callback, latency, samplerate
        self.primed_at: float | None = None

    def start(self) -> None:
        frames = int(self.latency * self.rate)
        for _ in range(4):
            self.callback(bytearray(2 * frames // 4), frames // 4, None, None)
        self.primed_at = time.monotonic()

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_a_primed_device_is_heard_from_its_start_not_a_buffer_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    streams: list[PrimingStream] = []
    fake = FakeSounddevice(fail=False)

    def open_stream(**kwargs: Any) -> PrimingStream:
        streams.append(PrimingStream(**kwargs))
        return streams[-1]

    monkeypatch.setattr(fake, "RawOutputStream", open_stream, raising=False)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    ring = Ring(1000)
    ring.push(np.full(500, 9, dtype=np.int16))
    output = PortaudioOutput(latency_s=0.2, quiet_alsa=False)
    output.start(ring)
    try:
        primed_at = streams[0].primed_at
        assert ring.taken == 200  # the buffer was filled from the ring before the start
        assert ring.started_at is not None
        assert primed_at is not None
        assert ring.started_at >= primed_at
        assert ring.first_heard_at() == ring.started_at  # frame 0 sounds: heard at the start,
        # not a buffer (0.2 s) after it was taken
    finally:
        output.close()
