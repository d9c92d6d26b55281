"""``voiceguide play --listen`` end to end: real ALSA both ways, arecord, pocketsphinx, espeak.

The default ALSA device is an ``asym``: its playback side is the clocked sink of
tests/test_play_clocked.py (a FIFO read at the device's rate), its capture side the ``file``
plugin reading another FIFO that the test writes at 16 kHz in real time: a microphone in a
quiet room, which says what the test makes it say. The checks are on the played stream and
the lines play prints, in order; never on the wall clock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_listen import SPEECH_RMS, pcm, pink_noise, spoken
from tests.test_play_alsa import alsa_env, exported_pcm, session_in, voiceguide
from tests.test_play_clocked import RATE, SHORT, Sink, heard_up_to, lead_of, play, timeline_of
from voiceguide.listen.recognizer import RATE_HZ
from voiceguide.paths import builtin_audio_dir

pytestmark = [pytest.mark.audio, pytest.mark.slow]

CHUNK = RATE_HZ * 60 // 1000
"""The microphone writes 60 ms at a time: three of arecord's 20 ms periods. ALSA's file
plugin reads its infile a period at a time and, on a short read, hands on the rest of the
period from before: a chunk that is not a whole number of periods stutters (measured)."""
NOISE_DB = -25.0
"""The room's noise, under the speech level."""


def room(speaker: Path, microphone: Path) -> str:
    capture = f'type file; slave.pcm "null"; file "/dev/null"; infile "{microphone}"'
    return f"""pcm.!default {{
  type asym
  playback.pcm {{ type file; slave.pcm "null"; file "{speaker}"; format "raw" }}
  capture.pcm {{ {capture}; format "raw" }}
}}"""


class Microphone(threading.Thread):
    """Write room noise into the capture FIFO in real time, and what :meth:`say` is told.

    What nobody reads is lost, as with a real microphone (the FIFO holds 4 kB).
    """

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 4096)
        self.noise = pink_noise(RATE_HZ * 30, seed=3) * SPEECH_RMS * 10 ** (NOISE_DB / 20)
        self.said: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self.done = threading.Event()
        self.finished: list[int] = []
        """For each clip said, the chunk count at which its last sample was written."""

    def say(self, clip: np.ndarray) -> None:
        self.said.put(clip)

    def run(self) -> None:
        start = time.monotonic()
        written = 0
        clip: np.ndarray | None = None
        at = 0
        while not self.done.is_set():
            offset = written % (len(self.noise) - CHUNK)
            chunk = self.noise[offset : offset + CHUNK].copy()
            if clip is None and not self.said.empty():
                clip, at = self.said.get(), 0
            if clip is not None:
                piece = clip[at : at + CHUNK]
                chunk[: len(piece)] += piece
                at += CHUNK
                if at >= len(clip):
                    clip = None
                    self.finished.append(written)
            with contextlib.suppress(BlockingIOError):
                os.write(self.fd, pcm(chunk))
            written += CHUNK
            ahead = start + written / RATE_HZ - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def close(self) -> None:
        self.done.set()
        self.join(5)
        os.close(self.fd)


class Lines(threading.Thread):
    """Collect what play prints, a line at a time."""

    def __init__(self, stream: object) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for raw in self.stream:  # type: ignore[attr-defined]
            self.lines.append(raw.decode().rstrip("\n"))

    def wait_for(self, text: str, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.lines):
            assert time.monotonic() < deadline, f"no {text!r} in {self.lines}"
            time.sleep(0.05)


