"""Settle what a session is asked for: the command line over the routine, the config, defaults.

A command (``play``, ``export``, ``show``) asks for a session as a
:class:`~voiceguide.app.session.SessionRequest` whose ``playback`` is the command line's layer
(:class:`~voiceguide.prefs.PlaybackPrefs`, ``None`` where a flag was not given). :func:`settle`
merges it, field by field, with the routine's ``settings``, the user's ``config.yaml`` and
the defaults (:func:`voiceguide.prefs.resolve_playback`), and writes the result into the
request's compile options and mix, so that every later stage reads one settled request.

``auto`` (the introduction, the detail) is decided by a :data:`Decide` that ``play`` passes
(:mod:`voiceguide.app.adapting` reads the practice history); without one, ``auto`` is the full
introduction and the full instructions: what ``show`` and ``export`` give.

:func:`explain` says, for ``voiceguide config show``, each setting's value and where it came
from (the command line, the routine at its line, the config file at its line, the default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from voiceguide.errors import Position, UsageError
from voiceguide.prefs import (
    LAYERS,
    PlaybackPrefs,
    PlaybackSettings,
    playback_origins,
    resolve_playback,
    voice_origins,
)
from voiceguide.script import spec

if TYPE_CHECKING:
    from voiceguide.app.session import SessionRequest
    from voiceguide.compile.options import Detail, IntroKind
    from voiceguide.practice.decide import DetailDecision, IntroDecision
    from voiceguide.script.config import UserConfig
    from voiceguide.script.model import Routine


@dataclass(frozen=True)
class Decisions:
    """What ``auto`` gave for a session, and why (from the practice history)."""

    intro: IntroDecision | None = None
    """``None`` when the introduction was not ``auto``."""
    detail: DetailDecision | None = None
    """``None`` when the instructions were not ``auto``."""


Decide = Callable[["Routine", bool, bool], Decisions]
"""Decide ``auto`` for a routine: ``(routine, intro is auto, detail is auto)``."""


@dataclass(frozen=True)
class Settled:
    """A request with every setting decided, and what was decided for ``play`` alone."""

    request: SessionRequest
    """Its compile options and mix are final; its ``playback`` is ``None``."""
    playback: PlaybackSettings
    """Every setting, as the four layers give it (``auto`` still ``auto`` here)."""
    decisions: Decisions
    intro: IntroKind
    detail: Detail

    @property
    def history(self) -> bool:
        """Record the session in the practice history."""
        return self.playback.history

    @property
    def mpris(self) -> bool:
        """Offer the session as an MPRIS player."""
        return self.playback.mpris

    @property
    def listen(self) -> bool:
        """Listen for voice commands."""
        return self.playback.listen


def routine_layer(routine: Routine) -> PlaybackPrefs:
    """What a routine's ``settings`` ask of a session beyond the voice."""
    return PlaybackPrefs(tones=routine.settings.tones, bed=routine.settings.bed)


def settle(
    request: SessionRequest,
    routine: Routine,
    config: UserConfig | None = None,
    *,
    decide: Decide | None = None,
) -> Settled:
    """Merge ``request.playback`` with ``routine``, ``config`` and the defaults.

    ``config`` defaults to the user's config file. A request whose ``playback`` is
    ``None`` is settled already (a library caller's options and mix are final): it comes
    back as it is, with the defaults for what only ``play`` reads.
    """
    from voiceguide.app.session import MixChoice
    from voiceguide.script.config import load_user_config

    if request.playback is None:
        options = request.options
        settings = resolve_playback(
            PlaybackPrefs(), PlaybackPrefs(), PlaybackPrefs(), spec.PLAYBACK_DEFAULTS
        )
        return Settled(request, settings, Decisions(), options.intro, options.detail)
    config = config if config is not None else load_user_config()
    asked = request.playback
    if asked.pace is not None and request.options.length_ms is not None:
        raise UsageError("--pace and --length both set the timing: give one of them")
    settings = resolve_playback(
        asked, routine_layer(routine), config.playback, spec.PLAYBACK_DEFAULTS
    )
    decisions = Decisions()
    intro_auto, detail_auto = settings.intro == "auto", settings.detail == "auto"
    if decide is not None and (intro_auto or detail_auto):
        decisions = decide(routine, intro_auto, detail_auto)
    intro: IntroKind = _intro(settings, decisions)
    detail: Detail = _detail(settings, decisions)
    # A length sets the timing itself: a pace from the config gives way to it.
    pace = settings.pace if request.options.length_ms is None else 1.0
    options = replace(request.options, intro=intro, detail=detail, tones=settings.tones, pace=pace)
    mix = MixChoice(
        mono=settings.channels == 1, bed=settings.bed, bed_level_lufs=settings.bed_level_lufs
    )
    settled = replace(request, options=options, mix=mix, playback=None)
    return Settled(settled, settings, decisions, intro, detail)


