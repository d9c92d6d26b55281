"""Capture end to end through real ALSA and ``arecord``, with no microphone.

An ``asym`` default device whose capture side is the ``file`` plugin reading a raw file
feeds whatever ``arecord`` records from the default device. Like the null playback device
it has no clock: it delivers the file at once and then silence, so these tests check *what*
is heard, and hold the gate open.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_listen import pcm, scene, spoken
from voiceguide.compile.timeline import Cue, Timeline
from voiceguide.listen.capture import ArecordCapture
from voiceguide.listen.errors import ListenUnavailable
from voiceguide.listen.gate import LiveGate, SilenceGate
from voiceguide.listen.listener import HeardLive, Listener
from voiceguide.listen.recognizer import RATE_HZ, Recognizer

pytestmark = pytest.mark.audio


def use_asoundrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, asoundrc: str) -> None:
    """Give ALSA (in arecord, a child process) a HOME whose .asoundrc is ``asoundrc``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(asoundrc + "\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("ALSA_CONFIG_PATH", raising=False)


def microphone(heard: Path, played: Path) -> str:
    return f"""pcm.!default {{
  type asym
  playback.pcm {{ type file; slave.pcm "null"; file "{played}"; format "raw" }}
  capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{heard}"; format "raw" }}
}}"""


def quiet_microphone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ALSA's default capture device records a second of silence (arecord runs on)."""
    raw = tmp_path / "heard.raw"
    raw.write_bytes(pcm(np.zeros(RATE_HZ, np.float32)))
    use_asoundrc(tmp_path, monkeypatch, microphone(raw, tmp_path / "played.raw"))


def paused_gate() -> LiveGate:
    """A gate held open: the session was paused long ago (an unclocked capture has no 'when')."""
    silence = SilenceGate(
        Timeline(22_050, (Cue(0, 22_050, "silence", "", "pause", "s", None, ""),), "t", "t")
    )
    gate = LiveGate(silence)
    gate.follow("paused", 0, at_s=time.monotonic() - 3600)
    return gate


def test_phrases_said_into_the_capture_device_are_heard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = spoken("guide pause now"), spoken("guide where am i", "en-gb")
    raw = tmp_path / "heard.raw"
    raw.write_bytes(pcm(scene([(500, first), (3500, second)], 6500, 25)))
    use_asoundrc(tmp_path, monkeypatch, microphone(raw, tmp_path / "played.raw"))
    listener = Listener(paused_gate())
    listener.start()
    try:
        found: list[HeardLive] = []
        deadline = time.monotonic() + 60
        while len(found) < 2 and time.monotonic() < deadline:
            found += listener.wait(1.0)
    finally:
        listener.stop()
    assert [h.heard.phrase.words for h in found] == ["guide pause now", "guide where am i"]
    assert abs(found[0].heard.start - RATE_HZ // 2) < 0.2 * RATE_HZ  # the device's own samples
    assert listener.error is None
    assert not (tmp_path / "played.raw").exists() or (tmp_path / "played.raw").stat().st_size == 0


def test_stop_ends_arecord_and_leaves_no_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_microphone(tmp_path, monkeypatch)
    capture = ArecordCapture()
    listener = Listener(paused_gate(), capture=capture)
    listener.start()
    process = capture._process
    assert process is not None
    assert process.poll() is None
    listener.stop()
    assert process.poll() is not None  # reaped, not orphaned
    with pytest.raises(ProcessLookupError):
        os.kill(process.pid, 0)
    assert not listener.listening


@pytest.mark.parametrize(
    "setup", ["a card that does not exist", "no ALSA configuration at all", "no arecord"]
)
def test_no_capture_device_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str
) -> None:
    if setup == "a card that does not exist":
        use_asoundrc(tmp_path, monkeypatch, "pcm.!default { type hw; card 29 }")
    elif setup == "no ALSA configuration at all":
        empty = tmp_path / "empty.conf"
        empty.write_text("", encoding="utf-8")
        use_asoundrc(tmp_path, monkeypatch, "")
        monkeypatch.setenv("ALSA_CONFIG_PATH", str(empty))
    else:
        monkeypatch.setenv("PATH", str(tmp_path))
    made: list[int] = []

    def recognizer() -> Recognizer:
        made.append(1)
        return Recognizer()

    listener = Listener(paused_gate(), recognizer=recognizer)
    with pytest.raises(ListenUnavailable) as caught:
        listener.start()
    assert not made  # no capture, so the recogniser is never loaded (its CPU spared)
    message = str(caught.value)
    assert "\n" not in message
    if setup == "no arecord":
        assert message == "no capture program: voice commands need arecord (install alsa-utils)"
    else:
        assert message.startswith("no capture device could be opened (ALSA: ")


def test_a_recogniser_that_cannot_load_leaves_no_arecord_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet_microphone(tmp_path, monkeypatch)
    capture = ArecordCapture()
    running: list[int] = []

    def broken() -> Recognizer:
        process = capture._process
        assert process is not None  # the capture opens first
        assert process.poll() is None
        running.append(process.pid)
        raise ListenUnavailable("no speech model")

    listener = Listener(paused_gate(), capture=capture, recognizer=broken)
    with pytest.raises(ListenUnavailable, match="no speech model"):
        listener.start()
    assert running
    with pytest.raises(ProcessLookupError):
        os.kill(running[0], 0)  # reaped, not orphaned
    assert not listener.listening


class CountingCapture:
    """A capture that ends at once and counts how often it was opened (a fake: one stage)."""

    def __init__(self) -> None:
        self.opened = 0

    def open(self) -> None:
        self.opened += 1

    def read(self) -> tuple[bytes, float] | None:
        return None

    def close(self) -> None:
        pass


def test_a_listener_stopped_while_its_recogniser_was_awaited_stays_stopped() -> None:
    capture = CountingCapture()
    made: list[int] = []

    def recognizer() -> Recognizer:
        made.append(1)
        raise AssertionError("not to be loaded")

    listener = Listener(paused_gate(), capture=capture, recognizer=recognizer)
    listener.open()
    listener.stop()  # the session ended before its first long silence
    listener.start()  # the load that was on its way
    listener.open()
    assert capture.opened == 1  # never opened again
    assert not made
    assert not listener.listening


class ClockedCapture:
    """A capture whose chunks are stamped by a clock the test sets (one stage alone: a fake)."""

    def __init__(self, data: bytes, start_s: float) -> None:
        self.chunks = [data[i : i + 1920] for i in range(0, len(data), 1920)]
        self.start_s = start_s

    def open(self) -> None:
        pass

    def read(self) -> tuple[bytes, float] | None:
        if not self.chunks:
            return None
        chunk = self.chunks.pop(0)
        self.start_s += len(chunk) / 2 / RATE_HZ
        return chunk, self.start_s

    def close(self) -> None:
        self.chunks = []


def test_the_listener_acts_only_on_audio_captured_while_the_session_was_silent() -> None:
    # A session: 3 s of speech, 6 s of silence (a hold), 3 s of speech.
    rate = 22_050
    cues = (
        Cue(0, 3 * rate, "speech", "x", "instruction", "s", None, ""),
        Cue(3 * rate, 6 * rate, "silence", "", "hold", "s", None, ""),
        Cue(9 * rate, 3 * rate, "speech", "y", "instruction", "s", None, ""),
    )
    clip = spoken("guide where am i")
    said_at = {"over the speech": 1000, "in the hold": 4000}
    for where, at_ms in said_at.items():
        gate = LiveGate(SilenceGate(Timeline(rate, cues, "t", "t")), clock=lambda: 0.0)
        gate.follow("playing", 0, at_s=1000.0)  # the session started at monotonic 1000 s
        data = pcm(scene([(at_ms, clip)], 12_000, 30))
        listener = Listener(gate, capture=ClockedCapture(data, 1000.0))
        listener.start()
        found: list[HeardLive] = []
        deadline = time.monotonic() + 30
        while listener.listening and time.monotonic() < deadline:
            found += listener.wait(0.2)
        listener.stop()
        found += listener.heard()
        heard = [h.heard.phrase.words for h in found]
        assert heard == ([] if where == "over the speech" else ["guide where am i"]), where
        if found:
            assert abs(found[0].end_s - (1000 + at_ms / 1000 + len(clip) / RATE_HZ)) < 0.6
