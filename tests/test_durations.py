"""Durations as people write them."""

from __future__ import annotations

import pytest

from voiceguide.script.durations import (
    DurationSyntaxError,
    format_clock,
    format_ms,
    parse_duration_ms,
)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("30s", 30_000), ("1m30s", 90_000), (90, 90_000), ("90", 90_000), ("1:30", 90_000),
        ("1:00:00", 3_600_000), ("1.5s", 1_500), ("500ms", 500), ("2m", 120_000),
        ("1h5m", 3_900_000), (" 10 s ", 10_000), ("0:05.250", 5_250), (1.25, 1_250),
        ("1.1s", 1_100), ("-5s", -5_000),
    ],
)  # fmt: skip
def test_parse(text: str | int | float, ms: int) -> None:
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize(
    "text", ["thirty", "", "30s1m", "1m1m", "1:75", "s", "1d", True, None, "1.2345ms", "--5s"]
)
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
