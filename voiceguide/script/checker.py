"""Check YAML nodes against the spec: typed values that keep their positions, all problems.

One checker for every file voiceguide reads: routines, point libraries and the user's
config (one scalar at a time: :mod:`voiceguide.script.scalars`). It knows the kinds of
:mod:`voiceguide.script.kinds` and nothing of what a routine means;
:mod:`voiceguide.script.loader` builds the routine from what it returns. A value that fails
is reported once and left out, so that one mistake does not hide the rest of the file nor
cause problems elsewhere.
"""

from __future__ import annotations

from typing import assert_never

import yaml

from voiceguide.errors import Problem
from voiceguide.script import spec
from voiceguide.script.checked import At, CheckedStep, Entry, Fields, Ranged, Wording
from voiceguide.script.durations import format_ms
from voiceguide.script.kinds import (
    Boolean,
    Choice,
    Duration,
    Integer,
    Kind,
    ListOf,
    MapOf,
    Moment,
    Name,
    Number,
    Object,
    ObjectSpec,
    Steps,
    Text,
    Words,
)
from voiceguide.script.scalars import ScalarChecker
from voiceguide.script.source import CORE
from voiceguide.script.yamltext import excerpt, suggest

__all__ = ["Checker"]


class Checker(ScalarChecker):
    """Check the nodes of one source, collecting problems in :attr:`problems`."""

    def check(
        self, node: yaml.Node, kind: Kind, label: str, scope: frozenset[str], path: str = ""
    ) -> At[object] | None:
        """Check ``node`` against ``kind``; return its value and position, or ``None``."""
        value: object | None
        match kind:
            case Text():
                value = self.text(node, kind, label, scope)
            case Words():
                value = self.words(node, kind, label, scope)
            case Integer() | Duration() if kind.flexible and isinstance(node, yaml.MappingNode):
                value = self.ranged(node, kind, label)
            case Name() | Choice() | Integer() | Boolean() | Number():
                value = self.word(node, kind, label)
            case Duration():
                value = self.duration(node, kind, label)
            case Moment():
                value = self.moment(node, kind, label)
            case ListOf():
                value = self.list_of(node, kind, label, scope)
            case Object():
                value = self.mapping(node, kind.spec, label, scope, path)
            case MapOf():
                value = self.map_of(node, kind, label)
            case Steps():
                value = self.steps(node, kind, label, path, scope)
            case _:
                assert_never(kind)
        return None if value is None else At(value, self.at(node))

    # -- composite values --------------------------------------------------------

    def words(
        self, node: yaml.Node, kind: Words, label: str, scope: frozenset[str]
    ) -> str | Wording | None:
        """Text, or ``{text: …, brief: …}``."""
        if not isinstance(node, yaml.MappingNode):
            if isinstance(node, yaml.ScalarNode):
                return self.text(node, kind.text, label, scope)
            self.problem(node, f"{label}: expected {kind.describe()}, got {self.got(node)}")
            return None
        fields = self.mapping(node, kind.spec, label, scope)
        if fields is None or not fields.complete:
            return None
        text = fields.text("text")
        assert text is not None  # required, and complete
        return Wording(text, fields.text("brief"))

    def ranged(self, node: yaml.MappingNode, kind: Integer | Duration, label: str) -> Ranged | None:
        """A flexible duration or count written with its bounds: ``{for: 30s, min: 20s}``."""
        fields = self.mapping(node, kind.spec, label)
        if fields is None or not fields.complete:
            return None
        main = "for" if isinstance(kind, Duration) else "count"
        what = "the duration" if isinstance(kind, Duration) else "the count"
        value = fields.number(main)
        assert value is not None  # required, and complete
        low, high = fields.number("min"), fields.number("max")
        say = format_ms if isinstance(kind, Duration) else str
        ok = True
        if low is not None and low > value:
            self.problems.append(Problem(fields.at("min"), f"min: expected at most {say(value)} "
                                         f"({what} as written), got {say(low)}"))  # fmt: skip
            ok = False
        if high is not None and high < value:
            self.problems.append(Problem(fields.at("max"), f"max: expected at least {say(value)} "
                                         f"({what} as written), got {say(high)}"))  # fmt: skip
            ok = False
        return Ranged(value, low, high) if ok else None

    # -- collections ----------------------------------------------------

    def list_of(
        self, node: yaml.Node, kind: ListOf, label: str, scope: frozenset[str]
    ) -> tuple[At[object], ...] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{label}: expected {kind.describe()}, got {self.got(node)}")
            return None
        if not kind.min_items <= len(node.value) <= kind.max_items:
            self.problem(
                node,
                f"{label}: expected {kind.min_items} to {kind.max_items} items, "
                f"got {len(node.value)}",
            )
            return None
        items = [self.check(item, kind.item, f"{label}[{i}]", scope) for i, item in
                 enumerate(node.value)]  # fmt: skip
        valid = tuple(item for item in items if item is not None and _complete(item))
        return valid if len(valid) == len(items) else None

    def pairs(self, node: yaml.MappingNode, label: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """Return the (key, key node, value node) pairs, reporting bad or repeated keys."""
        seen: dict[str, yaml.Node] = {}
        result: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == CORE + "null":
                self.problem(key_node, f"{label}: expected a key name, got {self.got(key_node)}")
                continue
            key = str(key_node.value)
            if key == "<<":
                self.problem(key_node, f"{label}: merge keys ('<<') are not supported")
                continue
            if key in seen:
                first = self.at(seen[key])
                self.problem(
                    key_node, f"{excerpt(key)}: key appears twice (first at line {first.line})"
                )
                continue
            seen[key] = key_node
            result.append((key, key_node, value_node))
        return result

    def unknown(self, node: yaml.MappingNode, key_node: yaml.Node, where: str, hint: str) -> None:
        """Report an unknown key, with a hint when it is text cut off at a comma."""
        key = str(key_node.value)
        if not hint:
            hint = self.comma_hint(node, key_node)
        self.problem(key_node, f"{excerpt(key)}: unknown key in {where}{hint}")

    def comma_hint(self, node: yaml.MappingNode, key_node: yaml.Node) -> str:
        """``{say: Slowly, breathe out.}`` reads as two keys: say so, and how to quote it."""
        if not node.flow_style:
            return ""
        pairs = node.value
        index = next(i for i, (k, _) in enumerate(pairs) if k is key_node)
        value = pairs[index][1]
        if index == 0 or not (isinstance(value, yaml.ScalarNode) and value.value == ""):
            return ""
        before_key, before = pairs[index - 1]
        if not isinstance(before, yaml.ScalarNode) or before.tag == CORE + "null":
            return ""
        text = excerpt(f"{before.value}, {key_node.value}")
        return f'; put text that holds a comma in quotes: {excerpt(before_key.value)}: "{text}"'

    def mapping(
        self,
        node: yaml.Node,
        object_spec: ObjectSpec,
        label: str,
        scope: frozenset[str] = frozenset(),
        path: str = "",
    ) -> Fields | None:
        """Check a mapping against ``object_spec``; ``None`` if it is not a mapping."""
        if not isinstance(node, yaml.MappingNode):
            got = self.got(node)
            self.problem(node, f"{label}: expected {object_spec.title} keys, got {got}")
            return None
        known = {k.name: k for k in object_spec.keys}
        values: dict[str, At[object]] = {}
        invalid: set[str] = set()
        for key, key_node, value_node in self.pairs(node, label):
            if object_spec.blank_is_unset and _blank(value_node):
                continue
            if key not in known:
                self.unknown(node, key_node, object_spec.title, suggest(key, known))
                continue
            key_path = f"{path}.{key}" if path else key
            value = self.check(value_node, known[key].kind, key, scope, key_path)
            if value is None:
                invalid.add(key)
            else:
                values[key] = value
        missing = set()
        for key_spec in object_spec.keys:
            if key_spec.required and key_spec.name not in values and key_spec.name not in invalid:
                self.problem(node, f"{label}: missing required key '{key_spec.name}'")
                missing.add(key_spec.name)
        return Fields(self.at(node), values, frozenset(invalid), frozenset(missing))

    def map_of(self, node: yaml.Node, kind: MapOf, label: str) -> tuple[Entry, ...] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{label}: expected {kind.describe()}, got {self.got(node)}")
            return None
        if len(node.value) > kind.max_items:
            self.problem(
                node,
                f"{label}: expected at most {kind.max_items} {kind.value.title}s, "
                f"got {len(node.value)}",
            )
            return None
        entries = []
        for key, key_node, value_node in self.pairs(node, label):
            if self.check(key_node, Name(), f"{label} key", frozenset()) is None:
                continue
            fields = self.mapping(value_node, kind.value, key)
            entries.append(Entry(key, self.at(key_node), fields))
        return tuple(entries)

    # -- steps ----------------------------------------------------------

    def steps(
        self, node: yaml.Node, kind: Steps, label: str, path: str, scope: frozenset[str]
    ) -> tuple[CheckedStep, ...] | None:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            got = "an empty list" if isinstance(node, yaml.SequenceNode) else self.got(node)
            self.problem(node, f"{label}: expected a list of steps, got {got}")
            return None
        if len(node.value) > kind.max_items:
            most = kind.max_items
            self.problem(node, f"{label}: expected at most {most:,} steps, got {len(node.value)}")
            return None
        checked = (self.step(item, f"{path}[{i}]", scope) for i, item in enumerate(node.value))
        return tuple(step for step in checked if step is not None)

    def step(self, node: yaml.Node, path: str, scope: frozenset[str]) -> CheckedStep | None:
        """Check one step's shape: exactly one kind key, and the keys allowed beside it."""
        if not isinstance(node, yaml.MappingNode):
            hint = ""
            if isinstance(node, yaml.ScalarNode) and node.tag == CORE + "str" and self.quotable:
                hint = f"; did you mean 'say: {excerpt(str(node.value))}'?"
            self.problem(
                node,
                f"step: expected a step such as 'say: …' or 'pause: 5s', "
                f"got {self.got(node)}{hint}",
            )
            return None
        pairs = self.pairs(node, "step")
        kinds = [(k, kn, vn) for k, kn, vn in pairs if k in spec.STEP_KEYS]
        if not kinds:
            sibling_names = {s.name for s_ in spec.STEP_SPECS for s in s_.siblings}
            for key, key_node, _ in pairs:
                if key in sibling_names:
                    continue
                hint = suggest(key, spec.STEP_KEYS) or "; expected one of " + ", ".join(
                    spec.STEP_KEYS
                )
                self.problem(key_node, f"{excerpt(key)}: unknown step{hint}")
            if not pairs or all(k in {"steps", "title"} for k, _, _ in pairs):
                self.problem(node, f"step: expected one of {', '.join(spec.STEP_KEYS)}, found none")
            return None
        if len(kinds) > 1:
            names = " and ".join(f"'{k}'" for k, _, _ in kinds)
            self.problem(kinds[1][1], f"step: expected one kind of step, found {names}")
            return None
        kind_key, _, value_node = kinds[0]
        step_spec = next(s for s in spec.STEP_SPECS if s.key == kind_key)
        siblings = {s.name: s for s in step_spec.siblings}
        extra: dict[str, yaml.Node] = {}
        for key, key_node, sibling_node in pairs:
            if key == kind_key:
                continue
            if key not in siblings:
                hint = suggest(key, siblings)
                if not hint and key in spec.STEP_KEYS:
                    hint = "; put each step in its own list item"
                self.unknown(node, key_node, f"a '{kind_key}' step", hint)
                continue
            extra[key] = sibling_node
        for sibling in step_spec.siblings:
            if sibling.required and sibling.name not in extra:
                self.problem(node, f"{kind_key}: missing required key '{sibling.name}'")
                return None
        inner = scope | frozenset(step_spec.fills)
        values: dict[str, At[object]] = {}
        invalid = set()
        for key, sibling_node in extra.items():
            checked = self.check(sibling_node, siblings[key].kind, key, inner, f"{path}.{key}")
            if checked is None:
                invalid.add(key)
            else:
                values[key] = checked
        value = self.check(value_node, step_spec.value, kind_key, scope, path)
        fields = Fields(self.at(node), values, frozenset(invalid))
        return CheckedStep(kind_key, value, fields, self.at(node), path)


def _complete(item: At[object]) -> bool:
    return not isinstance(item.value, Fields) or item.value.complete


def _blank(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and (node.tag == CORE + "null" or node.value == "")
