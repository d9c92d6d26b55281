"""Play a compiled session through a :class:`~voiceguide.play.player.Player`, with controls.

**The loop** (:meth:`Playback.run`) waits for keys a short while (:meth:`Playback.timeout`),
carries out each command (:meth:`Playback.command`), then notices what the device finished and
starts what comes next (:meth:`Playback.tick`). Nothing is scheduled by sleeping: the device
plays the session's samples, and the loop only follows it. The session is in one mode:

* ``playing``: a run of the session (:mod:`voiceguide.play.runs`) is on the device;
* ``speaking``: an answer to a key is on the device, and the action that follows is kept;
* ``paused``: nothing plays; the session waits at a sample;
* ``finished`` or ``quit``: the loop ends, with the device stopped.

**Where playing is.** ``run start + samples played``, where the player counts samples from the
moment it was handed the buffer, against the buffer's length, and knows the buffer's end from
the device (:meth:`~voiceguide.play.player.Player.is_playing`). Nothing is summed from sleeps, and
the count starts afresh with every run, so the view and the controls do not drift from what
is heard.

**Controls** (:mod:`voiceguide.play.controller`) stop the run, say what they have to say (a short
clip synthesized with the session's voice) and start a new run where the action says. The
answers whose words never change ("Paused.", the volumes) are made ready one a tick once the
first audio is playing, and kept in the phrase cache; the others ("Resuming: left side, hold,
twelve seconds left.") are synthesized when asked for and kept nowhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from voiceguide.errors import EngineError
from voiceguide.play.controller import Action, Controller
from voiceguide.play.keys import Command
from voiceguide.play.runs import RUN_LIMIT_MS, Run, Runs
from voiceguide.sound.clips import ClipSource

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.play.player import Player
    from voiceguide.sound.clips import FloatArray
    from voiceguide.sound.mix import Mix

POLL_S = 0.05
"""How often the view is refreshed and keys are looked at."""
END_POLL_S = 0.002
"""How often the end of a run is looked for once it is due (keeps the gap between runs short)."""

Mode = Literal["playing", "speaking", "paused", "finished", "quit"]


@dataclass(frozen=True)
class Status:
    """What a view shows."""

    position: int
    """Where the session is (the sample heard now, or where it will go on)."""
    mode: Mode
    paused: bool
    """Whether the session waits (also while something is said before it waits)."""
    volume_pct: int
    saying: str | None = None
    """The interjection being said, if any."""


class AnswerClips(ClipSource, Protocol):
    """The clips a session is rendered from, and the answers to keys spoken with its voice."""

    def speak_once(self, text: str) -> FloatArray:
        """``text`` spoken, and kept nowhere unless it already was (an answer said once)."""
        ...


class View(Protocol):
    """Shows a sighted helper what is happening."""

    def started(self, position: int) -> None:
        """The session (re)starts playing at ``position``."""
        ...

    def update(self, status: Status) -> None:
        """Show ``status`` (called a few times a second)."""
        ...

    def said(self, text: str, position: int) -> None:
        """An interjection is being said, with the session at ``position``."""
        ...

    def close(self) -> None:
        """Leave the terminal as a shell expects it; the next update starts afresh."""
        ...


class KeySource(Protocol):
    """Where commands come from (a terminal, or nowhere)."""

    def read(self, timeout_s: float) -> list[Command]:
        """Wait up to ``timeout_s`` for commands and return them (maybe none)."""
        ...

    def suspend(self) -> None:
        """Hand the terminal back and stop the process (Ctrl-Z); return once continued."""
        ...


class NoKeys:
    """No controls (stdin is not a terminal): just wait."""

    def read(self, timeout_s: float) -> list[Command]:
        """Sleep ``timeout_s``; there are never commands."""
        time.sleep(timeout_s)
        return []

    def suspend(self) -> None:
        """Nothing to hand back."""


class _NoView:
    def started(self, position: int) -> None:
        pass

    def update(self, status: Status) -> None:
        pass

    def said(self, text: str, position: int) -> None:
        pass

    def close(self) -> None:
        pass


class Playback:
    """One session playing: the device, where it is, and what the keys do."""

    def __init__(
        self,
        timeline: Timeline,
        clips: AnswerClips,
        player: Player,
        *,
        volume_pct: int = 100,
        mix: Mix | None = None,
        start: int = 0,
        view: View | None = None,
        controller: Controller | None = None,
        run_limit_ms: int = RUN_LIMIT_MS,
        on_first_audio: Callable[[], None] | None = None,
    ) -> None:
        """Play ``timeline`` from sample ``start`` at ``volume_pct`` percent, mixed by ``mix``."""
        from voiceguide.sound.mix import STEREO

        self.timeline = timeline
        self.mix = mix or STEREO
        self.clips = clips
        self.player = player
        self.view: View = view or _NoView()
        self.controller = controller or Controller(timeline, volume_pct=volume_pct)
        self.volume_pct = volume_pct
        self.mode: Mode = "paused"
        self._start = max(0, min(start, timeline.total))
        self._runs = Runs(timeline, clips, run_limit_ms=run_limit_ms, mix=self.mix)
        self._run: Run | None = None
        """The run on the device while playing (the last one, after)."""
        self._then: Action | None = None
        """While speaking: what to do once the interjection ends."""
        self._waiting_at = self._start
        self._saying: str | None = None
        self._on_first_audio = on_first_audio
        self._fixed = self.controller.fixed_sentences()
        """Answers said again and again, so kept (see :meth:`Controller.fixed_sentences`)."""
        self._unprepared: list[str] = []
        """Fixed answers still to make ready, the likeliest last (see :meth:`run`)."""
        self.said: list[str] = []
        """Every interjection said, in order."""

    # -- where ------------------------------------------------------------------------------

    @property
    def position(self) -> int:
        """The sample of the session heard now (or where it waits, or will go on)."""
        if self.mode == "playing" and self._run is not None:
            return min(self._run.start + self.player.played(), self._run.end)
        if self.mode == "speaking" and self._then is not None:
            return self._then.at
        if self.mode == "finished":
            return self.timeline.total
        return self._waiting_at

    @property
    def paused(self) -> bool:
        """Whether the session waits, or is about to wait after an interjection."""
        if self.mode == "speaking" and self._then is not None:
            return self._then.then == "pause"
        return self.mode == "paused"

    @property
    def done(self) -> bool:
        """Whether the session ended or the listener quit."""
        return self.mode in ("finished", "quit")

    def status(self) -> Status:
        """What a view shows now."""
        return Status(self.position, self.mode, self.paused, self.volume_pct, self._saying)

    # -- doing -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start playing where the session was told to start."""
        self._carry_on(Action("play", self._start))

    def command(self, command: Command) -> Action:
        """Carry out ``command`` and return the action it became."""
        handle = self.controller.handle
        return self.act(lambda position, paused: handle(command, position=position, paused=paused))

    def act(self, decide: Callable[[int, bool], Action]) -> Action:
        """Stop the device, let ``decide(position, paused)`` choose the action, carry it out."""
        # Stop first: the position is then where the device fell quiet, not where it was
        # when the key came (it drains its last ~0.1 s).
        self.player.stop()
        action = decide(self.position, self.paused)
        self._carry_out(action)
        return action

    def tick(self) -> None:
        """Notice what the device finished, start what comes next, refresh the view.

        Then, if there is time, make one more fixed answer ready (see :meth:`run`).
        """
        if self.mode == "playing" and self._run is not None:
            if self.player.is_playing():
                self._runs.prepare_next(self._run, self.position, self._gain)
            elif self._run.end >= self.timeline.total:
                self.mode = "finished"
            else:
                self._play_run(self._run.end)
        elif self.mode == "speaking" and not self.player.is_playing():
            then, self._then, self._saying = self._then, None, None
            if then is not None:
                self._carry_on(then)
        self.view.update(self.status())
        self._prepare_answer()

    def timeout(self) -> float:
        """How long the loop may wait before the next :meth:`tick`."""
        if self.mode != "playing" or self._run is None:
            return POLL_S
        left = (self._run.end - self.position) / self.timeline.sample_rate
        return max(END_POLL_S, min(POLL_S, left))

    def run(
        self, keys: KeySource | None = None, remote: Callable[[Playback], None] | None = None
    ) -> Mode:
        """Play to the end (or until the listener quits); the device is stopped on every way out.

        With ``keys``, the answers that never change are made ready once the first audio is
        playing (one a tick, so keys are still read between them), not before: that would
        delay the first sound, and on a cold cache start the engine while the listener waits.
        ``remote(self)`` is called after the keys each time round, in this thread: a remote
        control (MPRIS, :mod:`voiceguide.remote`) carries out what it was asked there.
        """
        if keys is not None:
            self._unprepared = self._fixed[::-1]
        keys = keys or NoKeys()
        try:
            self.start()
            self.tick()
            while not self.done:
                for command in keys.read(self.timeout()):
                    self.command(command)
                    if command is Command.SUSPEND:
                        # The shell gets the screen back below the view, with its cursor;
                        # after 'fg' the view draws a new block rather than over the shell's.
                        self.view.update(self.status())
                        self.view.close()
                        keys.suspend()
                    if self.done:
                        break
                if remote is not None and not self.done:
                    remote(self)
                self.tick()
        finally:
            self.player.stop()
        return self.mode

    # -- inside ------------------------------------------------------------------------------

    @property
    def _gain(self) -> float:
        return self.volume_pct / 100

    def _carry_out(self, action: Action) -> None:
        """Say what ``action`` says, then play or wait where it says (the device is stopped)."""
        self._runs.forget()
        if action.volume_pct is not None:
            self.volume_pct = self.controller.volume_pct = action.volume_pct
        if action.then == "quit":
            self._waiting_at = action.at
            self.mode = "quit"
            return
        if action.say:
            self._speak(action.say, action)
        else:
            self._carry_on(action)

    def _carry_on(self, action: Action) -> None:
        if action.then == "play" and action.at < self.timeline.total:
            self.view.started(action.at)
            self._play_run(action.at)
        elif action.then == "play":
            self.mode = "finished"
        else:
            self._waiting_at = action.at
            self.mode = "paused"

    def _play_run(self, start: int) -> None:
        run = self._runs.run_from(start, self._gain)
        self.player.play(run.samples)
        self._run = run
        self.mode = "playing"
        if self._on_first_audio is not None:
            first, self._on_first_audio = self._on_first_audio, None
            first()

    def _prepare_answer(self) -> None:
        """Make one more fixed answer ready, unless something is due soon."""
        if not self._unprepared or self.mode not in ("playing", "paused"):
            return  # while speaking, the end of the answer comes first
        if (
            self.mode == "playing"
            and self._run is not None
            and self._runs.next_due(self._run, self.position)
        ):
            return  # the next run comes first: a gap between runs would be heard
        try:
            self.clips.speech(self._unprepared.pop())
        except EngineError:
            self._unprepared = []  # the engine fails: stop trying (_speak copes when asked)

    def _speak(self, text: str, then: Action) -> None:
        from voiceguide.sound.render import to_pcm

        self.said.append(text)
        self.view.said(text, then.at)
        try:
            # A sentence that names the place is said once: synthesized now, kept nowhere.
            fixed = text in self._fixed
            clip = self.clips.speech(text) if fixed else self.clips.speak_once(text)
        except EngineError:
            # The words are for comfort; failing to say them must not end the session.
            self._carry_on(then)
            return
        self._then, self._saying = then, text
        self.mode = "speaking"
        self.player.play(to_pcm(self.mix.alone(clip, self._gain)))
