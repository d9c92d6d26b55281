"""How YAML content and YAML's own errors appear in messages: short, escaped, at the mistake.

A message quotes at most a short excerpt of a file, with anything unprintable escaped, so
that no error prints a file back or sends control sequences to a terminal. A YAML syntax
error is placed on the line a person got wrong: libyaml often notices a mis-indented line
only on the line after it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # yaml is imported where it is needed: 'voiceguide list' reads no YAML
    import yaml

EXCERPT_CHARS = 40


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` cut to ``limit`` characters (with …), every unprintable character escaped."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in cut)


def quoted(text: str, limit: int = EXCERPT_CHARS) -> str:
    """An excerpt in quotes, as Python's ``repr`` writes a short string."""
    return repr(excerpt(text, limit))


def suggest(word: str, choices: Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for a close match among ``choices``, else ``""``."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def describe(node: yaml.Node, quotable: bool = True) -> str:
    """Say what a node is, for 'got …' in a message; its text only if ``quotable``."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == "tag:yaml.org,2002:null":
        return "nothing"
    return quoted(str(node.value)) if quotable else "text"


_INDENT_PROBLEMS = (
    "did not find expected key",
    "mapping values are not allowed",
    "did not find expected '-' indicator",
    "did not find expected <document start>",
    "expected <block end>",
)
_KEY_LINE = re.compile(r"^( *)(?:[^\s#\-][^:#]*|\"[^\"]*\"|'[^']*'):(?:\s|$)")
_ITEM_LINE = re.compile(r"^( *)- ")


def _shape(line: str) -> tuple[str, int] | None:
    """A content line's kind ("key" or "item") and indentation, or None for anything else."""
    item = _ITEM_LINE.match(line)
    if item:
        return "item", len(item.group(1))
    key = _KEY_LINE.match(line)
    if key:
        return "key", len(key.group(1))
    return None


def _content(lines: list[str], index: int) -> bool:
    stripped = lines[index].strip()
    return bool(stripped) and not stripped.startswith("#")


def misindented(lines: list[str], error: int) -> int | None:
    """The line (0-based) that sticks out among its siblings, when libyaml noticed it late.

    ``error`` is the line libyaml reports. If the content line before it is of the same
    kind (key or list item) but indented differently, while the error line agrees with the
    next sibling after it, the earlier line is the odd one out.
    """
    if not 0 <= error < len(lines):
        return None
    here = _shape(lines[error])
    before = next((i for i in range(error - 1, -1, -1) if _content(lines, i)), None)
    if here is None or before is None:
        return None
    previous = _shape(lines[before])
    if previous is None or previous[0] != here[0] or previous[1] == here[1]:
        return None
    for after in range(error + 1, len(lines)):
        shape = _shape(lines[after]) if _content(lines, after) else None
        if shape is None or shape[1] > here[1]:
            continue
        if shape[0] == here[0] and shape[1] == here[1]:
            return before
        return None
    if before == 0 and previous[1] > here[1]:
        return before  # the first line of the file indented, the rest not
    return None


def yaml_problem(text: str, exc: yaml.MarkedYAMLError) -> tuple[int, int, str]:
    """Where a YAML syntax error is (1-based line and column) and what to say about it."""
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line, mark.column) if mark else (0, 0)
    message = excerpt(exc.problem or exc.context or "invalid YAML", 100)
    lines = text.splitlines()
    last = len(lines) if text.endswith(("\n", "\r")) else len(lines) - 1
    if line > last >= 0:  # libyaml's end of the stream, past the last line: its end
        line, column = last, len(lines[last]) if last < len(lines) else 0
    if any(message.startswith(p) for p in _INDENT_PROBLEMS):
        odd = misindented(lines, line)
        if odd is not None:
            column = len(lines[odd]) - len(lines[odd].lstrip(" "))
            return (
                odd + 1,
                column + 1,
                ("this line is indented differently from the lines around it"),
            )
    if message.startswith("mapping values are not allowed") and 0 <= line < len(lines):
        earlier = lines[line][:column]
        if re.search(r"\S:\s", earlier):
            message += "; put text that holds ': ' in quotes, as in say: \"Slowly: breathe out.\""
    return line + 1, column + 1, message
