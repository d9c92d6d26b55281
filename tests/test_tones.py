"""The tone vocabulary: distinct, click-free, leveled; and how sounds are found and loaded."""

from __future__ import annotations

import itertools
import struct
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile

from tests.loudness_reference import true_peak_dbfs
from voiceguide import paths
from voiceguide.errors import AudioError, ExitStatus, NotFoundError
from voiceguide.pcm import SAMPLE_RATE, resample
from voiceguide.sound import loudness, meter
from voiceguide.sound.tones import LEVEL_OFFSET_DB, TONE_NAMES, Sounds

if TYPE_CHECKING:
    import numpy.typing as npt

    Samples = npt.NDArray[np.float64]

ROOT = Path(__file__).resolve().parent.parent
BUILTIN = paths.builtin_audio_dir()


def _builtin(name: str) -> Samples:
    data, rate = soundfile.read(BUILTIN / f"{name}.wav", dtype="float64")
    assert rate == SAMPLE_RATE
    return np.asarray(data, dtype=np.float64)


def _sine(freq_hz: float, duration_ms: int, rate: int, amplitude: float = 0.5) -> Samples:
    t = np.arange(rate * duration_ms // 1000) / rate
    fade = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.01)
    return amplitude * fade * np.sin(2 * np.pi * freq_hz * t)


def _notes_hz(x: Samples, rate: int) -> list[float]:
    """Return the melody heard: the strongest frequency over time, runs of it as notes."""
    window = rate * 60 // 1000
    hop = rate * 20 // 1000
    taper = np.hanning(window)
    loudest = float(np.max(np.abs(x)))
    track: list[float] = []
    for start in range(0, max(1, len(x) - window + 1), hop):
        frame = x[start : start + window]
        if float(np.max(np.abs(frame))) < 0.1 * loudest:
            continue
        spectrum = np.abs(np.fft.rfft(frame * taper[: len(frame)], 1 << 15))
        track.append(float(np.fft.rfftfreq(1 << 15, 1 / rate)[np.argmax(spectrum)]))
    notes: list[float] = []
    for pitch in track:
        if not notes or abs(pitch / notes[-1] - 1) > 0.03:
            notes.append(pitch)
    return notes


def _contour(name: str) -> tuple[str, ...]:
    """Describe a tone's melody as steps: 'up' or 'down'."""
    notes = _notes_hz(_builtin(name), SAMPLE_RATE)
    return tuple("up" if b > a else "down" for a, b in itertools.pairwise(notes))


@pytest.fixture
def user_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "user-audio"
    folder.mkdir()
    return folder


# --- The built-in files ------------------------------------------------------------------


@pytest.mark.parametrize("name", TONE_NAMES)
def test_every_tone_has_a_16_bit_mono_file_at_the_pipeline_rate(name: str) -> None:
    info = soundfile.info(BUILTIN / f"{name}.wav")
    assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")


@pytest.mark.parametrize("name", TONE_NAMES)
def test_tone_starts_and_ends_at_zero_without_a_click(name: str) -> None:
    x = _builtin(name)
    peak = float(np.max(np.abs(x)))
    one_ms = SAMPLE_RATE // 1000
    assert x[0] == 0.0
    assert x[-1] == 0.0
    # A click is a step: here the first and last millisecond only creep away from zero.
    assert np.max(np.abs(np.diff(x[: one_ms + 1]))) < 0.15 * peak
    assert np.max(np.abs(x[-one_ms:])) < 0.01 * peak
    assert abs(float(np.mean(x))) < 1e-4 * peak  # no DC


@pytest.mark.parametrize("name", TONE_NAMES)
def test_tone_peaks_below_the_ceiling_at_its_playback_level(name: str) -> None:
    x = _builtin(name)
    assert true_peak_dbfs(x) < loudness.PEAK_CEILING_DBFS
    expected = loudness.SOUND_LUFS + LEVEL_OFFSET_DB.get(name, 0.0)
    assert meter.max_momentary_lufs(x, SAMPLE_RATE) == pytest.approx(expected, abs=0.1)


