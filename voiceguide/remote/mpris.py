"""The MPRIS2 interfaces voiceguide serves, on dbus-fast (imported only by the server thread).

Run inside the server's event loop. Methods and setters only queue a
:class:`~voiceguide.remote.link.Request`; getters only read the latest
:class:`~voiceguide.remote.link.Snapshot`. The session itself is never touched from here.

**One track, the whole session.** ``mpris:length`` is the session's length and ``Position``
its playhead, so a phone's progress bar shows the session. The metadata names the current
step (``xesam:title``, and ``mpris:trackid`` ``/org/voiceguide/step/N``), so a remote shows
where the listener is, and ``SetPosition`` with a stale track id is ignored, as the
specification asks. ``Seek`` and ``SetPosition`` go to the beginning of the step that holds the
time asked for. ``CanGoNext`` stays true in the last step: clients skip a method their player
says it cannot do, and there ``Next`` answers "This is the last step." as the key does.
"""

from __future__ import annotations

import math
from typing import Annotated

from dbus_fast import DBusError, ErrorType, PropertyAccess, Variant
from dbus_fast.annotations import (
    DBusBool,
    DBusDict,
    DBusDouble,
    DBusInt64,
    DBusObjectPath,
    DBusSignature,
    DBusStr,
)
from dbus_fast.service import ServiceInterface, dbus_method, dbus_property, dbus_signal

from voiceguide.remote.link import Link, Request, Snapshot

OBJECT_PATH = "/org/mpris/MediaPlayer2"
ROOT_INTERFACE = "org.mpris.MediaPlayer2"
PLAYER_INTERFACE = "org.mpris.MediaPlayer2.Player"
IDENTITY = "voiceguide"
TRACK_PATH = "/org/voiceguide/step/"

Nothing = Annotated[None, DBusSignature("")]
"""A method that returns nothing (dbus-fast reads the D-Bus signature from the annotation)."""
DBusStrings = Annotated[list[str], DBusSignature("as")]

READ = PropertyAccess.READ


def track_id(step_number: int) -> str:
    """The object path naming a step as a track."""
    return f"{TRACK_PATH}{step_number}"


