"""The built-in sound beds, made here from numbers: ``rain``, ``drone`` and ``waves``.

Each is a loop of :data:`LOOP_SAMPLES` (about 95 s at 22,050 Hz) that joins itself without
a seam, because everything in it is periodic in the loop's length: noise is made in the
frequency domain (a shaped spectrum with random phases, turned into time by one inverse
FFT, so it wraps around exactly), and every tone, swell and slow movement completes a
whole number of cycles in a loop. The randomness comes from a counter-based generator
(SplitMix64 of the index and a seed), so the same bed comes out on every machine and
every version of numpy, and the sounds are the project's own work, under its licence.

Import this module lazily: it imports numpy at the top.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from voiceguide.script import spec

if TYPE_CHECKING:
    import numpy.typing as npt

    Float64Array = npt.NDArray[np.float64]

LOOP_SAMPLES = 1 << 21
"""The length of a built-in loop: about 95 s at 22,050 Hz, long enough not to be heard
repeating under speech."""

BUILTIN_BEDS = spec.BED_NAMES

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)


def uniform(seed: int, count: int) -> Float64Array:
    """Return ``count`` numbers in [0, 1), the same for the same seed everywhere.

    SplitMix64 of ``seed * 2**32 + index``: a counter-based generator, so each number
    depends only on its index (numpy's own generators may change their streams).
    """
    with np.errstate(over="ignore"):
        z = (np.arange(count, dtype=np.uint64) + np.uint64(seed << 32)) * _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX_1
        z = (z ^ (z >> np.uint64(27))) * _MIX_2
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def shaped_noise(
    seed: int, length: int, rate: int, magnitude: Callable[[Float64Array], Float64Array]
) -> Float64Array:
    """Return periodic noise of ``length`` samples whose spectrum is ``magnitude(hz)``, RMS 1."""
    freqs: Float64Array = np.fft.rfftfreq(length, 1.0 / rate).astype(np.float64)
    amplitude = np.zeros(len(freqs))
    amplitude[1:] = magnitude(freqs[1:])
    phases = 2.0 * np.pi * uniform(seed, len(freqs))
    noise = np.fft.irfft(amplitude * np.exp(1j * phases), length)
    return noise / float(np.sqrt(np.mean(noise * noise)))


def _band(freqs: Float64Array, low_hz: float, high_hz: float) -> Float64Array:
    """A second-order Butterworth band: high-pass at ``low_hz``, low-pass at ``high_hz``."""
    return 1.0 / np.sqrt((1.0 + (low_hz / freqs) ** 4) * (1.0 + (freqs / high_hz) ** 4))


def _cycles(hz: float, length: int, rate: int) -> float:
    """The frequency nearest ``hz`` that makes a whole number of cycles in the loop."""
    return max(1, round(hz * length / rate)) * rate / length


_CONTROL_STEP = 32
"""Slow shapes (drifts, swells) are computed every this many samples, then interpolated."""


def _upsample(control: Float64Array, length: int) -> Float64Array:
    """Interpolate a loop-periodic shape made every :data:`_CONTROL_STEP` samples."""
    points = np.arange(len(control), dtype=np.float64) * _CONTROL_STEP
    return np.interp(np.arange(length, dtype=np.float64), points, control, period=length)


def _slow(seed: int, length: int, rate: int, periods_s: tuple[float, ...]) -> Float64Array:
    """A slow wobble around 0 (between about -1 and 1): sines of these periods, loop-periodic."""
    t = np.arange(0, length, _CONTROL_STEP) / rate
    phases = 2.0 * np.pi * uniform(seed, len(periods_s))
    out = np.zeros(len(t))
    for period, phase in zip(periods_s, phases, strict=True):
        out += np.sin(2.0 * np.pi * _cycles(1.0 / period, length, rate) * t + phase)
    return _upsample(out / len(periods_s), length)


def rain(rate: int, length: int = LOOP_SAMPLES) -> Float64Array:
    """Soft rain: pink noise between about 300 Hz and 5 kHz, never still, wide in stereo."""

    def spectrum(f: Float64Array) -> Float64Array:
        return _band(f, 300.0, 5_000.0) / np.sqrt(f)

    common = shaped_noise(101, length, rate, spectrum)
    sides = [shaped_noise(seed, length, rate, spectrum) for seed in (102, 103)]
    # A slow drift of a dB or two, so the rain comes and goes a little, differently per ear.
    drift = [1.0 + 0.12 * _slow(seed, length, rate, (7.3, 13.1, 23.9)) for seed in (104, 105)]
    channels = [
        (0.6 * common + 0.8 * side) * wobble for side, wobble in zip(sides, drift, strict=True)
    ]
    return np.stack(channels, axis=1)


DRONE_HZ = 65.4
"""The drone's fundamental: a low C."""
_DRONE_PARTIALS = ((1.0, 1.0), (2.0, 0.5), (3.0, 0.3), (1.5, 0.22), (4.0, 0.15), (5.0, 0.07))
"""(multiple of the fundamental, amplitude): harmonics and a soft fifth, a warm organ-like
spectrum with little above 330 Hz."""
_DETUNE_HZ = 0.12
"""The right ear's partials sit this much higher: a slow beat that moves across the head."""


def drone(rate: int, length: int = LOOP_SAMPLES) -> Float64Array:
    """A low warm drone: a few soft partials, slightly detuned between the ears, breathing."""
    t = np.arange(length) / rate
    phases = 2.0 * np.pi * uniform(201, 2 * len(_DRONE_PARTIALS))
    channels = []
    for ear, detune in enumerate((0.0, _DETUNE_HZ)):
        out = np.zeros(length)
        for i, (multiple, amplitude) in enumerate(_DRONE_PARTIALS):
            hz = _cycles(DRONE_HZ * multiple + detune * multiple, length, rate)
            out += amplitude * np.sin(2.0 * np.pi * hz * t + phases[2 * i + ear])
        channels.append(out)
    breath = 1.0 + 0.18 * _slow(202, length, rate, (11.0, 17.0))
    return np.stack(channels, axis=1) * breath[:, None]


WAVE_SPACING_S = (7.0, 12.0)
"""The time from one wave to the next varies between these."""


def _wave_envelope(seed: int, length: int, rate: int) -> tuple[Float64Array, Float64Array]:
    """Return the swell of the waves (0 to about 1) and each wave's side (-1 to 1), per sample.

    Waves are placed around the loop with jittered spacing that adds up to its length;
    each rises over about 40% of the time to the next and falls away over the rest, and
    the shape wraps around the loop's end.
    """
    mean_s = sum(WAVE_SPACING_S) / 2
    count = max(2, round(length / rate / mean_s))
    low, high = WAVE_SPACING_S
    jitter = uniform(seed, 3 * count).reshape(3, count)
    spacing = low + (high - low) * jitter[0]
    spacing = spacing / spacing.sum() * length  # exactly one loop
    starts = np.concatenate(([0.0], np.cumsum(spacing)[:-1]))
    heights = 0.65 + 0.35 * jitter[1]
    sides = 0.8 * jitter[2] - 0.4
    n = np.arange(0, length, _CONTROL_STEP, dtype=np.float64)
    swell = np.zeros(len(n))
    side = np.zeros(len(n))
    weight = np.zeros(len(n))
    for start, span, height, where in zip(starts, spacing, heights, sides, strict=True):
        rise = 0.4 * span
        fall = 1.6 * span  # a long tail that overlaps the next wave's rise
        offset = (n - start) % length
        shape = np.where(
            offset < rise,
            np.sin(0.5 * np.pi * offset / rise) ** 2,
            np.clip(1.0 - (offset - rise) / fall, 0.0, 1.0) ** 2,
        )
        swell += height * shape
        side += where * shape
        weight += shape
    side /= np.maximum(weight, 1e-9)
    return _upsample(swell / float(swell.max()), length), _upsample(side, length)


def waves(rate: int, length: int = LOOP_SAMPLES) -> Float64Array:
    """Distant waves: deep noise that swells and falls away every 7-12 s, a hiss at each crest."""

    def deep(f: Float64Array) -> Float64Array:
        return _band(f, 50.0, 900.0) / f

    def hiss(f: Float64Array) -> Float64Array:
        return _band(f, 1_200.0, 6_000.0) / np.sqrt(f)

    swell, side = _wave_envelope(301, length, rate)
    rumble = 0.18 + 0.82 * swell  # the sea never falls silent
    crest = swell**3
    # Each wave breaks a little to one side: constant power, up to about 3 dB apart.
    angle = 0.25 * np.pi * (1.0 + 0.5 * side)
    leans = (np.cos(angle), np.sin(angle))
    channels = []
    for ear, lean in enumerate(leans):
        body = 0.5 * shaped_noise(302, length, rate, deep)
        body += 0.5 * shaped_noise(303 + ear, length, rate, deep)
        wash = shaped_noise(305 + ear, length, rate, hiss)
        channels.append((body * rumble + 0.45 * wash * crest) * lean * math.sqrt(2.0))
    return np.stack(channels, axis=1)


GENERATORS: dict[str, Callable[[int, int], Float64Array]] = {
    "rain": rain,
    "drone": drone,
    "waves": waves,
}
"""Each built-in bed by name: ``(rate, length) -> (length, 2)`` float64, at no set level."""
