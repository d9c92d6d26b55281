"""Preferences: what each layer asks of a session, and the one way they are settled.

Four layers may each say something about a session: the command line (or a library
caller), the routine's ``settings``, the user's ``config.yaml`` and the built-in defaults
(:data:`voiceguide.script.spec.VOICE_DEFAULTS`, :data:`~voiceguide.script.spec.PLAYBACK_DEFAULTS`).
Each says it in the same two types, where ``None`` leaves a field to the layers below:
:class:`VoicePrefs` for the voice, merged by :func:`resolve` into the :class:`VoiceSettings`
every engine takes, and :class:`PlaybackPrefs` for the rest of the session (introduction,
detail, pace, tones, channels, bed, history…), merged by :func:`resolve_playback` into
:class:`PlaybackSettings`. Both also say which layer each value came from
(:func:`voice_origins`, :func:`playback_origins`), for ``voiceguide config show``.
Bounds and defaults are not written here: they are the spec's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Literal, TypeVar, get_args

T = TypeVar("T")

LAYERS = ("command line", "routine", "config", "default")
"""The layers, first to last: the first that sets a value wins."""

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
    return _settle_voice(cli, routine, config, defaults)[0]


def voice_origins(
    cli: VoicePrefs, routine: VoicePrefs, config: VoicePrefs, defaults: VoicePrefs
) -> dict[str, int]:
    """Which layer (an index into :data:`LAYERS`) gave each field of the settled voice.

    A field no layer sets (the engine's own voice, no model) is left out.
    """
    return _settle_voice(cli, routine, config, defaults)[1]


def _settle_voice(
    cli: VoicePrefs, routine: VoicePrefs, config: VoicePrefs, defaults: VoicePrefs
) -> tuple[VoiceSettings, dict[str, int]]:
    """Settle the voice (the rules are :func:`resolve`'s), and note where each value came from."""
    if cli.voice_model is not None and cli.engine is None:
        cli = replace(cli, engine=PIPER)
    layers = (cli, routine, config, defaults)
    engines = [_first(layer.engine for layer in layers[i:]) for i in range(len(layers))]
    origins: dict[str, int] = {}
    engine = _first_of(origins, "engine", [layer.engine for layer in layers])
    rate_wpm = _first_of(origins, "rate_wpm", [layer.rate_wpm for layer in layers])
    pitch = _first_of(origins, "pitch", [layer.pitch for layer in layers])
    volume_pct = _first_of(origins, "volume_pct", [layer.volume_pct for layer in layers])
    if engine is None or rate_wpm is None or pitch is None or volume_pct is None:
        raise ValueError(f"defaults must set engine, rate, pitch and volume: {defaults}")
    voices = [
        layer.voice if own == engine else None for layer, own in zip(layers, engines, strict=True)
    ]
    voice = _first_of(origins, "voice", voices)
    models = [layer.voice_model if engine == PIPER else None for layer in layers]
    model = _first_of(origins, "voice_model", models)
    return VoiceSettings(engine, voice, rate_wpm, pitch, volume_pct, model), origins


IntroSetting = Literal["full", "short", "auto", "none"]
"""The introduction asked for: ``auto`` lets ``play`` decide from the practice history."""
INTRO_SETTINGS: tuple[IntroSetting, ...] = get_args(IntroSetting)
DetailSetting = Literal["full", "brief", "auto"]
"""The instructions asked for: ``auto`` lets ``play`` decide from the practice history."""
DETAIL_SETTINGS: tuple[DetailSetting, ...] = get_args(DetailSetting)


@dataclass(frozen=True)
class PlaybackPrefs:
    """What one layer asks of a session beyond the voice; ``None`` leaves a field below."""

    intro: IntroSetting | None = None
    """The introduction: full, short, auto or none."""
    detail: DetailSetting | None = None
    """The instructions: full, brief or auto."""
    pace: float | None = None
    """Multiply holds, rests, finds and pauses by this."""
    tones: bool | None = None
    """Play the press, release and other sounds."""
    channels: int | None = None
    """1 (mono) or 2 (stereo)."""
    bed: str | None = None
    """A built-in bed's name, ``none``, or a sound file (an absolute path past the loader)."""
    bed_level_lufs: float | None = None
    """How loud the bed is where nothing is said."""
    history: bool | None = None
    """Record the session in the practice history (``play`` only)."""
    mpris: bool | None = None
    """Offer the session as an MPRIS player on the session bus (``play`` only)."""
    listen: bool | None = None
    """Listen for voice commands (``play`` only)."""


@dataclass(frozen=True)
class PlaybackSettings:
    """The rest of a session's settings, settled: every field decided."""

    intro: IntroSetting
    detail: DetailSetting
    pace: float
    tones: bool
    channels: int
    bed: str
    """A built-in bed's name, ``none``, or a sound file's path."""
    bed_level_lufs: float
    history: bool
    mpris: bool
    listen: bool


def resolve_playback(
    cli: PlaybackPrefs, routine: PlaybackPrefs, config: PlaybackPrefs, defaults: PlaybackPrefs
) -> PlaybackSettings:
    """Settle the session: field by field, the first of the four layers that sets it wins.

    ``defaults`` must set every field.
    """
    layers = (cli, routine, config, defaults)
    values = {}
    for item in fields(PlaybackPrefs):
        value = _first(getattr(layer, item.name) for layer in layers)
        if value is None:
            raise ValueError(f"defaults must set {item.name}: {defaults}")
        values[item.name] = value
    return PlaybackSettings(**values)


def playback_origins(
    cli: PlaybackPrefs, routine: PlaybackPrefs, config: PlaybackPrefs, defaults: PlaybackPrefs
) -> dict[str, int]:
    """Which layer (an index into :data:`LAYERS`) gave each field of the settled session."""
    layers = (cli, routine, config, defaults)
    origins: dict[str, int] = {}
    for item in fields(PlaybackPrefs):
        _first_of(origins, item.name, [getattr(layer, item.name) for layer in layers])
    return origins


def _first(values: Iterable[T | None]) -> T | None:
    return next((value for value in values if value is not None), None)


def _first_of(origins: dict[str, int], name: str, values: list[T | None]) -> T | None:
    """The first value set, noting in ``origins`` which layer it came from."""
    for layer, value in enumerate(values):
        if value is not None:
            origins[name] = layer
            return value
    return None
