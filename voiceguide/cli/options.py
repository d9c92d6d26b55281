"""The options commands share, declared once, and the flag that sets each setting.

``play``, ``export`` and ``show`` take the same session options: :func:`session_options`
adds them to a command, which receives them as one
:class:`~voiceguide.app.session.SessionRequest`. Each value is checked as it is parsed, against
the bounds the spec sets, so a bad one is a usage error (exit 2) before any work begins.
The core names a setting by its field (``pace``, ``rate_wpm``); :data:`FLAGS` turns it
back into the flag a user typed when the error is printed.

The options ask, and leave unset what they were not given (``None``): the command line is
the first of four layers (:mod:`voiceguide.app.settling`), so a flag not given lets the
routine, the config or the default decide. The parsers are :mod:`voiceguide.cli.parsers`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from voiceguide.cli.parsers import (
    Choice,
    FloatRange,
    IntRange,
    LengthOf,
    RangedHelp,
    Text,
    prefs_module,
    spec_module,
)
from voiceguide.errors import SettingError, UsageError

__all__ = ["FLAGS", "Choice", "FloatRange", "RangedHelp", "flag_message", "session_options"]

if TYPE_CHECKING:
    from voiceguide.app.session import SessionRequest
    from voiceguide.prefs import DetailSetting, IntroSetting

FLAGS = {
    "pace": "--pace",
    "repeat": "--repeat",
    "engine": "--engine",
    "voice": "--voice",
    "rate_wpm": "--rate",
    "pitch": "--pitch",
    "volume_pct": "--volume",
    "voice_model": "--voice-model",
    "format": "--format",
    "captions": "--captions",
    "cues": "--cues",
    "from": "--from",
    "speed": "--speed",
    "bed_level": "--bed-level",
    "bed_level_lufs": "--bed-level",
    "bed": "--bed",
    "channels": "--mono",
    "intro": "--intro",
    "detail": "--detail",
    "length": "--length",
    "tones": "--no-tones",
    "history": "--no-history",
    "mpris": "--no-mpris",
    "listen": "--listen",
}
"""The flag that sets each setting the core may name in a :class:`SettingError`."""


def flag_message(error: SettingError) -> str:
    """Say ``error`` as the command line sets it: ``--rate: …`` rather than ``rate_wpm: …``."""
    return f"{FLAGS.get(error.field, error.field)}: {error.detail}"


ENGINE = Choice("engine", lambda: spec_module().ENGINES)
Engine = Annotated[
    str | None,
    typer.Option(
        "--engine",
        metavar="NAME",
        parser=ENGINE,
        autocompletion=ENGINE.complete,
        help="Speech engine, {engine} (default piper, the natural voice, where "
        "'voiceguide[natural]' is installed; else espeak).",
    ),
]
VoiceModel = Annotated[
    Path | None,
    typer.Option(
        "--voice-model",
        metavar="PATH",
        help="A Piper voice model of your own (.onnx, with its .onnx.json beside it); "
        "implies --engine piper.",
    ),
]


INTRO = Choice("intro", lambda: prefs_module().INTRO_SETTINGS)
DETAIL = Choice("detail", lambda: prefs_module().DETAIL_SETTINGS)


Intro = Annotated[
    str | None,
    typer.Option(
        "--intro",
        metavar="KIND",
        parser=INTRO,
        autocompletion=INTRO.complete,
        help="The introduction, {intro}: auto (the default) gives the full one the first "
        "time and every 30 days, else a short one ('play' only; show and export: full).",
    ),
]
FullIntro = Annotated[
    bool, typer.Option("--full-intro", help="The full introduction, even if heard recently.")
]
SkipIntro = Annotated[
    bool, typer.Option("--skip-intro", help="Leave out the title, cautions and session length.")
]
Detail = Annotated[
    str | None,
    typer.Option(
        "--detail",
        metavar="KIND",
        parser=DETAIL,
        autocompletion=DETAIL.complete,
        help="The instructions, {detail}: auto (the default) gives full ones until the routine "
        "has been played whole three times, then brief ones ('play' only; show and export: "
        "full).",
    ),
]
Length = Annotated[
    int | None,
    typer.Option(
        "--length",
        metavar="DURATION",
        parser=LengthOf(),
        help="Make the session last this long (20m, 1h, 25:00; {length}): holds, rests and "
        "pauses scale, then reps; speech does not. Not with --pace.",
    ),
]
Pace = Annotated[
    float | None,
    typer.Option(
        "--pace",
        metavar="N",
        parser=FloatRange("pace", lambda spec: (spec.MIN_PACE, spec.MAX_PACE)),
        help="Scale holds, rests and pauses, not speech, {pace}: 1.25 is slower.",
    ),
]
Repeat = Annotated[
    int,
    typer.Option(
        "--repeat",
        metavar="N",
        parser=IntRange("repeat", lambda spec: spec.REPEAT),
        help="Run the whole routine N times, {repeat}.",
    ),
]
Tones = Annotated[
    bool | None,
    typer.Option(
        "--tones/--no-tones",
        help="Play (or leave out) the press, release and other sounds.",
        show_default=False,
    ),
]
Voice = Annotated[
    str | None,
    typer.Option(
        "--voice",
        metavar="NAME",
        parser=Text("voice", "a voice id or name ('voiceguide voices' lists them)"),
        help="Voice id or name ('voiceguide voices' lists them).",
    ),
]
Rate = Annotated[
    int | None,
    typer.Option(
        "--rate",
        metavar="WPM",
        parser=IntRange("rate_wpm", lambda spec: spec.RATE_WPM, " words per minute"),
        help="Speaking rate, {rate_wpm} words per minute.",
    ),
]
Pitch = Annotated[
    int | None,
    typer.Option(
        "--pitch",
        metavar="N",
        parser=IntRange("pitch", lambda spec: spec.PITCH),
        help="Voice pitch, {pitch} (espeak; Piper has none).",
    ),
]
Volume = Annotated[
    int | None,
    typer.Option(
        "--volume",
        metavar="PCT",
        parser=IntRange("volume_pct", lambda spec: spec.VOLUME_PCT, " percent"),
        help="Volume, {volume_pct} percent.",
    ),
]
AllowOutside = Annotated[
    bool,
    typer.Option(
        "--allow-outside",
        help="Let the routine include routines and sounds from outside its own folder "
        "(absolute paths, '..', links that point out).",
    ),
]

Mono = Annotated[
    bool | None,
    typer.Option(
        "--mono/--stereo",
        help="One channel, for one speaker (at -19 LUFS); stereo (the default) leans each "
        "side's cues to that ear.",
        show_default=False,
    ),
]
Bed = Annotated[
    str | None,
    typer.Option(
        "--bed",
        metavar="NAME|FILE",
        help="A quiet sound under the session, softer under speech: rain, drone, waves, "
        "a sound file (it loops), or none.",
    ),
]
BedLevel = Annotated[
    float | None,
    typer.Option(
        "--bed-level",
        metavar="LUFS",
        parser=FloatRange("bed_level", lambda spec: spec.BED_LEVEL_LUFS),
        help="How loud the bed is where nothing is said, {bed_level} (default -26).",
    ),
]

_SHARED = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
    for name, kind, default in (
        ("intro", Intro, None),
        ("full_intro", FullIntro, False),
        ("skip_intro", SkipIntro, False),
        ("detail", Detail, None),
        ("length", Length, None),
        ("pace", Pace, None),
        ("repeat", Repeat, 1),
        ("tones", Tones, None),
        ("engine", Engine, None),
        ("voice", Voice, None),
        ("rate", Rate, None),
        ("pitch", Pitch, None),
        ("volume", Volume, None),
        ("voice_model", VoiceModel, None),
        ("allow_outside", AllowOutside, False),
        ("mono", Mono, None),
        ("bed", Bed, None),
        ("bed_level", BedLevel, None),
    )
]


def session_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the session options, gathered into its ``request`` parameter.

    The options take the place of ``request`` in the command's signature (and its
    help); the request's routine is the command's ``routine`` argument, if any.
    """
    # The command's own annotations are read here, with the request's type left aside
    # (it is imported only when a command runs).
    names = {**command.__globals__, "SessionRequest": object}
    own = inspect.signature(command, eval_str=True, globals=names)
    params = list(own.parameters.values())
    at = [p.name for p in params].index("request")
    params[at : at + 1] = _SHARED

    @functools.wraps(command)
    def run(**values: Any) -> None:
        shared = {p.name: values.pop(p.name) for p in _SHARED}
        command(request=_request(values.get("routine"), **shared), **values)

    run.__signature__ = own.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


