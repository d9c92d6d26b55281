"""Playing a session: from a request to the speaker, or a dry run, with a view and keys.

What ``voiceguide play`` does, callable alone. :func:`prepare` refuses at once when there
is no audio device and starts the session (it is made while it plays); :func:`start_at`
finds where to begin; :func:`play` runs playback with the view and keys that fit where it
runs: a live view on a terminal, a line per cue otherwise, nothing when quiet, single keys
when standard input is a terminal; the practice history records it and an MPRIS player
offers it to headsets and media keys; with ``listen``, voice commands
(:mod:`voiceguide.app.listening`).
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from collections.abc import Callable

    from voiceguide.app.listening import VoiceControl
    from voiceguide.app.recording import HeldWarnings
    from voiceguide.app.session import Progress, SessionRequest, StreamingSession
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.compile.timeline import Timeline
    from voiceguide.play.navigation import Step
    from voiceguide.play.playback import Playback, View
    from voiceguide.remote.bridge import PlayerSide
    from voiceguide.remote.server import MprisServer

TRACE_ENV = "VOICEGUIDE_TRACE_FIRST_AUDIO"
"""Set to 1 to print, on stderr, the monotonic time the first sample that is not silent is
heard (:meth:`~voiceguide.play.ring.Ring.first_heard_at`: what the listener hears first)."""


def prepare(
    request: SessionRequest, *, audible: bool, progress: Progress | None = None
) -> StreamingSession:
    """Load the routine, check for an audio device if it will be heard, and start the session.

    Returns at once: the phrases are made while the session plays (:func:`open_stream`);
    only a session fitted to a length makes them all first (``progress`` is told).
    """
    from voiceguide.app.session import load_routine, open_stream

    routine = load_routine(
        request.routine, allow_outside=request.allow_outside
    )  # an invalid routine says so before the device
    if audible:
        from voiceguide.play.device import check_output

        check_output()
    return open_stream(replace(request, routine=routine), progress=progress)


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
    history: bool = False,
    options: CompileOptions | None = None,
    mpris: bool = True,
    listen: bool = False,
) -> None:
    """Play ``session`` from sample ``start`` (``dry_run``: print only, ``speed`` times faster).

    With ``history``, the session is recorded in the practice history (a dry run never
    is), with ``options`` (default: the session's own), the compile options it was opened
    with; the record begins once the first sound is out and the session is laid out whole
    (the history keeps its length and steps). With ``mpris``, the session is also an
    MPRIS player (:mod:`voiceguide.remote`), served once the first audio is playing.
    With ``listen``, voice commands are listened for once the first audio is playing
    (not at ``speed`` other than 1: the gate follows the session in real time); if they
    cannot be, one line says why and the session plays as without.
    """
    from voiceguide.app.recording import HeldWarnings, Recording, session_plan
    from voiceguide.app.session import start_ahead
    from voiceguide.play.device import ClockOutput, Output, default_output
    from voiceguide.play.liveview import LineView, TerminalView
    from voiceguide.play.navigation import steps_of
    from voiceguide.play.playback import Playback
    from voiceguide.play.terminal import stdin_keys
    from voiceguide.practice.recorder import Recorder
    from voiceguide.practice.records import Outcome
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
    warnings = HeldWarnings()
    recorder = Recorder(enabled=history and not dry_run, warn=warnings)
    trace = bool(os.environ.get(TRACE_ENV))
    compiled = options or session.options

    def begin(whole: Timeline) -> None:
        recorder.begin(
            lambda: session_plan(session, steps_of(whole), start, compiled, timeline=whole)
        )

    def whole() -> Timeline | None:
        return stream.prefix() if stream.total is not None else None

    recording = Recording(view, recorder, timeline.sample_rate, begin=begin, whole=whole)
    watched: View = recording
    remote = _mpris(timeline, shown, session.volume_pct, start) if mpris else None
    if remote is not None:
        side, server = remote
        watched = side.observe(watched)
    listen_warning = HeldWarnings()
    voice = None
    if listen and speed == 1.0:
        voice = _voice(timeline, stream.total is not None, listen_warning)
        watched = voice.observe(watched)

    def first_audio(at: float) -> None:
        if trace:
            _trace_first_audio(at)
        start_ahead(session.clips.engine)  # answers are spoken live: have the voice ready
        recording.heard()  # the record begins now if the session is laid out whole
        if remote is not None:
            server.start()  # connecting to the bus first would delay the sound
        if voice is not None:
            voice.begin()  # the microphone opens; the recogniser loads in a silence

    playback = Playback(
        stream,
        session.clips,
        output,
        volume_pct=session.volume_pct,
        start=start,
        view=watched,
        ahead_s=min(60.0, 2.0 * speed),
        on_first_audio=first_audio,
    )
    if isinstance(view, TerminalView):
        warnings.hold()  # a line on stderr would break the block redrawn in place
        listen_warning.hold()
    calls: list[Callable[[Playback], None]] = [side.carry_out] if remote is not None else []
    calls += [voice.carry_out] if voice is not None else []

    def carry_out(playback: Playback) -> None:
        for call in calls:
            call(playback)

    outcome: Outcome = "failed"
    try:
        with exit_on_signals(), keys if keys is not None else contextlib.nullcontext():
            waking = side.waking(keys) if remote is not None else keys
            mode = playback.run(waking, remote=carry_out if calls else None)
        outcome = "completed" if mode == "finished" else "stopped"
    except (KeyboardInterrupt, SystemExit):  # Ctrl-C, SIGTERM, SIGHUP
        outcome = "interrupted"
        raise
    finally:
        position = playback.position * 1000 // stream.sample_rate
        if voice is not None:
            voice.close()  # arecord ends with the session
        stream.close()
        if remote is not None:
            server.close()
        if view is not None:
            view.close()
        recorder.finish(outcome, position)
        warnings.release()
        listen_warning.release()


def _mpris(
    timeline: Timeline, steps: list[Step], volume_pct: int, start: int
) -> tuple[PlayerSide, MprisServer]:
    """The session's end of an MPRIS player (it grows with the layout), and its server."""
    from voiceguide.remote.bridge import PlayerSide
    from voiceguide.remote.server import MprisServer

    side = PlayerSide(timeline, steps, volume_pct=volume_pct, start=start)
    return side, MprisServer(side.link)


def _voice(timeline: Timeline, complete: bool, warn: HeldWarnings) -> VoiceControl:
    """Voice commands for the session (they start listening once the first sound is out)."""
    from voiceguide.app.listening import VoiceControl

    return VoiceControl(timeline, complete=complete, warn=warn)


def _trace_first_audio(at: float) -> None:
    sys.stderr.write(f"voiceguide: first audio heard at monotonic {at:.6f}\n")
    sys.stderr.flush()
