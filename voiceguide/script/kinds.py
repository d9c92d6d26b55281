"""The vocabulary of the format: what a value may be, what a mapping holds, what a step is.

:data:`Kind` is a closed union, so the checker, the JSON Schema and the format reference
each ``match`` over it, and mypy tells when a new kind is not handled somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from voiceguide.script.durations import EXAMPLES as DURATION_EXAMPLES


@dataclass(frozen=True)
class Text:
    """Text, whitespace folded to single spaces."""

    max_chars: int = 1_000
    placeholders: bool = True
    """Whether ``{side}``, ``{round}``… are filled in (and so checked)."""
    numbers: bool = True
    """Whether a bare YAML number counts as text (``say: 42``); a voice name is never one."""

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "text"


@dataclass(frozen=True)
class Name:
    """A short identifier: letters, digits and dashes."""

    pattern: str = r"^[a-z0-9][a-z0-9-]{0,63}$"

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "a name of lowercase letters, digits and dashes"


@dataclass(frozen=True)
class Duration:
    """A duration (:mod:`voiceguide.script.durations`) within bounds."""

    min_ms: int
    max_ms: int

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a duration like {DURATION_EXAMPLES}"


@dataclass(frozen=True)
class Integer:
    """A whole number within bounds."""

    minimum: int
    maximum: int

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a whole number from {self.minimum} to {self.maximum}"


@dataclass(frozen=True)
class Boolean:
    """``true`` or ``false``."""

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "true or false"


@dataclass(frozen=True)
class Choice:
    """One of a few words, in any case."""

    values: tuple[str, ...]

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "one of " + ", ".join(self.values)


@dataclass(frozen=True)
class Moment:
    """A moment inside a phase: a duration from its start or a percentage of it."""

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "a time into the hold like 10s, or a percentage like 50%"


@dataclass(frozen=True)
class ListOf:
    """A list of values of one kind."""

    item: Kind
    min_items: int = 0
    max_items: int = 100

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a list of {self.item.describe()}"


@dataclass(frozen=True)
class Object:
    """A mapping with the keys of ``spec``."""

    spec: ObjectSpec

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a mapping of {self.spec.title} keys"


@dataclass(frozen=True)
class MapOf:
    """A mapping from names to objects."""

    value: ObjectSpec
    max_items: int = 500

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a mapping of names to {self.value.title} entries"


@dataclass(frozen=True)
class Steps:
    """A list of steps (:class:`StepSpec`)."""

    max_items: int = 5_000

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "a list of steps"


Kind = (
    Text | Name | Duration | Integer | Boolean | Choice | Moment | ListOf | Object | MapOf | Steps
)
"""What a value must be."""


@dataclass(frozen=True)
class Key:
    """One key of a mapping."""

    name: str
    kind: Kind
    doc: str
    required: bool = False
    default: str | None = None
    """The default, as a user would write it (for documentation)."""


@dataclass(frozen=True)
class ObjectSpec:
    """A mapping with a fixed set of keys."""

    title: str
    doc: str
    keys: tuple[Key, ...]
    blank_is_unset: bool = False
    """A key with no value (``voice:``) counts as not given, as in a config file."""

    def key(self, name: str) -> Key:
        """Return the key spec called ``name``."""
        return next(k for k in self.keys if k.name == name)


@dataclass(frozen=True)
class StepSpec:
    """A step: a mapping whose one 'kind' key says what it does."""

    key: str
    value: Kind
    doc: str
    example: str
    siblings: tuple[Key, ...] = field(default_factory=tuple)
    fills: tuple[str, ...] = ()
    """Placeholders this step fills in for the steps inside it."""
