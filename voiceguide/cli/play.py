"""The play command: eyes-free playback through the speaker."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import (
    AllowOutside,
    Engine,
    NoTones,
    Pace,
    Pitch,
    Rate,
    Repeat,
    RoutineArg,
    SkipIntro,
    Voice,
    VoiceModel,
    Volume,
    app,
    compile_options,
    progress_bar,
    table,
    voice_choice,
)
from voiceguide.errors import AudioDeviceError, UsageError

if TYPE_CHECKING:
    from voiceguide.play.controls import Step
    from voiceguide.session import Session

TRACE_ENV = "VOICEGUIDE_TRACE_FIRST_AUDIO"
"""Set to 1 to print, on stderr, the monotonic time the first audio reaches the device."""
MAX_SPEED = 1000.0


@app.command()
def play(
    routine: RoutineArg,
    start_from: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="STEP|M:SS|TITLE",
            help="Start at a step number (see --steps), a time in the session (2:30) "
            "or a step's title ('left side').",
        ),
    ] = None,
    skip_intro: SkipIntro = False,
    pace: Pace = 1.0,
    repeat: Repeat = 1,
    no_tones: NoTones = False,
    engine: Engine = None,
    voice: Voice = None,
    rate: Rate = None,
    pitch: Pitch = None,
    volume: Volume = None,
    voice_model: VoiceModel = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the cues as they would sound, in real time; play no audio."
        ),
    ] = False,
    speed: Annotated[
        float, typer.Option("--speed", help="With --dry-run: run N times faster than real time.")
    ] = 1.0,
    list_steps: Annotated[
        bool, typer.Option("--steps", help="List the steps, the numbers --from takes, and exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show nothing while playing.")] = (
        False
    ),
    allow_outside: AllowOutside = False,
) -> None:
    """Play a routine through the speaker: lie back, close your eyes and follow.

    The session plays to its end with no keys pressed. Run from a terminal, single
    keys control it, and each answers aloud:

    \b
      Space      pause / resume
      n, Right   next step
      p, Left    previous step (twice: the one before)
      r          repeat the last instruction
      w          where am I: step, side, round and time left
      +, Up      louder
      -, Down    softer
      q          quit

    On a terminal a sighted helper sees a live view; otherwise one line is printed
    per cue as it starts. Exits 0 at the end or on q, 4 when there is no audio device
    ('voiceguide export' writes the session to a file instead), 130 on Ctrl-C.

    Example: voiceguide play sitting-foot --skip-intro
    """
    from voiceguide.play.controls import parse_from, steps_of
    from voiceguide.script import library
    from voiceguide.session import open_session

    if not 0 < speed <= MAX_SPEED:
        raise UsageError(f"--speed: expected more than 0 and at most {MAX_SPEED:g}, got {speed:g}")
    if speed != 1.0 and not dry_run:
        raise UsageError("--speed: only with --dry-run (audio always plays in real time)")
    options = compile_options(skip_intro, pace, repeat, no_tones)
    choice = voice_choice(engine, voice, rate, pitch, volume, voice_model)
    loaded = library.load(routine, allow_outside=allow_outside)
    audible = not (dry_run or list_steps)
    if audible:
        # Before synthesizing, which can take a while: no device, no point.
        from voiceguide.play.player import SimpleaudioPlayer

        with _export_hint(routine):
            SimpleaudioPlayer.check()
    with progress_bar("Preparing speech") as progress:
        session = open_session(loaded, options, choice, progress)
    timeline = session.timeline
    steps = steps_of(timeline)
    if list_steps:
        from voiceguide.script.durations import format_clock

        table(
            ["STEP", "TIME", "TITLE", "FIRST WORDS"],
            [
                [str(s.number), format_clock(timeline.to_ms(s.start)), s.title, _short(s.text)]
                for s in steps
            ],
        )
        return
    start = parse_from(start_from, timeline, steps) if start_from is not None else 0
    with _export_hint(routine):
        _play(session, steps, start, dry_run=dry_run, speed=speed, quiet=quiet)


@contextlib.contextmanager
def _export_hint(routine: str) -> Iterator[None]:
    """Add to a no-device error what to do instead."""
    try:
        yield
    except AudioDeviceError as error:
        raise AudioDeviceError(
            f"{error}; to listen elsewhere, write it to a file: voiceguide export {routine}"
        ) from None


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _trace_first_audio() -> None:
    sys.stderr.write(f"voiceguide: first audio handed over at monotonic {time.monotonic():.6f}\n")
    sys.stderr.flush()


def _play(
    session: Session, steps: list[Step], start: int, *, dry_run: bool, speed: float, quiet: bool
) -> None:
    """Play ``session`` from sample ``start`` with a view and keys fit for where we run."""
    from voiceguide.play.liveview import LineView, TerminalView
    from voiceguide.play.playback import Playback
    from voiceguide.play.player import NullPlayer, Player, SimpleaudioPlayer
    from voiceguide.play.terminal import stdin_keys
    from voiceguide.signals import exit_on_signals

    timeline = session.timeline
    keys = stdin_keys()
    view: TerminalView | LineView | None
    if quiet:
        view = None
    elif dry_run or not sys.stdout.isatty():
        view = LineView(sys.stdout, timeline, steps)
    else:
        view = TerminalView(sys.stdout, timeline, steps, show_keys=keys is not None)
    player: Player = NullPlayer(speed=speed) if dry_run else SimpleaudioPlayer()
    playback = Playback(
        timeline,
        session.clips,
        player,
        volume_pct=session.volume_pct,
        start=start,
        view=view,
        on_first_audio=_trace_first_audio if os.environ.get(TRACE_ENV) else None,
    )
    try:
        with exit_on_signals(), keys if keys is not None else contextlib.nullcontext():
            playback.run(keys)
    finally:
        player.close()
        if view is not None:
            view.close()
