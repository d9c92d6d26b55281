"""SpeechClips with a fake engine: trimming, fades, memoizing, the cache, progress, level."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest

from tests.loudness_reference import in_context_lufs
from voiceguide.pcm import SAMPLE_RATE, resample
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.clips import ClipSource
from voiceguide.sound.engines.base import Speech, Voice
from voiceguide.sound.processing import SilentPhraseError
from voiceguide.sound.speech import LEAD_PAD_MS, TAIL_PAD_MS, SpeechClips

if TYPE_CHECKING:
    from voiceguide.sound.clips import FloatArray

LEAD_MS = 60
TAIL_MS = 400
MS_PER_CHAR = 40


class FakeEngine:
    """Speaks a 220 Hz tone, 40 ms per character, between stretches of near-silence."""

    name = "fake"

    def __init__(
        self, sample_rate: int = SAMPLE_RATE, amplitude: float = 0.5, *, floats: bool = False
    ) -> None:
        self.sample_rate = sample_rate
        self.amplitude = amplitude
        self.floats = floats
        """Speak float32 (as Piper does) rather than 16-bit PCM (as espeak-ng does)."""
        self.spoken: list[str] = []

    def identity(self) -> str:
        return f"fake 1.0 rate={self.sample_rate}Hz amplitude={self.amplitude}"

    def voices(self) -> list[Voice]:
        return [Voice(id="fake", name="Fake")]

    def synthesize(self, text: str) -> Speech:
        self.spoken.append(text)
        rate = self.sample_rate
        voiced = np.sin(2 * np.pi * 220 * np.arange(rate * MS_PER_CHAR * len(text) // 1000) / rate)
        hiss = 1e-4 * np.cos(np.arange(rate * TAIL_MS // 1000))  # -80 dBFS: silence
        audio = np.concatenate([hiss[: rate * LEAD_MS // 1000], self.amplitude * voiced, hiss])
        if self.floats:
            return Speech(samples=audio.astype(np.float32), sample_rate=rate)
        return Speech(samples=np.round(audio * 32767).astype(np.int16), sample_rate=rate)

    def close(self) -> None:
        pass


class FakeSounds:
    def sound(self, name: str) -> FloatArray:
        return np.full(len(name) * 100, 0.25, dtype=np.float32)

    def sound_samples(self, name: str) -> int:
        return len(name) * 100


def unchanged(samples: FloatArray, sample_rate: int) -> FloatArray:
    return samples


def clips(
    engine: FakeEngine | None = None, cache: PhraseCache | None = None, **kwargs: object
) -> SpeechClips:
    kwargs.setdefault("normalize", unchanged)
    return SpeechClips(engine or FakeEngine(), cache, FakeSounds(), **kwargs)  # type: ignore[arg-type]


def ms(samples: int) -> float:
    return 1000 * samples / SAMPLE_RATE


def test_speech_is_mono_float32_trimmed_to_the_voice() -> None:
    clip = clips().speech("Press gently.")

    assert clip.dtype == np.float32
    assert clip.ndim == 1
    voiced_ms = MS_PER_CHAR * len("Press gently.")
    assert voiced_ms + LEAD_PAD_MS <= ms(len(clip)) <= voiced_ms + LEAD_PAD_MS + TAIL_PAD_MS + 6


def test_trimmed_speech_starts_and_ends_with_the_voice_within_a_few_ms() -> None:
    clip = clips().speech("Release.")

    loud = np.flatnonzero(np.abs(clip) > 0.1)
    assert ms(int(loud[0])) <= LEAD_PAD_MS + 3
    assert ms(len(clip) - int(loud[-1])) <= TAIL_PAD_MS + 6


def test_the_edges_fade_so_nothing_clicks() -> None:
    # The fake voice starts and stops at full swing; the fades must still reach zero.
    engine = FakeEngine()
    engine.synthesize = lambda text: Speech(  # type: ignore[method-assign]
        samples=np.full(SAMPLE_RATE // 2, 16000, dtype=np.int16), sample_rate=SAMPLE_RATE
    )
    clip = clips(engine).speech("Hold.")

    assert abs(clip[0]) < 0.01
    assert abs(clip[-1]) < 0.01
    assert np.max(np.abs(np.diff(clip))) < 0.1


def test_the_same_text_gives_the_same_array_and_is_spoken_once() -> None:
    engine = FakeEngine()
    source = clips(engine)

    first = source.speech("Release.")
    assert source.speech_samples("Release.") == len(first)
    assert source.speech("Release.") is first
    assert engine.spoken == ["Release."]


def test_clips_are_read_only() -> None:
    clip = clips().speech("Release.")

    with pytest.raises(ValueError, match="read-only"):
        clip[0] = 1.0


def test_a_longer_text_gives_a_longer_clip() -> None:
    source = clips()

    assert source.speech_samples("Press gently and breathe.") > source.speech_samples("Press.")


def test_a_cached_phrase_is_not_spoken_again(tmp_path: Path) -> None:
    first_engine, second_engine = FakeEngine(), FakeEngine()
    first = clips(first_engine, PhraseCache(tmp_path)).speech("Release.")

    second = clips(second_engine, PhraseCache(tmp_path)).speech("Release.")

    assert second_engine.spoken == []
    np.testing.assert_array_equal(first, second)


def test_another_engine_identity_is_another_cache_entry(tmp_path: Path) -> None:
    clips(FakeEngine(amplitude=0.5), PhraseCache(tmp_path)).speech("Release.")
    louder = FakeEngine(amplitude=0.9)

    clip = clips(louder, PhraseCache(tmp_path)).speech("Release.")

    assert louder.spoken == ["Release."]
    assert np.max(np.abs(clip)) > 0.85
    assert PhraseCache(tmp_path).info().entries == 2


def test_a_damaged_cache_entry_is_spoken_again(tmp_path: Path) -> None:
    first = clips(FakeEngine(), PhraseCache(tmp_path)).speech("Release.")
    (entry,) = tmp_path.glob("*.phrase")
    entry.write_bytes(entry.read_bytes()[:-100])
    engine = FakeEngine()

    again = clips(engine, PhraseCache(tmp_path)).speech("Release.")

    assert engine.spoken == ["Release."]
    np.testing.assert_array_equal(again, first)
    assert PhraseCache(tmp_path).get(entry.stem) is not None  # written back whole


def test_a_cache_that_cannot_be_written_does_not_stop_speech(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")

    clip = clips(cache=PhraseCache(blocker / "phrases")).speech("Release.")

    assert len(clip) > 0


def test_prepare_speaks_new_phrases_in_order_and_reports_progress(tmp_path: Path) -> None:
    clips(FakeEngine(), PhraseCache(tmp_path)).speech("Rest.")
    engine = FakeEngine()
    source = clips(engine, PhraseCache(tmp_path))
    reports: list[tuple[int, int]] = []

    synthesized = source.prepare(
        ["Press.", "Rest.", "Release.", "Press."], lambda done, total: reports.append((done, total))
    )

    assert synthesized == 2
    assert engine.spoken == ["Press.", "Release."]
    assert reports == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert source.prepare(["Press.", "Release."]) == 0
    assert engine.spoken == ["Press.", "Release."]


def test_prepare_of_nothing_reports_zero_of_zero() -> None:
    reports: list[tuple[int, int]] = []

    assert clips().prepare([], lambda done, total: reports.append((done, total))) == 0
    assert reports == [(0, 0)]


def test_the_normalizer_sees_the_trimmed_clip_and_its_rate() -> None:
    seen: list[tuple[int, int]] = []

    def halve(samples: FloatArray, sample_rate: int) -> FloatArray:
        seen.append((len(samples), sample_rate))
        return (samples * 0.5).astype(np.float32)

    plain = clips().speech("Release.")
    halved = clips(normalize=halve).speech("Release.")

    assert seen == [(len(plain), SAMPLE_RATE)]
    # Clips are kept at 16 bits, so halving can differ by one step of rounding.
    np.testing.assert_allclose(halved, plain * 0.5, atol=1.01 / 32768)


def test_the_default_normalizer_matches_speech_loudness() -> None:
    from voiceguide.sound import loudness

    quiet = FakeEngine(amplitude=0.05)
    clip = SpeechClips(quiet, None, FakeSounds()).speech("Breathe out slowly and rest.")

    assert in_context_lufs(clip, SAMPLE_RATE) == pytest.approx(loudness.SPEECH_LUFS, abs=0.5)


def test_no_normalizer_keeps_the_engine_level() -> None:
    clip = SpeechClips(FakeEngine(amplitude=0.05), None, FakeSounds(), normalize=None).speech(
        "Release."
    )

    assert np.max(np.abs(clip)) == pytest.approx(0.05, abs=0.001)


def test_an_engine_at_another_rate_is_resampled() -> None:
    text = "Press gently."
    at_16k = clips(FakeEngine(sample_rate=16000)).speech(text)
    native = clips(FakeEngine()).speech(text)

    assert abs(ms(len(at_16k)) - ms(len(native))) < 2


def test_resampling_keeps_duration_and_pitch() -> None:
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)

    out = resample(tone, 16000, SAMPLE_RATE)

    assert len(out) == SAMPLE_RATE
    crossings = np.count_nonzero(np.diff(np.signbit(out)))
    assert crossings == pytest.approx(880, abs=2)


def test_silence_is_an_error() -> None:
    engine = FakeEngine()
    engine.synthesize = lambda text: Speech(  # type: ignore[method-assign]
        samples=np.zeros(SAMPLE_RATE, dtype=np.int16), sample_rate=SAMPLE_RATE
    )

    with pytest.raises(SilentPhraseError) as caught:
        clips(engine).speech("...")

    assert str(caught.value) == "the fake engine speaks '...' as silence; write it in words"
    assert (caught.value.texts, caught.value.engine) == (("...",), "fake")


def test_sounds_are_handed_through() -> None:
    source: ClipSource = clips()

    assert source.sample_rate == SAMPLE_RATE
    assert source.sound_samples("press") == 500
    assert len(source.sound("press")) == 500


@pytest.mark.audio
def test_real_speech_is_trimmed_to_within_a_few_ms_of_the_voice() -> None:
    from tests.helpers import voice_settings
    from voiceguide.sound.engines import make_engine

    engine = make_engine(voice_settings(engine="espeak"))
    raw = engine.synthesize("Press gently.")
    clip = SpeechClips(engine, None, FakeSounds(), normalize=None).speech("Press gently.")

    energetic = np.flatnonzero(np.abs(clip) > 0.01)  # -40 dBFS
    assert ms(int(energetic[0])) <= LEAD_PAD_MS + 5
    assert ms(len(clip) - int(energetic[-1])) <= TAIL_PAD_MS + 10
    assert len(clip) < len(raw.samples) - SAMPLE_RATE // 5  # espeak-ng's end pause is gone


def test_a_float_engine_is_quantized_once_at_the_cache(tmp_path: Path) -> None:
    engine = FakeEngine(floats=True)
    source = np.asarray(engine.synthesize("Hold gently.").samples, dtype=np.float64)
    cold = clips(engine, PhraseCache(tmp_path)).speech("Hold gently.")
    warm = clips(FakeEngine(floats=True), PhraseCache(tmp_path)).speech("Hold gently.")

    np.testing.assert_array_equal(cold, warm)  # the clip used cold is the one kept
    # Away from the fades, each sample is the engine's own, rounded once to 16 bits.
    start = int(
        np.argmin([np.abs(source[k : k + 2000] - cold[500:2500]).max() for k in range(3000)])
    )
    middle = slice(500, len(cold) - 500)
    error = np.abs(cold[middle] - source[start - 500 :][: len(cold)][middle])
    assert float(error.max()) <= 0.5 / 32768 + 1e-9
    assert float(error.max()) > 0  # rounded: the engine's floats are not on the 16-bit grid


@pytest.mark.audio
def test_espeak_clips_are_the_same_bytes_cold_in_any_order_and_warm(tmp_path: Path) -> None:
    from voiceguide.pcm import to_pcm
    from voiceguide.sound.engines.espeak import Pyttsx3Engine

    texts = [
        "Lie down on your back and let your arms rest.",
        "Press gently.",
        "Breathe out slowly, and let your shoulders soften.",
        "Release.",
    ]

    def prepared(order: list[str], cache: Path) -> dict[str, bytes]:
        source = SpeechClips(Pyttsx3Engine(), PhraseCache(cache), FakeSounds())
        source.prepare(order)
        return {text: to_pcm(source.speech(text)).tobytes() for text in texts}

    forward = prepared(texts, tmp_path / "a")
    backward = prepared(texts[::-1], tmp_path / "b")
    warm = prepared(texts, tmp_path / "a")
    assert forward == backward == warm


def test_every_phrase_spoken_as_silence_is_reported_at_once() -> None:
    engine = FakeEngine()
    speak = engine.synthesize

    def silent_dots(text: str) -> Speech:
        if text.strip(".") == "":
            return Speech(samples=np.zeros(SAMPLE_RATE, dtype=np.int16), sample_rate=SAMPLE_RATE)
        return speak(text)

    engine.synthesize = silent_dots  # type: ignore[method-assign]
    with pytest.raises(SilentPhraseError) as caught:
        clips(engine).prepare(["Press.", "...", "Release.", "....."])

    assert caught.value.texts == ("...", ".....")
    assert str(caught.value) == (
        "the fake engine speaks '...', '.....' as silence; write them in words"
    )


SILENT_ROUTINE = """\
title: Dots
summary: A routine whose text espeak-ng speaks as silence.
settings: {tones: false}
steps:
  - say: Sit down.
  - say: "..."
  - pause: 1s
  - say: "-"
