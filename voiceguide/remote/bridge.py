"""The playback loop's end of the remote link: what it publishes, and how requests are carried out.

Everything here runs in the playback loop's thread. :class:`PlayerSide` plugs into the loop
through the player's own interfaces (see :mod:`voiceguide.play.playback`):

* as a *view* (:meth:`PlayerSide.observe`): each status the loop shows becomes a
  :class:`~voiceguide.remote.link.Snapshot`, with a jump counted when the position moved
  other than by playing;
* around the *keys* (:meth:`PlayerSide.waking`): waiting for a key also ends when a request
  comes, so a remote's pause is heard at once;
* as the *remote* (:meth:`PlayerSide.carry_out`), called by the loop between ticks: each
  request becomes a key's command, or an action decided where the session stands, with the
  keys' answers ("Paused.", "This is the last step.", "This is as loud as it goes.").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from voiceguide.compile import phrases
from voiceguide.play.controller import MAX_VOLUME_PCT, MIN_VOLUME_PCT, Action, Then
from voiceguide.play.keys import Command
from voiceguide.play.navigation import sound_start, step_at
from voiceguide.remote.link import (
    Link,
    PlaybackStatus,
    Request,
    SessionInfo,
    Snapshot,
    StepInfo,
)

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.play.navigation import Step
    from voiceguide.play.playback import KeySource, Status, View

JUMP_TOLERANCE_MS = 250
"""A position this far from where playing would have taken it is a jump (``Seeked``)."""
KEY_SLICE_S = 0.01
"""With a terminal, keys are read in slices this long, so a request waits no longer."""

Clock = Callable[[], float]


class Controllable(Protocol):
    """What the bridge needs of a playing session (:class:`~voiceguide.play.playback.Playback`)."""

    volume_pct: int

    @property
    def position(self) -> int:
        """The sample heard now, or where the session waits."""
        ...

    @property
    def paused(self) -> bool:
        """Whether the session waits (or is about to, after an answer)."""
        ...

    @property
    def done(self) -> bool:
        """Whether the session ended or the listener quit."""
        ...

    def command(self, command: Command) -> object:
        """Do what the key for ``command`` does."""
        ...

    def act(self, decide: Callable[[int, bool], Action]) -> object:
        """Stop the device, call ``decide(position, paused)``, carry out the action it returns."""
        ...


def session_info(timeline: Timeline, steps: list[Step]) -> SessionInfo:
    """What a remote shows of ``timeline``: its title, length and steps (titled as the view)."""
    last = steps[-1].number if steps else 0
    return SessionInfo(
        title=timeline.title,
        sample_rate=timeline.sample_rate,
        total=timeline.total,
        steps=tuple(
            StepInfo(
                s.number,
                s.start,
                f"Step {s.number} of {last}: {s.title}" if s.number else "Introduction",
            )
            for s in steps
        ),
    )


def playback_status(status: Status) -> PlaybackStatus:
    """MPRIS's word for what the session is doing."""
    if status.mode in ("finished", "quit"):
        return "Stopped"
    return "Paused" if status.paused else "Playing"


