"""From a request to a timeline ready to render: the pipeline every command shares.

A :class:`SessionRequest` names the routine, the compile options and the voice asked
for. :func:`open_session` loads the routine, settles the voice (the request over the
routine's settings over the user's config over the spec's defaults), makes the engine,
cache and sounds unless it is given them, synthesizes every phrase (with progress) and
compiles. Export and play both start here, so they hear the very same timeline;
:func:`estimate` compiles the same request without an engine, at the same rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.compile.compiler import CompileOptions, compile_routine, phrase_sources
from voiceguide.errors import SettingError, UsageError
from voiceguide.prefs import PIPER, VoicePrefs, VoiceSettings, resolve
from voiceguide.script import spec
from voiceguide.script.model import Routine

if TYPE_CHECKING:
    from voiceguide.compile.lengths import Lengths
    from voiceguide.compile.plan import Segment
    from voiceguide.compile.timeline import Timeline
    from voiceguide.script.config import UserConfig
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines.base import SpeechEngine, Voice
    from voiceguide.sound.pool import ClipPool
    from voiceguide.sound.speech import SpeechClips
    from voiceguide.sound.stream import SessionStream

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SessionRequest:
    """What to open: a routine, how to compile it, and what is asked of the voice."""

    routine: str | Path | Routine | None = None
    """A routine name, a path to its file, or a routine already loaded."""
    options: CompileOptions = field(default_factory=CompileOptions)
    prefs: VoicePrefs = field(default_factory=VoicePrefs)
    """The voice asked for; the routine, the user's config and the defaults fill the rest."""
    allow_outside: bool = False
    """Let the routine include routines and sounds from outside its own folder tree."""


@dataclass(frozen=True)
class Session:
    """A routine compiled with real speech, and the clips to render it from."""

    routine: Routine
    timeline: Timeline
    clips: SpeechClips
    voice: VoiceSettings
    """The voice settled for the session (its volume applies as gain)."""
    synthesized: int
    """How many phrases the engine had to speak (the rest came from the cache)."""

    @property
    def engine(self) -> str:
        """The name of the engine spoken with."""
        return self.voice.engine

    @property
    def volume_pct(self) -> int:
        """The volume in percent."""
        return self.voice.volume_pct

    @property
    def gain(self) -> float:
        """The volume as a linear gain."""
        return self.voice.gain


def load_routine(routine: str | Path | Routine | None, *, allow_outside: bool = False) -> Routine:
    """Return the routine a request names: by name (or typed path), by path, or as given."""
    from voiceguide.script import library

    if isinstance(routine, Routine):
        return routine
    if isinstance(routine, Path):
        return library.load_path(routine, allow_outside=allow_outside)
    if routine is None:
        raise UsageError("no routine given")
    return library.load(routine, allow_outside=allow_outside)


def check_prefs(prefs: VoicePrefs) -> None:
    """Refuse what no layer may ask of the voice: values outside the spec's bounds."""
    for name, value, bounds in (
        ("rate_wpm", prefs.rate_wpm, spec.RATE_WPM),
        ("pitch", prefs.pitch, spec.PITCH),
        ("volume_pct", prefs.volume_pct, spec.VOLUME_PCT),
    ):
        if value is not None and not bounds.minimum <= value <= bounds.maximum:
            raise SettingError(name, f"expected {bounds.describe()}, got {value}")
    if prefs.engine is not None and prefs.engine not in spec.ENGINES:
        raise SettingError("engine", f"expected {' or '.join(spec.ENGINES)}, got {prefs.engine!r}")
    if prefs.voice is not None and not prefs.voice.strip():
        raise SettingError("voice", f"expected a voice id or name, got {prefs.voice!r}")
    if prefs.voice_model is not None and prefs.engine not in (None, PIPER):
        raise SettingError(
            "voice_model", f"a Piper voice model needs the piper engine, not {prefs.engine}"
        )


def resolve_voice(
    prefs: VoicePrefs, routine: Routine | None = None, config: UserConfig | None = None
) -> VoiceSettings:
    """Settle the voice for ``routine``: ``prefs`` over its settings, the config, the defaults.

    ``config`` defaults to the user's config file. The default engine is the natural voice
    (Piper) when its extra is installed, else espeak-ng.
    """
    from voiceguide.script.config import load_user_config
    from voiceguide.sound.engines import default_engine

    check_prefs(prefs)
    config = config if config is not None else load_user_config()
    asked = routine.settings.prefs if routine is not None else VoicePrefs()
    defaults = replace(spec.VOICE_DEFAULTS, engine=default_engine())
    return resolve(prefs, asked, config.prefs, defaults)


@dataclass(frozen=True)
class StreamingSession:
    """A routine being made while it is heard: its stream, clips and settled voice."""

    routine: Routine
    stream: SessionStream
    clips: SpeechClips
    voice: VoiceSettings

    @property
    def volume_pct(self) -> int:
        """The volume in percent."""
        return self.voice.volume_pct

    @property
    def gain(self) -> float:
        """The volume as a linear gain."""
        return self.voice.gain


