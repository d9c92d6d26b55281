"""The routine, as typed data: what the loader produces and the compiler reads.

Nothing here knows YAML. Every step keeps the :class:`~voiceguide.errors.Position`
it came from so that a late error (a prompt that does not fit) still points at
its line. Durations are whole milliseconds (``*_ms``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from voiceguide.errors import Position
from voiceguide.pcm import ms_to_samples
from voiceguide.prefs import VoicePrefs

Pressure = Literal["gentle", "medium", "firm"]
PRESSURES: tuple[Pressure, ...] = ("gentle", "medium", "firm")


@dataclass(frozen=True)
class Settings:
    """How a routine sounds and paces itself; a command-line option overrides each."""

    prefs: VoicePrefs = field(default_factory=VoicePrefs)
    """What the routine asks of the voice (engine, voice, rate, pitch, volume)."""
    find_ms: int = 5_000
    """Quiet time to find a point after it is described, before the first press."""
    rest_ms: int = 10_000
    """Rest between repetitions of a press when a step does not say."""
    lead_in_ms: int = 5_000
    """Quiet time after the introduction, before the first instruction."""
    tones: bool | None = None
    """Play the press, release, switch, start and end sounds; ``None``: not said (they play)."""
    bed: str | None = None
    """A sound under the session: a built-in bed's name, ``none``, or a file's absolute path."""
    positions: dict[str, Position] = field(default_factory=dict, hash=False, compare=False)
    """Where each setting given was written, by key (``rate``, ``bed``…)."""


@dataclass(frozen=True)
class Point:
    """An acupressure point: what it is called and how to find it by touch."""

    key: str
    name: str
    """How the point is named when spoken: 'the point between your thumb and index finger'."""
    where: str
    """Where it is, in words a listener can follow with eyes closed."""
    position: Position
    find: str | None = None
    """How to find it by touch: landmarks, finger-widths."""
    where_brief: str | None = None
    """Said instead of ``where`` and ``find`` with brief instructions."""
    find_brief: str | None = None
    """Said instead of ``find`` with brief instructions."""
    traditional: str | None = None
    """Its traditional name, said after it is described: 'the Sea of Vitality'."""
    also: tuple[str, ...] = ()
    """Other names, such as a meridian code (documentation only, never spoken)."""
    pressure: Pressure | None = None
    cautions: tuple[str, ...] = ()
    helps: str | None = None
    """What the source text says the point is used for (documentation only, never spoken)."""


@dataclass(frozen=True)
class Bounds:
    """How far fitting a session to a length may take a value: its declared ``min`` and ``max``.

    ``None`` where the routine does not say (the fit's defaults apply: see
    :mod:`voiceguide.compile.fit`).
    """

    low: int | None = None
    high: int | None = None


UNBOUNDED = Bounds()


@dataclass(frozen=True)
class Offset:
    """A moment inside a phase: ``ms`` from its start, or ``percent`` of its length."""

    ms: int | None = None
    percent: int | None = None

    def resolve(self, phase_samples: int, samples_per_second: int) -> int:
        """Return the offset in samples inside a phase of ``phase_samples``."""
        if self.percent is not None:
            return phase_samples * self.percent // 100
        assert self.ms is not None
        return ms_to_samples(self.ms, samples_per_second)


@dataclass(frozen=True)
class Prompt:
    """Something said at a moment inside a hold or an activity."""

    at: Offset
    say: str
    position: Position
    brief: str | None = None


@dataclass(frozen=True)
class Say:
    """Speak an instruction; it takes as long as it takes to say."""

    text: str
    position: Position
    path: str
    title: str | None = None
    brief: str | None = None
    """Said instead of ``text`` with brief instructions."""


@dataclass(frozen=True)
class Pause:
    """Silence for exactly ``duration_ms``."""

    duration_ms: int
    position: Position
    path: str
    title: str | None = None
    bounds: Bounds = UNBOUNDED


@dataclass(frozen=True)
class Sound:
    """Play a named sound (``press``, ``switch``, …) or a sound file."""

    name: str
    position: Position
    path: str
    title: str | None = None


@dataclass(frozen=True)
class Press:
    """Find a point, then press and hold it, ``reps`` times with rests between."""

    point: Point
    hold_ms: int
    position: Position
    path: str
    reps: int = 1
    rest_ms: int = 10_000
    find_ms: int = 5_000
    pressure: Pressure = "firm"
    say: str | None = None
    """Replaces the spoken description of where the point is."""
    prompts: tuple[Prompt, ...] = ()
    countdown: int = 0
    """Soft ticks on the last ``countdown`` seconds of each hold."""
    halfway: bool = False
    """Say 'halfway' in the middle of each hold."""
    title: str | None = None
    say_brief: str | None = None
    hold_bounds: Bounds = UNBOUNDED
    rest_bounds: Bounds = UNBOUNDED
    reps_bounds: Bounds = UNBOUNDED


@dataclass(frozen=True)
class Activity:
    """A timed activity without press and release cues, such as a massage."""

    say: str
    duration_ms: int
    position: Position
    path: str
    done: str = "And stop. Let your hands rest."
    prompts: tuple[Prompt, ...] = ()
    countdown: int = 0
    halfway: bool = False
    title: str | None = None
    say_brief: str | None = None
    done_brief: str | None = None
    bounds: Bounds = UNBOUNDED


@dataclass(frozen=True)
class Sides:
    """Run ``steps`` once per side; ``{side}`` in their text names the side."""

    sides: tuple[str, ...]
    steps: tuple[Step, ...]
    position: Position
    path: str
    title: str | None = None


@dataclass(frozen=True)
class Repeat:
    """Run ``steps`` ``rounds`` times; ``{round}``, ``{rounds}`` and ``{ordinal}`` fill in."""

    rounds: int
    steps: tuple[Step, ...]
    position: Position
    path: str
    title: str | None = None


@dataclass(frozen=True)
class Include:
    """The steps of another routine, in place."""

    routine: Routine
    position: Position
    path: str
    title: str | None = None


Step = Say | Pause | Sound | Press | Activity | Sides | Repeat | Include


@dataclass(frozen=True)
class Routine:
    """A whole routine script, with its includes resolved."""

    name: str
    """The routine's name: its file name without ``.yaml``."""
    title: str
    source: str
    """The file it was loaded from."""
    steps: tuple[Step, ...]
    summary: str | None = None
    posture: str | None = None
    cautions: tuple[str, ...] = ()
    settings: Settings = field(default_factory=Settings)
    points: dict[str, Point] = field(default_factory=dict, hash=False, compare=False)

    def all_cautions(self) -> tuple[str, ...]:
        """Cautions of this routine, the points it presses and what it includes, once each."""
        seen: dict[str, None] = dict.fromkeys(self.cautions)

        def walk(steps: tuple[Step, ...]) -> None:
            for step in steps:
                if isinstance(step, Press):
                    seen.update(dict.fromkeys(step.point.cautions))
                elif isinstance(step, Include):
                    seen.update(dict.fromkeys(step.routine.all_cautions()))
                elif isinstance(step, Sides | Repeat):
                    walk(step.steps)

        walk(self.steps)
        return tuple(seen)

    def included(self) -> tuple[Routine, ...]:
        """Every routine this one includes, at any depth, in order."""
        found: list[Routine] = []

        def walk(steps: tuple[Step, ...]) -> None:
            for step in steps:
                if isinstance(step, Include):
                    found.append(step.routine)
                    walk(step.routine.steps)
                elif isinstance(step, Sides | Repeat):
                    walk(step.steps)

        walk(self.steps)
        return tuple(found)