def _request(
    routine: str | None,
    *,
    intro: str | None,
    full_intro: bool,
    skip_intro: bool,
    detail: str | None,
    length: int | None,
    pace: float | None,
    repeat: int,
    tones: bool | None,
    engine: str | None,
    voice: str | None,
    rate: int | None,
    pitch: int | None,
    volume: int | None,
    voice_model: Path | None,
    allow_outside: bool,
    mono: bool | None,
    bed: str | None,
    bed_level: float | None,
) -> SessionRequest:
    from voiceguide.app.session import MixChoice, SessionRequest, check_mix_choice
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.prefs import PlaybackPrefs, VoicePrefs

    if voice_model is not None and engine not in (None, "piper"):
        raise UsageError(
            f"--voice-model is a Piper voice model: use it with --engine piper, "
            f"not --engine {engine}"
        )
    if pace is not None and length is not None:
        raise UsageError("--pace and --length both set the timing: give one of them")
    playback = PlaybackPrefs(
        intro=_intro(intro, full_intro, skip_intro),
        detail=_detail(detail),
        pace=pace,
        tones=tones,
        channels=None if mono is None else (1 if mono else 2),
        bed=bed,
        bed_level_lufs=bed_level,
    )
    check_mix_choice(MixChoice(bed=bed, bed_level_lufs=bed_level))  # one line before any work
    options = CompileOptions(repeat=repeat, length_ms=length)
    prefs = VoicePrefs(engine, voice, rate, pitch, volume, voice_model)
    return SessionRequest(routine, options, prefs, allow_outside, playback=playback)


def _intro(intro: str | None, full: bool, skip: bool) -> IntroSetting | None:
    """The introduction asked for, by ``--intro``, ``--full-intro`` or ``--skip-intro``."""
    asked = [kind for kind, given in (("full", full), ("none", skip)) if given]
    if intro is not None:
        asked.insert(0, intro)
    if len(set(asked)) > 1:
        flags = [f"--intro {intro}"] if intro is not None else []
        flags += [flag for flag, given in (("--full-intro", full), ("--skip-intro", skip)) if given]
        raise UsageError(f"{' and '.join(flags)} ask for different introductions: give one")
    settings: tuple[IntroSetting, ...] = prefs_module().INTRO_SETTINGS
    return next((kind for kind in settings if asked and kind == asked[0]), None)


def _detail(detail: str | None) -> DetailSetting | None:
    settings: tuple[DetailSetting, ...] = prefs_module().DETAIL_SETTINGS
    return next((kind for kind in settings if kind == detail), None)
