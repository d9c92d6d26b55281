"""How a session is mixed: its channels, each cue's place between the ears, the bed under it.

:class:`Mix` is the choice (stereo or mono, which bed, how loud); :class:`MixPlan` is that
choice applied to one timeline, which the renderer asks to place each clip and to finish
each block. Everything is planned from the timeline, nothing measured while rendering,
so any block of a session can be rendered alone: sample ``n`` of the bed depends only on
``n`` (the loop at ``n`` modulo its length, times an envelope that is a function of
``n`` and the timeline), and play can start anywhere and still send what export writes.

Loudness, by construction
-------------------------
Every clip is matched on its own so that a mono session lands at -16 LUFS
(:mod:`voiceguide.sound.loudness`). Panning is constant-power (left² + right² = 1,
:mod:`voiceguide.sound.pan`) and BS.1770 measures stereo as the sum of the two channels'
weighted energies, so every 400 ms block of the stereo session has exactly the energy it
had in mono: the same blocks pass the same gates, and the stereo session measures what the
mono one did, -16 LUFS, wherever its cues are panned. True peaks: a clip is limited to
-1.5 dBTP, and the near ear of a leaning cue gets at most cos(atan(10^(-6/20))) = 0.89
(-0.97 dB) of it, so speech peaks at most at -2.5 dBTP in the louder ear (-4.5 in the
centre). A mono session takes the spoken-word convention for one channel, -19 LUFS: the
mono mix is scaled by -3 dB (:data:`MONO_LUFS`), unless :attr:`Mix.loudness_lufs` says.

The bed
-------
The bed sits at :attr:`Mix.bed_level_lufs` (-26 LUFS, 10 LU under the speech) where
nothing is said, and dips by :data:`DUCK_DB` under speech: the dip starts
:data:`DUCK_FADE_MS` before a phrase and is complete when the phrase begins; it rises
again over as long after it ends. Phrases closer together than :data:`DUCK_MERGE_MS` share
one dip (no pumping in the breath between two instructions). Sounds are not ducked: they
are short, and a bed that dipped under every tick would pump. The bed fades in over the
first :data:`BED_FADE_IN_MS` and out over the last :data:`BED_FADE_OUT_MS`. Its loop
peaks at most 12 dB over its level (:data:`voiceguide.sound.bed.BED_CREST_DB`), so at
the highest level allowed (-20 LUFS) it adds at most -20 dBTP under speech and -8 dBTP
under a sound, whose own peaks sit under -6.8 dBTP: the sum stays under -1 dBTP. A bed
adds energy where there was silence, so a session with a bed measures a little lower
than -16 LUFS integrated while its speech stays where it was (figures in docs/export.md).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from voiceguide.errors import SettingError
from voiceguide.script import spec
from voiceguide.sound import pan
from voiceguide.sound.loudness import PROGRAM_LUFS

if TYPE_CHECKING:
    import numpy.typing as npt

    from voiceguide.compile.timeline import Cue, Timeline
    from voiceguide.sound.bed import BedSource
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.clips import FloatArray

    Float64Array = npt.NDArray[np.float64]

STEREO_LUFS = PROGRAM_LUFS
"""Integrated loudness of a stereo session: -16 LUFS, the spoken-word convention."""
MONO_LUFS = PROGRAM_LUFS - 3.0
"""Integrated loudness of a mono session: -19 LUFS, the spoken-word convention for mono."""
LOUDNESS_RANGE_LUFS = (-24.0, PROGRAM_LUFS)
"""What :attr:`Mix.loudness_lufs` may ask (louder than -16 would lose the peak margin)."""

BED_LEVEL_LUFS = -26.0
BED_LEVEL_RANGE_LUFS = spec.BED_LEVEL_LUFS
DUCK_DB = 12.0
DUCK_FADE_MS = 500
DUCK_MERGE_MS = 1_500
BED_FADE_IN_MS = 3_000
BED_FADE_OUT_MS = 5_000


@dataclass(frozen=True)
class Mix:
    """How a session is mixed: stereo or mono, with or without a bed, how loud."""

    channels: int = 2
    """2: stereo, the cues of a side leaning to that ear; 1: mono, for one speaker."""
    bed: BedSource | None = None
    """A quiet continuous sound under the whole session."""
    bed_level_lufs: float = BED_LEVEL_LUFS
    """The bed's loudness where nothing is said, in a -16 LUFS session."""
    loudness_lufs: float | None = None
    """The session's integrated loudness; ``None``: -16 LUFS stereo, -19 LUFS mono."""

    def __post_init__(self) -> None:
        if self.channels not in (1, 2):
            raise SettingError("channels", f"expected 1 (mono) or 2 (stereo), got {self.channels}")
        low, high = BED_LEVEL_RANGE_LUFS
        if not low <= self.bed_level_lufs <= high:
            raise SettingError(
                "bed_level", f"expected {low:g} to {high:g} LUFS, got {self.bed_level_lufs:g}"
            )
        low, high = LOUDNESS_RANGE_LUFS
        if self.loudness_lufs is not None and not low <= self.loudness_lufs <= high:
            raise SettingError(
                "loudness", f"expected {low:g} to {high:g} LUFS, got {self.loudness_lufs:g}"
            )

    @property
    def target_lufs(self) -> float:
        """The session's integrated loudness (without a bed)."""
        if self.loudness_lufs is not None:
            return self.loudness_lufs
        return STEREO_LUFS if self.channels == 2 else MONO_LUFS

    @property
    def gain(self) -> float:
        """The gain that brings clips matched for -16 LUFS to :attr:`target_lufs`."""
        return float(10.0 ** ((self.target_lufs - PROGRAM_LUFS) / 20.0))

    def alone(self, clip: FloatArray, gain: float = 1.0) -> FloatArray:
        """Return ``clip`` as this mix places a centred cue, at ``gain``: for a spoken answer
        played on its own, so it is as loud as the session's speech, in both ears."""
        scale = np.float32(gain * self.gain)
        if self.channels == 1:
            return clip * scale
        left, right = pan.gains(0.0)
        return np.stack([clip * (scale * np.float32(left)), clip * (scale * np.float32(right))], 1)

    def describe(self) -> str:
        """Say it in a few words: 'stereo, rain bed at -26 LUFS'."""
        words = "stereo" if self.channels == 2 else "mono"
        if self.bed is not None:
            words += f", {self.bed.name} bed at {self.bed_level_lufs:g} LUFS"
        return words


