"""The MPRIS server on a private session bus, driven by the real ``playerctl``, against a stub.

Each test gets its own ``dbus-daemon`` (killed at teardown). The session behind the server is
a bare :class:`~voiceguide.remote.link.Link`: the test publishes snapshots into it and reads
the requests that playerctl's commands became, so the server is tested alone.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from voiceguide.remote.link import Link, Request, SessionInfo, Snapshot, StepInfo
from voiceguide.remote.server import BUS_NAME, MprisServer, NoSessionBus, session_bus_address

RATE = 1000
INFO = SessionInfo(
    title="Hand point, both sides",
    sample_rate=RATE,
    total=60_000,
    steps=(
        StepInfo(0, 0, "Introduction"),
        StepInfo(1, 10_000, "Step 1 of 2: Right side"),
        StepInfo(2, 30_000, "Step 2 of 2: Left side"),
    ),
)
DEADLINE_S = 10.0


def snapshot(**changes: object) -> Snapshot:
    """A session playing its introduction, still, with ``changes``."""
    base = Snapshot("Playing", 1_000, time.monotonic(), False, 100, 0)
    return replace(base, **changes)  # type: ignore[arg-type]


def bus_env(address: str) -> dict[str, str]:
    return {**os.environ, "DBUS_SESSION_BUS_ADDRESS": address}


def playerctl(address: str, *args: str, player: str = "voiceguide") -> str:
    """Run playerctl on ``address``; its output (it must succeed)."""
    result = subprocess.run(
        ["playerctl", "-p", player, *args],
        env=bus_env(address),
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    assert result.returncode == 0, (args, result.stderr)
    return result.stdout.strip()


def dbus_send(address: str, method: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "dbus-send",
            f"--bus={address}",
            "--print-reply",
            f"--dest={BUS_NAME}",
            "/org/mpris/MediaPlayer2",
            method,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )


def next_requests(link: Link) -> list[Request]:
    """The requests the next command became (waits for them)."""
    assert link.wait(DEADLINE_S), "no request came"
    return link.take()


class Follower:
    """``playerctl --follow …``: a line each time what it follows changes."""

    def __init__(self, address: str, *args: str) -> None:
        self.process = subprocess.Popen(
            ["playerctl", "-p", "voiceguide", "--follow", *args],
            env=bus_env(address),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def next_line(self) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], DEADLINE_S)
        assert ready, "playerctl printed nothing"
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.kill()
        self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def follow(bus: str) -> Iterator[Callable[..., Follower]]:
    started: list[Follower] = []

    def start(*args: str) -> Follower:
        started.append(Follower(bus, *args))
        return started[-1]

    yield start
    for follower in started:
        follower.close()


@pytest.fixture
def link() -> Link:
    return Link(INFO, snapshot())


@pytest.fixture
def served(bus: str, link: Link) -> Iterator[MprisServer]:
    """The server for ``link``, serving on ``bus``."""
    server = MprisServer(link, address=bus, start_delay_s=0)
    server.start()
    try:
        assert server.ready.wait(DEADLINE_S)
        assert server.name == BUS_NAME
        yield server
    finally:
        server.close()


@pytest.mark.usefixtures("served")
def test_status_follows_the_session(bus: str, link: Link) -> None:
    assert playerctl(bus, "status") == "Playing"
    link.publish(snapshot(status="Paused"))
    assert playerctl(bus, "status") == "Paused"
    link.publish(snapshot(status="Stopped"))
    assert playerctl(bus, "status") == "Stopped"


@pytest.mark.usefixtures("served")
def test_metadata_names_the_step_and_the_routine(bus: str, link: Link) -> None:
    lines = playerctl(bus, "metadata").splitlines()
    metadata = {fields[1]: fields[2] for fields in (line.split(None, 2) for line in lines)}
    assert metadata == {
        "mpris:trackid": "'/org/voiceguide/step/0'",
        "mpris:length": "60000000",
        "xesam:title": "Introduction",
        "xesam:album": "Hand point, both sides",
        "xesam:artist": "voiceguide",
    }
    link.publish(snapshot(step=2, position=31_000))
    assert playerctl(bus, "metadata", "xesam:title") == "Step 2 of 2: Left side"
    assert playerctl(bus, "metadata", "mpris:trackid") == "'/org/voiceguide/step/2'"


@pytest.mark.usefixtures("served")
def test_position_is_read_from_the_playhead(bus: str, link: Link) -> None:
    # Paused (playerctl itself moves a playing position on by the time since it asked).
    link.publish(snapshot(status="Paused", position=12_345))
    assert playerctl(bus, "position") == "12.345000"
    # Playing: it moves on from where the snapshot was taken.
    link.publish(snapshot(position=12_000, advancing=True, stamp=time.monotonic() - 5))
    assert float(playerctl(bus, "position")) >= 17.0


def test_a_snapshot_moves_on_only_while_advancing_and_not_past_the_end() -> None:
    still = snapshot(position=12_000, stamp=100.0)
    assert still.position_at(105.0, INFO) == 12_000
    moving = replace(still, advancing=True)
    assert moving.position_at(105.0, INFO) == 17_000
    assert moving.position_at(99.0, INFO) == 12_000  # a clock read before the snapshot
    assert moving.position_at(1_000.0, INFO) == INFO.total


@pytest.mark.usefixtures("served")
@pytest.mark.parametrize(
    ("command", "request_"),
    [
        (["play"], Request("play")),
        (["pause"], Request("pause")),
        (["play-pause"], Request("toggle")),
        (["stop"], Request("quit")),
        (["next"], Request("next")),
        (["previous"], Request("previous")),
        (["position", "30"], Request("seek_to", 30_000)),
        (["position", "5+"], Request("seek_by", 5_000)),
        (["position", "2.5-"], Request("seek_by", -2_500)),
        (["volume", "0.5"], Request("volume", 50)),
        (["volume", "0.554"], Request("volume", 55)),
        (["volume", "1.5"], Request("volume", 150)),
    ],
)
def test_commands_become_requests(
    bus: str, link: Link, command: list[str], request_: Request
) -> None:
    playerctl(bus, *command)
    assert next_requests(link) == [request_]


@pytest.mark.usefixtures("served")
def test_a_position_for_another_track_or_past_the_end_is_ignored(bus: str, link: Link) -> None:
    set_position = "org.mpris.MediaPlayer2.Player.SetPosition"
    stale = dbus_send(bus, set_position, "objpath:/org/voiceguide/step/2", "int64:1000000")
    assert stale.returncode == 0, stale.stderr
    past = dbus_send(bus, set_position, "objpath:/org/voiceguide/step/0", "int64:61000000")
    assert past.returncode == 0, past.stderr
    fine = dbus_send(bus, set_position, "objpath:/org/voiceguide/step/0", "int64:2000000")
    assert fine.returncode == 0, fine.stderr
    assert next_requests(link) == [Request("seek_to", 2_000)]  # only the last came through


@pytest.mark.usefixtures("served")
def test_opening_an_address_is_refused_politely(bus: str, link: Link) -> None:
    result = subprocess.run(
        ["playerctl", "-p", "voiceguide", "open", "file:///tmp/song.mp3"],
        env=bus_env(bus),
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
        check=False,
    )
    assert result.returncode != 0
    assert "voiceguide plays routines, not addresses" in result.stderr
    assert not link.pending()


@pytest.mark.usefixtures("served")
def test_the_player_says_who_it_is_and_quits(bus: str, link: Link) -> None:
    reply = dbus_send(
        bus, "org.freedesktop.DBus.Properties.GetAll", "string:org.mpris.MediaPlayer2"
    )
    assert reply.returncode == 0, reply.stderr
    text = " ".join(reply.stdout.split())
    for name, value in [
        ("Identity", 'string "voiceguide"'),
        ("DesktopEntry", 'string "voiceguide"'),
        ("CanQuit", "boolean true"),
        ("CanRaise", "boolean false"),
        ("HasTrackList", "boolean false"),
    ]:
        assert f'string "{name}" variant {value}' in text
    assert dbus_send(bus, "org.mpris.MediaPlayer2.Quit").returncode == 0
    assert next_requests(link) == [Request("quit")]


@pytest.mark.usefixtures("served")
def test_the_player_can_be_controlled(bus: str) -> None:
    reply = dbus_send(
        bus, "org.freedesktop.DBus.Properties.GetAll", "string:org.mpris.MediaPlayer2.Player"
    )
    assert reply.returncode == 0, reply.stderr
    text = " ".join(reply.stdout.split())
    for name in ["CanPlay", "CanPause", "CanGoNext", "CanGoPrevious", "CanSeek", "CanControl"]:
        assert f'string "{name}" variant boolean true' in text
    assert 'string "Rate" variant double 1' in text
    assert 'string "Volume" variant double 1' in text


@pytest.mark.usefixtures("served")
def test_changes_are_signalled(bus: str, link: Link, follow: Callable[..., Follower]) -> None:
    status = follow("status")
    title = follow("metadata", "xesam:title")
    volume = follow("volume")
    assert status.next_line() == "Playing"
    assert title.next_line() == "Introduction"
    assert volume.next_line() == "1.000000"
    link.publish(snapshot(status="Paused"))
    assert status.next_line() == "Paused"
    link.publish(snapshot(status="Paused", step=1, position=10_000))
    assert title.next_line() == "Step 1 of 2: Right side"
    link.publish(snapshot(status="Paused", step=1, position=10_000, volume_pct=40))
    assert volume.next_line() == "0.400000"


@pytest.mark.usefixtures("served")
def test_a_jump_is_signalled_as_seeked(
    bus: str, link: Link, follow: Callable[..., Follower]
) -> None:
    link.publish(snapshot(status="Paused"))
    position = follow("position")
    assert position.next_line() == "1.000000"  # where it is when playerctl starts following
    link.publish(snapshot(status="Paused", position=30_000, step=2, jumps=1))
    assert position.next_line() == "30.000000"


def test_a_second_player_takes_an_instance_name(bus: str, link: Link) -> None:
    first = MprisServer(link, address=bus, start_delay_s=0)
    second = MprisServer(link, address=bus, pid=4242, start_delay_s=0)
    try:
        first.start()
        assert first.ready.wait(DEADLINE_S)
        second.start()
        assert second.ready.wait(DEADLINE_S)
        assert first.name == BUS_NAME
        assert second.name == f"{BUS_NAME}.instance4242"
        listed = subprocess.run(
            ["playerctl", "-l"], env=bus_env(bus), capture_output=True, text=True, check=True
        )
        assert sorted(listed.stdout.split()) == ["voiceguide", "voiceguide.instance4242"]
        assert playerctl(bus, "status", player="voiceguide.instance4242") == "Playing"
    finally:
        first.close()
        second.close()


def test_closing_lets_go_of_the_name(bus: str, link: Link) -> None:
    server = MprisServer(link, address=bus, start_delay_s=0)
    server.start()
    assert server.ready.wait(DEADLINE_S)
    assert playerctl(bus, "status") == "Playing"
    server.close()
    listed = subprocess.run(
        ["playerctl", "-l"], env=bus_env(bus), capture_output=True, text=True, check=False
    )
    assert "voiceguide" not in listed.stdout


def refusing_socket(path: Path) -> threading.Thread:
    """A unix socket that accepts a connection and hangs up at once: not a bus."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()

    def refuse() -> None:
        with listener:
            connection, _ = listener.accept()
            connection.close()

    thread = threading.Thread(target=refuse, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("bus_kind", ["no bus there", "a socket that refuses"])
def test_no_bus_is_one_debug_note(
    tmp_path: Path, link: Link, caplog: pytest.LogCaptureFixture, bus_kind: str
) -> None:
    if bus_kind == "no bus there":
        address = f"unix:path={tmp_path / 'nowhere'}"
    else:
        refusing_socket(tmp_path / "refuses")
        address = f"unix:path={tmp_path / 'refuses'}"
    caplog.set_level(logging.DEBUG, logger="voiceguide.remote")
    server = MprisServer(link, address=address, start_delay_s=0)
    server.start()
    assert server.ready.wait(DEADLINE_S)
    server.close()
    assert server.name is None
    notes = [r for r in caplog.records if r.name.startswith("voiceguide.remote")]
    assert len(notes) == 1, [r.getMessage() for r in notes]
    assert notes[0].levelno == logging.DEBUG
    assert notes[0].getMessage().startswith(f"MPRIS is off: cannot connect to {address} (")
    assert "\n" not in notes[0].getMessage()
    link.publish(snapshot(status="Paused"))  # the session goes on as if nothing happened


def test_the_session_bus_is_found_where_clients_look(tmp_path: Path) -> None:
    assert session_bus_address({"DBUS_SESSION_BUS_ADDRESS": "unix:path=/x"}) == "unix:path=/x"
    with pytest.raises(NoSessionBus, match="no session bus"):
        session_bus_address({})
    with pytest.raises(NoSessionBus):
        session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)})  # no bus socket there
    user_bus = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with user_bus:
        user_bus.bind(str(tmp_path / "bus"))  # systemd's user bus, without the variable
        found = session_bus_address({"XDG_RUNTIME_DIR": str(tmp_path)})
    assert found == f"unix:path={tmp_path / 'bus'}"


