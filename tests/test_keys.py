"""The keys: bytes to commands, and the key help."""

from __future__ import annotations

from pathlib import Path

from voiceguide.play.keys import Command, parse_keys


def test_keys_are_parsed_with_arrow_sequences_and_unknown_keys_ignored() -> None:
    data = b" nQ\x1b[C\x1b[Dxr\x1b[A\x1b[B+-w\x1b\x1bOCp"
    assert parse_keys(data) == [
        Command.PAUSE, Command.NEXT, Command.QUIT, Command.NEXT, Command.PREVIOUS,
        Command.REPEAT, Command.LOUDER, Command.SOFTER, Command.LOUDER, Command.SOFTER,
        Command.WHERE, Command.NEXT, Command.PREVIOUS,
    ]  # fmt: skip


def test_every_documented_key_is_in_help_and_docs() -> None:
    from typer.testing import CliRunner

    from voiceguide.cli import app
    from voiceguide.play.keys import KEY_HELP

    result = CliRunner().invoke(app, ["play", "--help"], terminal_width=100)
    docs = (Path(__file__).parent.parent / "docs" / "play.md").read_text(encoding="utf-8")
    for key, command in KEY_HELP:
        assert f"{key:<11}{command.value}" in result.output
        assert f"| {key} |" in docs.replace("`", "")
