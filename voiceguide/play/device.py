"""The audio device behind one small interface: it takes frames from a ring, on its own thread.

Only this module knows a device. :class:`PortaudioOutput` plays through PortAudio
(``sounddevice``; ALSA's default device on Linux): PortAudio's thread asks for a block
whenever the device needs one, so how far the device has really got is known (a block
taken is a block on its way to the speaker, :attr:`Ring.latency` frames from being
heard; the first blocks fill the device's buffer before it starts, so the session's
first frame is heard as it starts: :meth:`Ring.first_heard_at`), the session cannot
drift from the device's clock, and a device that stops taking sound is noticed
(:meth:`Output.stalled_s`). :class:`ClockOutput` takes frames on a thread at the
real-time rate (or ``speed`` times it) and plays nothing: ``--dry-run``.
:class:`ManualOutput` takes frames only when a test says so.

Why not simpleaudio, the first choice (measured through a FIFO read at 44,100 bytes/s,
the clocked sink of ``tests/test_play_alsa.py``): it plays one buffer and cannot say how
far it got, so its position is the wall clock; with the reader stopped, that position ran
on (4.0 s against 2.0 s heard after 2 s of stall) and ``stop()`` had not returned 3 s
later. PortAudio's frames taken followed the bytes read within 0.1 s over the same run,
and its callbacks stop the moment the device stalls.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Protocol

from voiceguide.errors import AudioDeviceError
from voiceguide.play.player import silence_alsa_errors

if TYPE_CHECKING:
    from voiceguide.play.ring import Ring

LATENCY_S = 0.1
"""The device buffer asked of PortAudio: a busy machine must not make it run dry."""


class Output(Protocol):
    """A device that takes frames from a :class:`~voiceguide.play.ring.Ring` on its thread."""

    def start(self, ring: Ring) -> None:
        """Open the device and start taking frames from ``ring``; raise AudioDeviceError."""
        ...

    def stalled_s(self) -> float:
        """For how long the device has not asked for frames (0 when not started)."""
        ...

    def close(self) -> None:
        """Stop at once and let go of the device (not if it is stuck: see DeviceStalledError)."""
        ...


def _reshape(ring: Ring, raw: Any, frames: int) -> Any:
    import numpy as np

    return np.frombuffer(raw, dtype=np.int16).reshape(frames, ring.channels)


class PortaudioOutput:
    """Play through PortAudio's default output device."""

    def __init__(self, *, latency_s: float = LATENCY_S, quiet_alsa: bool = True) -> None:
        """Ask for a ``latency_s`` device buffer; ``quiet_alsa=False`` lets libasound talk."""
        self._latency_s = latency_s
        self._quiet = quiet_alsa
        self._stream: Any = None
        self._ring: Ring | None = None

    def start(self, ring: Ring) -> None:
        """Open the default device for ``ring``'s rate and channels and start it."""
        if self._quiet:
            silence_alsa_errors()
        sd = _sounddevice()

        def callback(raw: Any, frames: int, _time: Any, _status: Any) -> None:
            if not ring.pull(_reshape(ring, raw, frames)):
                raise sd.CallbackStop  # the end: PortAudio plays out what it holds, then stops

        try:
            stream = sd.RawOutputStream(
                samplerate=ring.sample_rate,
                channels=ring.channels,
                dtype="int16",
                callback=callback,
                latency=self._latency_s,
                prime_output_buffers_using_stream_callback=True,
            )
            ring.latency = int(stream.latency * ring.sample_rate)
            # Primed: PortAudio fills the device's buffer from the ring, then starts the
            # device and returns; its first frame is heard from now on, not a buffer later.
            stream.start()
            ring.started_at = time.monotonic()
        except sd.PortAudioError as error:
            raise AudioDeviceError(f"no audio device could be opened ({error})") from None
        self._stream, self._ring = stream, ring

    def stalled_s(self) -> float:
        """Seconds since PortAudio last asked for frames."""
        ring = self._ring
        if ring is None or ring.last_pull_at is None:
            return 0.0
        return time.monotonic() - ring.last_pull_at

    def close(self) -> None:
        """Abort the stream (drops what the device holds) and close it."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.abort()
            stream.close()


def _sounddevice() -> Any:
    """Import sounddevice, or say what is missing."""
    try:
        import sounddevice
    except (ImportError, OSError) as error:  # OSError: the PortAudio library is missing
        raise AudioDeviceError(
            f"cannot play sound: PortAudio is not available ({error}); "
            "install the system package libportaudio2"
        ) from None
    return sounddevice


class SimpleaudioOutput:
    """The fallback where PortAudio is missing: simpleaudio playing one buffer we write into.

    simpleaudio's ``play_buffer`` does not copy its buffer: its thread writes our memory to
    the device ~0.1 s at a time. So it is handed one anonymous memory map (untouched pages
    cost nothing), and a thread of ours takes frames from the ring into it
    :data:`WRITE_AHEAD_S` ahead of the wall clock, and gives the pages well behind back to
    the system (``MADV_DONTNEED``), so memory stays flat. What it cannot do (see the
    module's note): know the device's real progress, so its position is the wall clock. A
    device that stops taking sound is still noticed (:meth:`stalled_s`): simpleaudio's
    thread, blocked on it, is no longer scheduled.
    """

    WRITE_AHEAD_S = 0.4
    FREE_BEHIND_S = 30.0
    """Pages this far behind the wall clock are given back: a device that started late or
    lagged a moment must still find its frames."""
    MAX_MAP_BYTES = (2**31 - 1) // 4096 * 4096
    """simpleaudio keeps the buffer's length in bytes in a C ``int``: a longer buffer wraps
    negative and it plays nothing at all (a 7-hour stereo map did). At 22,050 Hz this is
    6 h 45 min of wall clock in stereo, twice that in mono."""

    def __init__(self) -> None:
        self._thread: Any = None
        self._stop = False
        self._play: Any = None
        self._map: Any = None
        self._ring: Ring | None = None
        self._alive: _ThreadProgress | None = None
        self._exhausted_at: float | None = None

    @classmethod
    def check(cls) -> None:
        """Raise :class:`AudioDeviceError` unless simpleaudio imports."""
        try:
            import simpleaudio  # noqa: F401
        except ImportError as error:
            raise AudioDeviceError(
                f"cannot play sound: no PortAudio, no simpleaudio ({error})"
            ) from None

    def start(self, ring: Ring) -> None:
        """Hand simpleaudio the memory map and start writing ahead of its playhead."""
        import mmap
        import threading

        import numpy as np
        import simpleaudio

        from voiceguide.play.player import describe_simpleaudio_error
        from voiceguide.script.spec import MAX_SESSION_MS

        frame_bytes = 2 * ring.channels
        block = 1024
        wanted = (MAX_SESSION_MS // 1000 + 3600) * ring.sample_rate
        frames = min(wanted, self.MAX_MAP_BYTES // frame_bytes) // block * block
        self._map = mmap.mmap(-1, frames * frame_bytes)
        view = np.frombuffer(self._map, dtype=np.int16).reshape(frames, ring.channels)
        ahead = int(self.WRITE_AHEAD_S * ring.sample_rate)
        page = mmap.PAGESIZE
        state = {"written": 0, "end": -1}

        def write_up_to(limit: int) -> None:
            while state["end"] < 0 and state["written"] < min(frames, limit):
                at = state["written"]
                if not ring.pull(view[at : at + block]):
                    state["end"] = at + block
                state["written"] = at + block

        write_up_to(ahead)  # before simpleaudio reads its first frame
        before = _task_ids()
        try:
            play = simpleaudio.play_buffer(self._map, ring.channels, 2, ring.sample_rate)
        except simpleaudio.SimpleaudioError as error:
            reason = describe_simpleaudio_error(error)
            raise AudioDeviceError(f"no audio device could be opened ({reason})") from None
        self._alive = _ThreadProgress.of_new_thread(before)
        self._play = play
        self._ring = ring
        started = ring.started_at = time.monotonic()  # the map plays from its first frame
        drain = int(0.5 * ring.sample_rate)  # simpleaudio's own buffer, and then some
        ring.latency = ahead  # taken this far ahead of the wall clock
        keep = int(self.FREE_BEHIND_S * ring.sample_rate)

        def run() -> None:
            freed = 0
            while not self._stop:
                playhead = int((time.monotonic() - started) * ring.sample_rate)
                write_up_to(playhead + ahead)
                behind = (max(0, playhead - keep) * frame_bytes) // page * page
                if behind > freed:
                    self._map.madvise(mmap.MADV_DONTNEED, freed, behind - freed)
                    freed = behind
                if state["end"] >= 0 and playhead >= state["end"] + drain:
                    break
                if state["end"] < 0 and state["written"] >= frames and playhead >= frames:
                    # The map is played out and the session goes on: say the device stopped.
                    self._exhausted_at = self._exhausted_at or time.monotonic()
                time.sleep(0.02)
            play.stop()

        self._thread = threading.Thread(target=run, name="voiceguide-simpleaudio", daemon=True)
        self._thread.start()

    def stalled_s(self) -> float:
        """Seconds since simpleaudio's thread last ran (0 where that cannot be known)."""
        if self._exhausted_at is not None:
            return time.monotonic() - self._exhausted_at
        return self._alive.still_s() if self._alive is not None else 0.0

    def close(self) -> None:
        """Stop simpleaudio: at once, or at the session's end once it has played out."""
        ring = self._ring
        if self._thread is not None and ring is not None and ring.drained:
            self._thread.join(self.WRITE_AHEAD_S + 1.0)  # the last frames still play
        self._stop = True
        if self._thread is not None:
            self._thread.join(2.0)
        if self._play is not None:
            self._play.stop()


def _task_ids() -> set[int]:
    """The ids of this process's threads (Linux; empty elsewhere)."""
    import os

    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


class _ThreadProgress:
    """Whether a native thread still runs: its count of context switches moves.

    simpleaudio's thread blocks on the device a buffer (0.1 s) at a time, so while the
    device takes sound it is woken many times a second; blocked on a device that stopped
    taking sound, it is never woken. Linux only (``/proc``); elsewhere, never stalled.
    """

    def __init__(self, tid: int) -> None:
        self._path = f"/proc/self/task/{tid}/status"
        self._count = -1
        self._since = time.monotonic()

    @classmethod
    def of_new_thread(cls, before: set[int]) -> _ThreadProgress | None:
        """The one thread started since ``before`` was listed that is not Python's, if one."""
        import threading

        ours = {thread.native_id for thread in threading.enumerate()}
        new = _task_ids() - before - ours
        return cls(new.pop()) if len(new) == 1 else None

    def still_s(self) -> float:
        """Seconds since the thread last ran (0 once it has ended: it played to the end)."""
        try:
            with open(self._path, encoding="ascii") as status:
                count = sum(int(line.split()[1]) for line in status if "ctxt_switches" in line)
        except (OSError, ValueError, IndexError):
            return 0.0
        now = time.monotonic()
        if count != self._count:
            self._count, self._since = count, now
        return now - self._since


def default_output() -> Output:
    """PortAudio where it is installed, else simpleaudio."""
    try:
        _sounddevice()
    except AudioDeviceError:
        return SimpleaudioOutput()
    return PortaudioOutput()


def check_output() -> None:
    """Raise :class:`AudioDeviceError` unless a device opens and something can play to it."""
    from voiceguide.play.player import probe_alsa

    silence_alsa_errors()
    problem = probe_alsa()
    if problem is not None:
        raise AudioDeviceError(f"no audio device could be opened (ALSA: {problem})")
    try:
        _sounddevice()
    except AudioDeviceError:
        SimpleaudioOutput.check()


class ClockOutput:
    """Take frames at ``speed`` times the real-time rate and play nothing (``--dry-run``)."""

    def __init__(self, *, speed: float = 1.0, block_frames: int = 1024) -> None:
        """Pretend to play, ``speed`` times faster than real time."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._speed = speed
        self._block = block_frames
        self._ring: Ring | None = None
        self._thread: Any = None
        self._stop = False

    def start(self, ring: Ring) -> None:
        """Start taking frames on a thread."""
        import threading

        import numpy as np

        self._ring = ring
        out = np.zeros((self._block, ring.channels), dtype=np.int16)
        period = self._block / ring.sample_rate / self._speed

        def run() -> None:
            due = time.monotonic()
            while not self._stop:
                if not ring.pull(out):
                    break
                due += period
                time.sleep(max(0.0, due - time.monotonic()))

        self._thread = threading.Thread(target=run, name="voiceguide-clock", daemon=True)
        self._thread.start()

    def stalled_s(self) -> float:
        """Never stalls."""
        return 0.0

    def close(self) -> None:
        """Stop taking frames."""
        self._stop = True
        if self._thread is not None:
            self._thread.join()


class ManualOutput:
    """Take frames only when a test calls :meth:`take`; ``stalled`` is what a test sets."""

    def __init__(self) -> None:
        self.ring: Ring | None = None
        self.heard: list[Any] = []
        """Every block taken, in order (with the silence a device plays when there is none)."""
        self.from_ring: list[Any] = []
        """Only the frames taken from the ring, in order (ring frame 0 on)."""
        self.stalled = 0.0
        self.closed = False

    def start(self, ring: Ring) -> None:
        """Be ready to take frames from ``ring``."""
        self.ring = ring

    def take(self, frames: int) -> Any:
        """Take ``frames`` frames, as a device would; return them."""
        import numpy as np

        assert self.ring is not None, "not started"
        out = np.zeros((frames, self.ring.channels), dtype=np.int16)
        expecting, self.ring.expecting = self.ring.expecting, False  # never wait in a test
        before = self.ring.taken
        self.ring.pull(out)
        self.ring.expecting = expecting
        self.heard.append(out)
        self.from_ring.append(out[: self.ring.taken - before].copy())
        return out

    def stalled_s(self) -> float:
        """What the test set."""
        return self.stalled

    def close(self) -> None:
        """Note it was closed."""
        self.closed = True
