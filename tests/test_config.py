"""The user's config file, and how voice settings are settled: command line, routine, config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli as run
from voiceguide import paths
from voiceguide.app.session import resolve_voice
from voiceguide.errors import ExitStatus, SettingError
from voiceguide.prefs import VoicePrefs
from voiceguide.script.config import ConfigError, UserConfig, config_path, load_user_config
from voiceguide.script.library import load_path
from voiceguide.script.model import Routine

REPO = Path(__file__).resolve().parent.parent


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def routine() -> Routine:
    return load_path(REPO / "scripts" / "sitting-foot.yaml")


def with_prefs(routine: Routine, **prefs: Any) -> Routine:
    settings = routine.settings
    return replace(routine, settings=replace(settings, prefs=replace(settings.prefs, **prefs)))


def test_the_config_lives_in_the_user_config_folder() -> None:
    assert config_path() == paths.user_config_dir() / "config.yaml"


def test_no_file_and_an_empty_file_set_nothing() -> None:
    assert load_user_config() == UserConfig()
    path = write_config("# nothing yet\n")
    assert load_user_config() == UserConfig(path=path)


def test_every_key_is_read(tmp_path: Path) -> None:
    model = paths.user_config_dir() / "voices" / "mine.onnx"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"model")
    path = write_config("engine: piper\nvoice: joe\nrate: 140\nvoice_model: voices/mine.onnx\n")

    assert load_user_config() == UserConfig(
        VoicePrefs(engine="piper", voice="joe", rate_wpm=140, voice_model=model), path=path
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rate: 900\n", "1:7: rate: expected a whole number from 80 to 400, got 900"),
        ("rate: fast\n", "1:7: rate: expected a whole number from 80 to 400, got 'fast'"),
        ("engine: festival\n", "1:9: engine: expected one of espeak, piper, got 'festival'"),
        ("\nrat: 140\n", "2:1: rat: unknown key in config; did you mean 'rate'?"),
        ("colour: blue\n", "1:1: colour: unknown key in config"),
        ("voice: [a, b]\n", "1:8: voice: expected text, got a list"),
        ("voice: 123\n", "1:8: voice: expected text, got the number 123; put it in quotes"),
        ("rate: 140\nrate: 150\n", "2:1: rate: key appears twice (first at line 1)"),
        ("- engine\n", "1:1: config: expected config keys, got a list"),
        ("engine: [piper\n", ":2:1: could not read YAML: "),
        ("voice_model: /nowhere/x.onnx\n", "1:14: voice_model: no such file /nowhere/x.onnx"),
        ("voice: !!python/name:os.system x\n", "1:8: YAML tag 'python/name:os.system' is not "),
        ('voice: "\\e[31m"\n', "1:8: expected text, found a control character, U+001B (ESC)"),
    ],
)
def test_a_bad_config_is_one_line_naming_where_and_what(text: str, message: str) -> None:
    path = write_config(text)

    with pytest.raises(ConfigError) as caught:
        load_user_config()

    assert str(caught.value).startswith(f"{path}:")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert caught.value.exit_code == ExitStatus.INVALID


def test_every_problem_in_the_config_is_reported_with_its_place() -> None:
    path = write_config("rate: 900\nvoise: joe\nengine: festival\n")

    with pytest.raises(ConfigError) as caught:
        load_user_config()

    assert str(caught.value).splitlines() == [
        f"{path}:1:7: rate: expected a whole number from 80 to 400, got 900",
        f"{path}:2:1: voise: unknown key in config; did you mean 'voice'?",
        f"{path}:3:9: engine: expected one of espeak, piper, got 'festival'",
    ]


def test_an_empty_value_leaves_the_default() -> None:
    path = write_config("engine:\nvoice: ''\nrate: 140\n")

    assert load_user_config() == UserConfig(prefs=VoicePrefs(rate_wpm=140), path=path)


@pytest.mark.parametrize("kind", ["fifo", "folder", "huge"])
def test_a_config_that_is_not_a_small_file_is_one_line(kind: str) -> None:
    import os

    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "fifo":
        os.mkfifo(path)  # reading would block forever: it is refused unopened
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text("# padding\n" * 10_000, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_user_config()

    assert str(caught.value).startswith(f"{path}:1:1: ")
    assert "\n" not in str(caught.value)


def test_a_bad_config_stops_a_command_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    from voiceguide.cli import main

    path = write_config("rate: 900\n")

    with pytest.raises(SystemExit) as exited:
        main(["show", "sitting-foot"])

    assert exited.value.code == ExitStatus.INVALID
    err = capsys.readouterr().err
    assert err == (
        f"voiceguide: {path}:1:7: rate: expected a whole number from 80 to 400, got 900\n"
    )


# --- settling the voice ---------------------------------------------------------------------


def test_the_config_sits_between_the_routine_and_the_defaults(routine: Routine) -> None:
    config = UserConfig(VoicePrefs(engine="piper", voice="joe", rate_wpm=140))

    voice = resolve_voice(VoicePrefs(), routine, UserConfig())
    assert (voice.engine, voice.voice, voice.rate_wpm, voice.volume_pct) == (
        "espeak", None, 150, 100,
    )  # fmt: skip

    voice = resolve_voice(VoicePrefs(), routine, config)
    assert (voice.engine, voice.voice, voice.rate_wpm) == ("piper", "joe", 140)

    own = with_prefs(routine, engine="espeak", rate_wpm=160)
    voice = resolve_voice(VoicePrefs(), own, config)
    # The routine's engine wins, so the config's voice (a Piper voice) does not apply.
    assert (voice.engine, voice.voice, voice.rate_wpm) == ("espeak", None, 160)

    voice = resolve_voice(VoicePrefs(engine="piper", rate_wpm=120), own, config)
    assert (voice.engine, voice.voice, voice.rate_wpm) == ("piper", "joe", 120)


def test_the_config_file_is_read_when_no_config_is_given(routine: Routine) -> None:
    write_config("engine: piper\nrate: 130\n")

    voice = resolve_voice(VoicePrefs(), routine)

    assert (voice.engine, voice.rate_wpm) == ("piper", 130)


def test_a_voice_model_means_the_piper_engine(routine: Routine, tmp_path: Path) -> None:
    model = tmp_path / "mine.onnx"
    config = UserConfig(VoicePrefs(engine="espeak", voice_model=tmp_path / "config-model.onnx"))
    espeak = with_prefs(routine, engine="espeak")

    voice = resolve_voice(VoicePrefs(voice_model=model), espeak, config)
    assert (voice.engine, voice.voice_model) == ("piper", model)
    # The config's model is used whenever the engine is piper, and only then.
    voice = resolve_voice(VoicePrefs(engine="piper"), routine, config)
    assert (voice.engine, voice.voice_model) == ("piper", tmp_path / "config-model.onnx")
    voice = resolve_voice(VoicePrefs(), routine, config)
    assert (voice.engine, voice.voice_model) == ("espeak", None)


@pytest.mark.parametrize(
    ("prefs", "field", "detail"),
    [
        (VoicePrefs(rate_wpm=79), "rate_wpm", "expected a whole number from 80 to 400, got 79"),
        (VoicePrefs(pitch=101), "pitch", "expected a whole number from 0 to 100, got 101"),
        (VoicePrefs(volume_pct=0), "volume_pct", "expected a whole number from 1 to 100, got 0"),
        (VoicePrefs(engine="festival"), "engine", "expected espeak or piper, got 'festival'"),
        (VoicePrefs(voice=" "), "voice", "expected a voice id or name, got ' '"),
        (
            VoicePrefs(engine="espeak", voice_model=Path("mine.onnx")),
            "voice_model",
            "a Piper voice model needs the piper engine, not espeak",
        ),
    ],
)
def test_what_no_layer_may_ask_is_refused_naming_the_setting(
    prefs: VoicePrefs, field: str, detail: str, routine: Routine
) -> None:
    with pytest.raises(SettingError) as caught:
        resolve_voice(prefs, routine, UserConfig())

    assert (caught.value.field, caught.value.detail) == (field, detail)
    assert caught.value.exit_code == ExitStatus.INVALID


def test_a_voice_model_with_another_engine_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["show", "hand", "--engine", "espeak", "--voice-model", str(tmp_path / "mine.onnx")]
    code, out, err = run(args, capsys)

    assert (code, out) == (ExitStatus.INVALID, "")
    assert err == (
        "voiceguide: --voice-model is a Piper voice model: use it with --engine piper, "
        "not --engine espeak\n"
    )
