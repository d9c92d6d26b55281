"""The sound bed: built-in loops, a user's file looping, ducking planned from the timeline."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tests.loudness_reference import true_peak_dbfs
from tests.mix_helpers import SR, SineClips, rms_db, two_sided
from voiceguide.errors import AudioError, NotFoundError
from voiceguide.sound import bed, bedgen, meter
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.mix import (
    BED_FADE_IN_MS,
    DUCK_DB,
    DUCK_FADE_MS,
    BedEnvelope,
    Mix,
    duck_spans,
)
from voiceguide.sound.render import render, render_blocks

MS = SR // 1000


def write_noise(path: Path, seconds: float, rate: int = SR, channels: int = 2) -> Path:
    """A file of soft low noise cut anyhow, as a recording is: its end jumps to its start."""
    count = int(seconds * rate)

    def band(f: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 1.0 / np.sqrt((1.0 + (100.0 / f) ** 4) * (1.0 + (f / 600.0) ** 4))

    long = np.stack(
        [bedgen.shaped_noise(11 + c, 2 * count, rate, band) for c in range(channels)], axis=1
    )
    # Cut where the end is furthest from the start: looped as it is, that would click.
    ends = np.abs(long[count - 1 : count + rate // 10, 0] - long[0, 0])
    cut = count + int(np.argmax(ends))
    soundfile.write(path, 0.15 * long[:cut], rate, subtype="PCM_16")
    return path


def largest_jump(samples: npt.NDArray[np.generic]) -> float:
    """The largest step from one sample to the next, in either channel."""
    x = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    return float(np.max(np.abs(np.diff(x, axis=0))))


# -- built-in beds ---------------------------------------------------------------------------


def test_the_generator_is_the_same_for_the_same_seed_and_differs_between_seeds() -> None:
    first, again = bedgen.uniform(5, 10_000), bedgen.uniform(5, 10_000)
    assert np.array_equal(first, again)
    assert np.all((first >= 0) & (first < 1))
    assert abs(float(first.mean()) - 0.5) < 0.02
    assert not np.array_equal(first, bedgen.uniform(6, 10_000))
    assert np.array_equal(bedgen.uniform(5, 20_000)[:10_000], first)  # by index: no state


@pytest.mark.parametrize("name", bedgen.BUILTIN_BEDS)
def test_a_built_in_bed_joins_itself_without_a_seam(name: str) -> None:
    loop = bedgen.GENERATORS[name](SR, 1 << 17)  # six seconds: the same making, shorter
    assert loop.shape == (1 << 17, 2)
    assert np.array_equal(loop, bedgen.GENERATORS[name](SR, 1 << 17))  # deterministic
    around = np.concatenate([loop[-2000:], loop[:2000]])  # the loop point in the middle
    assert largest_jump(around) <= largest_jump(loop)  # the loop point is like any other
    assert not np.allclose(loop[:, 0], loop[:, 1])  # wide, not mono in two ears


def test_built_in_beds_are_made_at_the_reference_level_with_their_peaks_held() -> None:
    loop = bed.bed_loop(bed.BedSource("rain"), SR, 2)
    assert loop.shape == (bedgen.LOOP_SAMPLES, 2)
    assert not loop.flags.writeable
    measured = meter.program_lufs(loop, SR)
    assert measured == pytest.approx(bed.BED_REFERENCE_LUFS, abs=0.2)
    ceiling = bed.BED_REFERENCE_LUFS + bed.BED_CREST_DB
    assert max(true_peak_dbfs(loop[:, c]) for c in range(2)) <= ceiling + 0.1
    assert largest_jump(np.concatenate([loop[-100:], loop[:100]])) < 0.1


def test_a_loop_comes_back_from_the_cache_as_it_was_made(tmp_path: Path) -> None:
    source = bed.BedSource(write_noise(tmp_path / "n.wav", 6).name, tmp_path / "n.wav")
    cache = PhraseCache(tmp_path / "cache")
    made = bed.bed_loop(source, SR, 1, cache).copy()
    assert len(list((tmp_path / "cache").iterdir())) == 1
    bed._made.clear()
    again = bed.bed_loop(source, SR, 1, cache)  # read back, not made again
    assert np.array_equal(made, again)
    bed._made.clear()
    assert np.array_equal(made, bed.bed_loop(source, SR, 1))  # and made again, the same


# -- a bed of the user's own -------------------------------------------------------------------


def test_a_file_loops_with_a_crossfade_and_no_click(tmp_path: Path) -> None:
    path = write_noise(tmp_path / "rec.flac", 8, rate=44_100)
    raw, _ = soundfile.read(path, always_2d=True)
    assert largest_jump(raw[[-1, 0]]) > 3 * largest_jump(raw)  # looped as it is, it would click
    source = bed.choose_bed(str(path))
    assert source is not None
    loop = bed.bed_loop(source, SR, 2)
    crossfade = SR * bed.LOOP_CROSSFADE_MS // 1000
    assert len(loop) == round(len(raw) * SR / 44_100) - crossfade  # resampled to 22,050 Hz
    inside = largest_jump(loop)
    assert largest_jump(np.concatenate([loop[-50:], loop[:50]])) <= inside
    measured = meter.program_lufs(loop, SR)
    assert measured == pytest.approx(bed.BED_REFERENCE_LUFS, abs=0.3)


def test_the_crossfade_runs_the_end_on_into_the_start() -> None:
    ramp = np.arange(100, dtype=np.float64)
    loop = bed.crossfade_loop(ramp, 20)
    assert len(loop) == 80
    assert loop[-1] == 79  # then, around the loop, what followed 79 in the input: 80
    assert loop[0] == pytest.approx(80, abs=0.1)
    assert np.array_equal(loop[20:], ramp[20:80])  # past the crossfade, the input as it was


def _grow(path: Path) -> None:
    with path.open("wb") as file:
        file.truncate(bed.MAX_BED_BYTES + 2**20)  # sparse: costs no disk


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("not audio"), r"not a sound file that can be read"),
        (lambda p: write_noise(p, 1.0), r"expected 4 s to 5 minutes, got 1\.\d s"),
        (
            lambda p: write_noise(p, 6, rate=4_000),
            r"expected a sample rate of 8,000 to 96,000 Hz, got 4,000 Hz",
        ),
        (
            lambda p: soundfile.write(p, np.zeros((SR * 5, 3)), SR),
            r"expected mono or stereo, got 3 channels",
        ),
        (_grow, r"expected at most 64 MB, got 65 MB"),
    ],
    ids=["not-audio", "too-short", "rate", "channels", "too-big"],
)
def test_a_file_that_cannot_be_a_bed_is_one_line(
    tmp_path: Path, make: object, message: str
) -> None:
    path = tmp_path / "bad.wav"
    make(path)  # type: ignore[operator]
    with pytest.raises(AudioError, match=f"^bed file {path}: .*{message}") as caught:
        bed.choose_bed(str(path))
    assert "\n" not in str(caught.value)


def test_silence_is_no_bed(tmp_path: Path) -> None:
    path = tmp_path / "quiet.wav"
    soundfile.write(path, np.zeros(SR * 5), SR)
    source = bed.choose_bed(str(path))
    assert source is not None
    with pytest.raises(AudioError, match="holds only silence"):
        bed.bed_loop(source, SR, 2)


def test_a_bed_is_named_or_a_file() -> None:
    assert bed.choose_bed("rain") == bed.BedSource("rain")
    assert bed.choose_bed("none") is None
    with pytest.raises(NotFoundError, match=r"^no bed named 'rian' \(did you mean 'rain'\?\)"):
        bed.choose_bed("rian")
    with pytest.raises(NotFoundError, match=r"^bed file not found: .*missing\.flac$"):
        bed.choose_bed("missing.flac")


# -- the bed under a session -----------------------------------------------------------------


@pytest.fixture
def file_bed(tmp_path: Path) -> bed.BedSource:
    """A five-second bed that loops several times in a session."""
    source = bed.choose_bed(str(write_noise(tmp_path / "bed.wav", 5)))
    assert source is not None
    return source


def speech_cues(timeline: object) -> list[tuple[int, int]]:
    return [(c.start, c.end) for c in timeline.cues if c.kind == "speech"]  # type: ignore[attr-defined]


def test_the_bed_holds_its_level_dips_under_speech_and_not_under_sounds(
    file_bed: bed.BedSource,
) -> None:
    timeline = two_sided(SineClips(silent=True))  # every clip silent: the bed alone
    alone = render(timeline, SineClips(silent=True), mix=Mix(bed=file_bed))
    fade = DUCK_FADE_MS * MS
    holds = [c for c in timeline.cues if c.phase == "hold" and c.kind == "silence"]
    assert holds
    for hold in holds:
        part = alone[hold.start + fade : hold.end - fade].astype(np.float32) / 32768
        measured = meter.program_lufs(part, SR)
        assert measured == pytest.approx(-26.0, abs=1.0)  # its level, held
    spans = duck_spans(timeline, 1_500 * MS)
    for start, end in spans:
        if end - start > SR // 2:
            under = rms_db(alone[start:end])
            beside = rms_db(holds_near(alone, timeline, start))
            assert beside - under >= 10.0
    for cue in timeline.cues:
        if cue.kind == "tone" and cue.phase == "hold":  # the press sound, away from speech
            assert rms_db(alone[cue.start : cue.end]) == pytest.approx(
                rms_db(alone[cue.end + fade : cue.end + 2 * fade]), abs=1.5
            )


def holds_near(samples: npt.NDArray[np.int16], timeline: object, at: int) -> npt.NDArray[np.int16]:
    """The bed in the nearest hold to ``at`` (well inside it)."""
    holds = [c for c in timeline.cues if c.phase == "hold" and c.kind == "silence"]  # type: ignore[attr-defined]
    near = min(holds, key=lambda c: abs(c.start - at))
    fade = DUCK_FADE_MS * MS
    return samples[near.start + fade : near.end - fade]


def test_the_dip_starts_before_the_speech_and_fades_in_and_out_at_the_ends() -> None:
    timeline = two_sided()
    envelope = BedEnvelope(timeline)
    fade = envelope.fade
    assert fade == DUCK_FADE_MS * SR // 1000
    ducked = 10 ** (-DUCK_DB / 20)
    gains = envelope.gains(0, timeline.total)
    assert gains is not None
    between = next(c for c in timeline.cues if c.kind == "silence" and c.phase == "hold")
    assert envelope.gains(between.start + fade, between.duration - 2 * fade) is None  # all 1
    first_after_lead_in = next(c for c in timeline.cues if c.kind == "speech" and c.side == "right")
    s = first_after_lead_in.start
    assert gains[s] == pytest.approx(ducked, rel=1e-6)  # fully down when the words begin
    assert gains[s - fade // 2] < 0.9  # already going down half a fade before
    assert gains[s - fade - 1] == pytest.approx(1.0)  # and not before the fade
    assert gains[0] < 0.01  # fades in
    assert gains[-1] < 0.01  # and out
    assert gains[SR // 2] < gains[SR] < 1.0  # rising through the fade in, before any speech
    assert BED_FADE_IN_MS * SR // 1000 > SR
    assert np.all(np.abs(np.diff(gains)) < 2.0 / fade)  # no step anywhere


def test_speech_close_together_shares_one_dip() -> None:
    timeline = two_sided()
    spans = duck_spans(timeline, 1_500 * MS)
    speech = speech_cues(timeline)
    assert len(spans) < len(speech)
    for (_, a_end), (b_start, _) in itertools.pairwise(spans):
        assert b_start - a_end >= 1_500 * MS
    assert all(any(s <= c0 and c1 <= e for s, e in spans) for c0, c1 in speech)


def test_a_block_with_a_bed_is_the_same_wherever_rendering_starts(
    file_bed: bed.BedSource,
) -> None:
    timeline = two_sided()
    clips = SineClips()
    for mix in (Mix(bed=file_bed), Mix(channels=1, bed=file_bed, bed_level_lufs=-30)):
        whole = render(timeline, clips, mix=mix)
        for start in (12_345, 5 * SR - 17, timeline.total - 3000):
            pieces = render_blocks(timeline, clips, start=start, block_samples=9_973, mix=mix)
            assert np.array_equal(np.concatenate(list(pieces)), whole[start:])


def test_the_bed_loops_through_a_session_without_a_click(file_bed: bed.BedSource) -> None:
    timeline = two_sided(SineClips(silent=True))
    alone = render(timeline, SineClips(silent=True), mix=Mix(bed=file_bed, bed_level_lufs=-20))
    loop = len(bed.bed_loop(file_bed, SR, 2))
    assert timeline.total > 3 * loop
    for k in range(1, timeline.total // loop):
        around = np.abs(np.diff(alone[k * loop - 1000 : k * loop + 1000].astype(np.int32), axis=0))
        at_the_loop_point = around[999].max()
        assert around.max() > 0
        assert at_the_loop_point <= np.delete(around, 999, axis=0).max()  # like any other step


def test_the_bed_level_moves_the_bed_and_nothing_else(file_bed: bed.BedSource) -> None:
    timeline = two_sided(SineClips(silent=True))
    quiet = render(timeline, SineClips(silent=True), mix=Mix(bed=file_bed, bed_level_lufs=-36))
    loud = render(timeline, SineClips(silent=True), mix=Mix(bed=file_bed))
    assert rms_db(loud) - rms_db(quiet) == pytest.approx(10.0, abs=0.2)
    speech = render(timeline, SineClips(), mix=Mix(bed=file_bed))
    without = render(timeline, SineClips())
    cue = next(c for c in timeline.cues if c.kind == "speech" and c.side == "right")
    # Under speech the bed is 22 dB under its -26 LUFS: far under the voice.
    assert rms_db(speech[cue.start : cue.end]) == pytest.approx(
        rms_db(without[cue.start : cue.end]), abs=0.1
    )
    assert math.isfinite(rms_db(speech[: SR // 2]))  # the bed is there from the start