class Root(ServiceInterface):
    """``org.mpris.MediaPlayer2``: who the player is."""

    def __init__(self, link: Link) -> None:
        """Serve for the session behind ``link``."""
        super().__init__(ROOT_INTERFACE)
        self._link = link

    @dbus_method()
    def Raise(self) -> Nothing:
        """Do nothing: there is no window (CanRaise is false)."""

    @dbus_method()
    def Quit(self) -> Nothing:
        """End the session, as the key q does."""
        self._link.send(Request("quit"))

    @dbus_property(access=READ)
    def CanQuit(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def CanRaise(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def HasTrackList(self) -> DBusBool:
        return False

    @dbus_property(access=READ)
    def Identity(self) -> DBusStr:
        return IDENTITY

    @dbus_property(access=READ)
    def DesktopEntry(self) -> DBusStr:
        return IDENTITY

    @dbus_property(access=READ)
    def SupportedUriSchemes(self) -> DBusStrings:
        return []

    @dbus_property(access=READ)
    def SupportedMimeTypes(self) -> DBusStrings:
        return []


class Player(ServiceInterface):
    """``org.mpris.MediaPlayer2.Player``: the controls and what is playing."""

    def __init__(self, link: Link) -> None:
        """Serve for the session behind ``link``."""
        super().__init__(PLAYER_INTERFACE)
        self._link = link
        self._told = self.signalled(link.latest())
        self._jumps = link.latest().jumps

    # -- methods ---------------------------------------------------------------------------------

    @dbus_method()
    def Play(self) -> Nothing:
        """Resume, if paused."""
        self._link.send(Request("play"))

    @dbus_method()
    def Pause(self) -> Nothing:
        """Pause, if playing."""
        self._link.send(Request("pause"))

    @dbus_method()
    def PlayPause(self) -> Nothing:
        """Pause or resume, as the space bar does."""
        self._link.send(Request("toggle"))

    @dbus_method()
    def Stop(self) -> Nothing:
        """End the session (exit 0), as the key q does."""
        self._link.send(Request("quit"))

    @dbus_method()
    def Next(self) -> Nothing:
        """Go to the next step, as the key n does."""
        self._link.send(Request("next"))

    @dbus_method()
    def Previous(self) -> Nothing:
        """Go back a step, as the key p does."""
        self._link.send(Request("previous"))

    @dbus_method()
    def Seek(self, Offset: DBusInt64) -> Nothing:
        """Go to the step that holds the time ``Offset`` microseconds from here."""
        self._link.send(Request("seek_by", self._link.info.from_us(Offset)))

    @dbus_method()
    def SetPosition(self, TrackId: DBusObjectPath, Position: DBusInt64) -> Nothing:
        """Go to the step that holds ``Position``, unless the track changed meanwhile."""
        info = self._link.info
        current = self._current_track(self._link.latest())
        if TrackId != current or not 0 <= Position <= info.to_us(info.total):
            return  # a stale or impossible request: ignored, as the specification says
        self._link.send(Request("seek_to", info.from_us(Position)))

    @dbus_method()
    def OpenUri(self, Uri: DBusStr) -> Nothing:
        """Refuse: voiceguide plays its routines, nothing else."""
        raise DBusError(
            ErrorType.NOT_SUPPORTED,
            "voiceguide plays routines, not addresses; start one with: voiceguide play ROUTINE",
        )

    @dbus_signal()
    def Seeked(self, position_us: int) -> DBusInt64:
        """The position moved other than by playing."""
        return position_us

    # -- properties ------------------------------------------------------------------------------

    @dbus_property(access=READ)
    def PlaybackStatus(self) -> DBusStr:
        return self._link.latest().status

    @dbus_property(access=READ)
    def Metadata(self) -> DBusDict:
        return self.metadata(self._link.latest())

    @dbus_property(access=READ)
    def Position(self) -> DBusInt64:
        return self._link.info.to_us(self._link.position_now())

    @dbus_property()
    def Volume(self) -> DBusDouble:
        return self._link.latest().volume_pct / 100

    @Volume.setter  # type: ignore[no-redef]
    def Volume(self, value: DBusDouble) -> None:
        if not math.isfinite(value):
            raise DBusError(
                ErrorType.INVALID_ARGS, f"expected a volume from 0.0 to 1.0, got {value}"
            )
        # Percent, to the nearest: the keys' steps of ten are too coarse for a slider.
        self._link.send(Request("volume", round(max(-1.0, min(2.0, value)) * 100)))

    @dbus_property()
    def Rate(self) -> DBusDouble:
        return 1.0

    @Rate.setter  # type: ignore[no-redef]
    def Rate(self, value: DBusDouble) -> None:
        """Ignore: the timeline has one speed (MinimumRate = MaximumRate = 1)."""

    @dbus_property(access=READ)
    def MinimumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=READ)
    def MaximumRate(self) -> DBusDouble:
        return 1.0

    @dbus_property(access=READ)
    def CanGoNext(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def CanGoPrevious(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def CanPlay(self) -> DBusBool:
        return self._link.latest().status != "Stopped"

    @dbus_property(access=READ)
    def CanPause(self) -> DBusBool:
        return self._link.latest().status != "Stopped"

    @dbus_property(access=READ)
    def CanSeek(self) -> DBusBool:
        return True

    @dbus_property(access=READ)
    def CanControl(self) -> DBusBool:
        return True

    # -- what changed ----------------------------------------------------------------------------

    def metadata(self, snapshot: Snapshot) -> dict[str, Variant]:
        """The metadata for ``snapshot``: the step as the title, the routine as the album."""
        info = self._link.info
        title = info.steps[snapshot.step].title if info.steps else info.title
        return {
            "mpris:trackid": Variant("o", self._current_track(snapshot)),
            "mpris:length": Variant("x", info.to_us(info.total)),
            "xesam:title": Variant("s", title),
            "xesam:album": Variant("s", info.title),
            "xesam:artist": Variant("as", [IDENTITY]),
        }

    def signalled(self, snapshot: Snapshot) -> dict[str, object]:
        """The properties whose changes are signalled, as ``snapshot`` has them."""
        stopped = snapshot.status == "Stopped"
        return {
            "PlaybackStatus": snapshot.status,
            "Metadata": self.metadata(snapshot),
            "Volume": snapshot.volume_pct / 100,
            "CanPlay": not stopped,
            "CanPause": not stopped,
        }

    def tell(self) -> None:
        """Emit PropertiesChanged for what changed since last told, and Seeked after a jump."""
        snapshot = self._link.latest()
        now = self.signalled(snapshot)
        changed = {name: value for name, value in now.items() if self._told.get(name) != value}
        self._told = now
        if changed:
            self.emit_properties_changed(changed)
        if snapshot.jumps != self._jumps:
            self._jumps = snapshot.jumps
            self.Seeked(self._link.info.to_us(snapshot.position))

    def _current_track(self, snapshot: Snapshot) -> str:
        steps = self._link.info.steps
        return track_id(steps[snapshot.step].number if steps else 0)
