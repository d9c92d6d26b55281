"""What the play tests share: clips by rule, a clock the test moves, players and keys to script.

Timelines are compiled with lengths by rule at 1000 samples a second (samples are ms), and a
:class:`~voiceguide.play.device.ManualOutput` takes frames only when the test says: what it
took is what would be heard.
"""

from __future__ import annotations

import time
import zlib

import numpy as np
import numpy.typing as npt

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import EngineError
from voiceguide.play.device import ManualOutput
from voiceguide.play.keys import Command
from voiceguide.play.playback import Playback
from voiceguide.play.source import FixedSource
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine
from voiceguide.sound.mix import Mix
from voiceguide.sound.render import render, to_pcm

RATE = 1000
FLAT = Mix(channels=1, loudness_lufs=-16.0)
"""Mono at unit gain: what the play tests render with, so levels are the clips' own."""


class FakeClips(FixedRateLengths):
    """Lengths by rule, and audio to match: each phrase its own constant level.

    Notes in ``events`` each phrase asked for: ``speech TEXT`` (kept), ``once TEXT`` (not).
    """

    def __init__(
        self, *, fail_on: frozenset[str] = frozenset(), events: list[str] | None = None
    ) -> None:
        super().__init__(sample_rate=RATE)
        self.fail_on = fail_on
        self.events = [] if events is None else events
        self.engine = None
        """No engine behind these clips (a player asks for it to get the voice ready)."""

    def speech(self, text: str) -> npt.NDArray[np.float32]:
        self.events.append(f"speech {text}")
        return self._spoken(text)

    def speak_once(self, text: str) -> npt.NDArray[np.float32]:
        self.events.append(f"once {text}")
        return self._spoken(text)

    def _spoken(self, text: str) -> npt.NDArray[np.float32]:
        if text in self.fail_on:
            raise EngineError("no engine here")
        level = 0.05 + (zlib.crc32(text.encode()) % 40) / 100
        return np.full(self.speech_samples(text), level, dtype=np.float32)

    def sound(self, name: str) -> npt.NDArray[np.float32]:
        return np.full(self.sound_samples(name), -0.3, dtype=np.float32)


def timeline_of(case: str, *, intro: bool = False) -> Timeline:
    routine = load_routine(
        DATA / "compile" / f"{case}.yaml",
        resolve=resolve_include,
        shared_points=load_points(DATA / "points.yaml"),
        display=f"{case}.yaml",
    )
    return compile_routine(routine, FakeClips(), CompileOptions(intro="full" if intro else "none"))


def playback(
    case: str = "press-reps",
    *,
    intro: bool = False,
    clips: FakeClips | None = None,
    start: int = 0,
    volume_pct: int = 100,
) -> tuple[Playback, ManualOutput]:
    """A session of ``case`` on an output the test makes take frames (:func:`take`)."""
    timeline = timeline_of(case, intro=intro)
    clips = clips or FakeClips()
    output = ManualOutput()
    source = FixedSource(timeline, clips, FLAT)
    pb = Playback(source, clips, output, start=start, volume_pct=volume_pct)
    return pb, output


def take(pb: Playback, output: ManualOutput, ms: int, *, block_ms: int = 10) -> None:
    """Let ``ms`` of time pass: the loop ticks, the device takes a block at a time."""
    for _ in range(max(1, ms // block_ms)):
        pb.tick()
        if output.ring is not None:
            output.take(block_ms * RATE // 1000)


def play_until_done(
    pb: Playback, output: ManualOutput, *, frames: int, pause_s: float = 0.001,
    timeout_s: float = 120.0,
) -> None:  # fmt: skip
    """Tick, the device taking ``frames`` a turn, until the session ends.

    Bounded by time, not by turns: a busy machine makes the phrases slowly, and a test
    that waits for them must not give up early. Each turn sleeps ``pause_s`` so synthesis
    threads get the interpreter. A session that has not ended after ``timeout_s`` fails
    the test (it hangs).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        pb.tick()
        if output.ring is not None:
            output.take(frames)
        if pb.done:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the session did not end within {timeout_s:.0f} s")
        time.sleep(pause_s)


def heard(output: ManualOutput) -> npt.NDArray[np.int16]:
    """Every frame the device took, mono."""
    if not output.heard:
        return np.zeros(0, dtype=np.int16)
    return np.concatenate(output.heard)[:, 0]


def rendered(pb: Playback, start: int = 0, volume_pct: int = 100) -> npt.NDArray[np.int16]:
    source = pb.source
    assert isinstance(source, FixedSource)
    whole = render(source.timeline(), source.clips, gain=volume_pct / 100, mix=source.mix)
    return whole[start:]


def spoken(text: str, volume_pct: int = 100) -> npt.NDArray[np.int16]:
    """An answer as the device gets it in a :data:`FLAT` session, at the volume."""
    return to_pcm(FakeClips().speech(text) * np.float32(volume_pct / 100))


class ScriptedKeys:
    """Commands at given session positions, each time round the loop taking ``block_ms``."""

    def __init__(
        self,
        pb: Playback,
        output: ManualOutput,
        script: list[tuple[int, Command]],
        block_ms: int = 50,
    ) -> None:
        self.pb, self.output, self.script = pb, output, list(script)
        self.block = block_ms * RATE // 1000
        self.suspended = 0

    def read(self, timeout_s: float) -> list[Command]:
        if self.output.ring is not None:
            self.output.take(self.block)
        if self.script and self.pb.position >= self.script[0][0]:
            return [self.script.pop(0)[1]]
        return []

    def suspend(self) -> None:
        self.suspended += 1


class FakeSounddevice:
    """Stands in for the sounddevice module: a stream that fails to open, or one that works."""

    class PortAudioError(Exception):
        pass

    class CallbackStop(Exception):
        pass

    def __init__(self, fail: bool) -> None:
        self.fail = fail

    def RawOutputStream(self, **kwargs: object) -> object:
        if self.fail:
            raise self.PortAudioError("Error opening OutputStream: Device unavailable [-9985]")
        raise NotImplementedError


def session_frames(pb: Playback, output: ManualOutput) -> npt.NDArray[np.int16]:
    """The session's own frames the device took, in order, without what was inserted.

    Only for a playback that never moved (its spans were never taken back).
    """
    taken = np.concatenate(output.from_ring)
    if taken.shape[1] == 1:
        taken = taken[:, 0]  # mono: as render gives it
    spans = pb.spans
    parts = []
    for i, span in enumerate(spans):
        end = spans[i + 1].frame if i + 1 < len(spans) else len(taken)
        if span.inserted is None:
            parts.append(taken[span.frame : end])
    return np.concatenate(parts) if parts else taken[:0]
