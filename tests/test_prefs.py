"""Settling the voice: command line over routine over config over defaults, field by field."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceguide.prefs import VoicePrefs, VoiceSettings, resolve

NONE = VoicePrefs()
DEFAULTS = VoicePrefs(engine="espeak", rate_wpm=150, pitch=50, volume_pct=100)
MODEL = Path("/voices/mine.onnx")


def test_nothing_asked_gives_the_defaults() -> None:
    assert resolve(NONE, NONE, NONE, DEFAULTS) == VoiceSettings(
        engine="espeak", voice=None, rate_wpm=150, pitch=50, volume_pct=100, voice_model=None
    )


def test_each_field_comes_from_the_first_layer_that_sets_it() -> None:
    cli = VoicePrefs(rate_wpm=120)
    routine = VoicePrefs(rate_wpm=130, pitch=40)
    config = VoicePrefs(rate_wpm=140, pitch=30, volume_pct=70)

    settled = resolve(cli, routine, config, DEFAULTS)

    assert (settled.rate_wpm, settled.pitch, settled.volume_pct) == (120, 40, 70)
    assert resolve(NONE, routine, config, DEFAULTS).rate_wpm == 130
    assert resolve(NONE, NONE, config, DEFAULTS).rate_wpm == 140


def test_a_pitch_of_zero_is_a_setting_not_a_gap() -> None:
    assert resolve(VoicePrefs(pitch=0), VoicePrefs(pitch=60), NONE, DEFAULTS).pitch == 0


def test_the_engine_follows_the_same_order() -> None:
    piper = VoicePrefs(engine="piper")
    espeak = VoicePrefs(engine="espeak")
    assert resolve(NONE, NONE, piper, DEFAULTS).engine == "piper"
    assert resolve(NONE, espeak, piper, DEFAULTS).engine == "espeak"
    assert resolve(piper, espeak, NONE, DEFAULTS).engine == "piper"


def test_a_voice_applies_only_to_the_engine_it_was_chosen_for() -> None:
    config = VoicePrefs(engine="piper", voice="joe")

    # The config's Piper voice, when the config's engine is in use.
    assert resolve(NONE, NONE, config, DEFAULTS).voice == "joe"
    # Not when the routine asks for espeak...
    assert resolve(NONE, VoicePrefs(engine="espeak"), config, DEFAULTS).voice is None
    # ...but again when the command line asks for piper.
    both = resolve(VoicePrefs(engine="piper"), VoicePrefs(engine="espeak"), config, DEFAULTS)
    assert both.voice == "joe"


def test_a_config_voice_without_an_engine_is_for_the_default_engine() -> None:
    config = VoicePrefs(voice="en-gb")
    assert resolve(NONE, NONE, config, DEFAULTS).voice == "en-gb"
    assert resolve(VoicePrefs(engine="piper"), NONE, config, DEFAULTS).voice is None


def test_a_voice_on_the_command_line_always_applies() -> None:
    settled = resolve(VoicePrefs(voice="en-gb"), VoicePrefs(engine="piper"), NONE, DEFAULTS)
    assert (settled.engine, settled.voice) == ("piper", "en-gb")


def test_a_voice_for_another_engine_leaves_room_for_one_below() -> None:
    routine = VoicePrefs(engine="espeak", voice="en-gb")
    config = VoicePrefs(engine="piper", voice="joe")
    assert resolve(VoicePrefs(engine="piper"), routine, config, DEFAULTS).voice == "joe"


def test_a_voice_model_on_the_command_line_means_piper() -> None:
    settled = resolve(VoicePrefs(voice_model=MODEL), VoicePrefs(engine="espeak"), NONE, DEFAULTS)
    assert (settled.engine, settled.voice_model) == ("piper", MODEL)


def test_the_config_voice_model_applies_whenever_the_engine_is_piper() -> None:
    config = VoicePrefs(engine="espeak", voice_model=MODEL)
    assert resolve(VoicePrefs(engine="piper"), NONE, config, DEFAULTS).voice_model == MODEL
    assert resolve(NONE, NONE, config, DEFAULTS).voice_model is None
    # A model alone in the config does not change the engine.
    assert resolve(NONE, NONE, VoicePrefs(voice_model=MODEL), DEFAULTS).engine == "espeak"


def test_defaults_must_settle_every_field() -> None:
    with pytest.raises(ValueError, match="defaults must set"):
        resolve(NONE, NONE, NONE, VoicePrefs(engine="espeak"))


def test_the_volume_is_also_a_gain() -> None:
    assert resolve(VoicePrefs(volume_pct=50), NONE, NONE, DEFAULTS).gain == 0.5
