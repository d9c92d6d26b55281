"""The keys: what the listener can ask for, the bytes a terminal sends for it, and its help."""

from __future__ import annotations

import enum
import re


class Command(enum.Enum):
    """Something the listener asks for."""

    PAUSE = "pause / resume"
    NEXT = "next step"
    PREVIOUS = "previous step (twice: the one before)"
    REPEAT = "repeat the last instruction"
    WHERE = "where am I: step, side, round and time left"
    LOUDER = "louder"
    SOFTER = "softer"
    QUIT = "quit"
    SUSPEND = "suspend (Ctrl-Z)"


KEYS: dict[bytes, Command] = {
    b" ": Command.PAUSE,
    b"n": Command.NEXT,
    b"\x1b[C": Command.NEXT,  # right arrow
    b"\x1bOC": Command.NEXT,
    b"p": Command.PREVIOUS,
    b"\x1b[D": Command.PREVIOUS,  # left arrow
    b"\x1bOD": Command.PREVIOUS,
    b"r": Command.REPEAT,
    b"w": Command.WHERE,
    b"+": Command.LOUDER,
    b"=": Command.LOUDER,
    b"\x1b[A": Command.LOUDER,  # up arrow
    b"\x1bOA": Command.LOUDER,
    b"-": Command.SOFTER,
    b"\x1b[B": Command.SOFTER,  # down arrow
    b"\x1bOB": Command.SOFTER,
    b"q": Command.QUIT,
}
"""Key bytes (lower case; capitals work too) and what they do."""

KEY_HELP: tuple[tuple[str, Command], ...] = (
    ("Space", Command.PAUSE),
    ("n, Right", Command.NEXT),
    ("p, Left", Command.PREVIOUS),
    ("r", Command.REPEAT),
    ("w", Command.WHERE),
    ("+, Up", Command.LOUDER),
    ("-, Down", Command.SOFTER),
    ("q", Command.QUIT),
)
"""The keys as documented in ``--help`` and docs/play.md."""

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
