"""The frames between playback and the device: written ahead, taken by the device's thread.

:class:`Ring` is what an :class:`~voiceguide.play.device.Output` reads from, on its own
thread, a block at a time (:meth:`Ring.pull`); playback writes the session into it a second
or two ahead (:meth:`Ring.push`) and can take back what the device has not taken yet
(:meth:`Ring.rewind`), so a pause or a move is heard within one device buffer.

Two things are applied as the device takes each block, so they are heard at once and
change nothing written: the volume (a factor over the level the session was rendered at,
ramped over :data:`RAMP_MS`) and answers mixed over the session (:meth:`Ring.overlay`).
At factor 1 with nothing mixed in, the device gets the written frames untouched: what
export writes.

Positions are frames in the ring's own count (every frame ever written, from 0);
:mod:`voiceguide.play.playback` maps them to samples of the session.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Frames = npt.NDArray[np.int16]

RAMP_MS = 30
"""How long a change of volume takes to be complete (short enough to feel immediate,
long enough not to click)."""
WAIT_FOR_MORE_S = 0.25
"""How long the device's thread waits for frames it was told to expect before playing
silence (on a device with no clock, which takes frames as fast as they come, this keeps
the stream whole; on a real card a late frame is a glitch either way)."""


class Ring:
    """A ring of int16 frames, written by playback, taken by the device, thread-safe."""

    def __init__(self, sample_rate: int, channels: int = 1, capacity_s: float = 8.0) -> None:
        """Hold up to ``capacity_s`` of ``channels``-channel frames at ``sample_rate``."""
        self.sample_rate = sample_rate
        self.channels = channels
        self.capacity = int(capacity_s * sample_rate)
        self._buffer = np.zeros((self.capacity, channels), dtype=np.int16)
        self._changed = threading.Condition()
        self.written = 0
        """Frames written so far (the next frame written gets this number)."""
        self.taken = 0
        """Frames the device has taken."""
        self._idle = 0
        self.latency = 0
        """Frames between being taken and being heard (set by the output)."""
        self.expecting = False
        """Whether playback means to write more soon (the device then waits a moment)."""
        self.first_sound_at: float | None = None
        """``time.monotonic()`` when the device first took a frame that is not silent."""
        self.first_sound_frame: int | None = None
        """That frame, counted in the frames the device asked for (silence it got included)."""
        self.started_at: float | None = None
        """``time.monotonic()`` when the device began to play the first frame it asked for,
        where the output knows it (one that fills the device's buffer before starting it):
        see :meth:`first_heard_at`."""
        self._asked = 0
        self.last_pull_at: float | None = None
        """``time.monotonic()`` of the device's last request for frames."""
        self.underruns = 0
        """Times the device found fewer frames than expected (each is a gap heard)."""
        self.ending = False
        """Whether everything to be played is written (the device may stop once it is taken)."""
        self._drained_at: float | None = None
        self._factor = 1.0
        self._target = 1.0
        self._ramp = max(1, RAMP_MS * sample_rate // 1000)
        self._from = 1.0
        self._ramped = 0
        self._overlays: list[tuple[int, Frames]] = []

    # -- playback's side -------------------------------------------------------------------

    def space(self) -> int:
        """How many frames can be written now."""
        with self._changed:
            return self.capacity - (self.written - self.taken)

    def push(self, frames: Frames) -> None:
        """Write ``frames`` (shape ``(n,)`` or ``(n, channels)``) after what is written."""
        frames = frames.reshape(len(frames), self.channels)
        with self._changed:
            if len(frames) > self.capacity - (self.written - self.taken):
                raise ValueError("the ring is full")
            start = self.written % self.capacity
            first = min(len(frames), self.capacity - start)
            self._buffer[start : start + first] = frames[:first]
            self._buffer[: len(frames) - first] = frames[first:]
            self.written += len(frames)
            self._changed.notify_all()

    def rewind(self, to: int) -> int:
        """Take back what is written after frame ``to`` and not taken yet; return the end."""
        with self._changed:
            self.ending = False
            self._drained_at = None
            self.written = max(self.taken, min(self.written, to))
            self._overlays = [
                (at, clip[: max(0, self.written - at)])
                for at, clip in self._overlays
                if at < self.written
            ]
            return self.written

    def overlay(self, at: int, frames: Frames) -> None:
        """Mix ``frames`` over the ring from frame ``at`` on (not before what is taken)."""
        frames = frames.reshape(len(frames), self.channels)
        with self._changed:
            skip = max(0, self.taken - at)
            if skip < len(frames):
                self._overlays.append((at + skip, frames[skip:]))

    def set_volume(self, factor: float) -> None:
        """Play at ``factor`` times the written level from the next block on, ramped."""
        with self._changed:
            self._from = self._factor
            self._ramped = 0
            self._target = factor

    def heard(self) -> int:
        """The frame being heard now: taken, less what is still in the device's buffer."""
        with self._changed:
            in_device = max(0, self.latency - self._idle)
            if self._drained_at is not None and in_device:
                gone = int((time.monotonic() - self._drained_at) * self.sample_rate)
                in_device = max(0, in_device - gone)  # a device that stopped asking drains
            return max(0, self.taken - in_device)

    def first_heard_at(self) -> float | None:
        """When the first frame that is not silent is heard (``time.monotonic()``), once taken.

        Where the output said when the device started (:attr:`started_at`), the device has
        played one frame after another since, so frame ``n`` of those it asked for is heard
        ``n`` frames after the start: a device whose buffer was filled from the ring before
        it started plays the session's first frame first, at once, not a buffer later.
        Elsewhere a frame is heard :attr:`latency` frames after it was taken (a device
        that started on a buffer of its own silence).
        """
        if self.first_sound_at is None or self.first_sound_frame is None:
            return None
        if self.started_at is None:
            return self.first_sound_at + self.latency / self.sample_rate
        after_start = self.started_at + self.first_sound_frame / self.sample_rate
        return max(self.first_sound_at, after_start)

    @property
    def drained(self) -> bool:
        """Whether the device has taken the last frame of an ending ring."""
        return self._drained_at is not None

    def wait_for_space(self, timeout_s: float) -> None:
        """Wait up to ``timeout_s`` for the device to take frames."""
        with self._changed:
            self._changed.wait(timeout_s)

    # -- the device's side -----------------------------------------------------------------

    def pull(self, out: Frames) -> bool:
        """Fill ``out`` (``(frames, channels)`` int16) with what comes next, silence if nothing.

        Return False once the last frame of an ending ring is taken: the device may stop.
        """
        wanted = len(out)
        with self._changed:
            self.last_pull_at = time.monotonic()
            asked, self._asked = self._asked, self._asked + wanted
            if self.written - self.taken < wanted and self.expecting:
                self._changed.wait_for(
                    lambda: self.written - self.taken >= wanted or not self.expecting,
                    WAIT_FOR_MORE_S,
                )
            count = min(wanted, self.written - self.taken)
            if count < wanted and self.expecting:
                self.underruns += 1
            start = self.taken % self.capacity
            first = min(count, self.capacity - start)
            out[:first] = self._buffer[start : start + first]
            out[first:count] = self._buffer[: count - first]
            out[count:] = 0
            if count:
                self._mix(out[:count])
                if self.first_sound_at is None and out[:count].any():
                    self.first_sound_at = time.monotonic()
                    self.first_sound_frame = asked + int(np.argmax(out[:count].any(axis=1)))
                self._idle = wanted - count
            else:
                self._idle += wanted
            self.taken += count
            if self.ending and self.taken == self.written:
                if self._drained_at is None:
                    self._drained_at = time.monotonic()
                self._changed.notify_all()
                return False
            self._changed.notify_all()
            return True

    def _mix(self, block: Frames) -> None:
        """Apply the volume and the overlays to ``block``, the frames from :attr:`taken` on."""
        target, factor = self._target, self._factor
        begin = self.taken
        end = begin + len(block)
        live = [(at, clip) for at, clip in self._overlays if at < end and at + len(clip) > begin]
        self._overlays = [(at, clip) for at, clip in self._overlays if at + len(clip) > end]
        if factor == target == 1.0 and not live:
            return  # the frames as written: byte for byte what export writes
        mixed = block.astype(np.float32)
        if factor != target:
            steps = np.arange(self._ramped + 1, self._ramped + len(block) + 1, dtype=np.float32)
            share = np.minimum(steps / self._ramp, 1.0)
            mixed *= (self._from + (target - self._from) * share)[:, None]
            self._ramped += len(block)
            share_now = min(1.0, self._ramped / self._ramp)
            reached = self._from + (target - self._from) * share_now
            self._factor = target if share_now >= 1.0 else reached
        elif factor != 1.0:
            mixed *= np.float32(factor)
        for at, clip in live:
            lo, hi = max(at, begin), min(at + len(clip), end)
            mixed[lo - begin : hi - begin] += clip[lo - at : hi - at]
        block[:] = np.clip(np.round(mixed), -32768, 32767).astype(np.int16)
