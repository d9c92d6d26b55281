"""Match the loudness of clips, so that a session lands at −16 LUFS without being measured whole.

Import this module lazily: it imports numpy at the top.

Spoken-word exports are normally at about −16 LUFS integrated with peaks under −1 dBFS.
A session is rendered block by block and is never in memory as a whole, so rather than
normalizing the finished program, every clip is matched *before* it is placed, so that
the sum lands at the target by construction:

- A session is speech, a few sounds, and silence. Rendered silence is digital zero, and
  every 400 ms block that holds nothing but silence is −inf LUFS, under the absolute
  gate: long holds and rests count for nothing, however long they are.
- What the gate keeps is the blocks that hold some sound, *including* the blocks that
  straddle the edge of a phrase and are partly silent. Those edge blocks are quieter
  and, being within 10 LU of the mean, they pass the relative gate and pull the program
  down: a phrase normalized on its own to −16 LUFS measures 0.4 LU lower in a program
  when it lasts 3 s, 0.8 LU lower when it lasts 1.5 s.
- So :func:`match_speech` measures a phrase *in context*: with 300 ms of silence on
  each side, the way the program's blocks will see it (every sample of the phrase falls
  in exactly four blocks, as it does in the program). Each phrase then contributes the
  same loudness to the program whatever its length, and since blocks of pure silence
  drop out and gating is an energy mean, a program of such phrases measures that too.
  One exception: a phrase under a second or so would need a boost that makes it stand
  out from the others, so no phrase goes more than :data:`SHORT_PHRASE_BOOST_LU` above
  the target on its own level.
- Sounds are matched by their loudest 400 ms (``meter.max_momentary_lufs``; a sound
  shorter than that, by its own length), 2 LU under the speech, so a cue is clear but
  never jumps out; a caller may set an offset (the countdown tick sits 9 dB further
  down, and its blocks fall under the relative gate). But a bell's decay is long and
  quiet: in a typical routine (an instruction, press, a prompt, three ticks, release,
  per repetition) a third of the blocks that pass the gate are sound tails at −20 to
  −28 LUFS, and they pull the program about 0.8 LU under its speech. Speech therefore
  sits at −15.5 (:data:`SPEECH_LUFS`), half a LU over the target: measured on espeak-ng
  phrases, a routine of speech only lands at −15.7 LUFS, a tone-heavy one at −16.5.
- espeak-ng's voice has a high crest factor: at −16 LUFS its glottal pulses reach about
  0 dBFS. Each clip therefore goes through a gentle look-ahead peak limiter (smoothed
  gain, ±10 ms, no attack overshoot) to −1.5 dBTP, half a dB under the −1 dBFS
  ceiling, and gets back the loudness lost to limiting. Clips placed one after another
  never exceed their own peaks, so the program stays under the ceiling too. (Clips that
  overlap add up: a renderer that mixes a sound under speech must check the sum.)

Measuring (K-weighting, gating, peaks) is :mod:`voiceguide.sound.meter`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceguide.sound.meter import (
    ABSOLUTE_GATE_LUFS,
    BLOCK_MS,
    HOP_MS,
    as_float64,
    block_samples,
    gated_lufs,
    hop_samples,
    integrated_lufs,
    k_weight,
    k_weighting_ir,
    oversampled_peaks,
    peak_dbfs,
    to_lufs,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    from voiceguide.pcm import FloatArray

    AnyFloatArray = npt.NDArray[np.floating[Any]]
    Float64Array = npt.NDArray[np.float64]

__all__ = [
    "LIMIT_DBTP",
    "PEAK_CEILING_DBFS",
    "PROGRAM_LUFS",
    "SHORT_PHRASE_BOOST_LU",
    "SOUND_LUFS",
    "SPEECH_LUFS",
    "Limiter",
    "integrated_lufs",
    "match_sound",
    "match_speech",
    "peak_dbfs",
]  # integrated_lufs and peak_dbfs are the meter's, here for callers that check a level

PROGRAM_LUFS = -16.0
"""Integrated loudness of a whole exported routine."""

PEAK_CEILING_DBFS = -1.0
"""No sample of a routine may go above this."""

SPEECH_LUFS = PROGRAM_LUFS + 0.5
"""Each spoken phrase, measured in context: a little over the target, as sound tails pull
a program down (see the module docstring)."""

SHORT_PHRASE_BOOST_LU = 1.5
"""How far over :data:`SPEECH_LUFS` a short phrase may go on its own level (module docstring)."""

SOUND_LUFS = SPEECH_LUFS - 2.0
"""The loudest 400 ms of each sound: 2 LU under the speech."""

LIMIT_DBTP = PEAK_CEILING_DBFS - 0.5
"""Where the per-clip limiter holds true peaks: half a dB of margin under the ceiling."""

_MATCH_TOLERANCE_DB = 0.05  # a clip within this of its target is left as it is
_MATCH_PASSES = 4  # limiter passes at most, while giving back what limiting took
_LIMIT_SLOPE = 0.4  # dB of loudness a limited clip gains per dB of gain, to start the search
_MAX_EXTRA_DB = 6.0  # the most gain given back for what limiting took
_LIMIT_BLOCK = 32  # samples per block of the limiter's gain curve (1.5 ms at 22,050 Hz)
_LIMIT_HOLD_MS = 10  # the limiter's gain is held ±10 ms around a peak, then smoothed


def _db_to_gain(gain_db: float) -> float:
    return float(10.0 ** (gain_db / 20.0))


def _sliding_min(values: Float64Array, radius: int) -> Float64Array:
    """Return the minimum of ``values`` over ``[i - radius, i + radius]`` for each ``i``."""
    width = 2 * radius + 1
    n = len(values)
    total = -(-(n + 2 * radius) // width) * width
    padded = np.full(total, np.inf)
    padded[radius : radius + n] = values
    blocks = padded.reshape(-1, width)
    # van Herk / Gil-Werman: every window spans at most two blocks.
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    return np.minimum(suffix[:n], prefix[width - 1 : width - 1 + n])


def _moving_mean(values: Float64Array, radius: int) -> Float64Array:
    edge = np.pad(values, radius, mode="edge")
    cumulative = np.concatenate(([0.0], np.cumsum(edge)))
    return (cumulative[2 * radius + 1 :] - cumulative[: -2 * radius - 1]) / (2 * radius + 1)


class Limiter:
    """A look-ahead true-peak limiter for one clip, at any gain.

    The peaks of ``x * g`` are ``g`` times the peaks of ``x``, so the clip's block-wise
    peak envelope is found once, and each gain tried costs only the envelope arithmetic.
    """

    def __init__(self, x: Float64Array, rate: int, ceiling_dbtp: float) -> None:
        self.x = x
        self.ceiling = _db_to_gain(ceiling_dbtp)
        block = _LIMIT_BLOCK
        count = -(-len(x) // block)
        peaks = np.concatenate(list(oversampled_peaks(x))) if len(x) else x
        padded = np.zeros(count * block)
        padded[: len(x)] = peaks
        self.block_peaks = padded.reshape(count, block).max(axis=1)
        self.radius = max(1, -(-rate * _LIMIT_HOLD_MS // 1000 // 2 // block))
        self.centres = np.arange(count) * block + (block - 1) / 2
        self.positions = np.arange(len(x))

    def apply(self, gain_db: float) -> FloatArray:
        """Return the clip at ``gain_db``, its true peaks held at the ceiling."""
        weights = self.weights(gain_db)
        return (self.x * weights).astype(np.float32)

    def weights(self, gain_db: float) -> Float64Array:
        """Return the gain applied to each sample at ``gain_db``, limiting included."""
        gain = _db_to_gain(gain_db)
        if not len(self.x) or float(self.block_peaks.max()) * gain <= self.ceiling:
            return np.full(len(self.x), gain)
        wanted = np.minimum(1.0, self.ceiling / np.maximum(self.block_peaks * gain, 1e-12))
        r = self.radius
        # The minimum over ±(2r + 1) blocks, then two means over ±r each: every block's gain
        # is an average of minima whose windows all cover that block and its neighbours, so
        # the gain interpolated between block centres never exceeds what a sample needs.
        smooth = _moving_mean(_moving_mean(_sliding_min(wanted, 2 * r + 1), r), r)
        return gain * np.interp(self.positions, self.centres, smooth)


class _Weighted:
    """A clip K-weighted once, with ``before`` zeros ahead of it and ``after`` behind.

    The loudness of the clip under a slowly varying gain ``w`` (a limiter's, held for
    10 ms and smoothed) is that of the weighted squares times ``w**2``: the K filter's
    response is far shorter than the gain's changes. So every try of a search measures
    without filtering again.
    """

    def __init__(self, x: Float64Array, rate: int, before: int, after: int) -> None:
        weighted = k_weight(np.concatenate([np.zeros(before), x, np.zeros(after)]), rate)
        self.squares = weighted * weighted
        self.before = before
        self.length = len(x)

    def scaled(self, weights: Float64Array | None) -> Float64Array:
        """The weighted squares of the clip with ``weights`` applied (``None``: as it is)."""
        if weights is None or not self.length:
            return self.squares
        out = self.squares.copy()
        start, stop = self.before, self.before + self.length
        out[start:stop] *= weights * weights
        out[stop:] *= float(weights[-1]) ** 2  # the filter's ringing after the clip
        return out


def _match(
    x: Float64Array,
    rate: int,
    weighted: _Weighted,
    gain_db: Callable[[Float64Array], float],
) -> FloatArray:
    """Bring a clip to the gain ``gain_db`` asks of its weighted squares; limit its peaks.

    Limiting takes a little loudness, and takes more as the gain rises (about 0.4 dB less
    shortfall per dB of extra gain, for speech). So the extra gain that gives it back is
    found by a secant search from that slope: usually two or three tries, each cheap.
    """
    needed_db = gain_db(weighted.scaled(None))
    if not math.isfinite(needed_db):
        return x.astype(np.float32)
    limiter = Limiter(x, rate, LIMIT_DBTP)
    extra_db = 0.0
    weights = limiter.weights(needed_db)
    tried: list[tuple[float, float]] = []
    for _ in range(_MATCH_PASSES - 1):
        shortfall_db = gain_db(weighted.scaled(weights / _db_to_gain(needed_db))) - needed_db
        if not math.isfinite(shortfall_db) or abs(shortfall_db) < _MATCH_TOLERANCE_DB:
            break
        tried.append((extra_db, shortfall_db))
        slope = _LIMIT_SLOPE
        if len(tried) >= 2:
            (extra_a, short_a), (extra_b, short_b) = tried[-2:]
            if extra_b != extra_a:
                slope = min(1.0, max(0.1, (short_a - short_b) / (extra_b - extra_a)))
        extra_db = min(_MAX_EXTRA_DB, extra_db + shortfall_db / slope)
        weights = limiter.weights(needed_db + extra_db)
    return (x * weights).astype(np.float32)


def _speech_padding(length: int, rate: int) -> tuple[int, int]:
    """Silence before and after a phrase, in whole hops, as a program puts around it."""
    hop = hop_samples(rate)
    pad = (BLOCK_MS // HOP_MS - 1) * hop
    return pad, pad + (-length) % hop


def _speech_gain_from(squares: Float64Array, length: int, rate: int) -> float:
    """The gain a phrase needs, from its weighted squares padded by :func:`_speech_padding`."""
    hop = hop_samples(rate)
    pad, _ = _speech_padding(length, rate)
    context = gated_lufs(squares.reshape(-1, hop).sum(axis=1), hop)
    if not math.isfinite(context):
        return math.nan
    if length >= block_samples(rate):
        whole = length // hop
        own = gated_lufs(squares[pad : pad + whole * hop].reshape(whole, hop).sum(axis=1), hop)
    else:
        own = float(to_lufs(np.array([np.mean(squares[pad : pad + length])]))[0])
    return min(SPEECH_LUFS - context, SPEECH_LUFS + SHORT_PHRASE_BOOST_LU - own)


def match_speech(samples: AnyFloatArray, rate: int) -> FloatArray:
    """Bring a spoken phrase to :data:`SPEECH_LUFS` in context, peaks under the ceiling."""
    x = as_float64(samples)
    if not len(x):
        return x.astype(np.float32)
    weighted = _Weighted(x, rate, *_speech_padding(len(x), rate))
    return _match(x, rate, weighted, lambda squares: _speech_gain_from(squares, len(x), rate))


def match_sound(samples: AnyFloatArray, rate: int, *, offset_db: float = 0.0) -> FloatArray:
    """Bring a sound's loudest 400 ms to :data:`SOUND_LUFS` + ``offset_db``, peaks limited."""
    x = as_float64(samples)
    if not len(x):
        return x.astype(np.float32)
    target_lufs = SOUND_LUFS + offset_db
    # As max_momentary_lufs: the filter's ringing after the sound counts.
    weighted = _Weighted(x, rate, 0, len(k_weighting_ir(rate)))
    window = min(len(x), block_samples(rate))

    def gain_db(squares: Float64Array) -> float:
        cumulative = np.concatenate(([0.0], np.cumsum(squares)))
        best = float(np.max(cumulative[window:] - cumulative[:-window])) / window
        lufs = float(to_lufs(np.array([best]))[0])
        return target_lufs - lufs if lufs > ABSOLUTE_GATE_LUFS else math.nan

    return _match(x, rate, weighted, gain_db)