def open_stream(
    request: SessionRequest,
    *,
    engine: SpeechEngine | None = None,
    cache: PhraseCache | None = None,
    config: UserConfig | None = None,
) -> StreamingSession:
    """Start making the requested session in the order it is heard, and return at once.

    Nothing is spoken on this thread: a pool of workers (one engine each, on every core
    for espeak-ng) makes the phrases in timeline order while the caller plays what is laid
    out. Before returning, what the words must fit is checked (:func:`check_fits`), so a
    prompt too long for its hold is an error at its line before the first sound.
    ``engine``, ``cache`` and ``config`` are as for :func:`open_session`; a given engine
    speaks alone.
    """
    from voiceguide.compile.estimate import EstimatedSpeech
    from voiceguide.compile.stream import PrefixLayout
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines import make_engine
    from voiceguide.sound.pool import ClipPool
    from voiceguide.sound.speech import SpeechClips
    from voiceguide.sound.stream import SessionStream
    from voiceguide.sound.tones import Sounds

    routine = load_routine(request.routine, allow_outside=request.allow_outside)
    voice = resolve_voice(request.prefs, routine, config)
    cache = cache if cache is not None else PhraseCache()
    speaker = engine if engine is not None else make_engine(voice)
    clips = SpeechClips(speaker, cache, Sounds(cache=cache))
    announce = EstimatedSpeech(voice.rate_wpm, clips)
    layout = PrefixLayout(routine, clips, request.options, announce=announce)
    spare = None if engine is not None else (lambda: make_engine(voice))
    pool = ClipPool(clips, spare=spare)
    try:
        # Before the stream asks for the session's phrases: what must be measured goes first.
        check_fits(routine, clips, pool, request.options, voice.rate_wpm, announce, layout.segments)
    except BaseException:
        pool.close()
        raise
    return StreamingSession(routine, SessionStream(layout, clips, pool), clips, voice)


def check_fits(
    routine: Routine,
    clips: SpeechClips,
    pool: ClipPool,
    options: CompileOptions,
    rate_wpm: int,
    announce: Lengths,
    segments: list[Segment],
) -> None:
    """Refuse, at its line, speech that cannot fit its phase, before any sound.

    Each timed phase of ``segments`` is laid out alone (what fits in a phase does not
    depend on where it is) with each phrase not spoken yet at the longest it may be
    (:class:`~voiceguide.compile.estimate.BoundLengths`). The phrases of a phase that does
    not fit at its bounds are made first, and it is tried again with their real lengths:
    if it still does not fit, the error is the one the full compile gives.
    """
    from voiceguide.compile.estimate import BoundLengths
    from voiceguide.compile.layout import Layout
    from voiceguide.compile.plan import Timed

    bounds = BoundLengths(clips, rate_wpm)

    def fits(segment: Timed) -> bool:
        layout = Layout(bounds)
        layout.place(segment)
        return not layout.problems

    seen: set[Timed] = set()
    tight: list[Timed] = []
    for segment in segments:
        if isinstance(segment, Timed) and segment.events and segment not in seen:
            seen.add(segment)
            if not fits(segment):
                tight.append(segment)
    texts = {
        event.text
        for segment in tight
        for event in segment.events
        if event.kind == "speech" and bounds.bounded(event.text)
    }
    for text in texts:
        pool.hurry(text)
    for text in texts:
        pool.wait(text)
    if not all(fits(segment) for segment in tight):
        compile_routine(routine, bounds, options, announce=announce)  # raises its error


def open_session(
    request: SessionRequest,
    *,
    engine: SpeechEngine | None = None,
    cache: PhraseCache | None = None,
    config: UserConfig | None = None,
    progress: Progress | None = None,
) -> Session:
    """Synthesize what the requested routine says (cached) and compile it to a timeline.

    ``engine``, ``cache`` and ``config`` replace the ones made from the settled voice, the
    user's cache folder and the user's config file; an engine given speaks with its own
    voice. ``progress`` is called with (phrases done, phrases to do). The timeline is the
    one a stream of the same request lays out (:func:`open_stream`), cue for cue.
    """
    from voiceguide.sound.processing import SilentPhraseError

    opened = open_stream(request, engine=engine, cache=cache, config=config)
    stream, routine = opened.stream, opened.routine
    texts = stream.layout.phrases()
    try:
        stream.pool.want(texts)
        done = -1
        while True:
            ready = sum(1 for text in texts if stream.pool.ready(text))
            if progress is not None and ready != done:
                progress(ready, len(texts))
            done = ready
            if ready == len(texts) or not stream.pool.busy:
                break
            stream.pool.wait_any(0.2)
        silent = [t for t in texts if isinstance(stream.pool.failure(t), SilentPhraseError)]
        if silent:  # name the lines that say them, all at once
            engine_name = opened.clips.engine.name
            raise SilentPhraseError(silent, engine_name).located(
                phrase_sources(routine, opened.clips, request.options)
            )
        timeline = stream.timeline()
    finally:
        stream.close()
    return Session(routine, timeline, opened.clips, opened.voice, stream.pool.spoken)


def estimate(request: SessionRequest, *, config: UserConfig | None = None) -> Timeline:
    """Compile the requested routine with speech lengths estimated at the settled rate.

    No engine is started: this is what ``list`` and ``check --estimate`` show.
    """
    from voiceguide.compile.estimate import EstimatedLengths

    routine = load_routine(request.routine, allow_outside=request.allow_outside)
    voice = resolve_voice(request.prefs, routine, config)
    return compile_routine(routine, EstimatedLengths(voice.rate_wpm), request.options)


def engine_voices(prefs: VoicePrefs, config: UserConfig | None = None) -> tuple[list[Voice], str]:
    """List the voices of the engine (and model) a session asking ``prefs`` would use.

    Also return the id of the voice such a session speaks with (its default, or the one
    the settings name).
    """
    from voiceguide.sound.engines import default_voice_id, make_engine

    settled = resolve_voice(prefs, config=config)
    chosen = default_voice_id(make_engine(settled))
    return make_engine(replace(settled, voice=None)).voices(), chosen  # any voice: list all
