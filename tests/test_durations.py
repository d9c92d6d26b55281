"""Durations as people write them."""

from __future__ import annotations

import itertools
import re

import pytest

from voiceguide.script.durations import (
    DURATION_PATTERN,
    PERCENT_PATTERN,
    DurationSyntaxError,
    format_clock,
    format_ms,
    parse_duration_ms,
    parse_percent,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30s", 30_000), ("1m30s", 90_000), (90, 90_000), ("90", 90_000), ("1:30", 90_000),
        ("1:00:00", 3_600_000), ("1.5s", 1_500), ("500ms", 500), ("2m", 120_000),
        ("1h5m", 3_900_000), (" 10 s ", 10_000), ("0:05.250", 5_250), (1.25, 1_250),
        ("1.1s", 1_100), ("-5s", -5_000), ("20 seconds", 20_000), ("10 sec", 10_000),
        ("2 min", 120_000), ("1 minute 30 seconds", 90_000), ("1 minute and 30 seconds", 90_000),
        ("1 hour", 3_600_000), ("2 mins 5 secs", 125_000), ("250 milliseconds", 250),
        ("30S", 30_000), ("1:5:00", 3_900_000),
    ],
)  # fmt: skip
def test_parse(text: str | int | float, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(
    "text",
    ["thirty", "", "30s1m", "1m1m", "1:75", "s", "1d", True, None, "1.2345ms", "--5s",
     "1m and", "1 m s", "3 0s", "1:60:00", "seconds", "1 minute 30"],
)  # fmt: skip
def test_parse_rejects(text: object) -> None:
    with pytest.raises(DurationSyntaxError):
        parse_duration_ms(text)


@pytest.mark.parametrize(
    ("ms", "text"),
    [(45_000, "45s"), (1_500, "1.5s"), (125_000, "2m05s"), (600_000, "10m"), (3_600_000, "1h"),
     (3_725_000, "1h02m")],
)  # fmt: skip
def test_format_ms(ms: int, text: str) -> None:
    assert format_ms(ms) == text


def test_format_clock() -> None:
    assert format_clock(723_250) == "12:03.250"
    assert format_clock(3_723_004) == "1:02:03.004"


def _samples() -> list[str]:
    """Many strings, durations and near misses, built from the pieces people write."""
    numbers = ["", "0", "5", "30", "1.5", "1.2345", "007", "-5", "1."]
    units = ["", "s", "ms", "m", "h", "sec", "secs", "min", "minutes", "hour", "d", "S", "Min"]
    joins = ["", " ", " and ", ", "]
    found = {a + u for a in numbers for u in units}
    found |= {a + j + b for a, b in itertools.product(sorted(found)[:60], repeat=2) for j in joins}
    found |= {"1:30", "1:75", "0:05.250", "1:00:00", "1:5:00", "1:60:00", "12:03.2505", ":30"}
    found |= {" 10 s ", "1m30s", "30s1m", "1m1m", "1 minute 30 seconds", "--5s", "1 m 3 0 s"}
    return sorted(found)


def test_the_schema_pattern_and_the_parser_agree_on_every_string() -> None:
    pattern = re.compile(DURATION_PATTERN)
    disagree = []
    for text in _samples():
        try:
            parse_duration_ms(text)
            parsed = True
        except DurationSyntaxError:
            parsed = False
        if parsed != bool(pattern.search(text)):
            disagree.append(text)
    assert len(_samples()) > 5_000
    assert disagree == []


@pytest.mark.parametrize(
    ("text", "percent"), [("50%", 50), (" 0 %", 0), ("99%", 99), ("100%", None), ("050%", None),
                          ("5", None), ("%", None), ("-5%", None)],
)  # fmt: skip
def test_percent_parser_follows_the_schema_pattern(text: str, percent: int | None) -> None:
    assert parse_percent(text) == percent
    assert bool(re.search(PERCENT_PATTERN, text)) == (percent is not None)
