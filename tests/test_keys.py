"""The keys: bytes to commands, and the one key table behind every help that lists them."""

from __future__ import annotations

import re
from pathlib import Path

from voiceguide.play.keys import KEY_HELP, KEYS, Command, help_rows, key_help_line, parse_keys

DOCS = Path(__file__).parent.parent / "docs" / "play.md"


def test_keys_are_parsed_with_arrow_sequences_and_unknown_keys_ignored() -> None:
    data = b" nQ\x1b[C\x1b[Dxr\x1b[A\x1b[B+-w\x1b\x1bOCp"
    assert parse_keys(data) == [
        Command.PAUSE, Command.NEXT, Command.QUIT, Command.NEXT, Command.PREVIOUS,
        Command.REPEAT, Command.LOUDER, Command.SOFTER, Command.LOUDER, Command.SOFTER,
        Command.WHERE, Command.NEXT, Command.PREVIOUS,
    ]  # fmt: skip


def test_every_key_in_the_table_does_what_the_table_says() -> None:
    named = {
        "Space": b" ",
        "Right": b"\x1b[C",
        "Left": b"\x1b[D",
        "Up": b"\x1b[A",
        "Down": b"\x1b[B",
    }
    for key in KEY_HELP:
        for name in key.names:
            sent = named.get(name, name.encode())
            assert parse_keys(sent) == [key.command], name
            assert parse_keys(sent.upper() if len(sent) == 1 else sent) == [key.command], name
    # Every command a key can give is in the table; Ctrl-Z is a signal, not a key.
    assert set(KEYS.values()) == {key.command for key in KEY_HELP}
    assert set(Command) - set(KEYS.values()) == {Command.SUSPEND}
    assert parse_keys(b"=") == [Command.LOUDER]  # + without Shift


def _rows_after(lines: list[str], first: str, pattern: str) -> list[tuple[str, str]]:
    """The rows matching ``pattern`` from the line that starts with ``first`` to a blank line."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(first))
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        match = re.fullmatch(pattern, line)
        assert match is not None, line
        rows.append((match[1], match[2]))
    return rows


def test_play_help_lists_exactly_the_keys_of_the_table() -> None:
    from typer.testing import CliRunner

    from voiceguide.cli import app

    result = CliRunner().invoke(app, ["play", "--help"], terminal_width=100)
    assert result.exit_code == 0
    first = help_rows()[0][0]
    listed = _rows_after(result.output.splitlines(), f"{first}  ", r"\s+(\S.*?)\s{2,}(\S.*)")
    assert listed == help_rows()


def test_the_docs_list_exactly_the_keys_of_the_table() -> None:
    text = DOCS.read_text(encoding="utf-8").replace("`", "")
    lines = text.splitlines()
    header = lines.index("| Key | What it does |")
    listed = _rows_after(lines[header + 2 :], "|", r"\| (.+?) \| (.+?) \|")
    assert listed == help_rows()


def test_the_keys_line_names_every_key_and_is_the_one_in_the_docs() -> None:
    line = key_help_line()
    assert line == "Space pause | n/p next/previous | r repeat | w where am I | +/- volume | q quit"
    assert line in DOCS.read_text(encoding="utf-8").splitlines()
