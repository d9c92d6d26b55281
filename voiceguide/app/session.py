"""From a request to a timeline ready to render: the pipeline every command shares.

A :class:`SessionRequest` names the routine, the compile options, the voice and the mix
asked for. :func:`open_session` loads the routine, settles the voice (the request over the
routine's settings over the user's config over the spec's defaults) and the mix (stereo or
mono, the bed), makes the engine, cache and sounds unless it is given them, synthesizes
every phrase (with progress), compiles, and makes the bed ready. :func:`open_stream`
does the same but returns at once, the session laid out while its phrases are made
(:mod:`voiceguide.sound.stream`): play and export read it that way, and
:func:`open_session` waits for it whole, so all three give the very same timeline;
:func:`estimate` compiles the same request without an engine, at the same rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.compile.compiler import CompileOptions, compile_routine, phrase_sources
from voiceguide.errors import SettingError, UsageError, VoiceguideError
from voiceguide.prefs import PIPER, PlaybackPrefs, VoicePrefs, VoiceSettings, resolve
from voiceguide.script import spec
from voiceguide.script.model import Routine

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.script.config import UserConfig
    from voiceguide.sound.bed import BedSource
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines.base import SpeechEngine, Voice
    from voiceguide.sound.mix import Mix
    from voiceguide.sound.speech import SpeechClips
    from voiceguide.sound.stream import SessionStream

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class MixChoice:
    """What is asked of the mix; ``None`` leaves it to the routine, the config, the defaults."""

    mono: bool = False
    bed: str | None = None
    """A built-in bed's name, a sound file (relative to the current folder), or ``none``."""
    bed_level_lufs: float | None = None


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
    mix: MixChoice = field(default_factory=MixChoice)
    """Stereo or mono, and the bed asked for."""
    playback: PlaybackPrefs | None = None
    """The command line's layer of the other settings, to merge with the routine's, the
    config's and the defaults into ``options`` and ``mix`` (:mod:`voiceguide.app.settling`);
    ``None``: ``options`` and ``mix`` are final as given."""


class _Voiced:
    """What a session says of its voice: the same for one compiled whole and one streamed."""

    voice: VoiceSettings

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


@dataclass(frozen=True)
class Session(_Voiced):
    """A routine compiled with real speech, and the clips to render it from."""

    routine: Routine
    timeline: Timeline
    clips: SpeechClips
    voice: VoiceSettings
    """The voice settled for the session (its volume applies as gain)."""
    synthesized: int
    """How many phrases the engine had to speak (the rest came from the cache)."""
    mix: Mix | None = None
    """Stereo or mono, and the bed; ``None``: stereo without a bed."""
    options: CompileOptions = field(default_factory=CompileOptions)
    """The options it was compiled with, settled (with its fit, when fitted to a length)."""


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
class StreamingSession(_Voiced):
    """A routine being made while it is heard: its stream, clips, settled voice, mix, options."""

    routine: Routine
    stream: SessionStream
    clips: SpeechClips
    voice: VoiceSettings
    mix: Mix
    """Stereo or mono, and the bed (made ready before the stream was returned)."""
    options: CompileOptions
    """The options it is laid out with, settled (with its fit, when fitted to a length)."""


def start_ahead(speaker: SpeechEngine) -> None:
    """Let an engine that loads slowly (Piper) start loading now: a phrase will be spoken.

    Only then: where the cache holds every phrase, loading it would take a core from the
    first sound; the player starts it once that sound is out (answers are spoken live).
    """
    from voiceguide.sound.engines.base import StartsAhead

    if isinstance(speaker, StartsAhead):
        speaker.start()


