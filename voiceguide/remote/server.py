"""Serve MPRIS2 for one session from a background thread with its own asyncio event loop.

:meth:`MprisServer.start` returns at once; the thread imports dbus-fast, connects to the
session bus, exports the interfaces and claims ``org.mpris.MediaPlayer2.voiceguide`` (or
``….instance<pid>`` when another voiceguide has it). Then it waits for the player's changes
(:meth:`voiceguide.remote.link.Link.listen`) and turns them into signals. No session bus
(a console, a service), a bus that refuses us, or any other failure ends the thread with one
debug-level note: the session plays on exactly as it would without it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
from typing import TYPE_CHECKING

from voiceguide.remote.link import Link

if TYPE_CHECKING:
    import asyncio

    from dbus_fast.aio import MessageBus

logger = logging.getLogger(__name__)

BUS_NAME = "org.mpris.MediaPlayer2.voiceguide"
START_DELAY_S = 0.5
"""How long after :meth:`MprisServer.start` the thread sets to work: importing and connecting
take a burst of CPU, which on a busy machine would compete with the first sound's start."""
CONNECT_TIMEOUT_S = 5.0
"""A bus that accepts the connection and then says nothing is given up on after this."""
CLOSE_TIMEOUT_S = 1.0
"""How long :meth:`MprisServer.close` waits for the thread to let go of the bus."""


class NoSessionBus(Exception):
    """There is no session bus to connect to, or it would not have us."""


def session_bus_address(environ: dict[str, str] | None = None) -> str:
    """The session bus's address: ``DBUS_SESSION_BUS_ADDRESS``, else systemd's user bus.

    Raise :class:`NoSessionBus` when there is neither (as on a console or in a service).
    """
    env = os.environ if environ is None else environ
    address = env.get("DBUS_SESSION_BUS_ADDRESS", "").strip()
    if address:
        return address
    runtime = env.get("XDG_RUNTIME_DIR", "")
    if runtime:
        path = os.path.join(runtime, "bus")
        with contextlib.suppress(OSError):
            if stat.S_ISSOCK(os.stat(path).st_mode):
                return f"unix:path={path}"
    raise NoSessionBus("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")


class MprisServer:
    """The MPRIS2 player for the session behind ``link``, served from a daemon thread."""

    def __init__(
        self,
        link: Link,
        *,
        address: str | None = None,
        pid: int | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        start_delay_s: float = START_DELAY_S,
    ) -> None:
        """Serve ``link``'s session on the bus at ``address`` (default: the session bus)."""
        self.link = link
        self._address = address
        self._connect_timeout_s = connect_timeout_s
        self._start_delay_s = start_delay_s
        self._closed = threading.Event()
        self._pid = os.getpid() if pid is None else pid
        self._thread = threading.Thread(target=self._run, name="voiceguide-mpris", daemon=True)
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self.name: str | None = None
        """The bus name claimed, once serving."""
        self.ready = threading.Event()
        """Set once serving, or once given up."""

    def start(self) -> None:
        """Start serving in the background; return at once."""
        if not self._thread.is_alive() and not self.ready.is_set():
            self._thread.start()

    def close(self) -> None:
        """Stop serving and let go of the bus name (waits at most :data:`CLOSE_TIMEOUT_S`).

        A thread still importing or connecting is not waited for: it stops once connected,
        and the bus lets go of whatever a process held when it exits.
        """
        with self._lock:
            self._closed.set()
            serving = self._loop is not None
        self._poke()
        if serving:
            self._thread.join(CLOSE_TIMEOUT_S)

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        if self._closed.wait(self._start_delay_s):
            self.ready.set()
            return  # closed before it began: nothing to note
        import asyncio  # here, in the thread: importing it costs tens of milliseconds

        try:
            asyncio.run(self._serve())
        except Exception as error:  # any failure of D-Bus must leave the session alone
            logger.debug("MPRIS is off: %s", _describe(error))
        finally:
            self.link.listen(None)
            self.ready.set()

    async def _serve(self) -> None:
        import asyncio

        address = self._address or session_bus_address()  # no bus: not even an import

        from dbus_fast.aio import MessageBus

        from voiceguide.remote.mpris import OBJECT_PATH, Player, Root

        try:
            bus = MessageBus(bus_address=address)
            await asyncio.wait_for(bus.connect(), self._connect_timeout_s)
        except Exception as error:
            raise NoSessionBus(f"cannot connect to {address} ({_describe(error)})") from error
        try:
            root, player = Root(self.link), Player(self.link)
            bus.export(OBJECT_PATH, root)
            bus.export(OBJECT_PATH, player)
            self.name = await self._claim_name(bus)
            wake = asyncio.Event()
            with self._lock:
                if self._closed.is_set():
                    return
                self._loop, self._wake = asyncio.get_running_loop(), wake
            self.link.listen(self._poke)
            player.tell()  # what changed while connecting
            self.ready.set()
            while not self._closed.is_set():
                await wake.wait()
                wake.clear()
                player.tell()  # the last change too (the end: Stopped), before letting go
        finally:
            with self._lock:
                self._loop = self._wake = None
            bus.disconnect()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(
                    bus.wait_for_disconnect(),  # type: ignore[no-untyped-call]
                    CLOSE_TIMEOUT_S,
                )

    async def _claim_name(self, bus: MessageBus) -> str:
        from dbus_fast import NameFlag, RequestNameReply

        owned = (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER)
        for name in (BUS_NAME, f"{BUS_NAME}.instance{self._pid}"):
            if await bus.request_name(name, NameFlag.DO_NOT_QUEUE) in owned:
                return name
        raise RuntimeError(f"{BUS_NAME} and its instance name are both taken")

    def _poke(self) -> None:
        """Wake the server's loop (from any thread)."""
        with self._lock:
            loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has just closed
                loop.call_soon_threadsafe(wake.set)


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    if isinstance(error, NoSessionBus):
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
