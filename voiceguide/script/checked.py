"""What the checker returns: values that passed, typed, each with where it was written.

Raw YAML stops at the checker; the loader builds the routine from these. A value that
failed is not here (its problem is already reported): :attr:`Fields.invalid` and
:attr:`Fields.missing` say which, so that building can avoid reporting it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from voiceguide.errors import Position
from voiceguide.script.model import Offset

T = TypeVar("T")


@dataclass(frozen=True)
class At(Generic[T]):
    """A checked value and where it was written."""

    value: T
    position: Position


@dataclass(frozen=True)
class Wording:
    """Words written as a mapping: the full text and its brief form."""

    text: str
    brief: str | None


@dataclass(frozen=True)
class Ranged:
    """A flexible duration or count written as a mapping: its value and declared bounds."""

    value: int
    low: int | None
    high: int | None


@dataclass(frozen=True)
class Fields:
    """A mapping checked against an :class:`ObjectSpec`: its valid values, by key."""

    position: Position
    values: Mapping[str, At[object]]
    invalid: frozenset[str] = frozenset()
    """Keys that were given with a value that is not valid (already reported)."""
    missing: frozenset[str] = frozenset()
    """Required keys that were not given (already reported)."""

    @property
    def complete(self) -> bool:
        """Whether every key given is valid and every required key is there."""
        return not self.invalid and not self.missing

    def at(self, key: str) -> Position:
        """Where the value of ``key`` was written; the mapping's position if it was not."""
        item = self.values.get(key)
        return item.position if item is not None else self.position

    def given(self, key: str) -> bool:
        """Whether ``key`` was written, validly or not."""
        return key in self.values or key in self.invalid

    def _get(self, key: str, kind: type[T]) -> T | None:
        item = self.values.get(key)
        if item is None:
            return None
        if not isinstance(item.value, kind):
            raise TypeError(f"{key}: checked as {type(item.value).__name__}, not {kind.__name__}")
        return item.value

    def text(self, key: str) -> str | None:
        """A text, name or choice (words: their full text)."""
        item = self.values.get(key)
        if item is not None and isinstance(item.value, Wording):
            return item.value.text
        return self._get(key, str)

    def brief(self, key: str) -> str | None:
        """The brief form of words, if they have one."""
        item = self.values.get(key)
        return item.value.brief if item is not None and isinstance(item.value, Wording) else None

    def number(self, key: str) -> int | None:
        """A whole number or a duration in ms (a flexible one: its value as written)."""
        item = self.values.get(key)
        if item is not None and isinstance(item.value, Ranged):
            return item.value.value
        value = self._get(key, int)
        if isinstance(value, bool):
            raise TypeError(f"{key}: checked as a boolean, not a number")
        return value

    def bounds(self, key: str) -> tuple[int | None, int | None]:
        """The ``min`` and ``max`` a flexible value declares (``None`` where it does not)."""
        item = self.values.get(key)
        if item is not None and isinstance(item.value, Ranged):
            return item.value.low, item.value.high
        return None, None

    def decimal(self, key: str) -> float | None:
        """A number, decimals allowed."""
        item = self.values.get(key)
        if item is None:
            return None
        if isinstance(item.value, bool) or not isinstance(item.value, int | float):
            raise TypeError(f"{key}: checked as {type(item.value).__name__}, not a number")
        return float(item.value)

    def flag(self, key: str) -> bool | None:
        """A boolean."""
        return self._get(key, bool)

    def offset(self, key: str) -> Offset | None:
        """A moment inside a phase."""
        return self._get(key, Offset)

    def fields(self, key: str) -> Fields | None:
        """A nested mapping."""
        return self._get(key, Fields)

    def items(self, key: str) -> tuple[At[object], ...]:
        """The valid items of a list (empty if it was not given)."""
        found = self._get(key, tuple)
        return tuple(i for i in found or () if isinstance(i, At))

    def texts(self, key: str) -> tuple[str, ...]:
        """The valid items of a list of text."""
        return tuple(i.value for i in self.items(key) if isinstance(i.value, str))

    def mappings(self, key: str) -> tuple[Fields, ...]:
        """The valid items of a list of mappings."""
        return tuple(i.value for i in self.items(key) if isinstance(i.value, Fields))

    def entries(self, key: str) -> tuple[Entry, ...]:
        """The entries of a mapping of names."""
        found = self._get(key, tuple)
        return tuple(e for e in found or () if isinstance(e, Entry))

    def steps(self, key: str) -> tuple[CheckedStep, ...]:
        """The checked steps of a list of steps."""
        found = self._get(key, tuple)
        return tuple(s for s in found or () if isinstance(s, CheckedStep))


@dataclass(frozen=True)
class Entry:
    """One entry of a mapping of names (a point): its key and its fields."""

    key: str
    position: Position
    fields: Fields | None
    """``None`` when the entry is not a mapping (already reported)."""


@dataclass(frozen=True)
class CheckedStep:
    """A step whose shape is checked: its kind, its value, and the keys beside it."""

    kind: str
    value: At[object] | None
    """``None`` when the value was not valid (already reported)."""
    siblings: Fields
    position: Position
    path: str
    """Where it is in its file: ``steps[2].steps[0]``."""
