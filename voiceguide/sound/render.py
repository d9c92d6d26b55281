"""The one renderer: a timeline and its clips in, 16-bit PCM out, every cue to the sample.

Export writes what it yields to files; play hands the very same blocks to the
speaker. It renders in blocks so a two-hour session never sits in memory whole.
The mix (:mod:`voiceguide.sound.mix`) says how many channels, where each cue sits
between the ears, and which bed lies under it; every block depends only on where it is
in the session, so any block can be rendered alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from voiceguide.errors import AudioError
from voiceguide.pcm import to_pcm

if TYPE_CHECKING:
    import numpy.typing as npt

    from voiceguide.compile.timeline import Cue, Timeline
    from voiceguide.sound.clips import ClipSource, FloatArray
    from voiceguide.sound.mix import Mix, MixPlan

__all__ = ["BLOCK_SAMPLES", "render", "render_blocks", "to_pcm"]  # to_pcm: from pcm

BLOCK_SAMPLES = 1 << 16
"""About three seconds at 22,050 Hz: small enough to start playing at once."""


def _clip(cue: Cue, clips: ClipSource) -> FloatArray:
    clip = clips.speech(cue.text) if cue.kind == "speech" else clips.sound(cue.text)
    if len(clip) != cue.duration:
        # Lengths were measured from these very clips; a difference means a sound file
        # changed between compiling and rendering.
        raise AudioError(
            f"the {cue.kind} {cue.text!r} is {len(clip)} samples long, "
            f"but the timeline made room for {cue.duration}; compile again"
        )
    return clip


def render_blocks(
    timeline: Timeline,
    clips: ClipSource,
    *,
    gain: float = 1.0,
    start: int = 0,
    end: int | None = None,
    block_samples: int = BLOCK_SAMPLES,
    mix: Mix | None = None,
    plan: MixPlan | None = None,
) -> Iterator[npt.NDArray[np.int16]]:
    """Yield the session from ``start`` to ``end`` (samples) as int16 blocks.

    Stereo blocks have the shape ``(n, 2)`` (left, right), mono ones ``(n,)``. ``mix``
    defaults to stereo without a bed; ``plan``, that mix planned for ``timeline`` once
    (a stream renders many stretches of one timeline), replaces ``mix``.
    """
    from voiceguide.sound.mix import STEREO, MixPlan

    plan = plan if plan is not None else MixPlan(timeline, mix or STEREO)
    end = timeline.total if end is None else min(end, timeline.total)
    cues = timeline.cues
    index = timeline.index_at(start) if cues else 0
    position = start
    while position < end:
        stop = min(position + block_samples, end)
        block = plan.empty(stop - position)
        while index < len(cues) and cues[index].end <= position:
            index += 1
        i = index
        while i < len(cues) and cues[i].start < stop:
            cue = cues[i]
            if cue.kind != "silence":
                clip = _clip(cue, clips)
                lo = max(cue.start, position)
                hi = min(cue.end, stop)
                segment = clip[lo - cue.start : hi - cue.start]
                plan.place(block, lo - position, i, cue, segment, lo - cue.start)
            i += 1
        yield to_pcm(plan.finish(block, position, gain))
        position = stop


def render(
    timeline: Timeline, clips: ClipSource, *, gain: float = 1.0, mix: Mix | None = None
) -> npt.NDArray[np.int16]:
    """Return the whole session as one int16 array (for short sessions and tests)."""
    blocks = list(render_blocks(timeline, clips, gain=gain, mix=mix))
    if blocks:
        return np.concatenate(blocks)
    channels = mix.channels if mix is not None else 2
    return np.zeros((0,) if channels == 1 else (0, channels), dtype=np.int16)
