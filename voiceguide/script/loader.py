"""Load routine scripts: YAML in, typed :mod:`voiceguide.script.model` out.

The only module that knows YAML. Loading is safe: no tags that construct
objects, aliases expanded under a bound (:data:`~voiceguide.script.spec.MAX_NODES`),
nesting bounded, large or non-UTF-8 files refused before parsing. Every
problem is collected with its ``path:line:column`` and all are raised together
in one :class:`~voiceguide.errors.ScriptError`.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from voiceguide.errors import NotFoundError, Position, Problem, ScriptError
from voiceguide.prefs import VoicePrefs
from voiceguide.script import spec
from voiceguide.script.durations import DurationSyntaxError, format_ms, parse_duration_ms
from voiceguide.script.model import (
    Activity,
    Include,
    Offset,
    Pause,
    Point,
    Press,
    Prompt,
    Repeat,
    Routine,
    Say,
    Settings,
    Sides,
    Sound,
    Step,
)

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_CORE + t for t in ("str", "int", "float", "bool", "null")}
_ALLOWED_TAGS = _PLAIN_TAGS | {_CORE + "seq", _CORE + "map"}

Resolver = Callable[[str, Path], Path]
"""Find an included routine: ``(name, including_file) -> path``; raises NotFoundError."""


class _Invalid:
    """Marks a value that failed validation (its problem is already recorded)."""


INVALID = _Invalid()


class _Abort(Exception):
    """Stop reading one file: it is too large or too deep to go on."""


def suggest(word: str, choices: object) -> str:
    """Return ``"; did you mean 'x'?"`` for a close match among ``choices``, else ``""``."""
    options = [str(c) for c in choices]  # type: ignore[attr-defined]
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _CORE + "null":
        return "nothing"
    return repr(node.value)


def read_text(path: Path, display: str) -> str:
    """Read a script as UTF-8 text, refusing what cannot be a script."""
    pos = Position(display, 1, 1)
    try:
        if path.is_dir():
            raise ScriptError([Problem(pos, "expected a routine script, found a directory")])
        size = path.stat().st_size
        if size > spec.MAX_SCRIPT_BYTES:
            raise ScriptError(
                [
                    Problem(
                        pos,
                        f"file is {size:,} bytes; scripts are limited to {spec.MAX_SCRIPT_BYTES:,}",
                    )
                ]
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{display}: no such file") from None
    except PermissionError:
        raise NotFoundError(f"{display}: permission denied") from None
    except OSError as exc:
        raise NotFoundError(f"{display}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        raise ScriptError(
            [
                Problem(
                    Position(display, line, column),
                    f"expected UTF-8 text, found byte 0x{data[exc.start]:02x}; "
                    "save the file as UTF-8",
                )
            ]
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ScriptError([Problem(Position(display, line, 1), "expected text, found a NUL byte")])
    return text


@dataclass
class _Session:
    """State shared by every file read for one top-level load."""

    resolve: Resolver
    shared_points: Mapping[str, Point]
    problems: list[Problem] = field(default_factory=list)
    stack: list[Path] = field(default_factory=list)
    cache: dict[Path, Routine | None] = field(default_factory=dict)


class _File:
    """Validation and building for one file."""

    def __init__(self, session: _Session, path: Path, display: str) -> None:
        self.session = session
        self.path = path
        self.display = display
        self.points: dict[str, Point] = dict(session.shared_points)

    # -- problems -------------------------------------------------------

    def pos(self, node: yaml.Node) -> Position:
        mark = node.start_mark
        return Position(self.display, mark.line + 1, mark.column + 1)

    def problem(self, node: yaml.Node, message: str) -> _Invalid:
        self.session.problems.append(Problem(self.pos(node), message))
        return INVALID

    def screen(self, root: yaml.Node) -> bool:
        """Check the whole composed graph before reading it: tags, alias expansion, cycles.

        Aliases share nodes, so the expanded size is computed once per node: a
        'billion laughs' file is measured in a few thousand steps, never expanded.
        """
        sizes: dict[int, int] = {}
        on_path: set[int] = set()
        ok = True

        def size(node: yaml.Node, depth: int) -> int:
            nonlocal ok
            key = id(node)
            if key in sizes:
                return sizes[key]
            if key in on_path:
                self.problem(node, "expected a tree of values, found an alias that contains itself")
                raise _Abort
            if depth > spec.MAX_DEPTH:
                self.problem(
                    node, f"expected at most {spec.MAX_DEPTH} levels of nesting, found more"
                )
                raise _Abort
            if node.tag not in _ALLOWED_TAGS:
                ok = False
                if node.tag.startswith(_CORE):
                    self.problem(node, f"YAML tag {node.tag[len(_CORE) :]!r} is not allowed")
                else:
                    self.problem(node, f"YAML tags are not allowed, found {node.tag!r}")
            total = 1
            if isinstance(node, yaml.SequenceNode | yaml.MappingNode):
                on_path.add(key)
                children = (
                    node.value
                    if isinstance(node, yaml.SequenceNode)
                    else [n for pair in node.value for n in pair]
                )
                for child in children:
                    total += size(child, depth + 1)
                on_path.discard(key)
            sizes[key] = total
            return total

        expanded = size(root, 0)
        if expanded > spec.MAX_NODES:
            self.problem(
                root,
                f"expected at most {spec.MAX_NODES:,} values with aliases expanded, "
                f"found {expanded:,}",
            )
            raise _Abort
        return ok

    # -- scalars --------------------------------------------------------

    def scalar(self, node: yaml.Node, label: str, expected: str) -> str | _Invalid:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _CORE + "null":
            return self.problem(node, f"{label}: expected {expected}, got {_describe(node)}")
        return str(node.value)

    def convert(self, node: yaml.Node, kind: spec.Kind, label: str, scope: frozenset[str]) -> Any:
        """Check ``node`` against ``kind``; return its value or :data:`INVALID`."""
        if isinstance(kind, spec.Text):
            return self.text(node, kind, label, scope)
        if isinstance(kind, spec.Name):
            raw = self.scalar(node, label, kind.describe())
            if isinstance(raw, _Invalid):
                return raw
            if not re.fullmatch(kind.pattern, raw):
                return self.problem(node, f"{label}: expected {kind.describe()}, got {raw!r}")
            return raw
        if isinstance(kind, spec.Duration):
            return self.duration(node, kind, label)
        if isinstance(kind, spec.Integer):
            raw = self.scalar(node, label, kind.describe())
            if isinstance(raw, _Invalid):
                return raw
            value = None
            if node.tag == _CORE + "int":
                value = yaml.safe_load(raw)
            if not isinstance(value, int) or not kind.minimum <= value <= kind.maximum:
                got = raw if isinstance(value, int) else repr(raw)
                return self.problem(node, f"{label}: expected {kind.describe()}, got {got}")
            return value
        if isinstance(kind, spec.Boolean):
            raw = self.scalar(node, label, kind.describe())
            if isinstance(raw, _Invalid):
                return raw
            if node.tag != _CORE + "bool":
                return self.problem(node, f"{label}: expected true or false, got {raw!r}")
            return bool(yaml.safe_load(raw))
        if isinstance(kind, spec.Choice):
            raw = self.scalar(node, label, kind.describe())
            if isinstance(raw, _Invalid):
                return raw
            if raw.lower() not in kind.values:
                hint = suggest(raw.lower(), kind.values)
                return self.problem(node, f"{label}: expected {kind.describe()}, got {raw!r}{hint}")
            return raw.lower()
        if isinstance(kind, spec.Moment):
            return self.moment(node, kind, label)
        if isinstance(kind, spec.ListOf):
            return self.list_of(node, kind, label, scope)
        if isinstance(kind, spec.Object):
            return self.mapping(node, kind.spec, label, scope)
        if isinstance(kind, spec.MapOf):
            return self.map_of(node, kind, label)
        raise TypeError(kind)  # pragma: no cover - every kind is handled above

    def text(
        self, node: yaml.Node, kind: spec.Text, label: str, scope: frozenset[str]
    ) -> str | _Invalid:
        raw = self.scalar(node, label, "text")
        if isinstance(raw, _Invalid):
            return raw
        # A plain scalar such as `say: No` is text here, not YAML's boolean.
        text = " ".join(raw.split())
        if not text:
            return self.problem(node, f"{label}: expected text, got an empty string")
        if len(text) > kind.max_chars:
            return self.problem(
                node, f"{label}: expected at most {kind.max_chars} characters, got {len(text)}"
            )
        if kind.placeholders:
            self.check_placeholders(node, text, label, scope)
        return text

    def check_placeholders(
        self, node: yaml.Node, text: str, label: str, scope: frozenset[str]
    ) -> None:
        try:
            fields = [f for _, f, spec_, conv in string.Formatter().parse(text) if f is not None]
        except ValueError:
            self.problem(node, f"{label}: unbalanced brace; write '{{{{' for a literal '{{'")
            return
        for name in fields:
            if name not in spec.PLACEHOLDERS:
                hint = suggest(name, spec.PLACEHOLDERS)
                hint = hint.replace("'", "{", 1).replace("'", "}", 1) if hint else ""
                self.problem(node, f"{label}: unknown placeholder {{{name}}}{hint}")
            elif name not in scope:
                where = "sides" if name == "side" else "repeat"
                self.problem(
                    node, f"{label}: {{{name}}} is only filled in inside a '{where}' block"
                )

    def duration(self, node: yaml.Node, kind: spec.Duration, label: str) -> int | _Invalid:
        raw = self.scalar(node, label, kind.describe())
        if isinstance(raw, _Invalid):
            return raw
        try:
            ms = parse_duration_ms(raw)
        except DurationSyntaxError:
            return self.problem(node, f"{label}: expected {kind.describe()}, got {raw!r}")
        if not kind.min_ms <= ms <= kind.max_ms:
            return self.problem(
                node,
                f"{label}: expected a duration from {format_ms(kind.min_ms)} "
                f"to {format_ms(kind.max_ms)}, got {raw!r}",
            )
        return ms

    def moment(self, node: yaml.Node, kind: spec.Moment, label: str) -> Offset | _Invalid:
        raw = self.scalar(node, label, kind.describe())
        if isinstance(raw, _Invalid):
            return raw
        text = raw.strip()
        if text.endswith("%"):
            number = text[:-1].strip()
            if number.isdigit() and 0 <= int(number) < 100:
                return Offset(percent=int(number))
            return self.problem(node, f"{label}: expected a percentage from 0% to 99%, got {raw!r}")
        try:
            ms = parse_duration_ms(text)
        except DurationSyntaxError:
            return self.problem(node, f"{label}: expected {kind.describe()}, got {raw!r}")
        if ms < 0:
            return self.problem(node, f"{label}: expected a time of 0s or more, got {raw!r}")
        return Offset(ms=ms)

    # -- collections ----------------------------------------------------

    def list_of(
        self, node: yaml.Node, kind: spec.ListOf, label: str, scope: frozenset[str]
    ) -> list[Any] | _Invalid:
        if not isinstance(node, yaml.SequenceNode):
            return self.problem(node, f"{label}: expected {kind.describe()}, got {_describe(node)}")
        if not kind.min_items <= len(node.value) <= kind.max_items:
            return self.problem(
                node,
                f"{label}: expected {kind.min_items} to {kind.max_items} items, "
                f"got {len(node.value)}",
            )
        items = [
            self.convert(item, kind.item, f"{label}[{i}]", scope)
            for i, item in enumerate(node.value)
        ]
        return INVALID if any(item is INVALID for item in items) else items

    def pairs(self, node: yaml.MappingNode, label: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """Return the (key, key node, value node) pairs, reporting bad or repeated keys."""
        seen: dict[str, yaml.Node] = {}
        result: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _CORE + "null":
                self.problem(key_node, f"{label}: expected a key name, got {_describe(key_node)}")
                continue
            key = str(key_node.value)
            if key == "<<":
                self.problem(key_node, f"{label}: merge keys ('<<') are not supported")
                continue
            if key in seen:
                first = self.pos(seen[key])
                self.problem(key_node, f"{key}: key appears twice (first at line {first.line})")
                continue
            seen[key] = key_node
            result.append((key, key_node, value_node))
        return result

    def mapping(
        self,
        node: yaml.Node,
        object_spec: spec.ObjectSpec,
        label: str,
        scope: frozenset[str],
        allow: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | _Invalid:
        """Check a mapping against ``object_spec``; values of ``allow`` keys are left unread."""
        if not isinstance(node, yaml.MappingNode):
            return self.problem(
                node, f"{label}: expected {object_spec.title} keys, got {_describe(node)}"
            )
        known = {k.name: k for k in object_spec.keys}
        values: dict[str, Any] = {"@node": node}
        ok = True
        for key, key_node, value_node in self.pairs(node, label):
            if key in allow:
                values[key] = value_node
                continue
            if key not in known:
                hint = suggest(key, known)
                self.problem(key_node, f"{key}: unknown key in {object_spec.title}{hint}")
                ok = False
                continue
            value = self.convert(value_node, known[key].kind, key, scope)
            if value is INVALID:
                ok = False
            values[key] = value
            values[f"@{key}"] = value_node
        for key_spec in object_spec.keys:
            if key_spec.required and key_spec.name not in values:
                self.problem(node, f"{label}: missing required key '{key_spec.name}'")
                ok = False
        return values if ok else INVALID

    def map_of(self, node: yaml.Node, kind: spec.MapOf, label: str) -> dict[str, Point] | _Invalid:
        if not isinstance(node, yaml.MappingNode):
            return self.problem(node, f"{label}: expected {kind.describe()}, got {_describe(node)}")
        if len(node.value) > kind.max_items:
            return self.problem(
                node, f"{label}: expected at most {kind.max_items} points, got {len(node.value)}"
            )
        points: dict[str, Point] = {}
        ok = True
        name = spec.Name()
        for key, key_node, value_node in self.pairs(node, label):
            if self.convert(key_node, name, f"{label} key", frozenset()) is INVALID:
                ok = False
                continue
            values = self.mapping(value_node, kind.value, key, frozenset())
            if isinstance(values, _Invalid):
                ok = False
                continue
            points[key] = Point(
                key=key,
                name=values["name"],
                where=values["where"],
                position=self.pos(key_node),
                find=values.get("find"),
                also=tuple(values.get("also", ())),
                pressure=values.get("pressure"),
                cautions=tuple(values.get("cautions", ())),
                helps=values.get("helps"),
            )
        return points if ok else INVALID

    # -- steps ----------------------------------------------------------

    def steps(
        self,
        node: yaml.Node,
        label: str,
        path: str,
        scope: frozenset[str],
        settings: Settings,
    ) -> tuple[Step, ...]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            got = "an empty list" if isinstance(node, yaml.SequenceNode) else _describe(node)
            self.problem(node, f"{label}: expected a list of steps, got {got}")
            return ()
        most = spec.Steps().max_items
        if len(node.value) > most:
            self.problem(node, f"{label}: expected at most {most:,} steps, got {len(node.value)}")
            return ()
        built = []
        for i, item in enumerate(node.value):
            step = self.step(item, f"{path}[{i}]", scope, settings)
            if step is not None:
                built.append(step)
        return tuple(built)

    def step(
        self, node: yaml.Node, path: str, scope: frozenset[str], settings: Settings
    ) -> Step | None:
        if not isinstance(node, yaml.MappingNode):
            hint = ""
            if isinstance(node, yaml.ScalarNode) and node.tag == _CORE + "str":
                hint = f"; did you mean 'say: {node.value}'?"
            self.problem(
                node,
                f"step: expected a step such as 'say: …' or 'pause: 5s', "
                f"got {_describe(node)}{hint}",
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
                self.problem(key_node, f"{key}: unknown step{hint}")
            if not pairs or all(k in {"steps", "title"} for k, _, _ in pairs):
                self.problem(node, f"step: expected one of {', '.join(spec.STEP_KEYS)}, found none")
            return None
        if len(kinds) > 1:
            names = " and ".join(f"'{k}'" for k, _, _ in kinds)
            self.problem(kinds[1][1], f"step: expected one kind of step, found {names}")
            return None
        kind_key, _kind_node, value_node = kinds[0]
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
                self.problem(key_node, f"{key}: unknown key in a '{kind_key}' step{hint}")
                continue
            extra[key] = sibling_node
        for sibling in step_spec.siblings:
            if sibling.required and sibling.name not in extra:
                self.problem(node, f"{kind_key}: missing required key '{sibling.name}'")
                return None
        title = None
        if "title" in extra:
            value = self.convert(extra["title"], spec.TITLE.kind, "title", scope)
            title = None if value is INVALID else value
        pos = self.pos(node)
        nested_scope = scope
        if kind_key == "sides":
            nested_scope = scope | {"side"}
        elif kind_key == "repeat":
            nested_scope = scope | {"round", "rounds", "ordinal"}
        value = self.convert(value_node, step_spec.value, kind_key, scope)
        if kind_key in ("sides", "repeat"):
            inner = self.steps(extra["steps"], "steps", f"{path}.steps", nested_scope, settings)
            if value is INVALID or not inner:
                return None
            if kind_key == "sides":
                return Sides(tuple(value), inner, pos, path, title)
            return Repeat(value, inner, pos, path, title)
        if value is INVALID:
            if kind_key == "press":
                self.check_point_only(value_node)
            return None
        if kind_key == "say":
            return Say(value, pos, path, title)
        if kind_key == "pause":
            return Pause(value, pos, path, title)
        if kind_key == "sound":
            return self.sound(value_node, value, pos, path, title)
        if kind_key == "include":
            return self.include(value_node, value, pos, path, title)
        if kind_key == "press":
            return self.press(value, pos, path, settings)
        if kind_key == "activity":
            return self.activity(value, pos, path)
        raise AssertionError(kind_key)  # pragma: no cover

    def prompts(self, values: dict[str, Any], phase_ms: int, phase: str) -> tuple[Prompt, ...]:
        built = []
        for prompt_node, prompt in zip(
            values["@prompts"].value if "prompts" in values else (),
            values.get("prompts", ()),
            strict=True,
        ):
            at: Offset = prompt["at"]
            if at.ms is not None and at.ms >= phase_ms:
                self.problem(
                    prompt["@at"],
                    f"at: expected a time inside the {format_ms(phase_ms)} {phase}, "
                    f"got {format_ms(at.ms)}",
                )
                continue
            built.append(Prompt(at, prompt["say"], self.pos(prompt_node)))
        return tuple(built)

    def countdown(self, values: dict[str, Any], phase_ms: int, phase: str) -> int:
        count: int = values.get("countdown", 0)
        if count * 1000 >= phase_ms:
            self.problem(
                values["@countdown"],
                f"countdown: expected fewer ticks than the {format_ms(phase_ms)} {phase} "
                f"has seconds, got {count}",
            )
        return count

    def check_point_only(self, node: yaml.Node) -> None:
        """Report an unknown point in a press step whose other keys are invalid."""
        if not isinstance(node, yaml.MappingNode):
            return
        for key_node, value_node in node.value:
            if getattr(key_node, "value", None) == "point" and isinstance(
                value_node, yaml.ScalarNode
            ):
                key = str(value_node.value)
                if key not in self.points:
                    hint = suggest(key, self.points)
                    self.problem(value_node, f"point: no point named {key!r}{hint}")

    def press(
        self, values: dict[str, Any], pos: Position, path: str, settings: Settings
    ) -> Press | None:
        key = values["point"]
        point = self.points.get(key)
        if point is None:
            hint = suggest(key, self.points)
            self.problem(values["@point"], f"point: no point named {key!r}{hint}")
            return None
        hold_ms = values["hold"]
        return Press(
            point=point,
            hold_ms=hold_ms,
            position=pos,
            path=path,
            reps=values.get("reps", 1),
            rest_ms=values.get("rest", settings.rest_ms),
            find_ms=values.get("find", settings.find_ms),
            pressure=values.get("pressure") or point.pressure or "firm",
            say=values.get("say"),
            prompts=self.prompts(values, hold_ms, "hold"),
            countdown=self.countdown(values, hold_ms, "hold"),
            halfway=values.get("halfway", False),
            title=values.get("title"),
        )

    def activity(self, values: dict[str, Any], pos: Position, path: str) -> Activity:
        duration_ms = values["for"]
        return Activity(
            say=values["say"],
            duration_ms=duration_ms,
            position=pos,
            path=path,
            done=values.get("done", Activity.done),
            prompts=self.prompts(values, duration_ms, "activity"),
            countdown=self.countdown(values, duration_ms, "activity"),
            halfway=values.get("halfway", False),
            title=values.get("title"),
        )

    def sound(
        self, node: yaml.Node, name: str, pos: Position, path: str, title: str | None
    ) -> Sound | None:
        if name in spec.SOUND_NAMES:
            return Sound(name, pos, path, title)
        if "/" in name or "." in name:
            file = (self.path.parent / name).resolve()
            if file.is_file():
                return Sound(str(file), pos, path, title)
            self.problem(node, f"sound: no sound file at {name!r} (relative to this script)")
            return None
        hint = suggest(name, spec.SOUND_NAMES)
        self.problem(
            node,
            f"sound: expected one of {', '.join(spec.SOUND_NAMES)} or a sound file, "
            f"got {name!r}{hint}",
        )
        return None

    def include(
        self, node: yaml.Node, name: str, pos: Position, path: str, title: str | None
    ) -> Include | None:
        session = self.session
        try:
            target = session.resolve(name, self.path).resolve()
        except NotFoundError as exc:
            self.problem(node, f"include: {exc}")
            return None
        if target in session.stack:
            chain = [p.stem for p in session.stack[session.stack.index(target) :]] + [target.stem]
            self.problem(node, f"include: {' → '.join(chain)} includes itself")
            return None
        if len(session.stack) >= spec.MAX_INCLUDE_DEPTH:
            self.problem(node, f"include: expected at most {spec.MAX_INCLUDE_DEPTH} levels")
            return None
        routine = _load_file(session, target, _display(target))
        if routine is None:
            return None
        return Include(routine, pos, path, title)

    # -- the whole file -------------------------------------------------

    def compose(self, text: str) -> yaml.Node | None:
        try:
            return yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            what = exc.problem or exc.context or "invalid YAML"
            self.session.problems.append(
                Problem(Position(self.display, line, column), f"could not read YAML: {what}")
            )
        except yaml.YAMLError as exc:
            self.session.problems.append(
                Problem(Position(self.display, 1, 1), f"could not read YAML: {exc}")
            )
        except RecursionError:
            self.session.problems.append(
                Problem(
                    Position(self.display, 1, 1),
                    "expected a script, found nesting too deep to read",
                )
            )
        return None

    def routine(self, node: yaml.Node) -> Routine | None:
        values = self.mapping(
            node, spec.ROUTINE, "routine", frozenset(), allow=frozenset({"steps"})
        )
        if isinstance(values, _Invalid):
            # Still read the steps, so that their problems are reported too.
            if isinstance(node, yaml.MappingNode):
                for key, _, value_node in self.pairs_quiet(node):
                    if key == "steps":
                        self.steps(value_node, "steps", "steps", frozenset(), Settings())
            return None
        settings_values = values.get("settings", {})
        settings = Settings(
            prefs=VoicePrefs(
                engine=settings_values.get("engine"),
                voice=settings_values.get("voice"),
                rate_wpm=settings_values.get("rate"),
                pitch=settings_values.get("pitch"),
                volume_pct=settings_values.get("volume"),
            ),
            find_ms=settings_values.get("find", Settings.find_ms),
            rest_ms=settings_values.get("rest", Settings.rest_ms),
            lead_in_ms=settings_values.get("lead_in", Settings.lead_in_ms),
            tones=settings_values.get("tones", True),
        )
        self.points.update(values.get("points", {}))
        steps = self.steps(values["steps"], "steps", "steps", frozenset(), settings)
        return Routine(
            name=self.path.stem,
            title=values["title"],
            source=str(self.path),
            steps=steps,
            summary=values.get("summary"),
            posture=values.get("posture"),
            cautions=tuple(values.get("cautions", ())),
            settings=settings,
            points=self.points,
        )

    def pairs_quiet(self, node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
        return [(str(k.value), k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]


def _display(path: Path) -> str:
    """Show ``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _load_file(session: _Session, path: Path, display: str) -> Routine | None:
    if path in session.cache:
        return session.cache[path]
    try:
        text = read_text(path, display)
    except ScriptError as exc:
        session.problems.extend(exc.problems)
        return None
    reader = _File(session, path, display)
    node = reader.compose(text)
    routine = None
    if node is None and not session.problems:
        session.problems.append(
            Problem(
                Position(display, 1, 1),
                "expected a routine with 'title' and 'steps', got an empty file",
            )
        )
    elif node is not None:
        session.stack.append(path.resolve())
        try:
            routine = reader.routine(node) if reader.screen(node) else None
        except _Abort:
            routine = None
        finally:
            session.stack.pop()
    session.cache[path] = routine
    return routine


