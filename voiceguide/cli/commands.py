"""The commands command: what can be said to a playing session, and finding it in a recording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import AsJson, app, complete_routine, table
from voiceguide.cli.options import RangedHelp, session_options

if TYPE_CHECKING:
    from voiceguide.app.detecting import Detection
    from voiceguide.app.session import SessionRequest


@app.command(cls=RangedHelp)
@session_options
def commands(
    detect: Annotated[
        Path | None,
        typer.Option(
            "--detect",
            metavar="FILE.wav",
            help="Find the commands said in a recording and print each with its time.",
        ),
    ] = None,
    routine: Annotated[
        str | None,
        typer.Option(
            "--routine",
            metavar="ROUTINE",
            help="With --detect: the recording is what the microphone heard while ROUTINE "
            "played from its start; act only where the session was silent, as in play --listen.",
            autocompletion=complete_routine,
        ),
    ] = None,
    as_json: AsJson = False,
    *,
    request: SessionRequest,
) -> None:
    """List what can be said to a session playing with --listen, or find it in a recording.

    Each command starts with "guide" and answers aloud as its key does. With --detect,
    a WAV file (16 kHz or more, any channels) is searched for commands; with --routine
    too, only what was heard while that session was silent counts, as when playing (the
    session options, such as --skip-intro, must match the ones it was played with).
    Exits 0 (also when nothing was heard), 2 for a file that is not a usable WAV
    recording, 3 for a missing file or routine, 1 when the recogniser cannot start.

    Example: voiceguide commands --detect heard.wav --routine stomach --skip-intro
    """
    from voiceguide.app import detecting as found

    if detect is None:
        rows = found.vocabulary(routine)
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
        else:
            table(["SAY", "TO"], [[f'"{r["phrase"]}"', r["does"]] for r in rows])
        return
    heard = found.detect_for(detect, request if routine is not None else None)
    if as_json:
        typer.echo(json.dumps([d.to_json() for d in heard], indent=2))
    else:
        _print_heard(heard)


def _print_heard(heard: list[Detection]) -> None:
    from voiceguide.script.durations import format_clock

    if not heard:
        typer.echo("no commands heard", err=True)
        return
    rows = [
        [format_clock(d.start_ms), f'"{d.heard.phrase.words}"', d.heard.phrase.intent.value]
        for d in heard
    ]
    table(["TIME", "SAID", "INTENT"], rows)
