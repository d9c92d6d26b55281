"""The device behind the Player interface: simpleaudio (faked), and the null player."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tests.play_helpers import RATE, Clock, FakeSimpleaudio
from voiceguide.errors import AudioDeviceError
from voiceguide.play.player import NullPlayer, SimpleaudioPlayer, describe_simpleaudio_error


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
