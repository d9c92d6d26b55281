"""--mono, --bed and --bed-level on the command line, and ``bed:`` in a routine's settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tests.helpers import TWO_SIDED_ROUTINE
from tests.helpers import run_cli as run
from tests.mix_helpers import SR
from tests.output.test_cli import FakeEngine
from tests.test_bed import write_noise
from voiceguide.errors import ScriptError
from voiceguide.script.library import load_path


@pytest.fixture(autouse=True)
def fake_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speak with the export tests' tone engine, whatever engine is asked for."""
    from voiceguide.sound import engines

    monkeypatch.setattr(engines, "make_engine", lambda *args, **kwargs: FakeEngine())


@pytest.fixture
def routine(tmp_path: Path) -> Path:
    path = tmp_path / "hands.yaml"
    path.write_text(TWO_SIDED_ROUTINE, encoding="utf-8")
    return path


def export_wav(
    routine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> npt.NDArray[np.int16]:
    target = tmp_path / "out.wav"
    code, _, err = run(["export", str(routine), "-o", str(target), "--skip-intro", *extra], capsys)
    assert (code, err) == (0, "")
    samples, rate = soundfile.read(target, dtype="int16")
    assert rate == SR
    return samples  # type: ignore[no-any-return]


def test_exports_are_stereo_unless_mono_is_asked(
    routine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stereo = export_wav(routine, tmp_path, capsys)
    mono = export_wav(routine, tmp_path, capsys, "--mono")
    assert stereo.shape == (len(mono), 2)
    assert mono.ndim == 1
    # Stereo's loudest samples are a leaning cue's near ear, 0.894 of the clip; mono's
    # speech is at -19 LUFS where stereo's is at -16, 0.708 of the clip.
    loud = np.abs(mono).max()
    assert loud == pytest.approx(np.abs(stereo).max() / 0.894 * 0.708, rel=0.02)


def test_a_bed_fills_the_silence_and_a_routine_can_ask_for_one(
    routine: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = export_wav(routine, tmp_path, capsys)
    noise = write_noise(tmp_path / "sea.wav", 5)
    with_bed = export_wav(routine, tmp_path, capsys, "--bed", str(noise))
    silent = np.all(plain == 0, axis=1)
    assert silent.mean() > 0.3
    assert np.mean(np.any(with_bed[silent] != 0, axis=1)) > 0.9  # the bed is under the quiet
    routine.write_text(
        TWO_SIDED_ROUTINE.replace("settings: {", "settings: {bed: sea.wav, "), encoding="utf-8"
    )
    assert np.array_equal(export_wav(routine, tmp_path, capsys), with_bed)  # from the routine
    assert np.array_equal(export_wav(routine, tmp_path, capsys, "--bed", "none"), plain)
    quieter = export_wav(routine, tmp_path, capsys, "--bed-level", "-36")
    level = np.sqrt(np.mean(with_bed[silent].astype(np.float64) ** 2))
    assert 20 * np.log10(level / np.sqrt(np.mean(quieter[silent].astype(np.float64) ** 2))) == (
        pytest.approx(10.0, abs=0.3)
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--bed", "rian"], 3, "voiceguide: no bed named 'rian' (did you mean 'rain'?); "),
        (["--bed", "nothing.flac"], 3, "voiceguide: bed file not found: nothing.flac"),
        (["--bed-level", "-10"], 2, "voiceguide: --bed-level: expected -40.0 to -20.0, got -10.0"),
        (["--bed", "{routine}"], 1, "voiceguide: bed file {routine}: not a sound file that can"),
    ],
)
def test_a_bad_bed_is_one_line_before_any_work(
    routine: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{routine}", str(routine)) for a in args]
    message = message.replace("{routine}", str(routine))
    for command in ("export", "play"):
        got, out, err = run([command, str(routine), *args], capsys)
        assert (got, out) == (code, "")
        assert err.startswith(message), err
        assert err.count("\n") == 1
    assert not list(tmp_path.glob("*.mp3"))  # refused before any work: nothing written


def test_a_routine_names_its_bed_and_a_bad_one_is_located(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("title: T\nsettings: {bed: waves}\nsteps:\n  - say: Hi.\n", encoding="utf-8")
    assert load_path(path).settings.bed == "waves"
    path.write_text("title: T\nsettings: {bed: rian}\nsteps:\n  - say: Hi.\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"r\.yaml:2:17: bed: expected one of rain, drone, waves"):
        load_path(path)
    path.write_text("title: T\nsettings: {bed: x.ogg}\nsteps:\n  - say: Hi.\n", encoding="utf-8")
    with pytest.raises(ScriptError, match=r"2:17: bed: no sound file at 'x\.ogg' \(relative to"):
        load_path(path)


def test_a_stereo_wav_header_counts_frames_of_two_channels() -> None:
    import io
    import wave

    from voiceguide.output.stream import wav_header

    header = wav_header(1000, SR, 2)
    with wave.open(io.BytesIO(header + b"\x00\x00" * 2 * 1000)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getnframes()) == (2, 2, 1000)
