"""Voice commands while a session plays: what ``voiceguide play --listen`` adds (docs/listen.md).

:func:`voiceguide.app.playing.play` makes a :class:`VoiceControl` for the session, wraps its
view in :meth:`VoiceControl.observe` (so the gate follows the session's real state: the
sample the device plays, an answer being said, paused), calls :meth:`VoiceControl.begin`
once the first sound is out (``arecord`` starts on a thread of its own; the recogniser loads
on another at the first silence of :data:`LOAD_QUIET_S`: loading holds the interpreter's lock,
which the device's callback needs), passes :meth:`VoiceControl.carry_out` to
the playback loop as its ``remote`` callback, and calls :meth:`VoiceControl.close` on every
way out, which ends the capture process.

A phrase heard that asks for something (not "resume" while playing, nor "pause" while
paused: those are dropped without a sound) is acknowledged at once with the ``heard``
sound, mixed over the session (:meth:`~voiceguide.play.playback.Playback.mix_over`: no cue
moves, the clock of a hold runs on); its command is carried out, as its key's, once the
device has taken that sound, so the answer comes after it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.listen.errors import ListenUnavailable

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.listen.gate import LiveGate, State
    from voiceguide.listen.listener import Listener
    from voiceguide.listen.vocabulary import Intent
    from voiceguide.play.playback import Playback, Status, View

HEARD_SOUND = "heard"
"""The sound that says a command was heard (``audio/heard.wav``)."""
RELAYOUT_S = 1.0
"""How often, at most, the gate takes in the session laid out further."""
DEVICE_MARGIN_S = 0.25
"""How long after the device took the ``heard`` sound it may still sound (its buffer)."""
START_JOIN_S = 5.0
"""How long closing waits for a listener still starting (the capture opens within 3 s)."""
LOAD_QUIET_S = 1.0
"""The recogniser loads where the session is silent this long: loading holds the interpreter's
lock for ~0.1 s at a time, and the device's callback needs it (a late one is not heard there)."""
LOAD_BY_S = 60.0
"""If no such silence comes this long after the first sound, the recogniser loads anyway."""


