"""Speech engines behind one interface (see :mod:`voiceguide.sound.engines.base`).

Engine modules import their text-to-speech libraries only when an engine is made,
so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceguide.errors import EngineError, NotFoundError

if TYPE_CHECKING:
    from pathlib import Path

    from voiceguide.sound.engines.base import SpeechEngine, VoiceSettings

DEFAULT_ENGINE = "espeak"
ENGINE_NAMES = ("espeak", "piper")
"""The engines :func:`make_engine` knows, the default first."""


class UnknownVoiceError(EngineError, NotFoundError):
    """The voice asked for is not one the engine offers (exits as "not found")."""


def make_engine(
    name: str = DEFAULT_ENGINE,
    settings: VoiceSettings | None = None,
    *,
    voice_model: Path | None = None,
) -> SpeechEngine:
    """Start the speech engine called ``name`` with ``settings``.

    ``voice_model`` is a Piper voice model (``.onnx``, its ``.onnx.json`` beside it);
    only the piper engine takes one.
    """
    if name not in ENGINE_NAMES:
        raise EngineError(
            f"unknown speech engine {name!r}; known engines: {', '.join(ENGINE_NAMES)}"
        )
    if voice_model is not None and name != "piper":
        raise EngineError(f"a voice model file is for the piper engine, not {name}")
    if name == "espeak":
        from voiceguide.sound.engines.espeak import Pyttsx3Engine

        return Pyttsx3Engine(settings)
    from voiceguide.sound.engines.piper import PiperEngine

    return PiperEngine(settings, voice_model)