STEREO = Mix()
MONO = Mix(channels=1)


def prepare(mix: Mix, sample_rate: int, cache: PhraseCache | None = None) -> None:
    """Make the mix's bed ready now (from ``cache`` if it was made before), not at the first block.

    Raises :class:`~voiceguide.errors.AudioError` for a bed file that cannot be read.
    """
    if mix.bed is not None:
        from voiceguide.sound.bed import bed_loop

        bed_loop(mix.bed, sample_rate, mix.channels, cache)


def duck_spans(timeline: Timeline, merge: int) -> list[tuple[int, int]]:
    """Return the stretches of speech ``(start, end)``, joined across gaps under ``merge``."""
    spans: list[tuple[int, int]] = []
    for cue in timeline.cues:
        if cue.kind != "speech":
            continue
        if spans and cue.start - spans[-1][1] < merge:
            spans[-1] = (spans[-1][0], max(spans[-1][1], cue.end))
        else:
            spans.append((cue.start, cue.end))
    return spans


def _smooth(u: Float64Array) -> Float64Array:
    """Smoothstep of ``u`` in [0, 1]: plain arithmetic, so every block computes it alike."""
    return u * u * (3.0 - 2.0 * u)


class BedEnvelope:
    """The bed's gain at every sample of one session: its fades and its dips under speech."""

    def __init__(self, timeline: Timeline) -> None:
        rate = timeline.sample_rate
        self.total = timeline.total
        self.fade = max(1, DUCK_FADE_MS * rate // 1000)
        self.fade_in = max(1, min(BED_FADE_IN_MS * rate // 1000, self.total // 2))
        self.fade_out = max(1, min(BED_FADE_OUT_MS * rate // 1000, self.total // 2))
        self.spans = duck_spans(timeline, DUCK_MERGE_MS * rate // 1000)
        self._reach = [end + self.fade for _, end in self.spans]
        self.ducked = float(10.0 ** (-DUCK_DB / 20.0))

    def gains(self, start: int, length: int) -> Float64Array | None:
        """Return the bed's gain (0 to 1) for samples ``start`` to ``start + length``.

        ``None`` means 1 throughout: most blocks lie between dips, away from the ends, and
        are left alone (where a gain is worked out it is 1 exactly, so either way the
        samples are the same).
        """
        stop = start + length
        gain: Float64Array | None = None
        i = bisect.bisect_right(self._reach, start)
        while i < len(self.spans) and self.spans[i][0] - self.fade < stop:
            first, last = self.spans[i]
            lo, hi = max(start, first - self.fade), min(stop, last + self.fade)
            here = np.arange(lo, hi, dtype=np.float64)
            # 0 outside the dip's reach, rising to 1 at the first word, falling after the last.
            u = np.minimum(here - first + self.fade, last + self.fade - here) / self.fade
            dip = 1.0 - (1.0 - self.ducked) * _smooth(np.clip(u, 0.0, 1.0))
            gain = np.ones(length) if gain is None else gain
            gain[lo - start : hi - start] = np.minimum(gain[lo - start : hi - start], dip)
            i += 1
        if start < self.fade_in:
            here = np.arange(start, min(stop, self.fade_in), dtype=np.float64)
            gain = np.ones(length) if gain is None else gain
            gain[: len(here)] *= _smooth(np.clip((here + 0.5) / self.fade_in, 0.0, 1.0))
        if stop > self.total - self.fade_out:
            first = max(start, self.total - self.fade_out)
            here = np.arange(first, stop, dtype=np.float64)
            gain = np.ones(length) if gain is None else gain
            fading = _smooth(np.clip((self.total - here - 0.5) / self.fade_out, 0.0, 1.0))
            gain[first - start :] *= fading
        return gain


class MixPlan:
    """A mix applied to one timeline: where each clip goes, and the bed under each block."""

    def __init__(self, timeline: Timeline, mix: Mix) -> None:
        self.mix = mix
        self.channels = mix.channels
        self.pans = pan.pans(timeline) if mix.channels == 2 else ()
        self._sweeps: dict[int, FloatArray] = {}
        self._bed: FloatArray | None = None
        self._envelope: BedEnvelope | None = None
        self._bed_gain = 0.0
        if mix.bed is not None:
            from voiceguide.sound.bed import BED_REFERENCE_LUFS, bed_loop

            self._bed = bed_loop(mix.bed, timeline.sample_rate, mix.channels)
            self._envelope = BedEnvelope(timeline)
            self._bed_gain = float(10.0 ** ((mix.bed_level_lufs - BED_REFERENCE_LUFS) / 20.0))

    def empty(self, length: int) -> FloatArray:
        """A silent block of ``length`` samples, in this mix's channels."""
        shape = (length,) if self.channels == 1 else (length, self.channels)
        return np.zeros(shape, dtype=np.float32)

    def place(
        self, block: FloatArray, at: int, index: int, cue: Cue, segment: FloatArray, offset: int
    ) -> None:
        """Put ``segment`` (cue ``index``'s clip from ``offset`` on) into ``block`` at ``at``."""
        end = at + len(segment)
        if self.channels == 1:
            block[at:end] = segment
            return
        where = self.pans[index]
        if where.moves:
            gains = self._sweep(index, where, cue.duration)[offset : offset + len(segment)]
            block[at:end] = segment[:, None] * gains
            return
        left, right = pan.gains(where.start)
        block[at:end, 0] = segment * np.float32(left)
        block[at:end, 1] = segment * np.float32(right)

    def _sweep(self, index: int, where: pan.Pan, length: int) -> FloatArray:
        """The gains of a moving cue, made once for the whole cue (blocks cut it anywhere)."""
        gains = self._sweeps.get(index)
        if gains is None:
            gains = pan.sweep(where, length)
            self._sweeps[index] = gains
        return gains

    def finish(self, block: FloatArray, start: int, gain: float) -> FloatArray:
        """Bring the block starting at ``start`` to the mix's level and lay the bed under it."""
        scale = np.float32(gain * self.mix.gain)
        block *= scale
        if self._bed is not None and self._envelope is not None:
            level = np.float32(self._bed_gain) * scale
            bed = _loop_slice(self._bed, start, len(block))
            shape = self._envelope.gains(start, len(block))
            if shape is None:
                block += bed * level
            else:
                envelope = shape.astype(np.float32) * level
                block += bed * (envelope if self.channels == 1 else envelope[:, None])
        return block


def _loop_slice(loop: FloatArray, start: int, length: int) -> FloatArray:
    """Samples ``start`` to ``start + length`` of ``loop`` repeated for ever."""
    size = len(loop)
    first = start % size
    if first + length <= size:
        return loop[first : first + length]
    pieces = []
    position, left = first, length
    while left:
        take = min(left, size - position)
        pieces.append(loop[position : position + take])
        left -= take
        position = 0
    return np.concatenate(pieces)