class VoiceControl:
    """Voice commands for one session: a gate following it, a listener, what it heard."""

    def __init__(
        self,
        timeline: Timeline,
        *,
        complete: bool,
        warn: Callable[[str], None],
        listener: Callable[[LiveGate], Listener] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Listen over ``timeline`` (``complete``: laid out whole, else a prefix that grows).

        ``warn`` prints the one line saying why listening cannot start; ``listener(gate)``
        makes the listener (default: ALSA's default capture device through ``arecord``).
        """
        from voiceguide.listen.gate import LiveGate, SilenceGate

        self.gate = LiveGate(SilenceGate(timeline, complete=complete), clock=clock)
        self.clock = clock
        self._warn = warn
        self._make = listener
        self._listener: Listener | None = None
        """The listener, once its capture is open (it hears nothing until its recogniser loads)."""
        self._lock = threading.Lock()
        self._closed = False
        self._starters: list[threading.Thread] = []
        self._loading = False
        """Whether the listener's recogniser was asked to load (once, in a silence)."""
        self._begun_at = clock()
        self._laid = (timeline.total, complete)
        self._relaid_at = clock()
        self._pending: deque[tuple[Intent, int]] = deque()
        """Commands heard, each with the ring frame its ``heard`` sound ends at."""
        self._sounding_until_s = 0.0
        self.heard: list[str] = []
        """Every phrase heard and acknowledged, in order."""
        self.acted: list[str] = []
        """The command each phrase gave ("" for none: it asked for what already was)."""

    # -- the session's side ------------------------------------------------------------------

    def observe(self, view: View) -> View:
        """``view``, telling the gate where the session is on every tick."""
        return _Following(self, view)

    def begin(self) -> None:
        """Open the capture in the background (the first sound is out: it delays nothing).

        The recogniser loads later, where the session is silent (:meth:`follow`).
        """
        self._begun_at = self.clock()
        self._spawn(self._open, "voiceguide-listen-open")

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._starters.append(thread)
        thread.start()

    def carry_out(self, playback: Playback) -> None:
        """Acknowledge what was heard and carry out its command (on the loop's thread)."""
        self._relayout(playback)
        listener = self._listener
        if listener is not None:
            for live in listener.heard():
                self._acknowledge(playback, live.heard.phrase.words, live.heard.phrase.intent)
        ring = playback.ring
        while self._pending and not playback.done:
            intent, due = self._pending[0]
            if ring.taken < due:
                break  # the heard sound is still going to the device: the answer follows it
            self._pending.popleft()
            self._command(playback, intent)

    def close(self) -> None:
        """Stop listening and end the capture; safe on every way out, and twice."""
        with self._lock:
            self._closed = True
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.stop()
        for starter in self._starters:
            if starter is not threading.current_thread():
                starter.join(START_JOIN_S)  # a listener still starting stops itself

    @property
    def listening(self) -> bool:
        """Whether the listener is running."""
        listener = self._listener
        return listener is not None and listener.listening

    def follow(self, status: Status) -> None:
        """Tell the gate what the session is doing now; load the recogniser in a silence."""
        state = self._state(status)
        self.gate.follow(state, status.position)
        if self._listener is None or self._loading:
            return
        silence = self.gate.silence
        quiet = state == "paused" or (
            state == "playing"
            and silence.is_open(
                status.position, status.position + int(LOAD_QUIET_S * silence.sample_rate)
            )
        )
        if quiet or self.clock() - self._begun_at >= LOAD_BY_S:
            self._loading = True
            self._spawn(self._load, "voiceguide-listen-load")

    # -- inside ----------------------------------------------------------------------------

    def _state(self, status: Status) -> State:
        if status.mode in ("finished", "quit"):
            return "stopped"
        if status.saying is not None or self.clock() < self._sounding_until_s:
            return "speaking"  # an answer, or the heard sound: the microphone hears it
        if status.mode == "paused":
            return "paused"
        if status.mode == "playing":
            return "playing"
        return "speaking"  # waiting for synthesis: "One moment." may come at any time

    def _open(self) -> None:
        from voiceguide.listen.listener import Listener

        make = self._make or Listener
        try:
            listener = make(self.gate)
            listener.open()
        except (ListenUnavailable, OSError) as error:
            self._without(error)
            return
        with self._lock:
            if not self._closed:
                self._listener = listener
                return
        listener.stop()  # the session ended while the capture opened

    def _load(self) -> None:
        listener = self._listener
        if listener is None:
            return
        try:
            listener.start()  # a listener stopped meanwhile (close) stays stopped
        except (ListenUnavailable, OSError) as error:
            with self._lock:
                self._listener = None
            listener.stop()
            self._without(error)

    def _without(self, error: Exception) -> None:
        self._warn(f"voiceguide: {error}; playing without listening")

    def _relayout(self, playback: Playback) -> None:
        """Open the gate over what was laid out since (never over what is not laid out yet)."""
        from voiceguide.listen.gate import SilenceGate

        source = playback.source
        laid = (source.laid_out, source.done)
        now = self.clock()
        if laid == self._laid or (not source.done and now - self._relaid_at < RELAYOUT_S):
            return
        self._laid, self._relaid_at = laid, now
        self.gate.relayout(SilenceGate(source.prefix(), complete=source.done))

    def _acknowledge(self, playback: Playback, words: str, intent: Intent) -> None:
        from voiceguide.listen.vocabulary import command_for

        if playback.done:
            return
        self.heard.append(words)
        if command_for(intent, paused=playback.paused) is None:
            self.acted.append("")  # it asks for what already is: no sound, nothing done
            return
        clip = playback.clips.sound(HEARD_SOUND)
        playing = playback.mode == "playing"
        begin = playback.ring.taken if playing else playback.ring.written
        length = playback.mix_over(clip)
        rate = playback.source.sample_rate
        self._sounding_until_s = self.clock() + length / rate + DEVICE_MARGIN_S
        self.gate.follow("speaking", playback.position)  # shut at once, not on the next tick
        self._pending.append((intent, begin + length))

    def _command(self, playback: Playback, intent: Intent) -> None:
        from voiceguide.listen.vocabulary import command_for

        command = command_for(intent, paused=playback.paused)  # a key may have come between
        self.acted.append(command.name.lower() if command is not None else "")
        if command is not None:
            playback.command(command)


class _Following:
    """A view that tells the gate the session's state, then shows it."""

    def __init__(self, control: VoiceControl, view: View) -> None:
        self.control = control
        self.view = view

    def started(self, position: int) -> None:
        self.view.started(position)

    def update(self, status: Status) -> None:
        self.control.follow(status)
        self.view.update(status)

    def said(self, text: str, position: int) -> None:
        self.view.said(text, position)

    def laid_out(self, timeline: Timeline) -> None:
        self.view.laid_out(timeline)

    def close(self) -> None:
        self.view.close()
