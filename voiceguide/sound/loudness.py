"""Measure and match loudness (ITU-R BS.1770-4 / EBU R128) with numpy alone.

Import this module lazily: it imports numpy at the top.

Measuring
---------
:func:`integrated_lufs` follows BS.1770-4 for one channel: the K-weighting pre-filter (a
high shelf and a high-pass, designed for any sample rate by the bilinear transform with
the frequencies prewarped, as libebur128 does; at 48 kHz the coefficients are the ones
printed in the standard), mean square over 400 ms blocks every 100 ms, an absolute gate
at −70 LUFS and a relative gate 10 LU under the mean of the blocks that pass it.

The two biquads are not run sample by sample (a Python loop would take minutes on a
two-hour session). Their cascade is stable and its impulse response dies away within
about 0.2 s (below 1e-10 of its peak), so the filter is applied as an FFT convolution
with that truncated response, overlap-add, in chunks of about 128 k samples. Only the
energy of each 100 ms stretch is kept, so :class:`LoudnessMeter` measures audio fed in
pieces, of any total length, in constant memory. Agreement with a direct-form filter is
at the 1e-9 level; agreement with ffmpeg's ``ebur128`` filter is checked by the tests.

Peaks: :func:`peak_dbfs` is the sample peak; :func:`true_peak_dbfs` estimates the peak
between samples by 4× band-limited (FFT) oversampling, in overlapping chunks.

Matching: how a session lands at −16 LUFS without being measured whole
-----------------------------------------------------------------------
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
- Sounds are matched by their loudest 400 ms (:func:`max_momentary_lufs`; a sound
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

For an exporter that can afford a second pass, :class:`LoudnessMeter` measures the
rendered program block by block, and :func:`program_gain_db` turns that measurement into
one constant correction (:func:`normalize_program` does both for audio held in memory).
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceguide.errors import AudioError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import numpy.typing as npt

    from voiceguide.sound.clips import FloatArray

    AnyFloatArray = npt.NDArray[np.floating[Any]]
    Float64Array = npt.NDArray[np.float64]
    Biquad = tuple[tuple[float, float, float], tuple[float, float, float]]

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

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
BLOCK_MS = 400
HOP_MS = 100

_LUFS_OFFSET = -0.691  # BS.1770: loudness = -0.691 + 10 log10(weighted mean square)
_IR_FLOOR = 1e-10  # truncate the K-weighting impulse response below this (relative)
_FFT_SIZE = 1 << 14  # with ~2000 taps at 22 kHz: fastest here (cache-sized)
_PEAK_CHUNK = 1 << 20
_OVERSAMPLE = 4
_MATCH_TOLERANCE_DB = 0.05  # a clip within this of its target is left as it is
_MATCH_PASSES = 4  # limiter passes at most, while giving back what limiting took
_LIMIT_SLOPE = 0.4  # dB of loudness a limited clip gains per dB of gain, to start the search
_MAX_EXTRA_DB = 6.0  # the most gain given back for what limiting took
_LIMIT_BLOCK = 32  # samples per block of the limiter's gain curve (1.5 ms at 22,050 Hz)
_LIMIT_HOLD_MS = 10  # the limiter's gain is held ±10 ms around a peak, then smoothed


def _db_to_gain(gain_db: float) -> float:
    return float(10.0 ** (gain_db / 20.0))


def _as_float64(samples: AnyFloatArray) -> Float64Array:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected mono samples (a 1-D array), got shape {x.shape}")
    return x


def _hop_samples(rate: int) -> int:
    return round(rate * HOP_MS / 1000)


# --- K-weighting -----------------------------------------------------------------------


def k_weighting(rate: int) -> tuple[Biquad, Biquad]:
    """Return the K-weighting biquads ``((b, a), (b, a))`` for ``rate``: shelf, then high-pass."""
    if rate <= 2 * 1682:
        raise ValueError(f"sample rate {rate} Hz is too low for K-weighting")
    # Stage 1: high shelf, +4 dB above ~1.7 kHz (the acoustic effect of the head).
    f0_hz, gain_db, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0_hz / rate)
    vh = 10.0 ** (gain_db / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf: Biquad = (
        (
            (vh + vb * k / q + k * k) / a0,
            2.0 * (k * k - vh) / a0,
            (vh - vb * k / q + k * k) / a0,
        ),
        (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0),
    )
    # Stage 2: the RLB high-pass at ~38 Hz (numerator 1, -2, 1 as in the standard).
    f0_hz, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0_hz / rate)
    a0 = 1.0 + k / q + k * k
    highpass: Biquad = (
        (1.0, -2.0, 1.0),
        (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0),
    )
    return shelf, highpass


def biquad_direct(samples: AnyFloatArray, biquad: Biquad) -> Float64Array:
    """Filter ``samples`` through one biquad in direct form I, sample by sample (reference)."""
    (b0, b1, b2), (_, a1, a2) = biquad
    out = np.empty(len(samples), dtype=np.float64)
    x1 = x2 = y1 = y2 = 0.0
    for i, x0 in enumerate(np.asarray(samples, dtype=np.float64).tolist()):
        y0 = b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        out[i] = y0
        x2, x1, y2, y1 = x1, x0, y1, y0
    return out


def _frequency_response(biquad: Biquad, size: int) -> npt.NDArray[np.complex128]:
    (b0, b1, b2), (a0, a1, a2) = biquad
    z1 = np.exp(-1j * np.pi * np.arange(size // 2 + 1) / (size // 2))
    return (b0 + b1 * z1 + b2 * z1 * z1) / (a0 + a1 * z1 + a2 * z1 * z1)  # type: ignore[no-any-return]


@functools.cache
def k_weighting_ir(rate: int) -> Float64Array:
    """Return the K-weighting impulse response at ``rate``, truncated where it falls below 1e-10."""
    shelf, highpass = k_weighting(rate)
    # One second of the response, computed exactly up to time aliasing of what is left after
    # a second, which is far below double precision.
    size = 1 << max(12, math.ceil(math.log2(rate)))
    response = _frequency_response(shelf, size) * _frequency_response(highpass, size)
    ir = np.fft.irfft(response, size)
    above = np.flatnonzero(np.abs(ir) > _IR_FLOOR * np.max(np.abs(ir)))
    ir = ir[: int(above[-1]) + 1].copy()
    ir.flags.writeable = False
    return ir


@functools.cache
def _fir_spectrum(rate: int) -> tuple[int, npt.NDArray[np.complex128]]:
    ir = k_weighting_ir(rate)
    size = max(_FFT_SIZE, 1 << math.ceil(math.log2(8 * len(ir))))
    spectrum = np.fft.rfft(ir, size)
    spectrum.flags.writeable = False
    return size, spectrum


class _KWeighting:
    """The K-weighting filter applied by overlap-add FFT convolution, chunk by chunk."""

    def __init__(self, rate: int) -> None:
        self._ir_len = len(k_weighting_ir(rate))
        self._size, self._spectrum = _fir_spectrum(rate)
        self.chunk = self._size - self._ir_len + 1
        self._tail = np.zeros(self._ir_len - 1, dtype=np.float64)

    def process(self, samples: Float64Array) -> Float64Array:
        """Filter the next ``len(samples) <= self.chunk`` samples of the stream."""
        n = len(samples)
        full = np.fft.irfft(np.fft.rfft(samples, self._size) * self._spectrum, self._size)
        full = full[: n + self._ir_len - 1]
        full[: self._ir_len - 1] += self._tail
        self._tail = full[n:].copy()
        return full[:n]


def k_weight(samples: AnyFloatArray, rate: int) -> Float64Array:
    """K-weight ``samples``; the output has the same length (the filter's ringing is cut)."""
    x = _as_float64(samples)
    kfilter = _KWeighting(rate)
    out = np.empty(len(x), dtype=np.float64)
    for start in range(0, len(x), kfilter.chunk):
        stop = min(start + kfilter.chunk, len(x))
        out[start:stop] = kfilter.process(x[start:stop])
    return out


# --- Gated measurement ------------------------------------------------------------------


def _to_lufs(mean_square: Float64Array) -> Float64Array:
    with np.errstate(divide="ignore"):
        return _LUFS_OFFSET + 10.0 * np.log10(mean_square)


def _gated_lufs(hop_energies: Float64Array, hop: int) -> float:
    """Return the gated loudness of the 400 ms blocks made of consecutive 100 ms energies."""
    per_block = BLOCK_MS // HOP_MS
    if len(hop_energies) < per_block:
        return -math.inf
    cumulative = np.concatenate(([0.0], np.cumsum(hop_energies)))
    blocks = (cumulative[per_block:] - cumulative[:-per_block]) / (per_block * hop)
    loudness = _to_lufs(blocks)
    kept = blocks[loudness > ABSOLUTE_GATE_LUFS]
    if not len(kept):
        return -math.inf
    relative_gate = float(_to_lufs(np.array([kept.mean()]))[0]) + RELATIVE_GATE_LU
    kept = blocks[(loudness > ABSOLUTE_GATE_LUFS) & (loudness > relative_gate)]
    return float(_to_lufs(np.array([kept.mean()]))[0])


class LoudnessMeter:
    """Measure the integrated loudness and peak of mono audio fed in pieces.

    Holds one number per 100 ms, so a two-hour session measures in under a megabyte.
    """

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._hop = _hop_samples(rate)
        self._filter = _KWeighting(rate)
        self._energies: list[Float64Array] = []
        self._partial_energy = 0.0
        self._partial_count = 0
        self._peak = 0.0
        self.samples = 0
        """How many samples were fed in."""

    def add(self, samples: AnyFloatArray) -> None:
        """Feed the next piece of the program."""
        x = np.asarray(samples)
        if x.ndim != 1:
            raise ValueError(f"expected mono samples (a 1-D array), got shape {x.shape}")
        self.samples += len(x)
        for start in range(0, len(x), self._filter.chunk):
            # Convert piece by piece: a float64 copy of a whole session would be 1.3 GB.
            piece = x[start : start + self._filter.chunk].astype(np.float64)
            self._peak = max(self._peak, float(np.max(np.abs(piece))))
            self._accumulate(self._filter.process(piece))

    def _accumulate(self, weighted: Float64Array) -> None:
        squares = weighted * weighted
        hop = self._hop
        i = 0
        if self._partial_count:
            i = min(hop - self._partial_count, len(squares))
            self._partial_energy += float(squares[:i].sum())
            self._partial_count += i
            if self._partial_count < hop:
                return
            self._energies.append(np.array([self._partial_energy]))
            self._partial_energy, self._partial_count = 0.0, 0
        whole = (len(squares) - i) // hop
        if whole:
            self._energies.append(squares[i : i + whole * hop].reshape(whole, hop).sum(axis=1))
        rest = squares[i + whole * hop :]
        self._partial_energy += float(rest.sum())
        self._partial_count += len(rest)

    def integrated_lufs(self) -> float:
        """Return the gated integrated loudness so far (``-inf`` for silence or < 400 ms)."""
        if not self._energies:
            return -math.inf
        return _gated_lufs(np.concatenate(self._energies), self._hop)

    def peak_dbfs(self) -> float:
        """Return the sample peak so far, in dBFS (``-inf`` for silence)."""
        return _amplitude_db(self._peak)


def integrated_lufs(samples: AnyFloatArray, rate: int) -> float:
    """Return the integrated loudness of mono ``samples`` in LUFS (``-inf`` if nothing passes)."""
    meter = LoudnessMeter(rate)
    meter.add(samples)
    return meter.integrated_lufs()


def max_momentary_lufs(samples: AnyFloatArray, rate: int) -> float:
    """Return the loudness of the loudest 400 ms (or the whole, if shorter) of a clip."""
    x = _as_float64(samples)
    if not len(x):
        return -math.inf
    # Keep the filter's ringing after the clip: in a program it sounds too.
    weighted = k_weight(np.concatenate([x, np.zeros(len(k_weighting_ir(rate)))]), rate)
    window = min(len(x), rate * BLOCK_MS // 1000)
    cumulative = np.concatenate(([0.0], np.cumsum(weighted * weighted)))
    best = float(np.max(cumulative[window:] - cumulative[:-window])) / window
    return float(_to_lufs(np.array([best]))[0])


def clip_lufs(samples: AnyFloatArray, rate: int) -> float:
    """Return a clip's own loudness: gated, or the mean of the whole if shorter than a block."""
    x = _as_float64(samples)
    if len(x) >= rate * BLOCK_MS // 1000:
        return integrated_lufs(x, rate)
    if not len(x):
        return -math.inf
    weighted = k_weight(x, rate)
    return float(_to_lufs(np.array([np.mean(weighted * weighted)]))[0])


def in_context_lufs(samples: AnyFloatArray, rate: int) -> float:
    """Return a clip's loudness as a program sees it: gated, between stretches of silence."""
    x = _as_float64(samples)
    hop = _hop_samples(rate)
    pad = (BLOCK_MS // HOP_MS - 1) * hop
    # Pad the end up to a whole hop, so every sample of the clip is in four blocks.
    end_pad = pad + (-len(x)) % hop
    return integrated_lufs(np.concatenate([np.zeros(pad), x, np.zeros(end_pad)]), rate)


# --- Peaks -----------------------------------------------------------------------------


def _amplitude_db(amplitude: float) -> float:
    return 20.0 * math.log10(amplitude) if amplitude > 0 else -math.inf


def peak_dbfs(samples: AnyFloatArray) -> float:
    """Return the sample peak of ``samples`` in dBFS (``-inf`` for silence)."""
    x = np.asarray(samples)
    peak = 0.0
    for start in range(0, len(x), _PEAK_CHUNK):
        piece = x[start : start + _PEAK_CHUNK]
        peak = max(peak, float(piece.max()), -float(piece.min()))
    return _amplitude_db(peak)


def _oversampled_peaks(samples: AnyFloatArray, factor: int = _OVERSAMPLE) -> Iterator[Float64Array]:
    """Yield, chunk by chunk, each sample's largest |value| of the band-limited signal near it."""
    x = np.asarray(samples)
    n = len(x)
    margin = 256
    size = 1 << 14  # a power of two: FFTs of awkward lengths are many times slower
    chunk = size - 2 * margin
    taper = 0.5 - 0.5 * np.cos(np.pi * (np.arange(margin) + 0.5) / margin)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        before = x[max(0, start - margin) : start]
        after = x[stop : stop + margin]
        piece = np.zeros(size)
        piece[margin - len(before) : margin] = before
        piece[margin : margin + stop - start] = x[start:stop]
        piece[margin + stop - start : margin + stop - start + len(after)] = after
        # Taper the context so the FFT's implicit wrap-around has no step to ring from.
        piece[:margin] *= taper
        piece[-margin:] *= taper[::-1]
        spectrum = np.fft.rfft(piece)
        spectrum[-1] *= 0.5  # split the Nyquist bin between +fs/2 and -fs/2
        up = np.fft.irfft(spectrum, size * factor) * factor
        peaks = np.abs(up).reshape(size, factor).max(axis=1)[margin : margin + stop - start]
        yield np.maximum(peaks, np.abs(x[start:stop]))


def true_peak_dbfs(samples: AnyFloatArray) -> float:
    """Return the true peak of ``samples`` in dBTP, estimated by 4× oversampling."""
    peak = 0.0
    for peaks in _oversampled_peaks(samples):
        peak = max(peak, float(peaks.max()))
    return _amplitude_db(peak)


# --- Gain and matching -------------------------------------------------------------------


def gain_to(samples: AnyFloatArray, rate: int, target_lufs: float) -> float:
    """Return the gain in dB that brings ``samples`` to ``target_lufs`` integrated."""
    lufs = integrated_lufs(samples, rate)
    if not math.isfinite(lufs):
        raise AudioError("cannot set the loudness of silence (nothing above -70 LUFS)")
    return target_lufs - lufs


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


class _Limiter:
    """A look-ahead true-peak limiter for one clip, at any gain.

    The peaks of ``x * g`` are ``g`` times the peaks of ``x``, so the clip's block-wise
    peak envelope is found once, and each gain tried costs only the envelope arithmetic.
    """

    def __init__(self, x: Float64Array, rate: int, ceiling_dbtp: float) -> None:
        self.x = x
        self.ceiling = _db_to_gain(ceiling_dbtp)
        block = _LIMIT_BLOCK
        count = -(-len(x) // block)
        peaks = np.concatenate(list(_oversampled_peaks(x))) if len(x) else x
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


def limit(samples: AnyFloatArray, rate: int, ceiling_dbtp: float = LIMIT_DBTP) -> FloatArray:
    """Hold the true peak of a clip at ``ceiling_dbtp`` with a smooth look-ahead gain."""
    return _Limiter(_as_float64(samples), rate, ceiling_dbtp).apply(0.0)


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
    limiter = _Limiter(x, rate, LIMIT_DBTP)
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
    hop = _hop_samples(rate)
    pad = (BLOCK_MS // HOP_MS - 1) * hop
    return pad, pad + (-length) % hop


def _speech_gain_from(squares: Float64Array, length: int, rate: int) -> float:
    """The gain a phrase needs, from its weighted squares padded by :func:`_speech_padding`."""
    hop = _hop_samples(rate)
    pad, _ = _speech_padding(length, rate)
    context = _gated_lufs(squares.reshape(-1, hop).sum(axis=1), hop)
    if not math.isfinite(context):
        return math.nan
    if length >= rate * BLOCK_MS // 1000:
        whole = length // hop
        own = _gated_lufs(squares[pad : pad + whole * hop].reshape(whole, hop).sum(axis=1), hop)
    else:
        own = float(_to_lufs(np.array([np.mean(squares[pad : pad + length])]))[0])
    return min(SPEECH_LUFS - context, SPEECH_LUFS + SHORT_PHRASE_BOOST_LU - own)


def speech_gain_db(samples: AnyFloatArray, rate: int) -> float:
    """Return the gain in dB that :func:`match_speech` aims for (``nan`` for silence).

    Same as ``min(SPEECH_LUFS - in_context_lufs(x), SPEECH_LUFS + boost - clip_lufs(x))``,
    from one K-weighting: the silence around the clip is whole hops of zeros, and the
    filter is causal, so the clip's own hop energies are a slice of the padded ones.
    """
    x = _as_float64(samples)
    if not len(x):
        return math.nan
    weighted = _Weighted(x, rate, *_speech_padding(len(x), rate))
    return _speech_gain_from(weighted.scaled(None), len(x), rate)


def match_speech(samples: AnyFloatArray, rate: int) -> FloatArray:
    """Bring a spoken phrase to :data:`SPEECH_LUFS` in context, peaks under the ceiling."""
    x = _as_float64(samples)
    if not len(x):
        return x.astype(np.float32)
    weighted = _Weighted(x, rate, *_speech_padding(len(x), rate))
    return _match(x, rate, weighted, lambda squares: _speech_gain_from(squares, len(x), rate))


def match_sound(samples: AnyFloatArray, rate: int, *, offset_db: float = 0.0) -> FloatArray:
    """Bring a sound's loudest 400 ms to :data:`SOUND_LUFS` + ``offset_db``, peaks limited."""
    x = _as_float64(samples)
    if not len(x):
        return x.astype(np.float32)
    target_lufs = SOUND_LUFS + offset_db
    # As max_momentary_lufs: the filter's ringing after the sound counts.
    weighted = _Weighted(x, rate, 0, len(k_weighting_ir(rate)))
    window = min(len(x), rate * BLOCK_MS // 1000)

    def gain_db(squares: Float64Array) -> float:
        cumulative = np.concatenate(([0.0], np.cumsum(squares)))
        best = float(np.max(cumulative[window:] - cumulative[:-window])) / window
        lufs = float(_to_lufs(np.array([best]))[0])
        return target_lufs - lufs if lufs > ABSOLUTE_GATE_LUFS else math.nan

    return _match(x, rate, weighted, gain_db)


def program_gain_db(
    integrated: float,
    peak: float,
    target_lufs: float = PROGRAM_LUFS,
    peak_ceiling_dbfs: float = PEAK_CEILING_DBFS,
) -> float:
    """Return the constant gain in dB that moves a measured program to the target, peak first."""
    if not math.isfinite(integrated):
        return 0.0
    return min(target_lufs - integrated, peak_ceiling_dbfs - peak)


def normalize_program(
    samples: AnyFloatArray,
    rate: int,
    target_lufs: float = PROGRAM_LUFS,
    peak_ceiling_dbfs: float = PEAK_CEILING_DBFS,
) -> FloatArray:
    """Scale a whole program to ``target_lufs``, or less if its true peak would pass the ceiling."""
    x = _as_float64(samples)
    gain_db = program_gain_db(
        integrated_lufs(x, rate), true_peak_dbfs(x), target_lufs, peak_ceiling_dbfs
    )
    return (x * _db_to_gain(gain_db)).astype(np.float32)
