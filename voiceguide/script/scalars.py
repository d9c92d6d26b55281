"""Check scalar values against the spec: text, names, choices, numbers, durations, moments.

The part of :class:`voiceguide.script.checker.Checker` that looks at one YAML scalar at a
time; a value that fails is reported at its node and left out.
"""

from __future__ import annotations

import re
from typing import assert_never

import yaml

from voiceguide.errors import Position, Problem
from voiceguide.script import placeholders
from voiceguide.script.durations import (
    DurationSyntaxError,
    format_ms,
    parse_duration_ms,
    parse_percent,
)
from voiceguide.script.kinds import Boolean, Choice, Duration, Integer, Moment, Name, Number, Text
from voiceguide.script.model import Offset
from voiceguide.script.source import CORE, Source, position
from voiceguide.script.yamltext import describe, excerpt, quoted, suggest

MAX_SCALAR_CHARS = 64
"""Longest duration, number or name worth parsing; longer ones are refused as they are."""


class ScalarChecker:
    """Check the scalar nodes of one source, collecting problems in :attr:`problems`."""

    def __init__(self, source: Source) -> None:
        self.display = source.display
        self.quotable = source.quotable
        self.problems: list[Problem] = []

    def at(self, node: yaml.Node) -> Position:
        """Where ``node`` starts."""
        return position(self.display, node)

    def problem(self, node: yaml.Node, message: str) -> None:
        """Record a problem at ``node``."""
        self.problems.append(Problem(self.at(node), message))

    def got(self, node: yaml.Node) -> str:
        """Say what ``node`` is, quoting it only from a file that may be quoted."""
        return describe(node, self.quotable)

    def scalar(self, node: yaml.Node, label: str, expected: str) -> str | None:
        """The text of a scalar node; a problem for anything else."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == CORE + "null":
            self.problem(node, f"{label}: expected {expected}, got {self.got(node)}")
            return None
        return str(node.value)

    def text(self, node: yaml.Node, kind: Text, label: str, scope: frozenset[str]) -> str | None:
        raw = self.scalar(node, label, "text")
        if raw is None:
            return None
        if not kind.numbers and node.tag in (CORE + "int", CORE + "float"):
            self.problem(node, f"{label}: expected text, got the number {excerpt(raw)}; "
                               "put it in quotes if it is a name")  # fmt: skip
            return None
        # A plain scalar such as `say: No` is text here, not YAML's boolean.
        text = " ".join(raw.split())
        if not text:
            self.problem(node, f"{label}: expected text, got an empty string")
            return None
        if len(text) > kind.max_chars:
            self.problem(
                node, f"{label}: expected at most {kind.max_chars} characters, got {len(text)}"
            )
            return None
        if kind.placeholders and not self.placeholders(node, text, label, scope):
            return None
        return text

    def placeholders(self, node: yaml.Node, text: str, label: str, scope: frozenset[str]) -> bool:
        """Check that every placeholder is a known name, filled in where it stands."""
        found = placeholders.problems(text, scope)
        for message in found:
            self.problem(node, f"{label}: {message}")
        return not found

    def word(
        self, node: yaml.Node, kind: Name | Choice | Integer | Boolean | Number, label: str
    ) -> object:
        """A name, a choice, a number or a boolean."""
        raw = self.scalar(node, label, kind.describe())
        if raw is None:
            return None
        if len(raw) > MAX_SCALAR_CHARS:
            self.problem(node, f"{label}: expected {kind.describe()}, got {quoted(raw)}")
            return None
        match kind:
            case Name():
                if re.fullmatch(kind.pattern, raw):
                    return raw
                self.problem(node, f"{label}: expected {kind.describe()}, got {quoted(raw)}")
            case Choice():
                if raw.lower() in kind.values:
                    return raw.lower()
                hint = suggest(raw.lower(), kind.values)
                self.problem(node, f"{label}: expected {kind.describe()}, got {quoted(raw)}{hint}")
            case Integer():
                value = yaml.safe_load(raw) if node.tag == CORE + "int" else None
                if isinstance(value, int) and kind.minimum <= value <= kind.maximum:
                    return value
                got = raw if isinstance(value, int) else quoted(raw)
                self.problem(node, f"{label}: expected {kind.describe()}, got {got}")
            case Number():
                number = yaml.safe_load(raw) if node.tag in (CORE + "int", CORE + "float") else None
                if isinstance(number, int | float) and kind.minimum <= number <= kind.maximum:
                    return number  # NaN fails the bounds
                got = raw if isinstance(number, int | float) else quoted(raw)
                self.problem(node, f"{label}: expected {kind.describe()}, got {got}")
            case Boolean():
                if node.tag == CORE + "bool":
                    return bool(yaml.safe_load(raw))
                self.problem(node, f"{label}: expected true or false, got {quoted(raw)}")
            case _:
                assert_never(kind)
        return None

    def duration(self, node: yaml.Node, kind: Duration, label: str) -> int | None:
        raw = self.scalar(node, label, kind.describe())
        if raw is None:
            return None
        try:
            if len(raw) > MAX_SCALAR_CHARS:
                raise DurationSyntaxError(raw)
            ms = parse_duration_ms(raw)
        except DurationSyntaxError:
            self.problem(node, f"{label}: expected {kind.describe()}, got {quoted(raw)}")
            return None
        if not kind.min_ms <= ms <= kind.max_ms:
            self.problem(
                node,
                f"{label}: expected a duration from {format_ms(kind.min_ms)} "
                f"to {format_ms(kind.max_ms)}, got {quoted(raw)}",
            )
            return None
        return ms

    def moment(self, node: yaml.Node, kind: Moment, label: str) -> Offset | None:
        raw = self.scalar(node, label, kind.describe())
        if raw is None:
            return None
        text = raw.strip()
        if text.endswith("%"):
            percent = parse_percent(text)
            if percent is not None:
                return Offset(percent=percent)
            self.problem(node, f"{label}: expected a percentage from 0% to 99%, got {quoted(raw)}")
            return None
        try:
            if len(raw) > MAX_SCALAR_CHARS:
                raise DurationSyntaxError(raw)
            ms = parse_duration_ms(text)
        except DurationSyntaxError:
            self.problem(node, f"{label}: expected {kind.describe()}, got {quoted(raw)}")
            return None
        if ms < 0:
            self.problem(node, f"{label}: expected a time of 0s or more, got {quoted(raw)}")
            return None
        return Offset(ms=ms)
