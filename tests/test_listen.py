"""Voice commands heard in real synthesized speech, through the recogniser and ``--detect``.

The utterances are spoken by the project's own espeak engine (several voices, rates and
pitches) and mixed with pink noise, the spectrum of a room's hum, at a set signal-to-noise ratio.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile

from tests.helpers import run_cli
from voiceguide.listen.gate import SilenceGate
from voiceguide.listen.recognizer import HANGOVER_MS, RATE_HZ, Heard, Recognizer
from voiceguide.listen.vocabulary import PHRASES
from voiceguide.script.durations import format_clock

if TYPE_CHECKING:
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]

SPEECH_RMS = 0.1
"""-20 dBFS: a voice a metre or two from the microphone."""

_spoken: dict[tuple[str, str | None, int, int], Samples] = {}


def spoken(words: str, voice: str | None = None, rate: int = 150, pitch: int = 50) -> Samples:
    """``words`` spoken by espeak through the project's engine, at 16 kHz, at speech level."""
    key = (words, voice, rate, pitch)
    if key not in _spoken:
        from voiceguide.pcm import resample
        from voiceguide.script.spec import DEFAULT_VOICE
        from voiceguide.sound.engines import make_engine

        settings = replace(DEFAULT_VOICE, engine="espeak", voice=voice, rate_wpm=rate, pitch=pitch)
        engine = make_engine(settings)
        speech = engine.synthesize(words)
        x = resample(speech.samples.astype(np.float32) / 32768, speech.sample_rate, RATE_HZ)
        voiced = x[np.abs(x) > 0.01]
        _spoken[key] = (x * (SPEECH_RMS / float(np.sqrt(np.mean(voiced**2))))).astype(np.float32)
    return _spoken[key]


def pink_noise(length: int, seed: int) -> Samples:
    """Noise falling 3 dB an octave (a room's hum and air), at an RMS of 1."""
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(length))
    spectrum /= np.sqrt(np.maximum(1, np.arange(len(spectrum))))
    x = np.fft.irfft(spectrum, length)
    return (x / float(np.sqrt(np.mean(x**2)))).astype(np.float32)


def scene(parts: list[tuple[int, Samples]], total_ms: int, snr_db: float, seed: int = 1) -> Samples:
    """Clips placed at their start (ms) over noise ``snr_db`` under the speech level."""
    out = pink_noise(total_ms * RATE_HZ // 1000, seed) * SPEECH_RMS * 10 ** (-snr_db / 20)
    for start_ms, clip in parts:
        start = start_ms * RATE_HZ // 1000
        out[start : start + len(clip)] += clip
    return out


def pcm(samples: Samples) -> bytes:
    return bytes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())