def tone_onsets(played: np.ndarray, level: float = 0.9) -> list[int]:
    """Where the heard sound is in ``played`` (normalised correlation above ``level``)."""
    import soundfile

    tone, rate = soundfile.read(builtin_audio_dir() / "heard.wav", dtype="float64")
    assert rate == RATE
    x = played.astype(np.float64)
    if len(x) < len(tone):
        return []
    size = 1 << (len(x) + len(tone)).bit_length()  # correlation through the FFT: long streams
    spectrum = np.fft.rfft(x, size) * np.conj(np.fft.rfft(tone, size))
    scores = np.fft.irfft(spectrum, size)[: len(x) - len(tone) + 1]
    energy = np.sqrt(np.convolve(x**2, np.ones(len(tone)), mode="valid")) * np.linalg.norm(tone)
    normal = np.where(energy > 0, scores / np.maximum(energy, 1e-9), 0.0)
    onsets: list[int] = []
    for i in np.flatnonzero(normal > level):
        if onsets and i - onsets[-1] <= len(tone):
            if normal[i] > normal[onsets[-1]]:
                onsets[-1] = int(i)  # the best fit of this one
        else:
            onsets.append(int(i))
    return onsets


def arecord_children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if "(arecord)" in stat and int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture
def session(tmp_path: Path) -> tuple[Path, dict[str, str], np.ndarray, list[dict[str, object]]]:
    """The short routine, the room's environment, what export writes of it, and its cues."""
    short = tmp_path / "short.yaml"
    short.write_text(SHORT, encoding="utf-8")
    os.mkfifo(tmp_path / "speaker")
    os.mkfifo(tmp_path / "microphone")
    env = alsa_env(tmp_path, room(tmp_path / "speaker", tmp_path / "microphone"))
    args = [str(short), "--skip-intro", "--mono"]
    expected = np.frombuffer(exported_pcm(args, env, tmp_path, 1), dtype="<i2")  # warm cache
    return short, env, expected, timeline_of(short, {**env, "COLUMNS": "200"})


def test_guide_pause_in_a_hold_pauses_with_the_tone_and_guide_resume_goes_on(
    tmp_path: Path, session: tuple[Path, dict[str, str], np.ndarray, list[dict[str, object]]]
) -> None:
    short, env, expected, cues = session
    hold = next(c for c in cues if c["kind"] == "silence" and c["phase"] == "hold")
    sink, mic = Sink(tmp_path / "speaker"), Microphone(tmp_path / "microphone")
    sink.start()
    mic.start()
    process = play([str(short), "--skip-intro", "--listen"], env, stdout=subprocess.PIPE)
    lines = Lines(process.stdout)
    lines.start()
    try:
        into_hold = int(hold["start"]) + RATE  # type: ignore[call-overload]
        while heard_up_to(sink.samples(), expected) < into_hold:
            assert process.poll() is None
            time.sleep(0.02)
        listening = arecord_children(process.pid)
        assert listening  # the capture runs, as the session's child
        mic.say(spoken("guide pause now"))
        lines.wait_for("[paused]")
        mic.say(np.zeros(RATE_HZ * 2, np.float32))  # after "Paused." and the guard
        mic.say(spoken("guide resume"))
        assert process.wait(120) == 0  # the session played to its end
    finally:
        process.kill()
        process.wait()
        sink.close()
        mic.close()
        lines.join(5)
        assert process.stdout is not None
        process.stdout.close()
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
    assert all(gone(pid) for pid in listening)  # no arecord left behind
    assert "listening" not in errors, errors
    said = [line for line in lines.lines if "(control)" in line or "[paused]" in line]
    assert [s.split()[-1] for s in said][:2] == ["Paused.", "[paused]"], lines.lines
    played = sink.samples()
    lead = lead_of(played, expected)
    pause_tone, resume_tone = tone_onsets(played)[:2]
    assert lead + int(hold["start"]) < pause_tone < resume_tone  # type: ignore[call-overload]
    before = played[lead:pause_tone]
    assert np.array_equal(before, expected[: len(before)])  # nothing moved before it
    paused_at = pause_tone - lead
    assert paused_at < int(hold["start"]) + int(hold["duration"])  # type: ignore[call-overload]
    # Between the two tones the session stood still: then it went on from where it was.
    rest = expected[paused_at + RATE * 2 :]
    tail = played[resume_tone:]
    found = np.flatnonzero(
        np.correlate(tail[: len(rest) + RATE * 8].astype(np.float64), rest[-RATE:].astype(float))
        > 0.99 * float(np.dot(rest[-RATE:].astype(float), rest[-RATE:].astype(float)))
    )
    assert found.size  # the last second of the session is in what followed the resume
    assert len(played) - lead > len(expected) + RATE  # longer than the session: it waited


