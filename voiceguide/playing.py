"""Playing a session: from a request to the speaker, or a dry run, with a view and keys.

What ``voiceguide play`` does, callable alone. :func:`prepare` refuses at once when there
is no audio device (before what may be minutes of synthesis) and opens the session;
:func:`start_at` finds where to begin; :func:`play` runs playback with the view and
keys that fit where it runs: a live view on a terminal, a line per cue otherwise,
nothing when quiet, single keys when standard input is a terminal.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.play.navigation import Step
    from voiceguide.remote.bridge import PlayerSide
    from voiceguide.remote.server import MprisServer
    from voiceguide.session import Progress, Session, SessionRequest

TRACE_ENV = "VOICEGUIDE_TRACE_FIRST_AUDIO"
"""Set to 1 to print, on stderr, the monotonic time the first audio reaches the device."""


def prepare(request: SessionRequest, *, audible: bool, progress: Progress | None = None) -> Session:
    """Load the routine, check for an audio device if it will be heard, and open the session."""
    from voiceguide.session import load_routine, open_session

    routine = load_routine(
        request.routine, allow_outside=request.allow_outside
    )  # an invalid routine says so before the device
    if audible:
        from voiceguide.play.player import SimpleaudioPlayer

        SimpleaudioPlayer.check()
    return open_session(replace(request, routine=routine), progress=progress)


def steps(session: Session) -> list[Step]:
    """The session's steps: what ``start_at`` takes a number of, and what the views show."""
    from voiceguide.play.navigation import steps_of

    return steps_of(session.timeline)


def start_at(session: Session, where: str | None) -> int:
    """Find the sample to start at: a step number, a time (``M:SS``) or a step's title."""
    from voiceguide.play.navigation import parse_from

    return parse_from(where, session.timeline, steps(session)) if where is not None else 0


def play(
    session: Session,
    start: int = 0,
    *,
    dry_run: bool = False,
    speed: float = 1.0,
    quiet: bool = False,
    out: TextIO | None = None,
    history: bool = False,
    options: CompileOptions | None = None,
    mpris: bool = True,
) -> None:
    """Play ``session`` from sample ``start`` (``dry_run``: print only, ``speed`` times faster).

    With ``history``, the session is recorded in the practice history (a dry run never
    is), with ``options``, the compile options it was opened with (its pace, repeat and
    introduction). With ``mpris``, the session is also an MPRIS player
    (:mod:`voiceguide.remote`), served once the first audio is playing.
    """
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.play.liveview import LineView, TerminalView
    from voiceguide.play.playback import Playback, View
    from voiceguide.play.player import NullPlayer, Player, SimpleaudioPlayer
    from voiceguide.play.terminal import stdin_keys
    from voiceguide.practice.recorder import Recorder
    from voiceguide.practice.records import Outcome
    from voiceguide.recording import HeldWarnings, Recording, session_plan
    from voiceguide.signals import exit_on_signals

    out = out if out is not None else sys.stdout
    timeline, shown = session.timeline, steps(session)
    keys = stdin_keys()
    view: TerminalView | LineView | None
    if quiet:
        view = None
    elif dry_run or not out.isatty():
        view = LineView(out, timeline, shown)
    else:
        view = TerminalView(out, timeline, shown, show_keys=keys is not None)
    player: Player = NullPlayer(speed=speed) if dry_run else SimpleaudioPlayer()
    warnings = HeldWarnings()
    recorder = Recorder(enabled=history and not dry_run, warn=warnings)
    trace = bool(os.environ.get(TRACE_ENV))
    compiled = options or CompileOptions()

    watched: View = Recording(view, recorder, timeline.sample_rate)
    remote = _mpris(session, shown, start) if mpris else None
    if remote is not None:
        side, server = remote
        watched = side.observe(watched)

    def first_audio() -> None:
        if trace:
            _trace_first_audio()
        # The device has its buffer: the record starts now, and delays no sound.
        recorder.begin(lambda: session_plan(session, shown, start, compiled))
        if remote is not None:
            server.start()  # likewise: connecting to the bus first would delay the sound

    playback = Playback(
        timeline,
        session.clips,
        player,
        volume_pct=session.volume_pct,
        mix=session.mix,
        start=start,
        view=watched,
        on_first_audio=first_audio,
    )
    if isinstance(view, TerminalView):
        warnings.hold()  # a line on stderr would break the block redrawn in place
    outcome: Outcome = "failed"
    try:
        with exit_on_signals(), keys if keys is not None else contextlib.nullcontext():
            if remote is None:
                mode = playback.run(keys)
            else:
                mode = playback.run(side.waking(keys), remote=side.carry_out)
        outcome = "completed" if mode == "finished" else "stopped"
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM, SIGHUP
        outcome = "interrupted"
        raise
    finally:
        position = timeline.to_ms(playback.position)
        if remote is not None:
            server.close()
        player.close()
        if view is not None:
            view.close()
        recorder.finish(outcome, position)
        warnings.release()


def _mpris(session: Session, steps: list[Step], start: int) -> tuple[PlayerSide, MprisServer]:
    """The session's end of an MPRIS player, and the server (not started) for it."""
    from voiceguide.remote.bridge import PlayerSide
    from voiceguide.remote.server import MprisServer

    side = PlayerSide(session.timeline, steps, volume_pct=session.volume_pct, start=start)
    return side, MprisServer(side.link)


def _trace_first_audio() -> None:
    sys.stderr.write(f"voiceguide: first audio handed over at monotonic {time.monotonic():.6f}\n")
    sys.stderr.flush()
