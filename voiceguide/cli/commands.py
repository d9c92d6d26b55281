"""The commands command: what can be said to a playing session, and finding it in a recording."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from voiceguide.cli.app import (
    AsJson,
    Engine,
    NoTones,
    Pace,
    Pitch,
    Rate,
    Repeat,
    SkipIntro,
    Voice,
    VoiceModel,
    app,
    compile_options,
    complete_routine,
    open_named_session,
    table,
    voice_choice,
)
from voiceguide.errors import UsageError


@app.command()
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
    skip_intro: SkipIntro = False,
    pace: Pace = 1.0,
    repeat: Repeat = 1,
    no_tones: NoTones = False,
    engine: Engine = None,
    voice: Voice = None,
    rate: Rate = None,
    pitch: Pitch = None,
    voice_model: VoiceModel = None,
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
    from voiceguide.listen.vocabulary import DOES, PHRASES

    if detect is None:
        if routine is not None:
            raise UsageError("--routine: only with --detect FILE.wav")
        if as_json:
            rows = [
                {"phrase": p.words, "intent": p.intent.value, "does": DOES[p.intent]}
                for p in PHRASES
            ]
            typer.echo(json.dumps(rows, indent=2))
            return
        table(["SAY", "TO"], [[f'"{p.words}"', DOES[p.intent]] for p in PHRASES])
        return
    _detect(
        detect,
        routine,
        as_json=as_json,
        options=(skip_intro, pace, repeat, no_tones),
        voice=(engine, voice, rate, pitch, voice_model),
    )


def _detect(
    path: Path,
    routine: str | None,
    *,
    as_json: bool,
    options: tuple[bool, float, int, bool],
    voice: tuple[str | None, str | None, int | None, int | None, Path | None],
) -> None:
    from voiceguide.listen.detect import detect
    from voiceguide.listen.recognizer import Recognizer
    from voiceguide.listen.recording import open_recording
    from voiceguide.script.durations import format_clock

    open_recording(path)  # a bad file is refused before a routine is synthesized
    recognizer = Recognizer()
    timeline = None
    if routine is not None:
        engine, voice_name, rate, pitch, model = voice
        _, session = open_named_session(
            routine,
            compile_options(*options),
            voice_choice(engine, voice_name, rate, pitch, voice_model=model),
        )
        timeline = session.timeline
    found = detect(path, timeline=timeline, recognizer=recognizer)
    if as_json:
        typer.echo(json.dumps([d.to_json() for d in found], indent=2))
        return
    if not found:
        typer.echo("no commands heard", err=True)
        return
    table(
        ["TIME", "SAID", "INTENT"],
        [
            [format_clock(d.start_ms), f'"{d.heard.phrase.words}"', d.heard.phrase.intent.value]
            for d in found
        ],
    )
