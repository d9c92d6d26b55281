"""What the play tests share: clips by rule, a clock the test moves, players and keys to script.

Timelines are compiled with lengths by rule at 1000 samples a second (samples are ms), and a
:class:`~voiceguide.play.player.NullPlayer` on a clock the test moves records what would be heard.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import numpy.typing as npt

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import EngineError
from voiceguide.play.keys import Command
from voiceguide.play.playback import Playback
from voiceguide.play.player import NullPlayer
from voiceguide.play.runs import RUN_LIMIT_MS
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine
from voiceguide.sound.render import render, to_pcm

RATE = 1000


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


class Clock:
    """Time that passes only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms / RATE


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
    run_limit_ms: int = RUN_LIMIT_MS,
) -> tuple[Playback, NullPlayer, Clock]:
    """A session of ``case`` on a NullPlayer that records, on a clock the test moves."""
    clock = Clock()
    player = NullPlayer(RATE, clock=clock, record=True)
    timeline = timeline_of(case, intro=intro)
    clips = clips or FakeClips()
    pb = Playback(timeline, clips, player, start=start, run_limit_ms=run_limit_ms)
    return pb, player, clock


def rendered(pb: Playback, start: int = 0, volume_pct: int = 100) -> npt.NDArray[np.int16]:
    whole = render(pb.timeline, pb.clips, gain=volume_pct / 100)
    return whole[start:]


def spoken(text: str, volume_pct: int = 100) -> npt.NDArray[np.int16]:
    """An answer as the device gets it: in both ears, each at -3 dB (centred), at the volume."""
    centre = np.float32(volume_pct / 100) * np.float32(math.cos(math.pi / 4))
    clip = FakeClips().speech(text)
    return to_pcm(np.stack([clip * centre, clip * centre], axis=1))


class LoggingPlayer:
    """A player that notes in ``events`` each ``play`` and ``stop`` playback asks of it."""

    def __init__(self, inner: NullPlayer, events: list[str]) -> None:
        self.inner, self.events = inner, events

    @property
    def sample_rate(self) -> int:
        return self.inner.sample_rate

    def play(self, samples: npt.NDArray[np.int16]) -> None:
        self.events.append("play")
        self.inner.play(samples)

    def played(self) -> int:
        return self.inner.played()

    def is_playing(self) -> bool:
        return self.inner.is_playing()

    def stop(self) -> None:
        self.events.append("stop")
        self.inner.stop()

    def close(self) -> None:
        self.inner.close()


class ScriptedKeys:
    """Commands at given session positions; records suspends."""

    def __init__(self, pb: Playback, clock: Clock, script: list[tuple[int, Command]]) -> None:
        self.pb, self.clock, self.script = pb, clock, list(script)
        self.suspended = 0

    def read(self, timeout_s: float) -> list[Command]:
        self.clock.advance(int(timeout_s * RATE) or 1)
        if self.script and self.pb.position >= self.script[0][0]:
            return [self.script.pop(0)[1]]
        return []

    def suspend(self) -> None:
        self.suspended += 1


class FakeSimpleaudio:
    """Stands in for the simpleaudio module."""

    class SimpleaudioError(Exception):
        pass

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.buffers: list[object] = []

    def play_buffer(self, data: object, channels: int, width: int, rate: int) -> object:
        if self.fail:
            raise self.SimpleaudioError(
                "Error opening PCM device. -- CODE: -2 -- MSG: No such file or directory"
            )
        self.buffers.append(data)

        class Play:
            stopped = False

            def is_playing(self) -> bool:
                return not self.stopped

            def stop(self) -> None:
                self.stopped = True

        return Play()
