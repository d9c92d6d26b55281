"""Placeholders in an author's text: ``{side}``, ``{round}``… are names, and nothing else.

One grammar for the checker and for filling in: ``{name}`` is a placeholder, ``{{`` and
``}}`` are literal braces. A format spec, a conversion or a nested field (``{round:d}``,
``{side!r}``, ``{side:>{rounds}}``) is refused where it is written; filling in is a plain
substitution of names, never ``str.format`` on the author's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from voiceguide.script import spec
from voiceguide.script.yamltext import excerpt, suggest

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_]\w*)\}|[{}]")


@dataclass(frozen=True)
class Field:
    """A placeholder found in a text: its name and where it starts (0-based)."""

    name: str
    offset: int


class PlaceholderSyntaxError(ValueError):
    """Braces that do not make a placeholder; ``offset`` is where (0-based), ``detail`` why."""

    def __init__(self, offset: int, detail: str) -> None:
        self.offset = offset
        self.detail = detail
        super().__init__(detail)


def fields(text: str) -> Iterator[Field]:
    """Yield each placeholder of ``text``; raise :class:`PlaceholderSyntaxError` at a bad brace."""
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            continue
        if match.group(1) is not None:
            yield Field(match.group(1), match.start())
            continue
        if token == "{":
            close = text.find("}", match.start())
            if close != -1:
                raise PlaceholderSyntaxError(
                    match.start(), _names_only(text[match.start() + 1 : close])
                )
        raise PlaceholderSyntaxError(
            match.start(), f"unbalanced brace; write '{token}{token}' for a literal '{token}'"
        )


def _names_only(inside: str) -> str:
    if not inside:
        return "empty braces; write a name such as {side}, or '{{}}' for literal braces"
    if "{" in inside:
        return "placeholders are names only, such as {side}; write '{{' for a literal '{'"
    name = re.match(r"[A-Za-z_]\w*", inside)
    shown = inside if len(inside) <= 30 else inside[:29] + "…"
    written = f"{{{name.group(0)}}}" if name and len(name.group(0)) <= 30 else "a name"
    return f"placeholders are names only: write {written}, not {{{shown}}}"


def problems(text: str, scope: frozenset[str]) -> list[str]:
    """What is wrong with the placeholders of ``text`` where ``scope`` names are filled in."""
    found = []
    fills = {name: s.key for s in spec.STEP_SPECS for name in s.fills}
    try:
        for field in fields(text):
            name = field.name
            if name not in spec.PLACEHOLDERS:
                hint = suggest(name, spec.PLACEHOLDERS)
                hint = hint.replace("'", "{", 1).replace("'", "}", 1) if hint else ""
                found.append(f"unknown placeholder {{{excerpt(name)}}}{hint}")
            elif name not in scope:
                found.append(f"{{{name}}} is only filled in inside a '{fills[name]}' block")
    except PlaceholderSyntaxError as exc:
        found.append(exc.detail)
    return found


def fill(text: str, values: Mapping[str, str]) -> str:
    """Put ``values`` in place of their placeholders; ``{{`` and ``}}`` become single braces.

    A placeholder without a value is left as written (the checker has refused it already).
    """
    if "{" not in text and "}" not in text:
        return text

    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        if name is not None and name in values:
            return values[name]
        return token

    return _TOKEN.sub(one, text)