class PlayerSide:
    """Publish a session's state to a :class:`Link` and carry out what comes back through it."""

    def __init__(
        self,
        timeline: Timeline,
        steps: list[Step],
        *,
        volume_pct: int,
        start: int = 0,
        clock: Clock = time.monotonic,
    ) -> None:
        """Link ``timeline`` (divided into ``steps``), starting at sample ``start``."""
        self.timeline = timeline
        self.steps = steps
        self._clock = clock
        info = session_info(timeline, steps)
        first = Snapshot("Playing", start, clock(), False, volume_pct, info.step_at(start))
        self.link = Link(info, first)
        self._published = False

    # -- publishing ------------------------------------------------------------------------------

    def publish(self, status: Status) -> None:
        """Publish ``status``, counting a jump if the position moved other than by playing."""
        now = self._clock()
        info = self.link.info
        before = self.link.latest()
        off = abs(status.position - before.position_at(now, info))
        jumped = self._published and off > JUMP_TOLERANCE_MS * info.sample_rate // 1000
        self._published = True
        self.link.publish(
            Snapshot(
                status=playback_status(status),
                position=status.position,
                stamp=now,
                advancing=status.mode == "playing",
                volume_pct=status.volume_pct,
                step=info.step_at(status.position),
                jumps=before.jumps + jumped,
            )
        )

    def laid_out(self, timeline: Timeline) -> None:
        """The session grew (it is laid out while it plays): publish its new length and steps.

        The D-Bus thread reads :attr:`Link.info` whole; it is replaced in one assignment.
        """
        from voiceguide.play.navigation import steps_of

        self.timeline = timeline
        self.steps = steps_of(timeline)
        self.link.info = session_info(timeline, self.steps)

    def observe(self, view: View | None) -> View:
        """A view that publishes each status, then shows it on ``view`` (if any)."""
        return _PublishingView(self, view)

    def waking(self, keys: KeySource | None) -> KeySource:
        """``keys`` (or none), whose waiting also ends when a request comes."""
        return _WakingKeys(keys, self.link)

    # -- carrying out ----------------------------------------------------------------------------

    def carry_out(self, playback: Controllable) -> None:
        """Carry out the requests that came, in order (of several volumes, the last)."""
        requests = self.link.take()
        last_volume = max((i for i, r in enumerate(requests) if r.kind == "volume"), default=-1)
        for i, request in enumerate(requests):
            if playback.done:
                return
            if request.kind == "volume" and i != last_volume:
                continue  # a slider being dragged: only where it stopped counts
            self.request(request, playback)

    def request(self, request: Request, playback: Controllable) -> None:
        """Carry out one request, as the matching key would."""
        kind = request.kind
        if kind in ("play", "pause"):
            if playback.paused == (kind == "play"):  # otherwise it already is
                playback.command(Command.PAUSE)
        elif kind in _COMMANDS:
            playback.command(_COMMANDS[kind])
        elif kind in ("seek_by", "seek_to"):
            target = request.value + (playback.position if kind == "seek_by" else 0)
            if target >= self.timeline.total:
                playback.command(Command.NEXT)  # past the end: as Next (MPRIS says so)
            else:
                playback.act(lambda position, paused: Action("play", self._step_start(target)))
        elif kind == "volume":
            self._volume(request.value, playback)
        else:  # pragma: no cover - every kind is handled above
            raise AssertionError(kind)

    def _step_start(self, position: int) -> int:
        if not self.steps:
            return 0
        return self.steps[step_at(self.steps, max(0, position))].start

    def _volume(self, asked: int, playback: Controllable) -> None:
        current = playback.volume_pct
        lowest = min(MIN_VOLUME_PCT, current)  # --volume may start below the keys' lowest
        wanted = max(lowest, min(MAX_VOLUME_PCT, asked))
        if wanted == current and asked == current:
            return
        timeline = self.timeline

        def decide(position: int, paused: bool) -> Action:
            carry_on: Then = "pause" if paused else "play"
            here = sound_start(timeline, position)
            if wanted == current:  # asked past either end
                return Action(
                    carry_on, here, phrases.LOUDEST if asked > current else phrases.QUIETEST
                )
            # Playing, the change is heard at once; paused, it is said (as with the keys).
            return Action(carry_on, here, phrases.volume(wanted) if paused else None, wanted)

        playback.act(decide)


_COMMANDS = {
    "toggle": Command.PAUSE,
    "quit": Command.QUIT,
    "next": Command.NEXT,
    "previous": Command.PREVIOUS,
}


class _PublishingView:
    def __init__(self, side: PlayerSide, view: View | None) -> None:
        self._side = side
        self._view = view

    def started(self, position: int) -> None:
        if self._view is not None:
            self._view.started(position)

    def update(self, status: Status) -> None:
        self._side.publish(status)
        if self._view is not None:
            self._view.update(status)

    def said(self, text: str, position: int) -> None:
        if self._view is not None:
            self._view.said(text, position)

    def laid_out(self, timeline: Timeline) -> None:
        self._side.laid_out(timeline)
        if self._view is not None:
            self._view.laid_out(timeline)

    def close(self) -> None:
        if self._view is not None:
            self._view.close()


class _WakingKeys:
    def __init__(self, keys: KeySource | None, link: Link) -> None:
        self._keys = keys
        self._link = link

    def read(self, timeout_s: float) -> list[Command]:
        if self._keys is None:
            self._link.wait(timeout_s)
            return []
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            commands = self._keys.read(max(0.0, min(left, KEY_SLICE_S)))
            if commands or self._link.pending() or left <= KEY_SLICE_S:
                return commands

    def suspend(self) -> None:
        if self._keys is not None:
            self._keys.suspend()