def test_without_a_bus_address_the_note_says_so(
    monkeypatch: pytest.MonkeyPatch, link: Link, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    caplog.set_level(logging.DEBUG, logger="voiceguide.remote")
    server = MprisServer(link, start_delay_s=0)
    server.start()
    assert server.ready.wait(DEADLINE_S)
    server.close()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("voiceguide.remote")]
    assert messages == ["MPRIS is off: no session bus (DBUS_SESSION_BUS_ADDRESS is not set)"]


def test_without_a_bus_dbus_is_not_even_imported() -> None:
    script = (
        "import sys\n"
        "from voiceguide.remote.link import Link, SessionInfo, Snapshot\n"
        "from voiceguide.remote.server import MprisServer\n"
        "first = Snapshot('Playing', 0, 0.0, False, 100, 0)\n"
        "server = MprisServer(Link(SessionInfo('t', 1000, 1000, ()), first))\n"
        "server.start()\n"
        "assert server.ready.wait(10)\n"
        "server.close()\n"
        "print(sorted(m for m in sys.modules if m.startswith('dbus_fast')))\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR")
    }
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def hanging_socket(path: Path) -> socket.socket:
    """A unix socket that accepts connections and never says a word."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen()
    return listener


def test_closing_does_not_wait_for_a_server_still_connecting(
    tmp_path: Path, link: Link, monkeypatch: pytest.MonkeyPatch
) -> None:
    with hanging_socket(tmp_path / "silent"):
        address = f"unix:path={tmp_path / 'silent'}"
        server = MprisServer(link, address=address, connect_timeout_s=0.2, start_delay_s=0)
        joined: list[object] = []
        monkeypatch.setattr(server._thread, "join", lambda *args: joined.append(args))
        server.start()
        server.close()  # the exit of voiceguide play must not wait on a bus that says nothing
        assert joined == []
        assert server.ready.wait(DEADLINE_S)  # it gives up on its own, and notes it
    assert server.name is None


@pytest.mark.usefixtures("served")
def test_a_volume_that_is_not_a_number_is_refused(bus: str, link: Link) -> None:
    reply = dbus_send(
        bus,
        "org.freedesktop.DBus.Properties.Set",
        "string:org.mpris.MediaPlayer2.Player",
        "string:Volume",
        "variant:double:nan",
    )
    assert reply.returncode != 0
    assert "expected a volume from 0.0 to 1.0, got nan" in reply.stderr
    assert not link.pending()


def test_the_end_is_signalled_before_the_name_goes(
    bus: str, link: Link, follow: Callable[..., Follower]
) -> None:
    server = MprisServer(link, address=bus, start_delay_s=0)
    server.start()
    assert server.ready.wait(DEADLINE_S)
    status = follow("status")
    assert status.next_line() == "Playing"
    link.publish(snapshot(status="Stopped"))
    server.close()  # at once, as voiceguide play does when the session ends
    assert status.next_line() == "Stopped"


def test_what_play_imports_before_the_first_sound_is_light() -> None:
    """asyncio alone costs tens of milliseconds: only the server's thread imports it."""
    script = (
        "import sys\n"
        "import voiceguide.app.playing, voiceguide.remote.bridge, voiceguide.remote.server\n"
        "print(sorted(m for m in ('asyncio', 'dbus_fast') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_a_server_closed_before_it_set_to_work_never_touches_the_bus(
    bus: str, link: Link, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="voiceguide.remote")
    server = MprisServer(link, address=bus, start_delay_s=DEADLINE_S)
    server.start()
    server.close()  # a session over within its first half second
    assert server.ready.wait(DEADLINE_S)
    assert server.name is None
    assert [r for r in caplog.records if r.name.startswith("voiceguide.remote")] == []
    listed = subprocess.run(
        ["playerctl", "-l"], env=bus_env(bus), capture_output=True, text=True, check=False
    )
    assert "voiceguide" not in listed.stdout
