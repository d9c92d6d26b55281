"""Play a session while it is made: written a moment ahead of the device, with controls.

:meth:`Playback.run` loops: commands (keys; any thread through :meth:`Playback.submit`) are
carried out by :meth:`Playback.command`, then :meth:`Playback.tick` lays out what synthesis
finished, writes the session into the :class:`~voiceguide.play.ring.Ring` up to
:data:`AHEAD_S` ahead of what is heard, and notices the end and a stuck device. The device
takes frames on its own thread, so the position is the device's own (:class:`Spans` maps
frames to session samples) and nothing drifts. Writing stops where the layout allows a wait
(``safe_end``); caught up there, playback waits, says "One moment." once, and goes on when
:data:`RESUME_AHEAD_S` more is ready. Volume and answers over a phase leave what is written
alone (the ring applies them as the device takes frames); pause, next, previous and repeat
take back what the device has not taken and go on where the controller says. docs/play.md
says what the listener hears.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.compile import phrases
from voiceguide.errors import DeviceStalledError
from voiceguide.play.controller import Action, Controller
from voiceguide.play.interfaces import (
    AnswerClips,
    KeySource,
    Mode,
    NoKeys,
    NoView,
    Status,
    View,
)
from voiceguide.play.keys import Command
from voiceguide.play.ring import Ring
from voiceguide.play.spans import Span, Spans
from voiceguide.play.speaking import ANSWER_PHASES, SOFT, Speaking

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.play.device import Output
    from voiceguide.play.source import SessionSource

POLL_S = 0.05
"""How often the loop looks at keys, synthesis and the device."""
AHEAD_S = 2.0
"""How far ahead of what is heard the session is written (covers an answer being spoken)."""
RESUME_AHEAD_S = 6.0
"""After a wait for synthesis, how much must be laid out before playing on."""
BLOCK_S = 0.25
"""How much is rendered at a time."""
STALL_S = 5.0
"""How long the device may take no sound before the session stops (a stuck device)."""
VIEW_AHEAD_S = 5.0
"""The views are given the longer timeline once what is heard is this close to its end."""
__all__ = [
    "ANSWER_PHASES",
    "SOFT",
    "AnswerClips",
    "KeySource",
    "Mode",
    "NoKeys",
    "Playback",
    "Status",
    "View",
]

_STILL = frozenset({Command.WHERE, Command.LOUDER, Command.SOFTER})
"""Commands that answer without moving the session."""


class Playback(Speaking):
    """One session playing: the ring, the device, where it is, and what commands do."""

    def __init__(
        self,
        source: SessionSource,
        clips: AnswerClips,
        output: Output,
        *,
        volume_pct: int = 100,
        start: int = 0,
        view: View | None = None,
        on_first_audio: Callable[[float], None] | None = None,
        ahead_s: float = AHEAD_S,
        stall_s: float = STALL_S,
    ) -> None:
        """Play ``source`` from sample ``start`` at ``volume_pct`` percent through ``output``.

        ``on_first_audio(t)`` is told the ``time.monotonic()`` at which the first sample
        that is not silent is heard (:meth:`~voiceguide.play.ring.Ring.first_heard_at`).
        The device gets the source's channels (``source.mix``: 1, or 2 for stereo, blocks
        of shape ``(n, 2)``); answers are placed as that mix places a centred cue.
        """
        self.source = source
        self.clips = clips
        self.output = output
        self.view: View = view or NoView()
        rate = source.sample_rate
        self.mix = source.mix
        self.ring = Ring(rate, self.mix.channels, capacity_s=max(8.0, 3 * ahead_s))
        self.volume_pct = volume_pct
        self._base_pct = max(1, volume_pct)
        """The volume the session is rendered at; the ring scales from it."""
        self.mode: Mode = "playing"
        self.cursor = max(0, start)
        """The next sample of the session to write."""
        self.spans = Spans([Span(0, self.cursor)])
        self.commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        """Commands from any thread (:meth:`submit`); the loop carries them out in order."""
        self.said: list[str] = []
        """Every answer said, in order ("One moment." included)."""
        self.waits = 0
        """How many times playback waited for synthesis."""
        self._inserts: deque[tuple[str, npt.NDArray[np.int16]]] = deque()
        self._end_frame: int | None = None
        self._started = False
        self._first_audio = on_first_audio
        self._ahead = int(ahead_s * rate)
        self._stall_s = stall_s
        self._resume = int(RESUME_AHEAD_S * rate)
        self._block = int(BLOCK_S * rate)
        self._waiting_said = False
        self._saying: tuple[str, int] | None = None
        self._shown = -1
        self._controller: tuple[int, Controller] | None = None
        self._next_pending: int | None = None
        """Where the layout ended when ``n`` asked for a step not laid out yet."""
        self._fixed: list[str] = [phrases.ONE_MOMENT]
        """Answers to make ready once the first sound is out, popped from the end."""
        self._pending: tuple[int, str, npt.NDArray[np.int16]] | None = None
        """An answer to say when the session reaches a sample (the end of a sentence)."""
        self._stopping: float | bool | None = None

    # -- where ------------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """The sample of the session heard now (or where it waits, or will go on)."""
        return self.spans.session_at(self.ring.heard(), self.cursor)

    @property
    def paused(self) -> bool:
        """Whether the session waits for the listener."""
        return self.mode == "paused"

    @property
    def done(self) -> bool:
        """Whether the session ended or the listener quit."""
        return self.mode in ("finished", "quit")

    def status(self) -> Status:
        """What a view shows now."""
        position = self.position
        cue = self.source.cue_at(position)
        silent = self.mode != "playing" or cue is None or cue.kind == "silence"
        saying = self._saying[0] if self._saying is not None else None
        return Status(position, self.mode, self.paused, self.volume_pct, saying, silent)

    # -- doing -------------------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        """Ask for ``command`` from any thread (a remote control, a voice); run() does it."""
        self.commands.put(command)

    def command(self, command: Command) -> Action:
        """Carry out ``command`` now (on the loop's thread) and return the action it became."""
        controller = self._controller_now()
        action = controller.handle(command, position=self.position, paused=self.paused)
        last = command is Command.NEXT and action.say == phrases.LAST_STEP
        if last and not self.source.done:
            # The next step is not laid out yet: move there once it is.
            self._next_pending = self.source.laid_out
            action = Action(action.then, action.at, phrases.ONE_MOMENT)
        still = command in _STILL or last
        self._carry_out(action, still=still and action.then != "quit")
        return action

    def act(self, decide: Callable[[int, bool], Action]) -> Action:
        """Let ``decide(position, paused)`` choose an action (a remote control) and carry it out.

        A change of volume that goes on as before (``then`` playing while playing, pausing
        while paused) moves nothing; any other action moves to ``action.at``.
        """
        action = decide(self.position, self.paused)
        going_on = action.then == ("pause" if self.paused else "play")
        self._carry_out(action, still=going_on and action.volume_pct is not None)
        return action

    def _carry_out(self, action: Action, *, still: bool) -> None:
        if action.volume_pct is not None:
            self.volume_pct = self._controller_now().volume_pct = action.volume_pct
            self.ring.set_volume(action.volume_pct / self._base_pct)
        if not still:
            self._move(action)
        elif action.say:
            self._answer(action.say)

    def tick(self) -> None:
        """Lay out what is ready, write ahead, notice the end and a stuck device, show it."""
        grew = self.source.advance()  # lays out what synthesis finished
        if grew and self._next_pending is not None and self.source.laid_out > self._next_pending:
            self._next_pending = None
            self.command(Command.NEXT)
        self._grew()
        self._fill()
        if not self._started:
            self._start_when_covered()
        ring = self.ring
        if self._first_audio is not None and (heard_at := ring.first_heard_at()) is not None:
            first, self._first_audio = self._first_audio, None
            first(heard_at)
        if self._saying is not None and ring.heard() >= self._saying[1]:
            self._saying = None
        if self._end_frame is not None and ring.heard() >= self._end_frame:
            if self.source.error is not None:
                raise self.source.error
            self.mode = "finished"
        if self._started and not ring.drained and self.output.stalled_s() > self._stall_s:
            raise DeviceStalledError(
                f"the audio device stopped taking sound for {self._stall_s:.0f} s; "
                "playback stopped (is another program holding it, or a remote sink gone?)"
            )
        self.view.update(self.status())
        self._prepare_answer()

    def run(
        self,
        keys: KeySource | None = None,
        remote: Callable[[Playback], None] | None = None,
    ) -> Mode:
        """Play to the end (or until the listener quits); the device is closed on every way out.

        ``remote(self)`` is called each time round, on this thread (a remote control
        carries out what it was asked there); :meth:`submit` works from any thread.
        """
        # Made ready once the first sound is out, "One moment." first (popped from the end).
        self._fixed = [*self._controller_now().fixed_sentences()[::-1], *self._fixed]
        keys = keys or NoKeys()
        stalled = False
        try:
            self.view.started(self.cursor)
            self.tick()
            while not self.done:
                for command in keys.read(POLL_S):
                    self._do(command, keys)
                while not self.done:
                    try:
                        self._do(self.commands.get_nowait(), keys)
                    except queue.Empty:
                        break
                if remote is not None and not self.done:
                    remote(self)
                self.tick()
        except DeviceStalledError:
            stalled = True
            raise
        finally:
            self.ring.expecting = False
            if not stalled:  # a stuck device's thread cannot be stopped: the process ends
                self.output.close()
        return self.mode

    # -- inside ------------------------------------------------------------------------------

    def _do(self, command: Command, keys: KeySource) -> None:
        if self.done:
            return
        self.command(command)
        if command is Command.SUSPEND:
            self.view.update(self.status())
            self.view.close()
            keys.suspend()

    def _controller_now(self) -> Controller:
        """A controller for the session as laid out now (made again once it grew)."""
        laid = self.source.laid_out
        if self._controller is None or self._controller[0] != laid:
            volume = self._controller[1].volume_pct if self._controller else self.volume_pct
            self._controller = (laid, Controller(self.source.prefix(), volume_pct=volume))
        return self._controller[1]

    def _start_when_covered(self) -> None:
        """Start the device once what is written covers its buffer and the write-ahead.

        That is: the ring is written :data:`AHEAD_S` ahead, or the session is laid out
        whole, or an engine is speaking what comes next (a cold cache: waiting would only
        delay the first sound, and a wait at a silence is what streaming allows). From a
        warm cache the layout is only reading clips, milliseconds away: it is waited for
        here, up to :data:`POLL_S` a tick, rather than started on its first sound alone,
        which a device could take whole (one with no clock of its own takes frames as fast
        as they come) and then wait at its end: a gap, and the played stream no longer
        what export writes.
        """
        import time

        deadline = time.monotonic() + POLL_S
        while True:
            ring, source = self.ring, self.source
            covered = ring.written >= self._ahead or source.done or source.speaking
            if ring.written and covered:
                self.output.start(ring)
                self._started = True
                return
            left = deadline - time.monotonic()
            if left <= 0 or source.done or not source.wait(left):
                return
            self._grew()
            self._fill()

    def _grew(self) -> None:
        laid, rate = self.source.laid_out, self.source.sample_rate
        if laid == self._shown:
            return
        # The views get the longer timeline now and then, not on every phrase; and always
        # before what is heard reaches the end of what they have (a cue is shown as it starts).
        soon = self._shown - self.position < VIEW_AHEAD_S * rate
        if self.source.done or soon or laid - self._shown > 30 * rate:
            self._shown = laid
            self.view.laid_out(self.source.prefix())

    def _fill(self) -> None:
        """Write ahead of what is heard: answers first, then the session as far as allowed."""
        ring, source = self.ring, self.source
        target = ring.heard() + self._ahead
        while ring.written < target:
            if self._inserts:
                text, pcm = self._inserts[0]
                if len(pcm) > ring.space():
                    break
                self._inserts.popleft()
                self.spans.append(Span(ring.written, self.cursor, text))
                ring.push(pcm)
                self._saying = (text, ring.written)
                continue
            if self.mode not in ("playing", "waiting"):
                break
            error = source.error is not None
            limit = source.laid_out if source.done or error else source.safe_end
            if self._pending is not None:
                if self.cursor >= self._pending[0]:
                    _, text, pcm = self._pending
                    self._pending = None
                    self._inserts.append((text, pcm))
                    continue
                limit = min(limit, self._pending[0])
            if self.cursor < limit:
                short = limit - self.cursor < self._resume
                if self.mode == "waiting" and not source.done and short:
                    break
                self.mode = "playing"
                count = min(self._block, limit - self.cursor, ring.space(), target - ring.written)
                if count <= 0:
                    break
                self._write_session(count)
                continue
            if source.done:
                if error and not self._say_stopping():
                    break  # the words that say so first (inserted), then the end
                self._end_frame = ring.written
                ring.expecting = False
                ring.ending = True
                return
            if not source.speaking:
                # Caught up while the next clips are only being read from the cache: a
                # device faster than real time (one with no clock) took what was written.
                # It waits for the frames (expecting) rather than playing a wait's silence.
                break
            self._wait()
            break
        ring.expecting = self.mode == "playing" and self._end_frame is None

    def _write_session(self, count: int) -> None:
        ring = self.ring
        last = self.spans[-1]
        if last.inserted is not None or last.at + ring.written - last.frame != self.cursor:
            self.spans.append(Span(ring.written, self.cursor))
        gain = self._base_pct / 100
        for block in self.source.render(self.cursor, self.cursor + count, gain=gain):
            ring.push(block)
            self.cursor += len(block)

    def _wait(self) -> None:
        """Synthesis is behind: wait here, in silence; say "One moment." once a wait."""
        if self.ring.written - self.ring.heard() > self._block:
            return  # still playing what is written: maybe it catches up in time
        if self.mode != "waiting":
            self.mode = "waiting"
            self.waits += 1
            self._waiting_said = False
        if not self._waiting_said and self.source.ready(phrases.ONE_MOMENT):
            self._waiting_said = True
            self._insert(phrases.ONE_MOMENT, soft=True)

    def _move(self, action: Action) -> None:
        """Take back what the device has not taken and go on where ``action`` says."""
        ring = self.ring
        ring.rewind(ring.taken)
        self.spans.truncate(self.ring.written)
        self._inserts.clear()
        self._pending = None
        self._next_pending = None
        self._end_frame = None
        self._saying = None
        if action.then == "quit":
            self.cursor = action.at
            self.mode = "quit"
            return
        self.cursor = action.at
        self.spans.append(Span(ring.written, self.cursor))
        if action.say:
            self._insert(action.say)
        if action.then == "play":
            self.mode = "playing"
            self.view.started(action.at)
        else:
            self.mode = "paused"
