"""Where each cue sits between the ears: the cues of a side lean toward that side's ear.

Pure: a timeline in, a pan for every cue out. A side is heard on the left when its name
says ``left`` as a word ("left", "left foot", "the left arm"), on the right when it says
``right``; any other side ("front", "the side that hurts more"), and every cue outside a
``sides`` block, stays in the centre. The switch sound between two sides moves from the
side that ended to the side that begins, across its length.

Panning is constant-power: the left and right gains of a position satisfy
``left**2 + right**2 == 1``. BS.1770 measures stereo as the sum of the channels' weighted
energies, so a clip measures the same wherever it is panned, and the stereo program
measures what the mono one did (see :mod:`voiceguide.sound.mix`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Cue, Timeline
    from voiceguide.sound.clips import FloatArray

Ear = Literal["left", "right"]

LEAN_DB = 6.0
"""How much quieter a leaning cue is in the far ear than in the near one: a clear lean, not
a hard pan (a cue only in one ear is uncomfortable, and lost to a one-sided hearing loss)."""

_LEFT = re.compile(r"\bleft\b", re.IGNORECASE)
_RIGHT = re.compile(r"\bright\b", re.IGNORECASE)

_CENTRE = math.pi / 4
_LEAN = math.atan(10.0 ** (LEAN_DB / 20.0)) - _CENTRE
"""The angle from the centre that puts the far ear :data:`LEAN_DB` under the near one."""


def ear_of(side: str | None) -> Ear | None:
    """Return the ear a side's name points to (``None``: no side, or neither or both)."""
    if side is None:
        return None
    left, right = bool(_LEFT.search(side)), bool(_RIGHT.search(side))
    if left == right:
        return None
    return "left" if left else "right"


def position_of(ear: Ear | None) -> float:
    """Return the pan position of an ear: -1 leaning left, 0 centre, 1 leaning right."""
    return {None: 0.0, "left": -1.0, "right": 1.0}[ear]


def gains(position: float) -> tuple[float, float]:
    """Return the (left, right) gains of ``position`` (-1 to 1): constant power."""
    angle = _CENTRE + position * _LEAN
    return math.cos(angle), math.sin(angle)


@dataclass(frozen=True)
class Pan:
    """Where a cue is heard: at ``start`` when it begins, at ``end`` when it ends."""

    start: float = 0.0
    end: float = 0.0

    @property
    def moves(self) -> bool:
        """Whether the cue travels from one place to another."""
        return self.start != self.end


CENTRE = Pan()


def sweep(where: Pan, length: int) -> FloatArray:
    """Return the (left, right) gains of each sample of a moving cue, shape ``(length, 2)``.

    The position eases in and out (a smoothstep), so the sound glides off and settles.
    """
    import numpy as np

    t = (np.arange(length, dtype=np.float64) + 0.5) / max(1, length)
    eased = t * t * (3.0 - 2.0 * t)
    angle = _CENTRE + (where.start + (where.end - where.start) * eased) * _LEAN
    return np.stack([np.cos(angle), np.sin(angle)], axis=1).astype(np.float32)


def pans(timeline: Timeline) -> tuple[Pan, ...]:
    """Return the pan of every cue of ``timeline``, in order.

    A cue of a side leans to its ear. A switch sound goes from the ear of the side before
    it (the last cue with a side) to the ear of its own side.
    """
    out: list[Pan] = []
    before: Ear | None = None
    for cue in timeline.cues:
        ear = ear_of(cue.side)
        here = position_of(ear)
        if _is_switch(cue):
            out.append(Pan(position_of(before), here))
        else:
            out.append(Pan(here, here))
        if cue.side is not None:
            before = ear
    return tuple(out)


def _is_switch(cue: Cue) -> bool:
    return cue.kind == "tone" and cue.phase == "switch"
