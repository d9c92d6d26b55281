"""Speech engines behind one interface (see :mod:`voiceguide.sound.engines.base`).

Engine modules import their text-to-speech libraries only when an engine is made,
so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceguide.errors import EngineError, NotFoundError
from voiceguide.script.spec import DEFAULT_VOICE, ENGINES

if TYPE_CHECKING:
    from voiceguide.prefs import VoiceSettings
    from voiceguide.sound.engines.base import SpeechEngine


class UnknownVoiceError(EngineError, NotFoundError):
    """The voice asked for is not one the engine offers (exits as "not found")."""


def natural_installed() -> bool:
    """Whether the natural extra is installed: piper-tts and its packaged voice (no import)."""
    import importlib.util

    from voiceguide.sound.engines.piper_voices import PACKAGED_MODULE

    try:
        found = importlib.util.find_spec("piper") and importlib.util.find_spec(PACKAGED_MODULE)
    except (ImportError, ValueError):
        return False
    return bool(found)


DEFAULT_ENGINE_ENV = "VOICEGUIDE_DEFAULT_ENGINE"
"""Pins the default engine (``espeak`` or ``piper``) for a machine: a packager, CI, tests."""


def default_engine() -> str:
    """The engine a session speaks with unless told otherwise: the natural voice if installed.

    ``$VOICEGUIDE_DEFAULT_ENGINE`` pins it (a config's or routine's ``engine`` still wins).
    """
    import os

    pinned = os.environ.get(DEFAULT_ENGINE_ENV)
    if pinned in ENGINES:
        return pinned
    return "piper" if natural_installed() else "espeak"


def default_voice_id(engine: SpeechEngine) -> str:
    """The id of the voice ``engine`` speaks with (what ``voiceguide voices`` marks)."""
    voice_id = getattr(engine, "voice_id", None)
    if isinstance(voice_id, str):
        return voice_id
    model = getattr(engine, "model", None)
    return str(getattr(model, "id", ""))


def make_engine(settings: VoiceSettings = DEFAULT_VOICE) -> SpeechEngine:
    """Start the speech engine ``settings.engine`` with those settings.

    Only the piper engine takes a voice model (``settings.voice_model``).
    """
    if settings.engine not in ENGINES:
        raise EngineError(
            f"unknown speech engine {settings.engine!r}; known engines: {', '.join(ENGINES)}"
        )
    if settings.voice_model is not None and settings.engine != "piper":
        raise EngineError(f"a voice model file is for the piper engine, not {settings.engine}")
    if settings.engine == "espeak":
        from voiceguide.sound.engines.espeak import Pyttsx3Engine

        return Pyttsx3Engine(settings)
    from voiceguide.sound.engines.piper import PiperEngine

    return PiperEngine(settings)