def _intro(settings: PlaybackSettings, decisions: Decisions) -> IntroKind:
    if settings.intro != "auto":
        return settings.intro
    return decisions.intro.intro if decisions.intro is not None else "full"


def _detail(settings: PlaybackSettings, decisions: Decisions) -> Detail:
    if settings.detail != "auto":
        return settings.detail
    return decisions.detail.detail if decisions.detail is not None else "full"


@dataclass(frozen=True)
class Origin:
    """Where a setting's value came from: a layer, and where in a file."""

    layer: str
    """One of :data:`voiceguide.prefs.LAYERS`."""
    at: Position | None = None
    """The line it was written on, in the routine or the config file."""

    def __str__(self) -> str:
        return f"{self.layer} ({self.at})" if self.at is not None else self.layer


@dataclass(frozen=True)
class Explained:
    """One setting as ``config show`` lists it."""

    key: str
    """The config key that sets it (``rate``, ``bed_level``…)."""
    value: str
    origin: Origin
    field: str
    """The field the core knows it by (``rate_wpm``), for the command line to name its flag."""


VOICE_KEYS = {
    "engine": "engine", "voice": "voice", "rate_wpm": "rate", "pitch": "pitch",
    "volume_pct": "volume", "voice_model": "voice_model",
}  # fmt: skip
"""Each field of the voice, by the key a routine's settings and the config set it with."""
PLAYBACK_KEYS = {
    "intro": "intro", "detail": "detail", "pace": "pace", "tones": "tones",
    "channels": "channels", "bed": "bed", "bed_level_lufs": "bed_level", "history": "history",
    "mpris": "mpris", "listen": "listen",
}  # fmt: skip


def explain(
    request: SessionRequest, routine: Routine | None, config: UserConfig
) -> list[Explained]:
    """Every setting a session of ``routine`` would have, and where each came from.

    ``request`` is the command line's layer (its ``playback`` set, or ``None`` for none).
    Without a routine, the routine's layer is empty.
    """
    from voiceguide.app.session import resolve_voice
    from voiceguide.prefs import VoicePrefs

    routine_voice = routine.settings.prefs if routine is not None else VoicePrefs()
    routine_play = routine_layer(routine) if routine is not None else PlaybackPrefs()
    where = {"routine": routine.settings.positions if routine is not None else {}}
    where["config"] = config.positions
    voice = resolve_voice(request.prefs, routine, config)
    voice_from = voice_origins(request.prefs, routine_voice, config.prefs, spec.VOICE_DEFAULTS)
    asked = request.playback or PlaybackPrefs()
    playback = resolve_playback(asked, routine_play, config.playback, spec.PLAYBACK_DEFAULTS)
    playback_from = playback_origins(asked, routine_play, config.playback, spec.PLAYBACK_DEFAULTS)
    rows: list[Explained] = []
    for name, key in VOICE_KEYS.items():
        value = getattr(voice, name)
        shown = "(the engine's own)" if value is None and name == "voice" else _shown(value)
        rows.append(Explained(key, shown, _origin(voice_from.get(name), key, where), name))
    for name, key in PLAYBACK_KEYS.items():
        value = getattr(playback, name)
        if name == "channels":
            value = next(label for label, count in spec.CHANNELS.items() if count == value)
        rows.append(Explained(key, _shown(value), _origin(playback_from[name], key, where), name))
    assert {f.name for f in fields(PlaybackPrefs)} == set(PLAYBACK_KEYS)
    return rows


def _origin(layer: int | None, key: str, where: dict[str, dict[str, Position]]) -> Origin:
    if layer is None:
        return Origin(LAYERS[-1])
    name = LAYERS[layer]
    return Origin(name, where.get(name, {}).get(key))


def _shown(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