def open_stream(
    request: SessionRequest,
    *,
    engine: SpeechEngine | None = None,
    cache: PhraseCache | None = None,
    config: UserConfig | None = None,
    progress: Progress | None = None,
) -> StreamingSession:
    """Start making the requested session in the order it is heard, and return at once.

    The request is settled first (:mod:`voiceguide.app.settling`: intro, detail, length, mix).
    Nothing is spoken on this thread: a pool of workers (one engine each, on every core
    for espeak-ng) makes the phrases in timeline order while the caller plays what is laid
    out. Before returning, what the words must fit is checked
    (:func:`~voiceguide.sound.fits.check_fits`), so a prompt too long for its hold is an
    error at its line before the first sound, and the bed is made ready.

    A session fitted to a length (``--length``) is the exception: the fit needs the real
    length of everything said, so it is solved first, every phrase made by the pool
    (``progress`` is told), and the length the introduction says is then measured with
    real lengths. ``engine``, ``cache`` and ``config`` are as for :func:`open_session`;
    a given engine speaks alone.
    """
    from voiceguide.app.settling import settle
    from voiceguide.compile.estimate import EstimatedSpeech
    from voiceguide.compile.lengths import Lengths
    from voiceguide.compile.stream import PrefixLayout
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines import make_engine
    from voiceguide.sound.fits import check_fits, pool_prepare
    from voiceguide.sound.mix import prepare
    from voiceguide.sound.pool import ClipPool
    from voiceguide.sound.processing import SilentPhraseError
    from voiceguide.sound.speech import SpeechClips
    from voiceguide.sound.stream import SessionStream
    from voiceguide.sound.tones import Sounds

    routine = load_routine(request.routine, allow_outside=request.allow_outside)
    request = settle(request, routine, config).request
    voice = resolve_voice(request.prefs, routine, config)
    mix = resolve_mix(request.mix, routine)
    cache = cache if cache is not None else PhraseCache()
    speaker = engine if engine is not None else make_engine(voice)
    clips = SpeechClips(speaker, cache, Sounds(cache=cache))
    spare = None if engine is not None else (lambda: make_engine(voice))
    pool = ClipPool(clips, spare=spare)
    options = request.options
    try:
        announce: Lengths | None = EstimatedSpeech(voice.rate_wpm, clips)
        if options.fitted and options.fit is None:
            start_ahead(speaker)  # the fit speaks every phrase not in the cache
            made = pool_prepare(pool, progress)
            try:
                options = fit_to_length(routine, clips, options, voice.rate_wpm, prepare=made)
            except SilentPhraseError as error:  # name the lines that say them
                raise error.located(phrase_sources(routine, clips, options)) from None
            announce = None  # everything is spoken: the length said is measured for real
        layout = PrefixLayout(routine, clips, options, announce=announce)
        if not all(map(clips.stored, layout.phrases())):
            start_ahead(speaker)  # Piper loads its voice while the rest is set up
        # Before the stream asks for the session's phrases: what must be measured goes first.
        check_fits(routine, clips, pool, options, voice.rate_wpm, announce, layout.segments)
        prepare(mix, clips.sample_rate, cache)
    except BaseException:
        pool.close()
        raise
    stream = SessionStream(layout, clips, pool, mix)
    return StreamingSession(routine, stream, clips, voice, mix, options)


def check_mix_choice(choice: MixChoice) -> None:
    """Refuse a bed or a bed level that cannot be used, before anything else is done."""
    from voiceguide.sound.bed import choose_bed
    from voiceguide.sound.mix import Mix

    if choice.bed is not None:
        choose_bed(choice.bed)
    if choice.bed_level_lufs is not None:
        Mix(bed_level_lufs=choice.bed_level_lufs)


