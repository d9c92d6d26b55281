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
class Words:
    """Something said: text, or a mapping of the full ``text`` and a ``brief`` reminder of it.

    ``brief`` is said instead of ``text`` when the instructions are brief (``--detail
    brief``): for someone who knows the routine. Both are checked as ``text`` is.
    """

    text: Text = field(default_factory=Text)

    @property
    def spec(self) -> ObjectSpec:
        """The mapping form."""
        return ObjectSpec(
            "words",
            "Something said, in full and in brief: `{text: …, brief: …}`.",
            (
                Key("text", self.text, "What is said, in full.", required=True),
                Key("brief", self.text, "What is said instead with brief instructions."),
            ),
        )

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "text, or a mapping of text and brief"


@dataclass(frozen=True)
class Name:
    """A short identifier: letters, digits and dashes."""

    pattern: str = r"^[a-z0-9][a-z0-9-]{0,63}$"

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return "a name of lowercase letters, digits and dashes"


@dataclass(frozen=True)
class Duration:
    """A duration (:mod:`voiceguide.script.durations`) within bounds.

    A ``flexible`` one may also be written ``{for: 30s, min: 20s, max: 45s}``: how far
    fitting a session to a length (``--length``) may shorten or lengthen it.
    """

    min_ms: int
    max_ms: int
    flexible: bool = False

    @property
    def spec(self) -> ObjectSpec:
        """The mapping form of a flexible duration."""
        plain = Duration(self.min_ms, self.max_ms)
        return ObjectSpec(
            "flexible duration",
            "A duration with the bounds `--length` keeps it within: `{for: 30s, min: 20s}`.",
            (
                Key("for", plain, "The duration as written.", required=True),
                Key("min", plain, "The shortest a length may make it.", default="half of `for`"),
                Key("max", plain, "The longest a length may make it.", default="twice `for`"),
            ),
        )

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a duration like {DURATION_EXAMPLES}"


@dataclass(frozen=True)
class Integer:
    """A whole number within bounds; a ``flexible`` one may be ``{count: 3, min: 2, max: 4}``."""

    minimum: int
    maximum: int
    flexible: bool = False

    @property
    def spec(self) -> ObjectSpec:
        """The mapping form of a flexible number."""
        plain = Integer(self.minimum, self.maximum)
        return ObjectSpec(
            "flexible count",
            "A count with the bounds `--length` keeps it within: `{count: 3, min: 2}`.",
            (
                Key("count", plain, "The count as written.", required=True),
                Key("min", plain, "The fewest a length may make it.", default="1"),
                Key("max", plain, "The most a length may make it.", default="twice `count`"),
            ),
        )

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a whole number from {self.minimum} to {self.maximum}"


@dataclass(frozen=True)
class Number:
    """A number, decimals allowed, within bounds."""

    minimum: float
    maximum: float

    def describe(self) -> str:
        """Say what is expected, for error messages."""
        return f"a number from {self.minimum:g} to {self.maximum:g}"


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
    Text
    | Words
    | Name
    | Duration
    | Integer
    | Number
    | Boolean
    | Choice
    | Moment
    | ListOf
    | Object
    | MapOf
    | Steps
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
