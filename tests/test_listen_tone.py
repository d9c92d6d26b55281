"""The ``heard`` sound: the nod a voice command gets, soft, click-free, unlike every other sound."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile

from tests.loudness_reference import true_peak_dbfs
from tests.test_tones import BUILTIN, ROOT, _builtin, _contour
from voiceguide.pcm import SAMPLE_RATE
from voiceguide.sound import loudness
from voiceguide.sound.meter import max_momentary_lufs
from voiceguide.sound.tones import LEVEL_OFFSET_DB, TONE_NAMES, Sounds

HEARD = "heard"


def test_heard_is_short_soft_and_starts_and_ends_at_zero() -> None:
    x = _builtin(HEARD)
    assert len(x) == SAMPLE_RATE * 300 // 1000
    peak = float(np.max(np.abs(x)))
    one_ms = SAMPLE_RATE // 1000
    assert x[0] == 0.0
    assert x[-1] == 0.0
    assert np.max(np.abs(np.diff(x[: one_ms + 1]))) < 0.15 * peak  # no click at the onset
    assert np.max(np.abs(x[-one_ms:])) < 0.01 * peak
    assert abs(float(np.mean(x))) < 1e-4 * peak
    assert true_peak_dbfs(x) < loudness.PEAK_CEILING_DBFS
    expected = loudness.SOUND_LUFS + LEVEL_OFFSET_DB[HEARD]
    assert LEVEL_OFFSET_DB[HEARD] < 0  # softer than the cues of the routine
    assert abs(max_momentary_lufs(x, SAMPLE_RATE) - expected) < 0.1


def test_heard_differs_from_every_routine_sound_in_length_or_contour() -> None:
    def signature(name: str) -> tuple[int, tuple[str, ...]]:
        return (len(_builtin(name)) // (SAMPLE_RATE // 10), _contour(name))

    assert signature(HEARD) not in {signature(name) for name in TONE_NAMES}
    assert HEARD not in TONE_NAMES  # a player's sound, not one of a routine's cues


def test_heard_is_two_taps_on_one_note() -> None:
    x = _builtin(HEARD)
    envelope = np.abs(x)
    hop = SAMPLE_RATE // 200  # 5 ms
    frames = np.concatenate(([0.0], envelope[: len(envelope) // hop * hop].reshape(-1, hop).max(1)))
    # Onsets: frames that jump well above the one before.
    onsets = np.flatnonzero(frames[1:] > 1.8 * frames[:-1] + 0.02 * frames.max())
    starts = [int(o) for i, o in enumerate(onsets) if i == 0 or o - onsets[i - 1] > 4]
    assert len(starts) == 2
    spectrum_a = np.abs(np.fft.rfft(x[: SAMPLE_RATE // 10]))
    spectrum_b = np.abs(np.fft.rfft(x[SAMPLE_RATE * 11 // 100 : SAMPLE_RATE * 21 // 100]))
    assert np.argmax(spectrum_a) == np.argmax(spectrum_b)


def test_make_tones_regenerates_heard(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_tones.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    fresh, _ = soundfile.read(tmp_path / f"{HEARD}.wav", dtype="int16")
    committed, _ = soundfile.read(BUILTIN / f"{HEARD}.wav", dtype="int16")
    assert len(fresh) == len(committed)
    assert np.max(np.abs(fresh.astype(int) - committed.astype(int))) <= 1


def test_sounds_load_heard_at_its_own_level() -> None:
    clip = Sounds().sound(HEARD)
    assert clip.dtype == np.float32
    assert len(clip) == SAMPLE_RATE * 300 // 1000
    expected = loudness.SOUND_LUFS + LEVEL_OFFSET_DB[HEARD]
    assert abs(max_momentary_lufs(clip, SAMPLE_RATE) - expected) < 0.2
