"""Stereo: a side's cues lean to that ear, the switch crosses, loudness holds by construction."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.loudness_reference import true_peak_dbfs
from tests.mix_helpers import SR, SineClips, ears_db, two_sided
from voiceguide.errors import SettingError
from voiceguide.sound import meter, pan
from voiceguide.sound.mix import MONO, STEREO, Mix
from voiceguide.sound.render import render, render_blocks


@pytest.mark.parametrize(
    ("side", "ear"),
    [
        ("left", "left"),
        ("right", "right"),
        ("left foot", "left"),
        ("Right arm", "right"),
        ("the LEFT side", "left"),
        ("front", None),
        ("the side where your back hurts more", None),
        ("leftover", None),  # a word, not a part of one
        ("left and right", None),  # both: no way to tell
        (None, None),
    ],
)
def test_a_side_leans_to_the_ear_its_name_says(side: str | None, ear: str | None) -> None:
    assert pan.ear_of(side) == ear


@pytest.mark.parametrize("position", [-1.0, -0.5, 0.0, 0.3, 1.0])
def test_panning_keeps_the_power(position: float) -> None:
    left, right = pan.gains(position)
    assert left**2 + right**2 == pytest.approx(1.0, abs=1e-12)


def test_a_lean_is_six_db_quieter_in_the_far_ear_and_the_centre_is_even() -> None:
    left, right = pan.gains(1.0)
    assert 20 * math.log10(right / left) == pytest.approx(pan.LEAN_DB, abs=1e-9)
    left, right = pan.gains(-1.0)
    assert 20 * math.log10(left / right) == pytest.approx(pan.LEAN_DB, abs=1e-9)
    assert pan.gains(0.0)[0] == pytest.approx(pan.gains(0.0)[1])


def test_every_cue_of_a_side_leans_and_the_switch_goes_from_one_to_the_other() -> None:
    timeline = two_sided()
    pans = pan.pans(timeline)
    for cue, where in zip(timeline.cues, pans, strict=True):
        if cue.kind == "tone" and cue.phase == "switch":
            assert (where.start, where.end) == (1.0, -1.0)  # from right to left
        elif cue.side == "right":
            assert (where.start, where.end) == (1.0, 1.0)
        elif cue.side == "left":
            assert (where.start, where.end) == (-1.0, -1.0)
        else:
            assert where == pan.CENTRE


def test_right_side_speech_is_louder_in_the_right_ear_and_centre_cues_are_even() -> None:
    timeline = two_sided()
    stereo = render(timeline, SineClips())
    assert stereo.shape == (timeline.total, 2)
    checked = {"right": 0, "left": 0, "centre": 0}
    for cue in timeline.sounds():
        if cue.kind == "tone" and cue.phase == "switch":
            continue
        left, right = ears_db(stereo, cue)
        if cue.side == "right":
            assert right - left >= 4.0, cue
            checked["right"] += 1
        elif cue.side == "left":
            assert left - right >= 4.0, cue
            checked["left"] += 1
        else:
            assert abs(left - right) <= 1.0, cue
            checked["centre"] += 1
    assert min(checked.values()) >= 3


def test_the_switch_sound_crosses_from_the_side_that_ended_to_the_next() -> None:
    timeline = two_sided()
    stereo = render(timeline, SineClips())
    (switch,) = [c for c in timeline.cues if c.kind == "tone" and c.phase == "switch"]
    tenth = switch.duration // 10
    start = stereo[switch.start : switch.start + tenth].astype(np.float64)
    end = stereo[switch.end - tenth : switch.end].astype(np.float64)
    left_0, right_0 = np.sqrt(np.mean(start**2, axis=0))
    left_1, right_1 = np.sqrt(np.mean(end**2, axis=0))
    assert 20 * math.log10(right_0 / left_0) > 4  # begins on the right, where the side ended
    assert 20 * math.log10(left_1 / right_1) > 4  # ends on the left, where the next begins
    gains = pan.sweep(pan.Pan(1.0, -1.0), 1000)
    assert np.all(np.diff(gains[:, 0]) >= 0)  # the left ear only rises,
    assert np.all(np.diff(gains[:, 1]) <= 0)  # the right only falls


def test_stereo_measures_what_mono_did_and_mono_is_three_db_under() -> None:
    timeline = two_sided()
    clips = SineClips()
    stereo = render(timeline, clips).astype(np.float32) / 32768
    mono_16 = render(timeline, clips, mix=Mix(channels=1, loudness_lufs=-16.0))
    mono = render(timeline, clips, mix=MONO).astype(np.float32) / 32768
    measured = meter.program_lufs(stereo, SR)
    reference = meter.integrated_lufs(mono_16.astype(np.float32) / 32768, SR)
    assert measured == pytest.approx(reference, abs=0.05)  # constant power
    assert meter.integrated_lufs(mono, SR) == pytest.approx(reference - 3.0, abs=0.05)
    # The louder ear of a leaning cue gets 0.97 dB less than the clip: peaks only fall.
    mono_peak = true_peak_dbfs(mono_16.astype(np.float32) / 32768)
    for channel in range(2):
        assert true_peak_dbfs(stereo[:, channel]) <= mono_peak - 0.9


def test_the_stereo_meter_sums_the_channels_energies() -> None:
    noise = np.sin(np.arange(SR * 3) * 0.37).astype(np.float64) * 0.1
    one = meter.program_lufs(np.stack([noise, np.zeros_like(noise)], axis=1), SR)
    assert one == pytest.approx(meter.integrated_lufs(noise, SR), abs=1e-9)
    both = meter.program_lufs(np.stack([noise, noise], axis=1), SR)
    assert both == pytest.approx(one + 10 * math.log10(2))
    with pytest.raises(ValueError, match=r"shape \(n,\) or \(n, channels\)"):
        meter.program_lufs(np.zeros((2, 2, 2)), SR)


def test_a_stereo_block_is_the_same_wherever_rendering_starts() -> None:
    timeline = two_sided()
    clips = SineClips()
    whole = render(timeline, clips)
    start = 45_000 * SR // 1000 + 123  # inside the switch sound
    pieces = list(render_blocks(timeline, clips, start=start, block_samples=777))
    assert np.array_equal(np.concatenate(pieces), whole[start:])


def test_a_mix_out_of_range_names_its_setting() -> None:
    with pytest.raises(SettingError, match=r"^channels: expected 1 \(mono\) or 2"):
        Mix(channels=3)
    with pytest.raises(SettingError, match=r"^bed_level: expected -40 to -20 LUFS, got -10$"):
        Mix(bed_level_lufs=-10)
    with pytest.raises(SettingError, match=r"^loudness: expected -24 to -16 LUFS, got -14$"):
        Mix(loudness_lufs=-14)
    assert STEREO.target_lufs == -16
    assert MONO.target_lufs == -19
