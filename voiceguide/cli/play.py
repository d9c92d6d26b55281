"""The play command: eyes-free playback through the speaker."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import RoutineArg, app, progress_bar, table
from voiceguide.cli.options import FloatRange, RangedHelp, session_options
from voiceguide.errors import AudioDeviceError, UsageError

if TYPE_CHECKING:
    from voiceguide.app.session import SessionRequest, StreamingSession
    from voiceguide.app.settling import Settled

MIN_SPEED, MAX_SPEED = 1, 1000
"""How much faster than real time a dry run may go (slower would only wait longer)."""

From = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="STEP|M:SS|TITLE",
        help="Start at a step number (see --steps), a time in the session (2:30) "
        "or a step's title ('left side').",
    ),
]
NoHistory = Annotated[
    bool,
    typer.Option("--no-history", help="Do not record this session in your practice history."),
]
Speed = Annotated[
    float,
    typer.Option(
        "--speed",
        metavar="N",
        parser=FloatRange("speed", lambda _: (MIN_SPEED, MAX_SPEED)),
        help="With --dry-run: run N times faster than real time, {speed}.",
    ),
]


@app.command(cls=RangedHelp)
@session_options
def play(
    routine: RoutineArg,
    start_from: From = None,
    *,
    request: SessionRequest,  # the session options go here
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the cues as they would sound, in real time; play no audio."
        ),
    ] = False,
    speed: Speed = 1.0,
    list_steps: Annotated[
        bool, typer.Option("--steps", help="List the steps, the numbers --from takes, and exit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Show nothing while playing.")] = (
        False
    ),
    no_history: NoHistory = False,
    no_mpris: Annotated[
        bool,
        typer.Option(
            "--no-mpris",
            help="Do not offer the session to headset buttons, media keys and phone remotes "
            "(MPRIS on the D-Bus session bus).",
        ),
    ] = False,
    listen: Annotated[
        bool,
        typer.Option("--listen", help="Listen for voice commands (see docs/listen.md)."),
    ] = False,
) -> None:
    """Play a routine through the speaker: lie back, close your eyes and follow.

    Sessions are stereo, each side's cues leaning to that ear (--mono for one speaker);
    --bed lays a soft sound under the session.

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

    Headset buttons, media keys, phone remotes and playerctl control it too, through
    MPRIS, when a desktop session bus is there (--no-mpris leaves that out).
    With --listen, say "guide pause now", "guide continue", "guide where am i"… while
    the session is silent ('voiceguide commands' lists them); offline, never recorded.

    Sound starts at once: speech is made while the session plays, the next phrases
    first; if it ever falls behind, playback waits at a silence and says "One moment."
    On a terminal a sighted helper sees a live view; otherwise one line is printed
    per cue as it starts. Exits 0 at the end or on q, 4 when there is no audio device
    ('voiceguide export' writes the session to a file instead), 5 when the device stops
    taking sound, 130 on Ctrl-C.
    Each session is recorded in your practice history ('voiceguide history'), and the
    history shapes the next: the full introduction the first time (and when the
    cautions change, and every 30 days), a short one after; brief instructions once the
    routine has been played whole three times (--full-intro, --detail full; or intro:
    and detail: in your config).

    Example: voiceguide play sitting-foot --skip-intro
    """
    from voiceguide.app import playing

    settled = _settle(request, no_history, no_mpris, listen, quiet, dry_run or speed == 1.0)
    audible = not (dry_run or list_steps)
    with _export_hint(routine), progress_bar("Preparing speech") as progress:
        session = playing.prepare(settled.request, audible=audible, progress=progress)
    with contextlib.closing(session.stream):  # its synthesis stops on every way out
        if list_steps:
            _print_steps(session)
            return
        start = playing.start_at(session, start_from)
        with _export_hint(routine):
            playing.play(session, start, dry_run=dry_run, speed=speed, quiet=quiet,
                         history=settled.history, options=session.options,
                         mpris=settled.mpris, listen=settled.listen)  # fmt: skip


def _settle(
    request: SessionRequest,
    no_history: bool,
    no_mpris: bool,
    listen: bool,
    quiet: bool,
    speed_ok: bool,
) -> Settled:
    """Settle the request, play's own flags in its command-line layer, ``auto`` decided."""
    from dataclasses import replace

    if not speed_ok:
        raise UsageError("--speed: only with --dry-run (audio always plays in real time)")
    from voiceguide.app import adapting
    from voiceguide.prefs import PlaybackPrefs

    asked = replace(
        request.playback or PlaybackPrefs(),
        history=False if no_history else None,
        mpris=False if no_mpris else None,
        listen=True if listen else None,
    )
    settled = adapting.for_play(replace(request, playback=asked))
    if not quiet:
        _say_choices(settled)
    return settled


def _say_choices(settled: Settled) -> None:
    """Say, on standard error, what auto chose when it was not the full session."""
    from voiceguide.app import adapting

    if settled.intro == "short" or settled.detail == "brief":
        described = adapting.describe(settled.decisions)
        chosen = [line for line in described if not line.startswith("full")]
        if chosen:
            typer.echo(f"voiceguide: {', '.join(chosen)}", err=True)


@contextlib.contextmanager
def _export_hint(routine: str) -> Iterator[None]:
    """Add to a no-device error what to do instead."""
    try:
        yield
    except AudioDeviceError as error:
        raise AudioDeviceError(
            f"{error}; to listen elsewhere, write it to a file: voiceguide export {routine}"
        ) from None


def _print_steps(session: StreamingSession) -> None:
    from voiceguide.app import playing
    from voiceguide.script.durations import format_clock

    timeline = session.stream.timeline()
    table(
        ["STEP", "TIME", "TITLE", "FIRST WORDS"],
        [
            [str(s.number), format_clock(timeline.to_ms(s.start)), s.title, _short(s.text)]
            for s in playing.steps(session)
        ],
    )


def _short(text: str, limit: int = 50) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
