"""Read a YAML file safely: the one way routines, point libraries and the config are read.

Only a regular file is opened for reading (a FIFO, a device or a folder is refused without
blocking), and never more than its limit plus one byte is read. The text must be UTF-8
without control characters; it is composed into YAML nodes, never constructed into
objects, and screened before anyone reads it: no tags, aliases expanded under a bound,
nesting bounded. Every problem is located at its real line and column.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import yaml

from voiceguide.errors import NotFoundError, Position, Problem, ScriptError
from voiceguide.script import spec
from voiceguide.script.yamltext import excerpt, yaml_problem

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CORE = "tag:yaml.org,2002:"
_ALLOWED_TAGS = {CORE + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
YAML_SUFFIXES = (".yaml", ".yml")

_CONTROL_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 0x1B: "ESC", 0x7F: "DEL", 0x85: "NEL"}
_LAYOUT = {"\t", "\n", "\r"}


def _is_control(char: str) -> bool:
    code = ord(char)
    return (code < 0x20 and char not in _LAYOUT) or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029)


def control_name(char: str) -> str:
    """Name a control character for a message: ``U+001B (ESC)``."""
    code = ord(char)
    name = _CONTROL_NAMES.get(code, "line separator" if code in (0x2028, 0x2029) else "")
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def first_control(text: str) -> int | None:
    """Index of the first control character in ``text`` (tab and line breaks allowed)."""
    for index, char in enumerate(text):
        if _is_control(char):
            return index
    return None


@dataclass(frozen=True)
class Source:
    """A file read and composed: its YAML nodes, and how to name it in messages."""

    path: Path
    display: str
    root: yaml.Node | None
    """The top node; ``None`` for a file with no YAML in it."""
    quotable: bool
    """Whether excerpts of its content may appear in messages: only a file named .yaml."""


class _Abort(Exception):
    """The file cannot be read further; its problem is recorded."""


def display_path(path: Path) -> str:
    """Show ``path`` relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):
        return str(path)


def is_yaml_name(path: Path) -> bool:
    """Whether ``path``, symbolic links followed, is named like a YAML file."""
    try:
        return path.resolve().suffix.lower() in YAML_SUFFIXES
    except (OSError, RuntimeError):
        return False


def read_bytes(path: Path, display: str, *, limit: int, what: str) -> bytes:
    """Read a regular file of at most ``limit`` bytes; refuse anything else in one line."""
    pos = Position(display, 1, 1)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NotFoundError(f"{display}: no such file") from None
    except PermissionError:
        raise NotFoundError(f"{display}: permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise NotFoundError(f"{excerpt(display, 60)}: the file name is too long") from None
        raise NotFoundError(f"{display}: cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            found = _file_type(info.st_mode)
            raise ScriptError([Problem(pos, f"expected a {what}, found {found}")])
        if info.st_size > limit:
            raise ScriptError([_too_big(pos, f"{info.st_size:,} bytes", limit, what)])
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(limit + 1 - size, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise ScriptError([_too_big(pos, f"more than {limit:,} bytes", limit, what)])
        return b"".join(chunks)
    except OSError as exc:
        raise NotFoundError(f"{display}: cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)


def _too_big(pos: Position, size: str, limit: int, what: str) -> Problem:
    kind = "scripts" if what == "routine script" else f"{what}s"
    return Problem(pos, f"file is {size}; {kind} are limited to {limit:,}")


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something that is not a regular file"


def decode(data: bytes, display: str) -> str:
    """Decode UTF-8 (a byte-order mark allowed); refuse bad bytes and control characters."""
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
    index = first_control(text)
    if index is not None:
        before_text = text[:index]
        line = before_text.count("\n") + 1
        column = index - (before_text.rfind("\n") + 1) + 1
        more = sum(1 for c in text[index + 1 :] if _is_control(c))
        tail = f" ({more:,} more in this file)" if more else ""
        what = "a NUL byte" if text[index] == "\0" else "a control character"
        raise ScriptError(
            [
                Problem(
                    Position(display, line, column),
                    f"expected text, found {what}, {control_name(text[index])}; remove it{tail}",
                )
            ]
        )
    return text


def read_source(path: Path, display: str, *, limit: int, what: str) -> Source:
    """Read, decode, compose and screen the YAML file at ``path``.

    Raises :class:`NotFoundError` when it cannot be opened and :class:`ScriptError` with
    every problem found when it is not acceptable YAML.
    """
    text = decode(read_bytes(path, display, limit=limit, what=what), display)
    quotable = is_yaml_name(path)
    problems: list[Problem] = []
    root = _compose(text, display, problems)
    if root is not None and not problems:
        with contextlib.suppress(_Abort):
            _screen(root, display, problems)
    if problems:
        raise ScriptError(problems if quotable else [not_shown(display, what)])
    return Source(path, display, root, quotable)


def not_shown(display: str, what: str) -> Problem:
    """The one problem told of a file that is not named .yaml: nothing of it is quoted."""
    return Problem(
        Position(display, 1, 1),
        f"not a valid {what}; the problems are only shown for files named .yaml or .yml",
    )


def _compose(text: str, display: str, problems: list[Problem]) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line, column, message = yaml_problem(text, exc)
        problems.append(Problem(Position(display, line, column), f"could not read YAML: {message}"))
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = exc.position - (before.rfind("\n") + 1) + 1
        problems.append(
            Problem(Position(display, line, column), f"could not read YAML: {exc.reason}")
        )
    except yaml.YAMLError as exc:
        message = excerpt(str(exc).splitlines()[0] if str(exc) else "invalid YAML", 100)
        problems.append(Problem(Position(display, 1, 1), f"could not read YAML: {message}"))
    except RecursionError:
        problems.append(
            Problem(Position(display, 1, 1), "expected a script, found nesting too deep to read")
        )
    return None


def position(display: str, node: yaml.Node) -> Position:
    """Where ``node`` starts, 1-based."""
    mark = node.start_mark
    return Position(display, mark.line + 1, mark.column + 1)


def _screen(root: yaml.Node, display: str, problems: list[Problem]) -> None:
    """Check the whole composed graph before reading it: tags, control characters, aliases.

    Aliases share nodes, so the expanded size is computed once per node: a 'billion
    laughs' file is measured in a few thousand steps, never expanded.
    """
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def problem(node: yaml.Node, message: str) -> None:
        problems.append(Problem(position(display, node), message))

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            problem(node, "expected a tree of values, found an alias that contains itself")
            raise _Abort
        if depth > spec.MAX_DEPTH:
            problem(node, f"expected at most {spec.MAX_DEPTH} levels of nesting, found more")
            raise _Abort
        if node.tag not in _ALLOWED_TAGS:
            if node.tag.startswith(CORE):
                problem(node, f"YAML tag {excerpt(node.tag[len(CORE) :], 40)!r} is not allowed")
            else:
                problem(node, f"YAML tags are not allowed, found {excerpt(node.tag, 40)!r}")
        total = 1
        if isinstance(node, yaml.ScalarNode):
            index = first_control(str(node.value))
            if index is not None:
                found = control_name(str(node.value)[index])
                problem(node, f"expected text, found a control character, {found}; remove it")
        else:
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
        problem(
            root,
            f"expected at most {spec.MAX_NODES:,} values with aliases expanded, found {expanded:,}",
        )
