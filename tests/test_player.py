"""The device side: the ring the device takes frames from, ALSA's error text, the outputs."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.play_helpers import FakeSounddevice
from voiceguide.play.device import ClockOutput, ManualOutput, default_output
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
