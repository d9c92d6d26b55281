"""From a routine name to a timeline ready to render: the pipeline every command shares.

load → settings (command line over routine over defaults) → engine, cache and
sounds → synthesize every phrase (with progress) → compile. Export and play
both start here, so they hear the very same timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.compiler import CompileOptions, compile_routine, phrases_of
from voiceguide.engines.base import DEFAULT_RATE_WPM, VoiceSettings
from voiceguide.errors import UsageError

if TYPE_CHECKING:
    from voiceguide.model import Routine
    from voiceguide.speech import SpeechClips
    from voiceguide.timeline import Timeline

DEFAULT_ENGINE = "espeak"
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

    def __post_init__(self) -> None:
        if self.rate_wpm is not None and not 80 <= self.rate_wpm <= 400:
            raise UsageError(f"--rate: expected 80 to 400 words per minute, got {self.rate_wpm}")
        if self.pitch is not None and not 0 <= self.pitch <= 100:
            raise UsageError(f"--pitch: expected 0 to 100, got {self.pitch}")
        if self.volume_pct is not None and not 1 <= self.volume_pct <= 100:
            raise UsageError(f"--volume: expected 1 to 100 percent, got {self.volume_pct}")


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

    @property
    def gain(self) -> float:
        """The volume as a linear gain."""
        return self.volume_pct / 100


def resolve_voice(routine: Routine, choice: VoiceChoice) -> tuple[str, VoiceSettings, int]:
    """Settle engine, voice settings and volume: command line, then routine, then defaults."""
    settings = routine.settings
    engine = choice.engine or settings.engine or DEFAULT_ENGINE
    voice = VoiceSettings(
        voice=choice.voice or settings.voice,
        rate_wpm=choice.rate_wpm or settings.rate_wpm or DEFAULT_RATE_WPM,
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
    from voiceguide.cache import PhraseCache
    from voiceguide.engines import make_engine
    from voiceguide.speech import SpeechClips
    from voiceguide.tones import Sounds

    options = options or CompileOptions()
    engine_name, voice, volume = resolve_voice(routine, choice or VoiceChoice())
    engine = make_engine(engine_name, voice)
    clips = SpeechClips(engine, PhraseCache(), Sounds())
    synthesized = clips.prepare(phrases_of(routine, clips, options), progress)
    timeline = compile_routine(routine, clips, options)
    return Session(routine, timeline, clips, engine_name, voice, volume, synthesized)
