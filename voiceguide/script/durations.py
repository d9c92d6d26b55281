"""Parse and format durations: ``30s``, ``1m30s``, ``90``, ``1:30``, ``2 min``, ``10 seconds``.

The grammar is written once, here, as a regular expression built from the unit table;
:func:`parse_duration_ms` matches it and :data:`DURATION_PATTERN` is the same expression
for the JSON Schema (ECMAScript: no named groups, no flags), so an editor and the loader
accept exactly the same strings.
"""

from __future__ import annotations

import math
import re

EXAMPLES = "30s, 1m30s, 90 or 1:30"

UNITS: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("h", 3_600_000, ("hours", "hour", "hrs", "hr", "h")),
    ("m", 60_000, ("minutes", "minute", "mins", "min", "m")),
    ("s", 1_000, ("seconds", "second", "secs", "sec", "s")),
    ("ms", 1, ("milliseconds", "millisecond", "msecs", "msec", "ms")),
)
"""Each unit: its group name, its length in ms, and how it may be written (longest first)."""

_NUMBER = r"\d+(?:\.\d+)?"
_WHOLE_MS = r"\d+(?:\.\d{1,3})?"  # milliseconds have at most three decimals, like a clock
_SEPARATOR = r"(?:\s+and\s+(?=\d)|\s*)"


def _grammar(named: bool, fold: bool) -> str:
    """The duration grammar; ``named`` adds the groups the parser reads, ``fold`` any case."""

    def group(name: str, body: str) -> str:
        return f"(?P<{name}>{body})" if named else f"(?:{body})"

    def word(text: str) -> str:
        return "".join(f"[{c}{c.upper()}]" if fold and c.isalpha() else c for c in text)

    parts = []
    for name, _, spellings in UNITS:
        number = _WHOLE_MS if name == "ms" else _NUMBER
        unit = "|".join(word(s) for s in spellings)
        parts.append(f"(?:{group(name, number)}\\s*(?:{unit}){_SEPARATOR})?")
    units = r"(?=\d)" + "".join(parts)
    digits, sixty = r"\d+", r"[0-5]\d"
    with_hours = group("ch", digits) + ":" + group("cm", r"[0-5]?\d")
    fraction = r"(?:\." + group("cf", r"\d{1,3}") + ")?"
    clock = f"(?:{with_hours}|{group('cmm', digits)}):{group('cs', sixty)}{fraction}"
    seconds = group("n", _NUMBER)
    return rf"^\s*{group('sign', '-')}?(?:{seconds}|{clock}|{units})\s*$"


DURATION_PATTERN = _grammar(named=False, fold=True)
"""The grammar as a JSON Schema ``pattern`` (any case, as the parser)."""
_DURATION = re.compile(_grammar(named=True, fold=False))

PERCENT_PATTERN = r"^\s*\d{1,2}\s*%\s*$"
"""A moment as a percentage of its phase, 0% to 99%: the parser and the schema share it."""


class DurationSyntaxError(ValueError):
    """A value that is not a duration."""


def _decimal_ms(number: str, unit_ms: int) -> int:
    whole, _, frac = number.partition(".")
    # Decimal arithmetic on the digits keeps 1.1s at exactly 1100 ms.
    frac_ms = int(frac.ljust(3, "0")[:3]) * unit_ms // 1000 if frac else 0
    return int(whole) * unit_ms + frac_ms


def parse_duration_ms(value: object) -> int:
    """Return ``value`` in whole milliseconds; a bare number means seconds.

    Raises :class:`DurationSyntaxError` when ``value`` is not a duration.
    """
    if isinstance(value, bool):
        raise DurationSyntaxError(value)
    if isinstance(value, int):
        return value * 1000
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DurationSyntaxError(value)
        return round(value * 1000)
    if not isinstance(value, str):
        raise DurationSyntaxError(value)
    match = _DURATION.fullmatch(value.lower())
    if match is None:
        raise DurationSyntaxError(value)
    got = match.groupdict()
    sign = -1 if got["sign"] else 1
    if got["n"] is not None:
        return sign * _decimal_ms(got["n"], 1000)
    if got["cs"] is not None:
        minutes = int(got["cm"] or got["cmm"]) + 60 * int(got["ch"] or 0)
        frac = int(got["cf"].ljust(3, "0")) if got["cf"] else 0
        return sign * ((minutes * 60 + int(got["cs"])) * 1000 + frac)
    return sign * sum(_decimal_ms(got[name], ms) for name, ms, _ in UNITS if got[name])


def parse_percent(text: str) -> int | None:
    """Return the percentage in ``50%``, or ``None`` if ``text`` is not one (0% to 99%)."""
    if not re.fullmatch(PERCENT_PATTERN, text):
        return None
    return int(text.strip().rstrip("%"))


def format_ms(ms: int) -> str:
    """Format ``ms`` for people: ``45s``, ``2m05s``, ``1h02m``, ``1.5s``."""
    sign = "-" if ms < 0 else ""
    ms = abs(ms)
    if ms < 60_000:
        if ms % 1000 == 0:
            return f"{sign}{ms // 1000}s"
        return f"{sign}{ms / 1000:.3f}".rstrip("0").rstrip(".") + "s"
    total_s = round(ms / 1000)
    hours, rest = divmod(total_s, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}h{minutes:02d}m" if minutes else f"{sign}{hours}h"
    return f"{sign}{minutes}m{seconds:02d}s" if seconds else f"{sign}{minutes}m"


def format_clock(ms: int) -> str:
    """Format ``ms`` as a clock reading, ``M:SS.mmm`` or ``H:MM:SS.mmm``."""
    total_s, milli = divmod(ms, 1000)
    hours, rest = divmod(total_s, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{milli:03d}"
    return f"{minutes}:{seconds:02d}.{milli:03d}"
