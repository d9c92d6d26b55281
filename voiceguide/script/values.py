"""Typed values out of checked ones: texts and their briefs, numbers and their bounds, points.

The small conversions :mod:`voiceguide.script.builder` makes from what the checker returns
(:mod:`voiceguide.script.checked`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from voiceguide.script.checked import At, Entry, Fields, Ranged, Wording
from voiceguide.script.model import PRESSURES, UNBOUNDED, Bounds, Point, Pressure

T = TypeVar("T")


def build_points(entries: tuple[Entry, ...]) -> tuple[dict[str, Point], set[str]]:
    """Points from checked entries, and the keys of entries too broken to build."""
    points: dict[str, Point] = {}
    broken: set[str] = set()
    for entry in entries:
        fields = entry.fields
        name = fields.text("name") if fields else None
        where = fields.text("where") if fields else None
        if fields is None or name is None or where is None:
            broken.add(entry.key)
            continue
        points[entry.key] = Point(
            key=entry.key,
            name=name,
            where=where,
            position=entry.position,
            find=fields.text("find"),
            where_brief=fields.brief("where"),
            find_brief=fields.brief("find"),
            traditional=fields.text("traditional"),
            also=fields.texts("also"),
            pressure=pressure_of(fields.text("pressure")),
            cautions=fields.texts("cautions"),
            helps=fields.text("helps"),
        )
        if fields.invalid:
            broken.add(entry.key)
    return points, broken


def pressure_of(text: str | None) -> Pressure | None:
    return next((p for p in PRESSURES if p == text), None)


def items_of(value: At[object]) -> tuple[At[object], ...]:
    found = value.value
    return tuple(i for i in found if isinstance(i, At)) if isinstance(found, tuple) else ()


def text_of(value: At[object]) -> str:
    if isinstance(value.value, Wording):
        return value.value.text
    if not isinstance(value.value, str):
        raise TypeError(value)
    return value.value


def brief_of(value: At[object]) -> str | None:
    return value.value.brief if isinstance(value.value, Wording) else None


def number_of(value: At[object]) -> int:
    if isinstance(value.value, Ranged):
        return value.value.value
    if not isinstance(value.value, int):
        raise TypeError(value)
    return value.value


def bounds_of(value: At[object]) -> Bounds:
    found = value.value
    return Bounds(found.low, found.high) if isinstance(found, Ranged) else UNBOUNDED


def fields_of(value: At[object]) -> Fields:
    if not isinstance(value.value, Fields):
        raise TypeError(value)
    return value.value


def or_default(value: T | None, default: T) -> T:
    return default if value is None else value


def is_file_of(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False
