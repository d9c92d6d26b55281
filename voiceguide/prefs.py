"""Voice preferences: what each layer asks of the voice, and the one way they are settled.

Four layers may each say something about the voice: the command line (or a library
caller), the routine's ``settings``, the user's ``config.yaml`` and the built-in defaults
(:data:`voiceguide.script.spec.VOICE_DEFAULTS`). Each says it as a :class:`VoicePrefs`,
where ``None`` leaves a field to the layers below; :func:`resolve` merges them field by
field into the :class:`VoiceSettings` every engine takes. Bounds and defaults are not
written here: they are the spec's, and each engine checks only its own limits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

PIPER = "piper"
"""The engine a voice model belongs to."""


@dataclass(frozen=True)
class VoicePrefs:
    """What one layer asks of the voice; ``None`` leaves a field to the layers below."""

    engine: str | None = None
    """The speech engine: ``espeak`` or ``piper``."""
    voice: str | None = None
    """A voice id or name of that engine, as ``voiceguide voices`` lists them."""
    rate_wpm: int | None = None
    """Speaking rate in words per minute."""
    pitch: int | None = None
    """Pitch, 0 (low) to 100 (high)."""
    volume_pct: int | None = None
    """Playback and export volume in percent (applied as gain, not by the engine)."""
    voice_model: Path | None = None
    """A Piper voice model file (``.onnx``, its ``.onnx.json`` beside it)."""


@dataclass(frozen=True)
class VoiceSettings:
    """The voice settled for a session: every field decided. Engines take this."""

    engine: str
    voice: str | None
    """``None`` is the engine's own default voice."""
    rate_wpm: int
    pitch: int
    volume_pct: int
    voice_model: Path | None
    """Set only when the engine is piper."""

    @property
    def gain(self) -> float:
        """The volume as a linear gain."""
        return self.volume_pct / 100


def resolve(
    cli: VoicePrefs, routine: VoicePrefs, config: VoicePrefs, defaults: VoicePrefs
) -> VoiceSettings:
    """Settle the voice: the command line over the routine over the config over the defaults.

    Field by field, the first layer that sets a value wins, with two rules for the values
    that belong to one engine:

    - a voice names a voice of the engine in effect where it is set (that layer's engine,
      else the one the layers below it give), so it applies only when that engine is the
      one in use: the config's Piper voice does not reach a routine that asks for espeak;
    - a voice model is Piper's: one on the command line, with no engine there, means the
      piper engine; from any layer it applies only when the engine in use is piper.

    ``defaults`` must set the engine, rate, pitch and volume.
    """
    if cli.voice_model is not None and cli.engine is None:
        cli = replace(cli, engine=PIPER)
    layers = (cli, routine, config, defaults)
    engines = [_first(layer.engine for layer in layers[i:]) for i in range(len(layers))]
    engine = engines[0]
    rate_wpm = _first(layer.rate_wpm for layer in layers)
    pitch = _first(layer.pitch for layer in layers)
    volume_pct = _first(layer.volume_pct for layer in layers)
    if engine is None or rate_wpm is None or pitch is None or volume_pct is None:
        raise ValueError(f"defaults must set engine, rate, pitch and volume: {defaults}")
    voice = _first(
        layer.voice if own == engine else None for layer, own in zip(layers, engines, strict=True)
    )
    model = _first(layer.voice_model for layer in layers) if engine == PIPER else None
    return VoiceSettings(engine, voice, rate_wpm, pitch, volume_pct, model)


def _first(values: Iterable[T | None]) -> T | None:
    return next((value for value in values if value is not None), None)