def resolve_mix(
    choice: MixChoice,
    routine: Routine | None = None,
    *,
    channels: int | None = None,
    bed: str | None = None,
    bed_level_lufs: float | None = None,
) -> Mix:
    """Settle the mix: ``choice``, then the routine's settings, then the config, then defaults.

    ``channels``, ``bed`` and ``bed_level_lufs`` are the user's config values, for the
    config to pass in (a bed file there relative to the config's folder: pass it resolved).
    Raises :class:`~voiceguide.errors.SettingError` for a level out of range, and the
    errors of :func:`~voiceguide.sound.bed.choose_bed` for a bed that cannot be used.
    """
    from voiceguide.sound.bed import choose_bed
    from voiceguide.sound.mix import BED_LEVEL_LUFS, Mix

    named = choice.bed or (routine.settings.bed if routine is not None else None) or bed
    # A routine's own file is absolute already (the builder resolved it).
    source: BedSource | None = choose_bed(named) if named is not None else None
    level = choice.bed_level_lufs if choice.bed_level_lufs is not None else bed_level_lufs
    return Mix(
        channels=1 if choice.mono else (channels or 2),
        bed=source,
        bed_level_lufs=BED_LEVEL_LUFS if level is None else level,
    )


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
    one a stream of the same request lays out (:func:`open_stream`), cue for cue, with its
    settled options and mix (the bed made ready).
    """
    opened = open_stream(request, engine=engine, cache=cache, config=config, progress=progress)
    stream = opened.stream
    try:
        silent = _make_every_phrase(opened, progress)
        if silent is not None:
            raise silent
        timeline = stream.timeline()
    finally:
        stream.close()
    return Session(
        opened.routine,
        timeline,
        opened.clips,
        opened.voice,
        stream.pool.spoken,
        opened.mix,
        opened.options,
    )


def stream_failure(opened: StreamingSession, error: VoiceguideError) -> VoiceguideError:
    """What :func:`open_session` would raise for the session whose stream stopped with ``error``.

    A stream stops where it is laid out; a session opened whole makes every phrase first and
    names every one its engine speaks as silence, at its line, before any other error. So
    this makes the phrases still to come and returns that error, else ``error``: the same
    one line either way.
    """
    if error is not opened.stream.error:
        return error  # not the stream's: a file, a clip
    silent = _make_every_phrase(opened)
    return silent if silent is not None else error


def _make_every_phrase(
    opened: StreamingSession, progress: Progress | None = None
) -> VoiceguideError | None:
    """Make every phrase of the session (``progress`` is told); the silent ones, at their lines."""
    from voiceguide.sound.processing import SilentPhraseError

    pool = opened.stream.pool
    texts = opened.stream.layout.phrases()
    pool.make_ready(texts, progress)
    silent = [t for t in texts if isinstance(pool.failure(t), SilentPhraseError)]
    if not silent:
        return None
    sources = phrase_sources(opened.routine, opened.clips, opened.options)
    return SilentPhraseError(silent, opened.clips.engine.name).located(sources)


def estimate(request: SessionRequest, *, config: UserConfig | None = None) -> Timeline:
    """Compile the requested routine with speech lengths estimated at the settled rate.

    No engine is started: this is what ``list`` and ``check --estimate`` show.
    """
    from voiceguide.app.settling import settle
    from voiceguide.compile.estimate import EstimatedLengths

    routine = load_routine(request.routine, allow_outside=request.allow_outside)
    request = settle(request, routine, config).request
    voice = resolve_voice(request.prefs, routine, config)
    return compile_routine(routine, EstimatedLengths(voice.rate_wpm), request.options)


def fit_to_length(
    routine: Routine,
    clips: SpeechClips,
    options: CompileOptions,
    rate_wpm: int,
    progress: Progress | None = None,
    prepare: Callable[[list[str]], None] | None = None,
) -> CompileOptions:
    """Solve ``options.length_ms`` for ``routine``, speech made first where the fit needs it.

    What the routine says is made first; the holds and counts are chosen with its real
    lengths and an estimate at ``rate_wpm`` of the cues that depend on them; those cues are
    then made, and the quiet durations fine-tuned with real lengths throughout
    (:func:`voiceguide.compile.fit.fit_length`). ``prepare(texts)`` makes phrases ready
    (default: ``clips.prepare``, one engine; a stream passes its pool's).
    """
    from voiceguide.compile.estimate import EstimatedLengths
    from voiceguide.compile.fit import fit_length

    def made(texts: list[str]) -> None:
        clips.prepare(texts, progress)

    fit = fit_length(
        routine, clips, options, estimate=EstimatedLengths(rate_wpm), prepare=prepare or made
    )
    return replace(options, fit=fit)


def engine_voices(prefs: VoicePrefs, config: UserConfig | None = None) -> tuple[list[Voice], str]:
    """List the voices of the engine (and model) a session asking ``prefs`` would use.

    Also return the id of the voice such a session speaks with (its default, or the one
    the settings name).
    """
    from voiceguide.sound.engines import default_voice_id, make_engine

    settled = resolve_voice(prefs, config=config)
    chosen = default_voice_id(make_engine(settled))
    return make_engine(replace(settled, voice=None)).voices(), chosen  # any voice: list all