def test_tones_have_the_designed_lengths() -> None:
    lengths_ms = {name: len(_builtin(name)) * 1000 // SAMPLE_RATE for name in TONE_NAMES}
    assert lengths_ms == {
        "press": 600,
        "release": 600,
        "tick": 80,
        "switch": 1000,
        "start": 2500,
        "end": 3000,
    }


def test_tones_have_the_designed_pitch_contours() -> None:
    contours = {name: _contour(name) for name in TONE_NAMES}
    assert contours == {
        "press": ("up",),
        "release": ("down",),
        "tick": (),
        "switch": ("up", "down"),
        "start": (),
        "end": ("down", "down"),
    }


def test_every_pair_of_tones_differs_in_length_or_contour() -> None:
    signatures = {
        (len(_builtin(name)) // (SAMPLE_RATE // 10), _contour(name)) for name in TONE_NAMES
    }
    assert len(signatures) == len(TONE_NAMES)


def test_tick_is_the_brightest_and_the_bowl_the_darkest() -> None:
    def centroid_hz(name: str) -> float:
        x = _builtin(name)
        magnitude = np.abs(np.fft.rfft(x))
        freqs = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
        return float(np.sum(magnitude * freqs) / np.sum(magnitude))

    centroids = {name: centroid_hz(name) for name in TONE_NAMES}
    assert max(centroids, key=centroids.__getitem__) == "tick"
    assert min(centroids, key=centroids.__getitem__) == "start"


def test_make_tones_regenerates_the_committed_files(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "make_tones.py"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
    )
    for name in TONE_NAMES:
        fresh, _ = soundfile.read(tmp_path / f"{name}.wav", dtype="int16")
        committed, _ = soundfile.read(BUILTIN / f"{name}.wav", dtype="int16")
        assert len(fresh) == len(committed)
        # Allow one step of rounding for a different numpy or CPU.
        assert np.max(np.abs(fresh.astype(int) - committed.astype(int))) <= 1, name


# --- Sounds ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TONE_NAMES)
def test_sounds_loads_each_tone_as_read_only_float32(name: str) -> None:
    sounds = Sounds([BUILTIN])
    x = sounds.sound(name)
    assert x.dtype == np.float32
    assert x.ndim == 1
    assert not x.flags.writeable
    assert sounds.sound_samples(name) == len(x) == len(_builtin(name))
    # The files are already at their playback level: loading changes them by a hair at most.
    assert np.max(np.abs(x - _builtin(name))) < 2e-3


def test_sounds_are_loaded_once() -> None:
    sounds = Sounds([BUILTIN])
    assert sounds.sound("press") is sounds.sound("press")


def test_names_lists_the_vocabulary_then_extra_sounds(user_dir: Path) -> None:
    soundfile.write(user_dir / "chime.ogg", _sine(880, 300, SAMPLE_RATE), SAMPLE_RATE)
    soundfile.write(user_dir / "press.wav", _sine(880, 300, SAMPLE_RATE), SAMPLE_RATE)
    (user_dir / "notes.txt").write_text("not a sound")
    # heard.wav (the nod a voice command gets) is a built-in file beyond the vocabulary.
    assert Sounds([user_dir, BUILTIN]).names() == [*TONE_NAMES, "chime", "heard"]


def test_user_sound_wins_over_the_builtin_one(user_dir: Path) -> None:
    soundfile.write(user_dir / "press.flac", _sine(880, 300, SAMPLE_RATE), SAMPLE_RATE)
    sounds = Sounds([user_dir, BUILTIN])
    assert sounds.find("press") == user_dir / "press.flac"
    assert sounds.sound_samples("press") == SAMPLE_RATE * 300 // 1000
    assert sounds.find("release") == BUILTIN / "release.wav"


def test_default_folders_are_the_users_then_the_builtin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path))
    user_audio = paths.user_audio_dir()
    user_audio.mkdir(parents=True)
    soundfile.write(user_audio / "tick.ogg", _sine(1500, 50, SAMPLE_RATE), SAMPLE_RATE)
    sounds = Sounds()
    assert sounds.search_dirs == (user_audio, BUILTIN)
    assert sounds.find("tick") == user_audio / "tick.ogg"
    assert sounds.sound_samples("tick") == SAMPLE_RATE * 50 // 1000


