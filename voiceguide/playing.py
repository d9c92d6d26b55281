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
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from voiceguide.play.navigation import Step
    from voiceguide.session import SessionRequest, StreamingSession

TRACE_ENV = "VOICEGUIDE_TRACE_FIRST_AUDIO"
"""Set to 1 to print, on stderr, the monotonic time the device took the first sample that is
not silent (what the listener hears first, measured where it leaves voiceguide)."""


def prepare(request: SessionRequest, *, audible: bool) -> StreamingSession:
    """Load the routine, check for an audio device if it will be heard, and start the session.

    Returns at once: the phrases are made while the session plays (:func:`open_stream`).
    """
    from voiceguide.session import load_routine, open_stream

    routine = load_routine(
        request.routine, allow_outside=request.allow_outside
    )  # an invalid routine says so before the device
    if audible:
        from voiceguide.play.device import check_output

        check_output()
    return open_stream(replace(request, routine=routine))


def steps(session: StreamingSession) -> list[Step]:
    """The session's steps (waits until it is all laid out): what ``start_at`` takes."""
    from voiceguide.play.navigation import steps_of

    return steps_of(session.stream.timeline())


def start_at(session: StreamingSession, where: str | None) -> int:
    """Find the sample to start at: a step number, a time (``M:SS``) or a step's title.

    Without ``where`` it is 0 at once; with it, the session is laid out first.
    """
    from voiceguide.play.navigation import parse_from

    if where is None:
        return 0
    return parse_from(where, session.stream.timeline(), steps(session))


def play(
    session: StreamingSession,
    start: int = 0,
    *,
    dry_run: bool = False,
    speed: float = 1.0,
    quiet: bool = False,
    out: TextIO | None = None,
) -> None:
    """Play ``session`` from sample ``start`` (``dry_run``: print only, ``speed`` times faster)."""
    from voiceguide.play.device import ClockOutput, Output, default_output
    from voiceguide.play.liveview import LineView, TerminalView
    from voiceguide.play.navigation import steps_of
    from voiceguide.play.playback import Playback
    from voiceguide.play.terminal import stdin_keys
    from voiceguide.signals import exit_on_signals

    out = out if out is not None else sys.stdout
    stream = session.stream
    stream.advance()
    timeline = stream.prefix()
    shown = steps_of(timeline)
    keys = stdin_keys()
    view: TerminalView | LineView | None
    if quiet:
        view = None
    elif dry_run or not out.isatty():
        view = LineView(out, timeline, shown)
    else:
        view = TerminalView(out, timeline, shown, show_keys=keys is not None)
    output: Output = ClockOutput(speed=speed) if dry_run else default_output()
    playback = Playback(
        stream,
        session.clips,
        output,
        volume_pct=session.volume_pct,
        start=start,
        view=view,
        ahead_s=min(60.0, 2.0 * speed),
        on_first_audio=_trace_first_audio if os.environ.get(TRACE_ENV) else None,
    )
    try:
        with exit_on_signals(), keys if keys is not None else contextlib.nullcontext():
            playback.run(keys)
    finally:
        stream.close()
        if view is not None:
            view.close()


def _trace_first_audio(at: float) -> None:
    sys.stderr.write(f"voiceguide: first audio handed over at monotonic {at:.6f}\n")
    sys.stderr.flush()
