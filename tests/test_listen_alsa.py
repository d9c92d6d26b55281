"""Capture end to end through real ALSA and ``arecord``, with no microphone.

An ``asym`` default device whose capture side is the ``file`` plugin reading a raw file
(DESIGN.md, "Capture without a microphone") feeds whatever ``arecord`` records from the
default device. Like the null playback device it has no clock: it delivers the file at once
and then silence, so these tests check *what* is heard, and hold the gate open.
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
from voiceguide.listen.recognizer import RATE_HZ

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
    raw = tmp_path / "heard.raw"
    raw.write_bytes(pcm(np.zeros(RATE_HZ, np.float32)))
    use_asoundrc(tmp_path, monkeypatch, microphone(raw, tmp_path / "played.raw"))
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
    listener = Listener(paused_gate())
    with pytest.raises(ListenUnavailable) as caught:
        listener.start()
    message = str(caught.value)
    assert "\n" not in message
    if setup == "no arecord":
        assert message == "no capture program: voice commands need arecord (install alsa-utils)"
    else:
        assert message.startswith("no capture device could be opened (ALSA: ")
