"""Parse and format durations: ``30s``, ``1m30s``, ``90``, ``1:30``, ``1.5s``, ``500ms``."""

from __future__ import annotations

import math
import re

_UNIT_MS = {"h": 3_600_000, "m": 60_000, "s": 1_000, "ms": 1}
_UNITS = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):(\d{2})(?:\.(\d{1,3}))?")

EXAMPLES = "30s, 1m30s, 90 or 1:30"


class DurationSyntaxError(ValueError):
    """A value that is not a duration."""


def _decimal_ms(number: str, unit_ms: int) -> int:
    whole, _, frac = number.partition(".")
    # Decimal arithmetic on the digits keeps 1.1s at exactly 1100 ms.
    frac_ms = int(frac.ljust(3, "0")[:3]) * unit_ms // 1000 if frac else 0
    if frac and len(frac) > 3 and unit_ms == 1:
        raise DurationSyntaxError("durations are counted in whole milliseconds")
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
    text = value.strip().lower().replace(" ", "")
    if not text:
        raise DurationSyntaxError(value)
    if text.startswith("-") and not text.startswith("--"):
        return -parse_duration_ms(text[1:])
    if _NUMBER.fullmatch(text):
        return _decimal_ms(text, 1000)
    clock = _CLOCK.fullmatch(text)
    if clock:
        hours, minutes, seconds, frac = clock.groups()
        if int(seconds) >= 60 or (hours is not None and int(minutes) >= 60):
            raise DurationSyntaxError(value)
        total = (int(hours or 0) * 60 + int(minutes)) * 60 + int(seconds)
        return total * 1000 + (int(frac.ljust(3, "0")) if frac else 0)
    pos = 0
    total_ms = 0
    seen: list[str] = []
    for match in _UNITS.finditer(text):
        if match.start() != pos:
            raise DurationSyntaxError(value)
        unit = match.group(2)
        if unit in seen or (seen and list(_UNIT_MS).index(unit) < list(_UNIT_MS).index(seen[-1])):
            raise DurationSyntaxError(value)  # units out of order or repeated: 30s1m, 1m1m
        seen.append(unit)
        total_ms += _decimal_ms(match.group(1), _UNIT_MS[unit])
        pos = match.end()
    if pos != len(text) or not seen:
        raise DurationSyntaxError(value)
    return total_ms


def ms_to_samples(ms: int, sample_rate: int) -> int:
    """Convert whole milliseconds to samples, rounding half up."""
    return (ms * sample_rate + 500) // 1000


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
