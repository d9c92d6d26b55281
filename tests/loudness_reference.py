"""Reference measurements the loudness tests check the product against (test code only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from voiceguide.sound import meter

if TYPE_CHECKING:
    import numpy.typing as npt

    AnyFloatArray = npt.NDArray[np.floating[Any]]
    Float64Array = npt.NDArray[np.float64]
    Biquad = tuple[tuple[float, float, float], tuple[float, float, float]]


def biquad_direct(samples: AnyFloatArray, biquad: Biquad) -> Float64Array:
    """Filter ``samples`` through one biquad in direct form I, sample by sample."""
    (b0, b1, b2), (_, a1, a2) = biquad
    out = np.empty(len(samples), dtype=np.float64)
    x1 = x2 = y1 = y2 = 0.0
    for i, x0 in enumerate(np.asarray(samples, dtype=np.float64).tolist()):
        y0 = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        out[i] = y0
        x2, x1, y2, y1 = x1, x0, y1, y0
    return out


def in_context_lufs(samples: AnyFloatArray, rate: int) -> float:
    """A clip's loudness as a program sees it: gated, between stretches of silence."""
    x = meter.as_float64(samples)
    hop = meter.hop_samples(rate)
    pad = (meter.BLOCK_MS // meter.HOP_MS - 1) * hop
    # Pad the end up to a whole hop, so every sample of the clip is in four blocks.
    end_pad = pad + (-len(x)) % hop
    return meter.integrated_lufs(np.concatenate([np.zeros(pad), x, np.zeros(end_pad)]), rate)


def true_peak_dbfs(samples: AnyFloatArray) -> float:
    """The true peak of ``samples`` in dBTP, estimated by 4x oversampling."""
    peak = max((float(peaks.max()) for peaks in meter.oversampled_peaks(samples)), default=0.0)
    return meter.amplitude_db(peak)