def test_user_sound_is_brought_to_the_level_of_the_one_it_replaces(user_dir: Path) -> None:
    soundfile.write(user_dir / "press.wav", _sine(660, 800, SAMPLE_RATE, 0.02), SAMPLE_RATE)
    soundfile.write(user_dir / "tick.wav", _sine(660, 800, SAMPLE_RATE, 0.9), SAMPLE_RATE)
    sounds = Sounds([user_dir, BUILTIN])
    press = meter.max_momentary_lufs(sounds.sound("press"), SAMPLE_RATE)
    tick = meter.max_momentary_lufs(sounds.sound("tick"), SAMPLE_RATE)
    assert press == pytest.approx(loudness.SOUND_LUFS, abs=0.1)
    assert tick == pytest.approx(loudness.SOUND_LUFS + LEVEL_OFFSET_DB["tick"], abs=0.1)


def test_user_sound_is_faded_so_it_cannot_click(user_dir: Path) -> None:
    abrupt = np.full(SAMPLE_RATE // 2, 0.3)
    abrupt[::2] = -0.3  # a square wave at Nyquist/2 that starts and stops at full level
    soundfile.write(user_dir / "start.wav", abrupt, SAMPLE_RATE)
    x = Sounds([user_dir]).sound("start")
    assert x[0] == 0.0
    assert x[-1] == 0.0


def test_stereo_user_sound_is_mixed_to_mono(user_dir: Path) -> None:
    left = _sine(440, 500, SAMPLE_RATE)
    soundfile.write(user_dir / "end.wav", np.stack([left, left], axis=1), SAMPLE_RATE)
    x = Sounds([user_dir]).sound("end")
    assert x.shape == (len(left),)


@pytest.mark.parametrize(
    ("file_rate", "file_samples"),
    [(44_100, 44_100), (44_100, 22_051), (48_000, 48_000), (16_000, 8_001), (8_000, 12_345)],
)
def test_user_sound_at_another_rate_is_resampled_to_the_right_length(
    user_dir: Path, file_rate: int, file_samples: int
) -> None:
    t = np.arange(file_samples) / file_rate
    soundfile.write(user_dir / "switch.wav", 0.5 * np.sin(2 * np.pi * 440 * t), file_rate)
    sounds = Sounds([user_dir])
    assert sounds.sound_samples("switch") == round(file_samples * SAMPLE_RATE / file_rate)


def test_resampling_keeps_the_waveform() -> None:
    source = _sine(1000, 1000, 44_100)
    out = resample(source, 44_100, SAMPLE_RATE)
    expected = _sine(1000, 1000, SAMPLE_RATE)
    assert len(out) == len(expected)
    middle = slice(SAMPLE_RATE // 10, -SAMPLE_RATE // 10)
    assert np.max(np.abs(out[middle] - expected[middle])) < 1e-3


def test_resampling_removes_what_the_new_rate_cannot_hold() -> None:
    out = resample(_sine(15_000, 500, 44_100), 44_100, SAMPLE_RATE)  # above 11,025 Hz
    assert np.max(np.abs(out)) < 1e-3


def test_a_path_names_a_sound_file_directly(tmp_path: Path) -> None:
    path = tmp_path / "bell.ogg"
    soundfile.write(path, _sine(523, 700, SAMPLE_RATE), SAMPLE_RATE)
    sounds = Sounds([BUILTIN])
    assert sounds.sound_samples(path) == SAMPLE_RATE * 700 // 1000
    assert sounds.sound_samples(str(path)) == SAMPLE_RATE * 700 // 1000


def test_unknown_name_suggests_close_names_and_lists_the_folders(user_dir: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        Sounds([user_dir, BUILTIN]).sound("pres")
    assert str(caught.value) == (
        "no sound named 'pres' (did you mean 'press'?); "
        f"looked for pres.wav, pres.flac or pres.ogg in {user_dir}, {BUILTIN}"
    )
    assert caught.value.exit_code == ExitStatus.NOT_FOUND


def test_unknown_name_without_close_matches(user_dir: Path) -> None:
    with pytest.raises(NotFoundError, match=r"^no sound named 'xylophone'; looked for"):
        Sounds([user_dir]).sound("xylophone")


def test_missing_sound_file_is_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.wav"
    with pytest.raises(NotFoundError, match="sound file not found: "):
        Sounds([BUILTIN]).sound(missing)


def test_corrupt_sound_file_names_the_file(user_dir: Path) -> None:
    broken = user_dir / "press.wav"
    broken.write_bytes(b"RIFF\x00\x01\x02\x03 this is not audio at all")
    with pytest.raises(AudioError, match=f"^cannot read sound file {broken}: "):
        Sounds([user_dir, BUILTIN]).sound("press")


def test_empty_sound_file_names_the_file(user_dir: Path) -> None:
    empty = user_dir / "tick.wav"
    soundfile.write(empty, np.zeros(0), SAMPLE_RATE)
    with pytest.raises(AudioError, match=f"^sound file {empty} holds no audio$"):
        Sounds([user_dir]).sound("tick")


def test_finished_sounds_are_kept_in_the_cache_and_made_again_when_the_file_changes(
    tmp_path: Path,
) -> None:
    from voiceguide.sound.cache import PhraseCache

    folder = tmp_path / "audio"
    folder.mkdir()
    rate = 22_050
    t = np.arange(rate // 2) / rate
    tone = (0.3 * np.sin(2 * np.pi * 440 * t) * np.hanning(len(t))).astype(np.float32)
    soundfile.write(folder / "press.wav", tone, rate, subtype="PCM_16")
    cache = PhraseCache(tmp_path / "cache")

    first = Sounds([folder], cache=cache).sound("press")
    assert cache.info().entries == 1
    again = Sounds([folder], cache=cache).sound("press")
    np.testing.assert_array_equal(first, again)
    assert cache.info().entries == 1  # read back, not made again

    soundfile.write(folder / "press.wav", tone[: rate // 4], rate, subtype="PCM_16")
    changed = Sounds([folder], cache=cache).sound("press")
    assert len(changed) == rate // 4
    assert cache.info().entries == 2


# --- Bounds, from the header, before decoding ----------------------------------------------


def _wav_header(path: Path, rate: int, frames: int, channels: int = 1) -> None:
    """Write a 16-bit WAV whose header says ``rate`` and holds ``frames`` of silence."""
    data = bytes(2 * channels * frames)
    byte_rate = (rate * channels * 2) & 0xFFFFFFFF  # an absurd rate overflows the field
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, byte_rate, 2 * channels, 16)
    riff = b"WAVE" + b"fmt " + fmt + b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(riff)) + riff)


def _both_refuse(path: Path, message: str) -> None:
    """The renderer's reader and the estimate's both refuse ``path`` with ``message``."""
    from voiceguide.compile.estimate import EstimatedLengths
    from voiceguide.sound.cache import PhraseCache

    for sounds in (Sounds([path.parent]), Sounds([path.parent], cache=PhraseCache())):
        with pytest.raises(AudioError) as caught:
            sounds.sound(path.stem)
        assert str(caught.value) == f"{path}: {message}"
    with pytest.raises(AudioError) as caught:
        EstimatedLengths(150).sound_samples(path.stem)
    assert str(caught.value) == f"{path}: {message}"


@pytest.fixture
def own_audio() -> Path:
    folder = paths.user_audio_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_a_header_claiming_an_absurd_rate_is_refused(own_audio: Path) -> None:
    path = own_audio / "press.wav"
    _wav_header(path, rate=2_147_483_647, frames=1000)  # decoding it would want 48 GiB
    _both_refuse(path, "expected a sample rate of 8,000 to 96,000 Hz, got 2,147,483,647 Hz")


def test_a_small_file_at_one_hertz_is_refused(own_audio: Path) -> None:
    path = own_audio / "tick.wav"
    _wav_header(path, rate=1, frames=1024)  # 2 KB that would last 17 minutes
    _both_refuse(path, "expected a sample rate of 8,000 to 96,000 Hz, got 1 Hz")


def test_a_sound_longer_than_a_cue_is_refused(own_audio: Path) -> None:
    path = own_audio / "switch.wav"
    _wav_header(path, rate=SAMPLE_RATE, frames=SAMPLE_RATE * 121)
    _both_refuse(path, "expected a sound of at most 120 s, got 121.0 s")


def test_too_many_channels_are_refused(own_audio: Path) -> None:
    path = own_audio / "end.wav"
    _wav_header(path, rate=SAMPLE_RATE, frames=100, channels=9)
    _both_refuse(path, "expected 1 to 8 channels, got 9")


def test_a_file_too_large_is_refused_before_it_is_read(own_audio: Path) -> None:
    path = own_audio / "start.wav"
    _wav_header(path, rate=SAMPLE_RATE, frames=1000)
    with path.open("r+b") as file:
        file.truncate(70 * 2**20)  # sparse: nothing is written, nothing need be read
    _both_refuse(path, "expected a sound file of at most 64 MB, got 73,400,320 bytes")