def hear(samples: Samples, recognizer: Recognizer, chunk_ms: int = 60) -> list[Heard]:
    """Feed ``samples`` as a capture would, chunk by chunk; return what was heard."""
    recognizer.new_stream()
    data = pcm(samples)
    step = chunk_ms * RATE_HZ // 1000 * 2
    found: list[Heard] = []
    for offset in range(0, len(data), step):
        found += recognizer.feed(data[offset : offset + step])
    return found + recognizer.flush()


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.mark.audio
@pytest.mark.parametrize("words", [p.words for p in PHRASES])
def test_each_phrase_is_heard_as_itself_at_its_time(words: str, recognizer: Recognizer) -> None:
    clip = spoken(words)
    found = hear(scene([(700, clip)], 700 + len(clip) * 1000 // RATE_HZ + 1200, 30), recognizer)
    assert [h.phrase.words for h in found] == [words]
    onset = 700 * RATE_HZ // 1000 + int(np.argmax(np.abs(clip) > 0.02))
    offset = 700 * RATE_HZ // 1000 + len(clip) - int(np.argmax(np.abs(clip[::-1]) > 0.02))
    assert abs(found[0].start - onset) <= 0.15 * RATE_HZ
    assert abs(found[0].end - offset) <= 0.25 * RATE_HZ  # the detector hears a fading tail
    assert found[0].end < found[0].detected <= found[0].end + (HANGOVER_MS + 30) * RATE_HZ // 1000


@pytest.mark.audio
def test_voices_rates_and_pitches_in_noise_are_mostly_heard_and_never_taken_for_another(
    recognizer: Recognizer,
) -> None:
    words = ["guide pause now", "guide resume", "guide where am i", "guide next step"]
    voices = [("en-us", 130, 35), ("en-gb", 170, 65), ("en-us-nyc", 150, 50)]
    right = wrong = 0
    for i, (voice, rate, pitch) in enumerate(voices):
        for k, phrase in enumerate(words):
            clip = spoken(phrase, voice, rate, pitch)
            length_ms = len(clip) * 1000 // RATE_HZ
            found = hear(scene([(600, clip)], length_ms + 1600, 20, seed=10 * i + k), recognizer)
            right += [h.phrase.words for h in found] == [phrase]
            wrong += sum(h.phrase.words != phrase for h in found)
    assert right >= math.ceil(0.8 * len(words) * len(voices))
    assert wrong <= 1


@pytest.mark.audio
def test_noise_and_breath_alone_are_never_a_command(recognizer: Recognizer) -> None:
    breath = pink_noise(RATE_HZ, 7) * 0.05 * np.hanning(RATE_HZ).astype(np.float32)
    parts = [(t, breath) for t in range(1000, 20_000, 2500)]
    assert hear(scene(parts, 22_000, 10), recognizer) == []


@pytest.mark.audio
def test_a_phrase_the_gate_cuts_into_is_dropped_whole(recognizer: Recognizer) -> None:
    clip = spoken("guide stop now")
    data = pcm(scene([(500, clip)], 500 + len(clip) * 1000 // RATE_HZ + 1000, 30))
    recognizer.new_stream()
    cut = (500 * RATE_HZ // 1000 + len(clip) // 2) * 2 // 960 * 960  # mid-phrase, on a frame
    found = recognizer.feed(data[:cut], gate_open=True)
    found += recognizer.feed(data[cut : cut + 960], gate_open=False)  # one frame shut
    found += recognizer.feed(data[cut + 960 :], gate_open=True)
    assert found + recognizer.flush() == []
    assert hear(scene([(500, clip)], 3000, 30), recognizer)  # whole, it is heard


@pytest.mark.audio
def test_a_phrase_already_under_way_when_the_gate_opens_is_not_taken_up(
    recognizer: Recognizer,
) -> None:
    recognizer.new_stream()
    clip = spoken("guide pause now")
    data = pcm(scene([(2000, clip)], 2000 + len(clip) * 1000 // RATE_HZ + 1000, 30))
    onset = 2000 * RATE_HZ // 1000 + int(np.argmax(np.abs(clip) > 0.02))
    shuts = RATE_HZ * 2 // 960 * 960  # the room heard for a second, then the guide speaks
    opens = (onset + RATE_HZ // 10) * 2 // 960 * 960  # and falls silent 100 ms into "guide"
    found = recognizer.feed(data[:shuts], gate_open=True)
    found += recognizer.feed(data[shuts:opens], gate_open=False)
    found += recognizer.feed(data[opens:], gate_open=True)
    assert found + recognizer.flush() == []
    recognizer.new_stream()
    assert [h.phrase.words for h in hear(scene([(2000, clip)], 4500, 30), recognizer)] == [
        "guide pause now"
    ]  # whole, it is heard


@pytest.mark.audio
def test_phrases_in_a_long_capture_in_loud_room_noise_are_each_found() -> None:
    # A recogniser of its own: its cepstral normalisation follows the room it hears, and the
    # shared one has just heard quieter rooms (docs/listen.md, "Limits").
    recognizer = Recognizer()
    words = ["guide previous", "guide volume up", "guide continue"]
    parts, at = [], 2000
    for phrase in words:
        parts.append((at, spoken(phrase)))
        at += len(spoken(phrase)) * 1000 // RATE_HZ + 2500
    found = hear(scene(parts, at, 10, seed=5), recognizer)  # 10 dB: a fan or a street outside
    assert [h.phrase.words for h in found] == words
    for heard, (start_ms, _) in zip(found, parts, strict=True):
        assert abs(heard.start * 1000 // RATE_HZ - start_ms) < 300


@pytest.mark.audio
def test_long_talk_is_not_a_command_even_when_it_says_one(recognizer: Recognizer) -> None:
    talk = spoken("and then I said to her, guide pause now, but she went on and on about it all")
    assert len(talk) > 4 * RATE_HZ
    assert (
        hear(scene([(500, talk)], 500 + len(talk) * 1000 // RATE_HZ + 1000, 30), recognizer) == []
    )


def write_wav(path: Path, samples: Samples, rate: int = RATE_HZ, channels: int = 1) -> Path:
    from voiceguide.pcm import resample

    x = resample(samples, RATE_HZ, rate) if rate != RATE_HZ else samples
    data = np.repeat(x[:, None], channels, axis=1) if channels > 1 else x
    soundfile.write(path, data, rate, subtype="PCM_16")
    return path


@pytest.mark.audio
@pytest.mark.parametrize(("rate", "channels"), [(16_000, 1), (22_050, 2), (48_000, 1)])
def test_detect_finds_each_command_with_its_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], rate: int, channels: int
) -> None:
    first, second = spoken("guide pause now"), spoken("guide volume up", "en-gb", 160)
    recording = scene([(1000, first), (6000, second)], 9000, 20)
    path = write_wav(tmp_path / "heard.wav", recording, rate, channels)
    code, out, err = run_cli(["commands", "--detect", str(path), "--json"], capsys)
    assert (code, err) == (0, "")
    found = json.loads(out)
    assert [d["phrase"] for d in found] == ["guide pause now", "guide volume up"]
    assert [d["intent"] for d in found] == ["pause", "louder"]
    for detection, at_ms in zip(found, (1000, 6000), strict=True):
        assert at_ms - 100 <= detection["start_ms"] <= at_ms + 250
        assert detection["start_ms"] < detection["end_ms"] < detection["detected_ms"]
    code, out, _ = run_cli(["commands", "--detect", str(path)], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["TIME", "SAID", "INTENT"]
    assert [line.split('"')[1] for line in lines[1:]] == ["guide pause now", "guide volume up"]
    assert [line.split()[0] for line in lines[1:]] == [format_clock(d["start_ms"]) for d in found]


GATED_ROUTINE = """\
title: Gate test
summary: Two long holds, for the voice-command gate.
settings: {find: 1s, lead_in: 1s}
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down and rest your hands.
  - press: {point: web, hold: 8s, reps: 2, rest: 6s}
  - say: That is all.
"""


@pytest.mark.audio
def test_with_a_routine_only_what_was_said_in_its_silences_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.pcm import resample
    from voiceguide.script import library
    from voiceguide.sound.mix import Mix
    from voiceguide.sound.render import render

    script = tmp_path / "gate-test.yaml"
    script.write_text(GATED_ROUTINE, encoding="utf-8")
    request = SessionRequest(library.load_path(script), CompileOptions(intro="none"))
    session = open_session(request)
    timeline = session.timeline
    mono = Mix(channels=1)
    played = render(timeline, session.clips, gain=session.gain, mix=mono).astype(np.float32)
    played /= 32768
    room = resample(played, timeline.sample_rate, RATE_HZ) * 0.5  # the speaker, a step away
    rate = timeline.sample_rate
    holds = [c for c in timeline.cues if c.phase == "hold" and c.kind == "silence"]
    gate = SilenceGate(timeline)

    def is_open(start_ms: int, length_ms: int) -> bool:
        return gate.is_open(start_ms * rate // 1000, (start_ms + length_ms) * rate // 1000)

    # One command well inside the first hold's silence; one said late in the second hold,
    # ending in time to be heard before the release cue, but not before the guard in front
    # of it: the decision (the end plus the hangover) would fall where the cue may sound.
    command = spoken("guide pause now")
    voiced_ms = int(np.flatnonzero(np.abs(command) > 0.01)[-1]) * 1000 // RATE_HZ
    inside = holds[0].start * 1000 // rate + 700
    in_guard = holds[1].end * 1000 // rate - 600 - voiced_ms
    assert is_open(inside, 2000)
    assert is_open(in_guard, voiced_ms)
    assert not is_open(in_guard, voiced_ms + HANGOVER_MS)
    total_ms = len(room) * 1000 // RATE_HZ
    recording = scene([(inside, command), (in_guard, command)], total_ms, 20)
    recording[: len(room)] += room[: len(recording)]
    path = write_wav(tmp_path / "mic.wav", recording)

    code, out, err = run_cli(["commands", "--detect", str(path), "--json"], capsys)
    assert code == 0, err

    def waits(found: list[dict[str, object]]) -> list[int]:
        """Which of the two commands were heard (by start time)."""
        starts = [d["start_ms"] for d in found if d["phrase"] == "guide pause now"]
        return [at for at in (inside, in_guard) if any(abs(at - s) < 300 for s in starts)]  # type: ignore[operator]

    # Without the gate, both are heard (and the guide's own voice may pass for more).
    assert waits(json.loads(out)) == [inside, in_guard]
    args = ["commands", "--detect", str(path), "--routine", str(script), "--skip-intro", "--json"]
    code, out, err = run_cli(args, capsys)
    assert code == 0, err
    found = json.loads(out)
    assert waits(found) == [inside]
    assert len(found) == 1  # nothing else: the guide's own voice is never listened to


# -- the listing and bad input -------------------------------------------------------------


def test_commands_lists_every_phrase_with_what_it_does(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run_cli(["commands"], capsys)
    assert code == 0
    assert out.splitlines()[0].split() == ["SAY", "TO"]
    for phrase in PHRASES:
        assert f'"{phrase.words}"' in out
    code, out, _ = run_cli(["commands", "--json"], capsys)
    rows = json.loads(out)
    assert [r["phrase"] for r in rows] == [p.words for p in PHRASES]
    assert {r["intent"] for r in rows} >= {"pause", "resume", "stop", "where"}


def _one_line(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_bad_recordings_get_one_line_and_a_documented_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "fake.wav"
    fake.write_bytes(b"RIFF\x00\x00\x00\x00this is no sound at all" * 10)
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    coarse = write_wav(tmp_path / "phone.wav", np.zeros(8000, np.float32), 8000)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, np.float32), 16_000, subtype="PCM_16")
    flac = tmp_path / "flac.wav"
    soundfile.write(flac, np.zeros(16_000, np.float32), 16_000, format="FLAC")
    cases = [
        (tmp_path / "missing.wav", 3, "no such file"),
        (fake, 2, "expected a WAV file, got a file it cannot read"),
        (folder, 2, "expected a WAV file, got a folder"),
        (coarse, 2, "expected a recording at 16000 Hz or more, got 8000 Hz"),
        (empty, 2, "expected a recording, got an empty WAV file"),
        (flac, 2, "expected a WAV file, got FLAC"),
    ]
    for path, status, message in cases:
        code, out, err = run_cli(["commands", "--detect", str(path)], capsys)
        assert (code, out) == (status, ""), path
        line = _one_line(err)
        assert line.startswith(f"voiceguide: {path}: "), line
        assert message in line
    from voiceguide.listen import recording

    monkeypatch.setattr(recording, "MAX_SECONDS", 1)  # a huge file, without writing one
    long = write_wav(tmp_path / "long.wav", np.zeros(2 * RATE_HZ, np.float32))
    code, _, err = run_cli(["commands", "--detect", str(long)], capsys)
    assert code == 2
    assert "expected at most" in _one_line(err)


def test_a_recording_cut_short_is_read_as_far_as_it_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_wav(tmp_path / "cut.wav", np.zeros(RATE_HZ * 10, np.float32))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])  # the header still claims ten seconds
    code, out, err = run_cli(["commands", "--detect", str(path), "--json"], capsys)
    assert (code, json.loads(out)) == (0, [])
    assert err == ""


def test_routine_without_detect_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli(["commands", "--routine", "stomach"], capsys)
    assert (code, out) == (2, "")
    assert _one_line(err) == "voiceguide: --routine: only with --detect FILE.wav"
