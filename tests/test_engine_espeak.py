"""The espeak-ng engine, with real synthesis: durations, voices, settings, its speaker process."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.helpers import voice_settings
from voiceguide.errors import EngineError, ExitStatus, NotFoundError
from voiceguide.pcm import SAMPLE_RATE, to_float
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import UnknownVoiceError, make_engine
from voiceguide.sound.engines.base import MAX_PHRASE_CHARS, Speech, SpeechEngine

if TYPE_CHECKING:
    import numpy.typing as npt

pytestmark = pytest.mark.audio

PHRASE = "Press gently on the point between your big toe and second toe."


def engine(voice: str | None = None, rate_wpm: int = 150, pitch: int = 50) -> SpeechEngine:
    return make_engine(voice_settings(engine="espeak", voice=voice, rate_wpm=rate_wpm, pitch=pitch))


def seconds(speech: Speech) -> float:
    return len(speech.samples) / speech.sample_rate


def voiced_seconds(speech: Speech) -> float:
    """Time from the first to the last sample above -40 dBFS (the speech, not the pauses)."""
    loud = np.flatnonzero(np.abs(speech.samples.astype(np.int32)) > 328)
    return float(loud[-1] - loud[0]) / speech.sample_rate


def f0_hz(samples: npt.NDArray[np.int16] | npt.NDArray[np.float32], sample_rate: int) -> float:
    """Estimate the median fundamental of the voiced 40 ms frames by autocorrelation."""
    x = to_float(samples).astype(np.float64)
    frame = sample_rate * 40 // 1000
    low_lag, high_lag = sample_rate // 400, sample_rate // 50
    estimates = []
    for start in range(0, len(x) - frame, frame):
        piece = x[start : start + frame]
        if np.sqrt(np.mean(piece**2)) < 0.05:
            continue
        piece = piece - piece.mean()
        corr = np.correlate(piece, piece, "full")[frame - 1 :]
        lag = low_lag + int(np.argmax(corr[low_lag:high_lag]))
        if corr[lag] > 0.3 * corr[0]:
            estimates.append(sample_rate / lag)
    assert estimates, "no voiced frames found"
    return float(np.median(estimates))


def test_speaks_mono_int16_at_the_pipeline_rate() -> None:
    speech = engine().synthesize(PHRASE)

    assert speech.sample_rate == SAMPLE_RATE
    assert speech.samples.dtype == np.int16
    assert speech.samples.ndim == 1
    assert 2.0 < seconds(speech) < 8.0
    assert int(np.max(np.abs(speech.samples.astype(np.int32)))) > 8000


def test_a_longer_text_gives_longer_audio() -> None:
    speaker = engine()
    short = speaker.synthesize("Release.")
    long = speaker.synthesize(PHRASE)

    assert voiced_seconds(long) > 3 * voiced_seconds(short)


def test_a_long_text_is_written_completely() -> None:
    speaker = engine(rate_wpm=300)
    sentence = "Breathe in slowly, and let your shoulders soften."
    one = voiced_seconds(speaker.synthesize(sentence))
    many = voiced_seconds(speaker.synthesize(" ".join([sentence] * 12)))

    assert many > 10 * one


def test_a_slower_rate_gives_longer_audio() -> None:
    slow = voiced_seconds(engine(rate_wpm=100).synthesize(PHRASE))
    fast = voiced_seconds(engine(rate_wpm=250).synthesize(PHRASE))

    assert slow > 1.8 * fast  # 2.5 times the rate, less the pauses that do not scale


def test_a_higher_pitch_raises_the_voice() -> None:
    low = engine(pitch=0).synthesize(PHRASE)
    high = engine(pitch=100).synthesize(PHRASE)

    assert f0_hz(high.samples, high.sample_rate) > 1.5 * f0_hz(low.samples, low.sample_rate)


def test_a_phrase_is_the_same_samples_whatever_was_said_before() -> None:
    alone = engine().synthesize(PHRASE).samples.tobytes()
    speaker = engine()
    speaker.synthesize("Lie down on your back and let your arms rest.")
    after_another = speaker.synthesize(PHRASE).samples.tobytes()
    again = speaker.synthesize(PHRASE).samples.tobytes()

    # espeak-ng keeps state between phrases (its pitch flutter, its wave phase): spoken
    # in one state after another, a phrase came out a few samples longer or shorter.
    assert alone == after_another == again


def test_engines_with_different_settings_do_not_disturb_each_other() -> None:
    slow, fast = engine(rate_wpm=100), engine(rate_wpm=250)
    alone = len(slow.synthesize(PHRASE).samples)

    interleaved = [len(s.synthesize(PHRASE).samples) for s in (fast, slow, fast, slow)]

    assert abs(interleaved[1] - alone) < SAMPLE_RATE // 20
    assert abs(interleaved[3] - alone) < SAMPLE_RATE // 20
    assert interleaved[0] < 0.6 * alone


def test_concurrent_threads_are_served_one_at_a_time() -> None:
    speaker = engine()
    expected = len(speaker.synthesize(PHRASE).samples)
    lengths: list[int] = []
    errors: list[BaseException] = []

    def speak() -> None:
        try:
            lengths.append(len(speaker.synthesize(PHRASE).samples))
        except BaseException as error:  # reported below, on the test's thread
            errors.append(error)

    threads = [threading.Thread(target=speak, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not any(thread.is_alive() for thread in threads), "synthesis hung"
    assert not errors
    assert lengths == [expected] * 4


def test_nothing_is_printed_on_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    speaker = engine()
    speaker.synthesize(PHRASE)
    speaker.synthesize("Release.")

    assert capfd.readouterr().out == ""


@contextlib.contextmanager
def root_logger_without_handlers() -> Iterator[logging.Logger]:
    root = logging.getLogger()
    saved = list(root.handlers)
    for handler in saved:
        root.removeHandler(handler)
    try:
        yield root
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved:
            root.addHandler(handler)


def test_the_root_logger_is_left_unconfigured() -> None:
    speaker = engine()
    with root_logger_without_handlers() as root:
        speaker.synthesize(PHRASE)  # pyttsx3 calls logging.debug() when it sets the voice

        assert root.handlers == []


def test_the_default_voice_is_english() -> None:
    speaker = engine()

    assert "voice=gmw/en-us " in speaker.identity()


@pytest.mark.parametrize("name", ["gmw/en-us", "en-us", "en_US", "EN-US", "English (America)"])
def test_a_voice_is_found_by_id_short_id_or_name(name: str) -> None:
    assert "voice=gmw/en-us " in engine(voice=name).identity()


def test_a_voice_is_found_by_language() -> None:
    assert "voice=gmw/en " in engine(voice="en-gb").identity()


def test_an_unknown_voice_names_close_matches() -> None:
    with pytest.raises(UnknownVoiceError) as caught:
        engine(voice="gmw/en-uss")

    message = str(caught.value)
    assert message.startswith("unknown espeak-ng voice 'gmw/en-uss'; did you mean gmw/en-us ")
    assert "(English (America))" in message
    assert "\n" not in message
    assert isinstance(caught.value, EngineError)
    assert isinstance(caught.value, NotFoundError)
    assert caught.value.exit_code == ExitStatus.NOT_FOUND


def test_a_misspelt_language_name_suggests_its_voices() -> None:
    with pytest.raises(UnknownVoiceError, match=r"did you mean gmw/de \(German\)"):
        engine(voice="germn")


def test_a_voice_nothing_like_any_other_says_so() -> None:
    with pytest.raises(UnknownVoiceError, match=r"'qqqqqq'; none of its \d+ voices is close$"):
        engine(voice="qqqqqq")


def test_voices_are_listed_with_languages() -> None:
    voices = {voice.id: voice for voice in engine().voices()}

    assert len(voices) > 20
    assert voices["gmw/en-us"].name == "English (America)"
    assert voices["gmw/en-us"].languages == ("en-us",)
    assert voices["gmw/de"].languages == ("de",)


def test_a_voice_in_another_language_speaks_it() -> None:
    speech = engine(voice="de").synthesize("Guten Morgen.")

    assert seconds(speech) > 0.5


@pytest.mark.parametrize(
    ("other", "changed"),
    [
        ({"rate_wpm": 151}, "rate=151wpm"),
        ({"voice": "gmw/en"}, "voice=gmw/en "),
        ({"pitch": 60}, "pitch=60"),
    ],
)
def test_identity_names_each_setting(other: dict[str, int | str], changed: str) -> None:
    base = make_engine(voice_settings(engine="espeak"))
    varied = make_engine(voice_settings(engine="espeak", **other))

    assert base.identity() != varied.identity()
    assert changed in varied.identity()
    assert base.identity() == make_engine(voice_settings(engine="espeak")).identity()


def test_identity_names_the_engine_versions() -> None:
    identity = engine().identity()

    assert identity.startswith("espeak-ng 1.")
    assert "(pyttsx3 2." in identity


@pytest.mark.parametrize("rate_wpm", [79, 451])
def test_a_rate_out_of_range_is_refused(rate_wpm: int) -> None:
    with pytest.raises(EngineError, match=r"80 to 450 wpm$"):
        engine(rate_wpm=rate_wpm)


@pytest.mark.parametrize("pitch", [-1, 101])
def test_a_pitch_out_of_range_is_refused(pitch: int) -> None:
    with pytest.raises(EngineError, match=r"expected 0 to 100$"):
        engine(pitch=pitch)


@pytest.mark.parametrize("text", ["", "   \n"])
def test_an_empty_phrase_is_refused(text: str) -> None:
    with pytest.raises(EngineError, match="the phrase is empty"):
        engine().synthesize(text)


def test_a_closed_engine_refuses_to_speak() -> None:
    speaker = engine()
    speaker.close()

    with pytest.raises(EngineError, match="closed"):
        speaker.synthesize(PHRASE)


def test_an_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(
        EngineError, match=r"^unknown speech engine 'festival'; known engines: espeak, piper$"
    ):
        make_engine(voice_settings(engine="festival"))


def test_a_phrase_too_long_to_speak_is_refused_before_the_engine() -> None:
    with pytest.raises(EngineError, match=r"^a phrase of 1,001 characters is too long to speak"):
        engine().synthesize("a" * (MAX_PHRASE_CHARS + 1))


def test_a_phrase_that_takes_too_long_is_stopped_and_the_engine_recovers() -> None:
    from voiceguide.sound.engines.espeak import Pyttsx3Engine

    impatient = Pyttsx3Engine(DEFAULT_VOICE, timeout_s=0.0, timeout_per_char_s=0.0)
    with pytest.raises(EngineError) as caught:
        impatient.synthesize("Release.")

    assert str(caught.value) == "espeak-ng did not finish speaking within 0 s: 'Release.'"
    assert seconds(engine().synthesize("Release.")) > 0.3


def speaker_pid(speaker: SpeechEngine) -> int:
    process = speaker._speaker.process  # type: ignore[attr-defined]
    assert isinstance(process.pid, int)
    return process.pid


def test_a_speaker_killed_from_outside_is_replaced() -> None:
    speaker = engine()
    first = speaker.synthesize("Release.").samples.tobytes()
    os.kill(speaker_pid(speaker), signal.SIGKILL)

    assert speaker.synthesize("Release.").samples.tobytes() == first


def test_closing_the_engine_ends_its_speaker() -> None:
    speaker = engine()
    speaker.synthesize("Release.")
    pid = speaker_pid(speaker)
    speaker.close()

    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_no_temporary_files_are_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    speaker = engine()
    speaker.synthesize(PHRASE)
    speaker.close()

    assert list(tmp_path.iterdir()) == []