"""


@pytest.mark.audio
def test_a_phrase_spoken_as_silence_is_an_error_at_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import run_cli

    routine = tmp_path / "dots.yaml"
    routine.write_text(SILENT_ROUTINE, encoding="utf-8")
    out = tmp_path / "dots.wav"

    code, _, err = run_cli(["export", str(routine), "-o", str(out)], capsys)

    assert code == 2
    message = "this text is spoken as silence by espeak; write it in words"
    assert err.splitlines() == [f"{routine}:6:5: {message}", f"{routine}:8:5: {message}"]
    assert not out.exists()


@pytest.mark.audio
@pytest.mark.slow
def test_an_export_is_the_same_bytes_cold_warm_and_with_a_phrase_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import TWO_SIDED_ROUTINE, run_cli

    routine = tmp_path / "hand.yaml"
    routine.write_text(TWO_SIDED_ROUTINE, encoding="utf-8")

    def export(home: str, name: str) -> bytes:
        monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path / home))
        code, _, err = run_cli(["export", str(routine), "-o", str(tmp_path / name)], capsys)
        assert (code, err) == (0, "")
        return (tmp_path / name).read_bytes()

    cold = export("one", "cold.wav")
    other_cold = export("two", "other.wav")
    warm = export("one", "warm.wav")
    entries = sorted((tmp_path / "one" / "cache" / "phrases").glob("*.phrase"))
    entries[len(entries) // 2].unlink()  # one phrase spoken again, after the others are cached
    one_missing = export("one", "missing.wav")

    assert cold == other_cold == warm == one_missing
