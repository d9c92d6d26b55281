"""The sample helpers on the ground floor: conversions, fades, the one ms-to-samples rounding."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from voiceguide import pcm


def test_float_to_pcm_and_back_is_exact_on_the_16_bit_grid() -> None:
    grid = np.arange(-32768, 32768, dtype=np.int16)

    np.testing.assert_array_equal(pcm.to_pcm(pcm.to_float(grid)), grid)
    assert pcm.to_float(grid).dtype == np.float32


def test_to_pcm_rounds_and_clips() -> None:
    floats = np.array([0.4 / 32768, 0.6 / 32768, -1.5, 1.5], dtype=np.float32)

    assert pcm.to_pcm(floats).tolist() == [0, 1, -32768, 32767]


def test_floats_are_kept_as_they_are() -> None:
    floats = np.array([0.1, -0.25], dtype=np.float32)

    kept = pcm.to_float(floats)

    assert kept.dtype == np.float32
    np.testing.assert_array_equal(kept, floats)  # not scaled, not quantized


@pytest.mark.parametrize(
    ("ms", "rate", "samples"),
    [(10, 22_050, 221), (5, 22_050, 110), (2, 22_050, 44), (1000, 22_050, 22_050), (1, 1000, 1)],
)
def test_ms_to_samples_rounds_to_the_nearest_halves_up(ms: int, rate: int, samples: int) -> None:
    assert pcm.ms_to_samples(ms, rate) == samples


def test_a_fade_runs_from_exact_zero_to_full_and_leaves_the_middle() -> None:
    samples = np.ones(1000, dtype=np.float32)

    pcm.fade(samples, 44, 220)

    assert samples[0] == 0.0
    assert samples[-1] == 0.0
    assert samples[43] == pytest.approx(1.0)
    assert np.all(samples[44:-220] == 1.0)
    assert np.all(np.diff(samples[:44]) >= 0)


def test_a_fade_is_at_most_half_the_clip() -> None:
    samples = np.ones(10, dtype=np.float64)

    pcm.fade(samples, 100, 100)

    assert samples[0] == 0.0
    assert samples[4] == pytest.approx(1.0)
    assert samples[5] == pytest.approx(1.0)


def test_importing_pcm_does_not_import_numpy() -> None:
    code = "import sys, voiceguide.pcm; print('numpy' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
