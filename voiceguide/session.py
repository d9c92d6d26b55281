"""From a routine name to a timeline ready to render: the pipeline every command shares.

load → settings (command line over routine over the user's config over defaults) →
engine, cache and sounds → synthesize every phrase (with progress) → compile. Export
and play both start here, so they hear the very same timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.compile.compiler import CompileOptions, compile_routine, phrase_sources, phrases_of
from voiceguide.errors import UsageError
from voiceguide.script import spec
from voiceguide.sound.engines import DEFAULT_ENGINE
from voiceguide.sound.engines.base import DEFAULT_RATE_WPM, VoiceSettings

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.script.config import UserConfig
    from voiceguide.script.model import Routine
    from voiceguide.sound.speech import SpeechClips

DEFAULT_PITCH = 50
DEFAULT_VOLUME_PCT = 100

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class VoiceChoice:
    """What the command line asks of the voice; ``None`` leaves it to the routine."""

    engine: str | None = None
    voice: str | None = None
    rate_wpm: int | None = None
    pitch: int | None = None
    volume_pct: int | None = None
    voice_model: Path | None = None
    """A Piper voice model file (``.onnx``); implies the piper engine."""

    def __post_init__(self) -> None:
        for option, value, bounds, unit in (
            ("--rate", self.rate_wpm, spec.RATE_WPM, " words per minute"),
            ("--pitch", self.pitch, spec.PITCH, ""),
            ("--volume", self.volume_pct, spec.VOLUME_PCT, " percent"),
        ):
            if value is not None and not bounds.minimum <= value <= bounds.maximum:
                raise UsageError(
                    f"{option}: expected {bounds.minimum} to {bounds.maximum}{unit}, got {value}"
                )
        if self.voice_model is not None and self.engine not in (None, "piper"):
            raise UsageError(
                f"--voice-model is a Piper voice model: use it with --engine piper, "
                f"not --engine {self.engine}"
            )


@dataclass(frozen=True)
class Session:
    """A routine compiled with real speech, and the clips to render it from."""

    routine: Routine
    timeline: Timeline
    clips: SpeechClips
    engine: str
    voice: VoiceSettings
    volume_pct: int
    synthesized: int
    """How many phrases the engine had to speak (the rest came from the cache)."""
    voice_model: Path | None = None
    """The Piper voice model spoken with, when one was chosen."""

    @property
    def gain(self) -> float:
        """The volume as a linear gain."""
        return self.volume_pct / 100


def resolve_engine(
    choice: VoiceChoice, config: UserConfig, routine_engine: str | None = None
) -> tuple[str, Path | None]:
    """Settle the engine and the Piper voice model: command line, routine, config, default.

    A voice model on the command line means the piper engine; the config's model
    applies whenever the engine is piper.
    """
    engine = (
        choice.engine
        or ("piper" if choice.voice_model is not None else None)
        or routine_engine
        or config.engine
        or DEFAULT_ENGINE
    )
    model = choice.voice_model or (config.voice_model if engine == "piper" else None)
    return engine, model


def resolve_voice(
    routine: Routine, choice: VoiceChoice, config: UserConfig | None = None
) -> tuple[str, VoiceSettings, int]:
    """Settle engine, voice settings and volume: command line, routine, user config, defaults.

    ``config`` defaults to the user's config file. Its voice applies only when the
    engine in use is the config's engine (a voice names one engine's voice).
    """
    from voiceguide.script.config import load_user_config

    config = config if config is not None else load_user_config()
    settings = routine.settings
    engine, _ = resolve_engine(choice, config, settings.engine)
    config_voice = config.voice if engine == (config.engine or DEFAULT_ENGINE) else None
    voice = VoiceSettings(
        voice=choice.voice or settings.voice or config_voice,
        rate_wpm=choice.rate_wpm or settings.rate_wpm or config.rate_wpm or DEFAULT_RATE_WPM,
        pitch=choice.pitch if choice.pitch is not None else (
            settings.pitch if settings.pitch is not None else DEFAULT_PITCH
        ),
    )  # fmt: skip
    volume = choice.volume_pct or settings.volume_pct or DEFAULT_VOLUME_PCT
    return engine, voice, volume


def open_session(
    routine: Routine,
    options: CompileOptions | None = None,
    choice: VoiceChoice | None = None,
    progress: Progress | None = None,
) -> Session:
    """Synthesize what ``routine`` says (cached) and compile it to a timeline."""
    from voiceguide.script.config import load_user_config
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines import make_engine
    from voiceguide.sound.processing import SilentPhraseError
    from voiceguide.sound.speech import SpeechClips
    from voiceguide.sound.tones import Sounds

    options = options or CompileOptions()
    choice = choice or VoiceChoice()
    config = load_user_config()
    engine_name, voice, volume = resolve_voice(routine, choice, config)
    _, voice_model = resolve_engine(choice, config, routine.settings.engine)
    engine = make_engine(engine_name, voice, voice_model=voice_model)
    cache = PhraseCache()
    clips = SpeechClips(engine, cache, Sounds(cache=cache))
    try:
        synthesized = clips.prepare(phrases_of(routine, clips, options), progress)
    except SilentPhraseError as error:  # name the lines that say them
        raise error.located(phrase_sources(routine, clips, options)) from None
    timeline = compile_routine(routine, clips, options)
    return Session(routine, timeline, clips, engine_name, voice, volume, synthesized, voice_model)
