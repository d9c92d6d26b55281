"""Loudness: the BS.1770 meter against the standard, a direct-form filter and ffmpeg; matching."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile

from tests.loudness_reference import biquad_direct, in_context_lufs, true_peak_dbfs
from voiceguide.pcm import SAMPLE_RATE
from voiceguide.sound import loudness, meter
from voiceguide.sound.tones import TONE_NAMES, Sounds

if TYPE_CHECKING:
    import numpy.typing as npt

    Samples = npt.NDArray[np.float64]

RATE = SAMPLE_RATE


def _sine(freq_hz: float, duration_ms: int, rate: int = RATE, amplitude: float = 0.5) -> Samples:
    t = np.arange(rate * duration_ms // 1000) / rate
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


def _pink_noise(duration_ms: int, rate: int = RATE, rms: float = 0.1) -> Samples:
    white = np.random.default_rng(1770).standard_normal(rate * duration_ms // 1000)
    spectrum = np.fft.rfft(white)
    freqs = np.fft.rfftfreq(len(white), 1 / rate)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    pink: Samples = np.fft.irfft(spectrum, len(white))
    return pink * (rms / float(np.sqrt(np.mean(pink**2))))


def _silence(duration_ms: int, rate: int = RATE) -> Samples:
    return np.zeros(rate * duration_ms // 1000)


def _direct_lufs(x: Samples, rate: int) -> float:
    """Integrated loudness with the K-weighting run sample by sample (the reference)."""
    weighted = x
    for biquad in meter.k_weighting(rate):
        weighted = biquad_direct(weighted, biquad)
    hop = rate // 10
    hops = len(weighted) // hop
    energies = (weighted[: hops * hop] ** 2).reshape(hops, hop).sum(axis=1)
    blocks = np.convolve(energies, np.ones(4), mode="valid") / (4 * hop)
    lufs = -0.691 + 10 * np.log10(blocks)
    kept = blocks[lufs > -70]
    gate = -0.691 + 10 * math.log10(kept.mean()) - 10
    return float(-0.691 + 10 * np.log10(blocks[(lufs > -70) & (lufs > gate)].mean()))


# --- The meter ---------------------------------------------------------------------------


def test_k_weighting_at_48k_is_the_one_printed_in_the_standard() -> None:
    (shelf_b, shelf_a), (hp_b, hp_a) = meter.k_weighting(48_000)
    assert shelf_b == pytest.approx((1.53512485958697, -2.69169618940638, 1.19839281085285))
    assert shelf_a == pytest.approx((1.0, -1.69065929318241, 0.73248077421585))
    assert hp_b == (1.0, -2.0, 1.0)
    assert hp_a == pytest.approx((1.0, -1.99004745483398, 0.99007225036621))


@pytest.mark.parametrize("rate", [8_000, RATE, 44_100, 48_000])
def test_fft_filter_matches_the_direct_form_biquads(rate: int) -> None:
    x = np.concatenate([_pink_noise(1500, rate), _sine(60, 500, rate), _sine(3000, 500, rate)])
    reference = x
    for biquad in meter.k_weighting(rate):
        reference = biquad_direct(reference, biquad)
    weighted = meter.k_weight(x, rate)
    assert np.max(np.abs(weighted - reference)) < 1e-8
    assert meter.integrated_lufs(x, rate) == pytest.approx(_direct_lufs(x, rate), abs=1e-6)


@pytest.mark.parametrize("rate", [RATE, 48_000])
def test_full_scale_1khz_sine_reads_minus_3_lufs(rate: int) -> None:
    assert meter.integrated_lufs(_sine(1000, 5000, rate, 1.0), rate) == pytest.approx(
        -3.01, abs=0.05
    )


def test_loudness_follows_gain() -> None:
    x = _pink_noise(3000)
    assert meter.integrated_lufs(0.5 * x, RATE) == pytest.approx(
        meter.integrated_lufs(x, RATE) - 6.0206, abs=1e-6
    )


def test_digital_silence_does_not_count() -> None:
    phrase = _pink_noise(2000)

    def session(gap_ms: int) -> Samples:
        return np.concatenate(
            [_silence(gap_ms), phrase, _silence(gap_ms), phrase, _silence(gap_ms)]
        )

    # A second or a minute between the same sounds: blocks of pure silence are gated away.
    assert meter.integrated_lufs(session(60_000), RATE) == pytest.approx(
        meter.integrated_lufs(session(1000), RATE), abs=1e-9
    )


def test_relative_gate_drops_what_is_more_than_10_lu_under() -> None:
    loud = _sine(1000, 20_000, amplitude=0.1)
    quiet = _sine(1000, 20_000, amplitude=0.001)  # 40 dB under: above -70, below the gate
    both = np.concatenate([loud, quiet])
    # Ungated, the quiet half would halve the mean: 3 LU less. Gated, only the three blocks
    # that straddle the step differ.
    assert meter.integrated_lufs(both, RATE) == pytest.approx(
        meter.integrated_lufs(loud, RATE), abs=0.05
    )


def test_silence_and_too_short_audio_measure_minus_infinity() -> None:
    assert meter.integrated_lufs(_silence(5000), RATE) == -math.inf
    assert meter.integrated_lufs(_sine(1000, 399), RATE) == -math.inf
    assert meter.integrated_lufs(np.zeros(0), RATE) == -math.inf
    assert meter.peak_dbfs(_silence(100)) == -math.inf


def test_true_peak_finds_the_peak_between_samples() -> None:
    # A sine at a quarter of the rate, sampled 45 degrees off its crests: samples at ±0.707.
    t = np.arange(RATE)
    x = np.sin(np.pi / 2 * t + np.pi / 4)
    assert meter.peak_dbfs(x) == pytest.approx(-3.01, abs=0.01)
    assert true_peak_dbfs(x) == pytest.approx(0.0, abs=0.1)


def test_limit_holds_true_peaks_and_leaves_quiet_audio_alone() -> None:
    hot = np.concatenate([_pink_noise(2000, rms=0.3), _sine(200, 500, amplitude=1.4)])
    limited = loudness.Limiter(hot, RATE, loudness.LIMIT_DBTP).apply(0.0)
    assert true_peak_dbfs(limited) <= loudness.LIMIT_DBTP + 0.05
    quiet = _sine(440, 500, amplitude=0.2)
    limiter = loudness.Limiter(quiet, RATE, loudness.LIMIT_DBTP)
    np.testing.assert_allclose(limiter.apply(0.0), quiet, atol=1e-7)


def test_match_sound_sets_the_loudest_400_ms() -> None:
    bell = _sine(523, 2000, amplitude=0.05) * np.exp(-np.arange(RATE * 2) / RATE)
    matched = loudness.match_sound(bell, RATE)
    assert matched.dtype == np.float32
    assert meter.max_momentary_lufs(matched, RATE) == pytest.approx(loudness.SOUND_LUFS, abs=0.1)
    quieter = loudness.match_sound(bell, RATE, offset_db=-9.0)
    assert meter.max_momentary_lufs(quieter, RATE) == pytest.approx(
        loudness.SOUND_LUFS - 9.0, abs=0.1
    )


def test_short_sound_is_measured_over_its_own_length() -> None:
    blip = _sine(1000, 80, amplitude=0.3)
    assert meter.max_momentary_lufs(blip, RATE) == pytest.approx(
        meter.integrated_lufs(np.tile(blip, 20), RATE), abs=0.2
    )


def test_matching_leaves_silence_silent() -> None:
    for match in (loudness.match_speech, loudness.match_sound):
        assert not np.any(match(_silence(1000), RATE))


# --- Against ffmpeg, and a realistic session ---------------------------------------------

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)


def _ffmpeg_lufs(path: Path) -> float:
    command = ["ffmpeg", "-nostats", "-hide_banner", "-i", str(path)]
    result = subprocess.run(
        [*command, "-filter_complex", "ebur128", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    # The summary at the end: "Integrated loudness:\n    I:  -16.0 LUFS".
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", result.stderr)[-1])


def _speak(text: str, path: Path) -> Samples:
    """Speak ``text`` with espeak-ng at a calm 150 wpm, leading and trailing silence trimmed."""
    subprocess.run(["espeak-ng", "-s", "150", "-w", str(path), text], check=True)
    data, rate = soundfile.read(path, dtype="float64")
    assert rate == RATE
    voiced = np.flatnonzero(np.abs(data) > 1e-3)
    return np.asarray(data[voiced[0] : voiced[-1] + 1], dtype=np.float64)


def _assert_agrees_with_ffmpeg(x: Samples, path: Path) -> None:
    soundfile.write(path, x.astype(np.float32), RATE, subtype="FLOAT")
    # ffmpeg prints one decimal; the meters agree to a few hundredths.
    assert meter.integrated_lufs(x, RATE) == pytest.approx(_ffmpeg_lufs(path), abs=0.3)


@needs_ffmpeg
@pytest.mark.parametrize(
    "signal",
    [
        _pink_noise(10_000),
        _sine(1000, 5000, amplitude=0.3),
        _sine(80, 5000, amplitude=0.5),
        _sine(6000, 5000, amplitude=0.2),
        np.concatenate([_pink_noise(3000), _silence(5000), 0.1 * _pink_noise(3000)]),
    ],
    ids=["pink-noise", "sine-1k", "sine-80", "sine-6k", "noise-with-gaps"],
)
def test_agrees_with_ffmpeg(signal: Samples, tmp_path: Path) -> None:
    _assert_agrees_with_ffmpeg(signal, tmp_path / "signal.wav")


@needs_ffmpeg
@needs_espeak
@pytest.mark.audio
def test_agrees_with_ffmpeg_on_speech(tmp_path: Path) -> None:
    speech = _speak("Bring your attention to your right foot, and breathe out.", tmp_path / "s.wav")
    _assert_agrees_with_ffmpeg(speech, tmp_path / "speech.wav")


@needs_espeak
@pytest.mark.audio
def test_a_matched_phrase_peaks_under_the_ceiling(tmp_path: Path) -> None:
    speech = _speak("Lie down on your back and let your arms rest.", tmp_path / "s.wav")
    matched = loudness.match_speech(speech, RATE)
    assert in_context_lufs(matched, RATE) == pytest.approx(loudness.SPEECH_LUFS, abs=0.2)
    assert true_peak_dbfs(matched) < loudness.PEAK_CEILING_DBFS


SESSION: list[tuple[str, str | int]] = [
    ("say", "Lie down on your back and let your arms rest by your sides."),
    ("pause", 3000),
    ("sound", "start"),
    ("pause", 2000),
    ("say", "Bring your attention to your right foot."),
    ("pause", 1500),
    ("say", "Find the point in the web of skin between your big toe and the second toe."),
    ("pause", 4000),
    ("say", "Press gently."),
    ("sound", "press"),
    ("pause", 12_000),
    ("say", "Breathe out slowly."),
    ("pause", 11_000),
    ("ticks", 3),
    ("sound", "release"),
    ("pause", 1000),
    ("say", "Rest."),
    ("pause", 10_000),
    ("say", "Second of three."),
    ("sound", "press"),
    ("pause", 30_000),
    ("sound", "release"),
    ("pause", 5000),
    ("sound", "switch"),
    ("pause", 500),
    ("say", "Now the left foot."),
    ("pause", 2000),
    ("say", "That is the end of the session. Rest for a moment before you get up."),
    ("pause", 1500),
    ("sound", "end"),
    ("pause", 3000),
]


@needs_espeak
@pytest.mark.audio
def test_a_session_of_matched_clips_lands_at_minus_16_lufs(tmp_path: Path) -> None:
    sounds = Sounds()
    assert set(TONE_NAMES) <= set(sounds.names())
    pieces: list[Samples] = []
    for i, (kind, value) in enumerate(SESSION):
        if kind == "say":
            speech = _speak(str(value), tmp_path / f"{i}.wav")
            pieces.append(loudness.match_speech(speech, RATE).astype(np.float64))
        elif kind == "sound":
            pieces.append(sounds.sound(str(value)).astype(np.float64))
        elif kind == "ticks":
            for _ in range(int(value)):
                tick = sounds.sound("tick").astype(np.float64)
                pieces += [tick, _silence(1000)[len(tick) :]]
        else:
            pieces.append(_silence(int(value)))
    session = np.concatenate(pieces)
    assert len(session) > 100 * RATE
    assert meter.integrated_lufs(session, RATE) == pytest.approx(-16.0, abs=1.0)
    assert meter.peak_dbfs(session) < loudness.PEAK_CEILING_DBFS
    assert true_peak_dbfs(session) < loudness.PEAK_CEILING_DBFS