def test_the_sessions_own_voice_in_the_microphone_acts_on_nothing(
    tmp_path: Path, session: tuple[Path, dict[str, str], np.ndarray, list[dict[str, object]]]
) -> None:
    from voiceguide.pcm import resample

    short, env, expected, _ = session
    echo = resample(expected.astype(np.float32) / 32768, RATE, RATE_HZ)
    voiced = echo[np.abs(echo) > 0.01]
    echo *= SPEECH_RMS / float(np.sqrt(np.mean(voiced**2)))  # as loud as a voice near it
    sink, mic = Sink(tmp_path / "speaker"), Microphone(tmp_path / "microphone")
    sink.start()
    mic.start()
    process = play([str(short), "--skip-intro", "--listen"], env, stdout=subprocess.PIPE)
    lines = Lines(process.stdout)
    lines.start()
    try:
        while not sink.samples().any():
            assert process.poll() is None
            time.sleep(0.01)
        mic.say(echo)  # what the speaker plays, back into the microphone, from its start
        assert process.wait(120) == 0
    finally:
        process.kill()
        process.wait()
        sink.close()
        mic.close()
        lines.join(5)
        assert process.stdout is not None
        process.stdout.close()
        assert process.stderr is not None
        errors = process.stderr.read().decode()
        process.stderr.close()
    assert "listening" not in errors, errors
    assert lines.lines[-1].endswith("[end]")
    assert not [line for line in lines.lines if "(control)" in line or "[paused]" in line]
    played = sink.samples()
    lead = lead_of(played, expected)
    session_part = played[lead : lead + len(expected)]
    assert tone_onsets(played) == []
    assert np.array_equal(session_part, expected)  # byte for byte: no tone, nothing moved


def test_sigterm_ends_the_capture_with_the_session(
    tmp_path: Path, session: tuple[Path, dict[str, str], np.ndarray, list[dict[str, object]]]
) -> None:
    short, env, _expected, _cues = session
    sink, mic = Sink(tmp_path / "speaker"), Microphone(tmp_path / "microphone")
    sink.start()
    mic.start()
    process = play([str(short), "--skip-intro", "--listen", "--quiet"], env)
    try:
        deadline = time.monotonic() + 60
        listening: list[int] = []
        while not listening and time.monotonic() < deadline:
            listening = arecord_children(process.pid)
            time.sleep(0.05)
        assert listening
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
    finally:
        process.kill()
        process.wait()
        sink.close()
        mic.close()
        assert process.stderr is not None
        process.stderr.close()
    assert code != 0
    assert all(gone(pid) for pid in listening)


@pytest.mark.parametrize("capture", ["a card that does not exist", "no arecord"])
def test_no_capture_is_one_line_and_the_same_bytes_as_without_listen(
    tmp_path: Path, capture: str
) -> None:
    short = tmp_path / "short.yaml"
    short.write_text(SHORT, encoding="utf-8")
    played = tmp_path / "played.raw"
    side = "{ type hw; card 29 }" if capture.startswith("a card") else '"null"'
    env = alsa_env(
        tmp_path,
        f"""pcm.!default {{
  type asym
  playback.pcm {{ type file; slave.pcm "null"; file "{played}"; format "raw" }}
  capture.pcm {side}
}}""",
    )
    args = [str(short), "--skip-intro", "--mono"]
    expected = exported_pcm(args, env, tmp_path, 1)
    if capture == "no arecord":  # the interpreter stays where it is; arecord is off the PATH
        env["PATH"] = str(tmp_path / "nothing")
    result = voiceguide(["play", *args, "--listen", "--quiet"], env)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("voiceguide: no capture ")
    assert lines[0].endswith("; playing without listening")
    session_in(played.read_bytes(), expected, 1)  # byte for byte what export writes