def load_routine(
    path: Path,
    *,
    resolve: Resolver,
    shared_points: Mapping[str, Point] | None = None,
    display: str | None = None,
    memo: dict[Path, Routine] | None = None,
) -> Routine:
    """Load and check the routine at ``path`` with everything it includes.

    ``memo`` keeps routines already loaded (by resolved path) across calls, so that
    loading many routines that include the same parts reads each part once.
    Raises :class:`ScriptError` listing every problem found, in every file read.
    """
    session = _Session(resolve=resolve, shared_points=shared_points or {})
    if memo:
        session.cache.update(memo)
    routine = _load_file(session, path.resolve(), display or _display(path))
    if session.problems or routine is None:
        _raise(session.problems)
    if memo is not None:
        memo.update({p: r for p, r in session.cache.items() if r is not None})
    return routine


def load_points(path: Path, display: str | None = None) -> dict[str, Point]:
    """Load a point library file (``points:`` mapping of point keys)."""
    display = display or _display(path)
    session = _Session(resolve=_no_includes, shared_points={})
    reader = _File(session, path, display)
    node = reader.compose(read_text(path, display))
    points: dict[str, Point] = {}
    if node is not None:
        try:
            values = (
                reader.mapping(node, spec.POINT_LIBRARY, "point library", frozenset())
                if reader.screen(node)
                else INVALID
            )
            if not isinstance(values, _Invalid):
                points = values["points"]
        except _Abort:
            pass
    if session.problems:
        _raise(session.problems)
    return points


def _no_includes(name: str, base: Path) -> NoReturn:
    raise NotFoundError(f"cannot include {name!r} here")


def _raise(problems: list[Problem]) -> NoReturn:
    unique = list(dict.fromkeys(problems))
    raise ScriptError(unique)
