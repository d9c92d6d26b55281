"""Parsers for command-line values, each checked against the spec's bounds as it is parsed.

A bad value is a :class:`~voiceguide.errors.SettingError` naming its field, so a usage
error (exit 2) before any work begins. The spec is read only when a value is checked or
help is shown, not at start-up: help texts hold ``{field}`` where the allowed values go
(:class:`RangedHelp` fills them in).
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from typer.core import TyperCommand

from voiceguide.errors import SettingError

if TYPE_CHECKING:
    from voiceguide.script.spec import Integer


def spec_module() -> ModuleType:
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
        bounds = self._bounds(spec_module())
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
        _ALLOWED[field] = lambda: "{} to {}".format(*self._bounds(spec_module()))

    def __call__(self, value: str | float) -> float:
        low, high = self._bounds(spec_module())
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


class LengthOf:
    """Parse a session length (``20m``, ``1h``, ``25:00``) within the spec's bounds."""

    field = "length"

    def __init__(self) -> None:
        _ALLOWED[self.field] = lambda: "{} to {}".format(*self._range())

    def _range(self) -> tuple[str, str]:
        from voiceguide.script.durations import format_ms

        bounds = spec_module().SESSION_LENGTH
        return format_ms(bounds.min_ms), format_ms(bounds.max_ms)

    def __call__(self, value: str | int) -> int:
        from voiceguide.script.durations import DurationSyntaxError, parse_duration_ms

        bounds = spec_module().SESSION_LENGTH
        low, high = self._range()
        try:
            ms = parse_duration_ms(str(value))
        except DurationSyntaxError:
            raise SettingError(
                self.field, f"expected a length like 20m, 1h or 25:00, got {value!r}"
            ) from None
        if not bounds.min_ms <= ms <= bounds.max_ms:
            raise SettingError(self.field, f"expected {low} to {high}, got {value!r}")
        return ms


def prefs_module() -> ModuleType:
    from voiceguide import prefs

    return prefs
