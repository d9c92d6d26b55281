"""The keys: what the listener can ask for, the bytes a terminal sends for it, and its help.

:data:`KEY_HELP` is the one table of the keys. The bytes :func:`parse_keys` understands, the
keys line of the live view (:func:`key_help_line`) and the rows of ``voiceguide play --help``
and docs/play.md (:func:`help_rows`, which the tests hold them to) all come from it.
"""

from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass


class Command(enum.Enum):
    """Something the listener asks for; the value is its line in the help."""

    PAUSE = "pause / resume"
    NEXT = "next step"
    PREVIOUS = "previous step (twice: the one before)"
    REPEAT = "repeat the last instruction"
    WHERE = "where am I: step, side, round and time left"
    LOUDER = "louder"
    SOFTER = "softer"
    QUIT = "quit"
    SUSPEND = "suspend (Ctrl-Z)"
    """Not a key: the terminal's Ctrl-Z, which arrives as a signal."""


@dataclass(frozen=True)
class Key:
    """A row of the key help: the keys that ask for one command."""

    names: tuple[str, ...]
    """As the help names them: a character, or ``Space``, ``Right``, ``Left``, ``Up``, ``Down``."""
    command: Command
    label: str
    """Its word on the live view's keys line; neighbouring rows with the same label share it."""


KEY_HELP: tuple[Key, ...] = (
    Key(("Space",), Command.PAUSE, "pause"),
    Key(("n", "Right"), Command.NEXT, "next/previous"),
    Key(("p", "Left"), Command.PREVIOUS, "next/previous"),
    Key(("r",), Command.REPEAT, "repeat"),
    Key(("w",), Command.WHERE, "where am I"),
    Key(("+", "Up"), Command.LOUDER, "volume"),
    Key(("-", "Down"), Command.SOFTER, "volume"),
    Key(("q",), Command.QUIT, "quit"),
)
"""Every key, in the order the help lists them."""

_NAMED_BYTES = {
    "Space": (b" ",),
    # Arrows: the cursor-key sequence, and the one terminals send in application mode.
    "Right": (b"\x1b[C", b"\x1bOC"),
    "Left": (b"\x1b[D", b"\x1bOD"),
    "Up": (b"\x1b[A", b"\x1bOA"),
    "Down": (b"\x1b[B", b"\x1bOB"),
}
_UNLISTED = {b"=": Command.LOUDER}
"""Keys that work without being in the help: ``=`` is ``+`` without Shift."""

KEYS: dict[bytes, Command] = {
    **{
        sequence: key.command
        for key in KEY_HELP
        for name in key.names
        for sequence in _NAMED_BYTES.get(name, (name.encode(),))
    },
    **_UNLISTED,
}
"""Key bytes (lower case; capitals work too) and what they do."""

_ESCAPE = re.compile(rb"\x1b(?:\[[0-9;]*[A-Za-z~]|O[A-Za-z])|\x1b|.", re.DOTALL)


def parse_keys(data: bytes) -> list[Command]:
    """Split bytes read from a terminal into commands; unknown keys are ignored."""
    commands = []
    for match in _ESCAPE.finditer(data):
        key = match.group()
        command = KEYS.get(key if key.startswith(b"\x1b") else key.lower())
        if command is not None:
            commands.append(command)
    return commands


def help_rows() -> list[tuple[str, str]]:
    """The help as rows of (keys, what they do): ``("n, Right", "next step")``."""
    return [(", ".join(key.names), key.command.value) for key in KEY_HELP]


def key_help_line() -> str:
    """The keys on one short line (the full list is in ``voiceguide play --help``)."""
    groups = itertools.groupby(KEY_HELP, key=lambda key: key.label)
    return " | ".join(
        "/".join(key.names[0] for key in keys) + f" {label}" for label, keys in groups
    )
