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
