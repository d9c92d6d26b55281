"""The options commands share, declared once, and the flag that sets each setting.

``play``, ``export`` and ``show`` take the same ten session options: :func:`session_options`
adds them to a command, which receives them as one
:class:`~voiceguide.session.SessionRequest`. Each value is checked as it is parsed, against
the bounds the spec sets, so a bad one is a usage error (exit 2) before any work begins.
The core names a setting by its field (``pace``, ``rate_wpm``); :data:`FLAGS` turns it
back into the flag a user typed when the error is printed.

The spec is read only when a value is checked or help is shown, not at start-up:
help texts hold ``{field}`` where the allowed values go (:class:`RangedHelp` fills them in).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand

from voiceguide.errors import SettingError, UsageError

if TYPE_CHECKING:
    from voiceguide.script.spec import Integer
    from voiceguide.session import SessionRequest

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
}
"""The flag that sets each setting the core may name in a :class:`SettingError`."""


def flag_message(error: SettingError) -> str:
    """Say ``error`` as the command line sets it: ``--rate: …`` rather than ``rate_wpm: …``."""
    return f"{FLAGS.get(error.field, error.field)}: {error.detail}"


def _spec() -> ModuleType:
    from voiceguide.script import spec

    return spec


_ALLOWED: dict[str, Callable[[], str]] = {}
"""For each field, the allowed values in words ("80 to 400"), for help texts."""


class IntRange:
    """Parse a whole number within the spec's bounds (``bounds(spec)``, read when used)."""

    def __init__(self, field: str, bounds: Callable[[Any], Integer], unit: str = ""):
        self.field, self._bounds, self.unit = field, bounds, unit
        _ALLOWED[field] = lambda: "{} to {}".format(*self._range())

    def _range(self) -> tuple[int, int]:
        bounds = self._bounds(_spec())
        return bounds.minimum, bounds.maximum

    def __call__(self, value: str | int) -> int:
        low, high = self._range()
        try:
            number = int(value)
        except ValueError:
            raise self._refuse(low, high, repr(value)) from None
        if not low <= number <= high:
            raise self._refuse(low, high, str(number))
        return number

    def _refuse(self, low: int, high: int, got: str) -> SettingError:
        return SettingError(self.field, f"expected {low} to {high}{self.unit}, got {got}")


class FloatRange:
    """Parse a number from ``low`` to ``high`` (as the spec says, read when used)."""

    def __init__(self, field: str, bounds: Callable[[Any], tuple[float, float]]):
        self.field, self._bounds = field, bounds
        _ALLOWED[field] = lambda: "{} to {}".format(*self._bounds(_spec()))

    def __call__(self, value: str | float) -> float:
        low, high = self._bounds(_spec())
        try:
            number = float(value)
        except ValueError:
            raise SettingError(self.field, f"expected {low} to {high}, got {value!r}") from None
        if not low <= number <= high:  # NaN fails too
            raise SettingError(self.field, f"expected {low} to {high}, got {number}")
        return number


class Choice:
    """Parse one of a few names, in any case (``fold`` also drops what the name may carry)."""

    def __init__(
        self,
        field: str,
        choices: Callable[[], tuple[str, ...]],
        fold: Callable[[str], str] = str.lower,
    ):
        self.field, self._choices, self._fold = field, choices, fold
        _ALLOWED[field] = lambda: _in_words(self._choices())

    def __call__(self, value: str) -> str:
        choices = self._choices()
        if self._fold(value) not in choices:
            listed = " or ".join(choices) if len(choices) <= 2 else "one of " + ", ".join(choices)
            raise SettingError(self.field, f"expected {listed}, got {value!r}")
        return self._fold(value)

    def complete(self, incomplete: str) -> list[str]:
        """Shell completion: the names that start with what was typed."""
        return [name for name in self._choices() if name.startswith(incomplete)]


def _in_words(names: tuple[str, ...]) -> str:
    return " or ".join(names) if len(names) <= 2 else f"{', '.join(names[:-1])} or {names[-1]}"


class Text:
    """Parse a piece of text that must say something."""

    def __init__(self, field: str, expected: str):
        self.field, self.expected = field, expected

    def __call__(self, value: str) -> str:
        if not value.strip():
            raise SettingError(self.field, f"expected {self.expected}, got {value!r}")
        return value


class RangedHelp(TyperCommand):
    """A command whose option help names the allowed values, filled in only when shown."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        """Fill in each ``{field}`` of the options' help, then write them."""
        allowed = {field: text() for field, text in _ALLOWED.items()}
        for param in self.params:
            help_text = getattr(param, "help", None)
            if help_text and "{" in help_text:
                param.help = help_text.format_map(allowed)  # type: ignore[attr-defined]
        super().format_options(ctx, formatter)


ENGINE = Choice("engine", lambda: _spec().ENGINES)
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
SkipIntro = Annotated[
    bool, typer.Option("--skip-intro", help="Leave out the title, cautions and session length.")
]
Pace = Annotated[
    float,
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
NoTones = Annotated[
    bool, typer.Option("--no-tones", help="Leave out the press, release and other sounds.")
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

_SHARED = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
    for name, kind, default in (
        ("skip_intro", SkipIntro, False),
        ("pace", Pace, 1.0),
        ("repeat", Repeat, 1),
        ("no_tones", NoTones, False),
        ("engine", Engine, None),
        ("voice", Voice, None),
        ("rate", Rate, None),
        ("pitch", Pitch, None),
        ("volume", Volume, None),
        ("voice_model", VoiceModel, None),
        ("allow_outside", AllowOutside, False),
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
    skip_intro: bool,
    pace: float,
    repeat: int,
    no_tones: bool,
    engine: str | None,
    voice: str | None,
    rate: int | None,
    pitch: int | None,
    volume: int | None,
    voice_model: Path | None,
    allow_outside: bool,
) -> SessionRequest:
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.prefs import VoicePrefs
    from voiceguide.session import SessionRequest

    if voice_model is not None and engine not in (None, "piper"):
        raise UsageError(
            f"--voice-model is a Piper voice model: use it with --engine piper, "
            f"not --engine {engine}"
        )
    options = CompileOptions(
        intro=not skip_intro, tones=False if no_tones else None, pace=pace, repeat=repeat
    )
    prefs = VoicePrefs(engine, voice, rate, pitch, volume, voice_model)
    return SessionRequest(routine, options, prefs, allow_outside)
