"""What playback hands the device: the session cut into long *runs*, each rendered whole.

The samples are the ones export writes: :func:`voiceguide.sound.render.render_blocks`, at the
session's gain. simpleaudio opens the device for each buffer and closes it when the buffer
ends, so back-to-back buffers always leave a gap (drain, close, open: tens of milliseconds),
and short chunks would add one every few seconds. So a run goes from where playing starts to
the end of the session, rendered before it is handed over (the renderer makes about a minute
of audio per millisecond and a half), and a new run starts only when a control asks for one
(pause, a move, volume). A session longer than :data:`RUN_LIMIT_MS` (memory: 5.3 MB a minute
in stereo) is split into runs at the breath after an instruction, where a few milliseconds
more silence go unheard; the next run is rendered before the current one ends.

This is the one place that decides which samples of the session the device gets, and when
they are rendered: rendering while playing would start here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.play.player import Int16Array
    from voiceguide.sound.clips import ClipSource
    from voiceguide.sound.mix import Mix

RUN_LIMIT_MS = 30 * 60_000
"""The longest buffer handed to the device at once (30 minutes: 159 MB in stereo)."""
SPLIT_WINDOW_MS = 5 * 60_000
"""A long session is split at the last breath within this much before the limit."""
PREPARE_AHEAD_MS = 20_000
"""Render the next run when the current one has this much left."""
_BREATH_PHASES = frozenset({"intro", "instruction", "find", "release"})


def split_point(timeline: Timeline, start: int, limit: int, window: int) -> int:
    """Where a run from ``start`` ends: the session's end, or a breath before ``start + limit``."""
    end = start + limit
    if end >= timeline.total:
        return timeline.total
    cues = timeline.cues
    best = None
    for i in range(max(1, timeline.index_at(end - window)), len(cues)):
        cue, before = cues[i], cues[i - 1]
        if cue.start > end:
            break
        if (
            cue.kind == "silence"
            and before.kind == "speech"
            and before.phase in _BREATH_PHASES
            and end - window <= cue.start
        ):
            best = cue.start
    return best if best is not None and best > start else end


@dataclass(frozen=True)
class Run:
    """Samples ``start`` to ``end`` of the session, rendered for the device at ``gain``."""

    start: int
    end: int
    gain: float
    samples: Int16Array


class Runs:
    """Render the runs of one session, and the next one ahead of time."""

    def __init__(
        self,
        timeline: Timeline,
        clips: ClipSource,
        *,
        run_limit_ms: int = RUN_LIMIT_MS,
        mix: Mix | None = None,
    ) -> None:
        """Cut ``timeline`` into runs of at most ``run_limit_ms`` (at least a second)."""
        self.timeline = timeline
        self.clips = clips
        self.mix = mix
        rate = timeline.sample_rate
        self._limit = max(rate, run_limit_ms * rate // 1000)
        self._window = min(self._limit // 2, SPLIT_WINDOW_MS * rate // 1000)
        self._ahead = PREPARE_AHEAD_MS * rate // 1000
        self._next: Run | None = None

    def run_from(self, start: int, gain: float) -> Run:
        """The run from ``start``: the one made ready ahead if it fits, else a new one."""
        prepared, self._next = self._next, None
        if prepared is not None and (prepared.start, prepared.gain) == (start, gain):
            return prepared
        return self._render(start, gain)

    def next_due(self, run: Run, position: int) -> bool:
        """Whether the run after ``run`` is needed soon (``position`` is where playing is)."""
        return run.end < self.timeline.total and run.end - position <= self._ahead

    def prepare_next(self, run: Run, position: int, gain: float) -> None:
        """Render the run after ``run`` if it is due and not ready yet."""
        if self._next is None and self.next_due(run, position):
            self._next = self._render(run.end, gain)

    def forget(self) -> None:
        """Drop the run made ready ahead (a control changed where or how loud)."""
        self._next = None

    def _render(self, start: int, gain: float) -> Run:
        import numpy as np

        from voiceguide.sound.render import render_blocks

        end = split_point(self.timeline, start, self._limit, self._window)
        channels = 2 if self.mix is None else self.mix.channels
        out = np.empty((end - start,) if channels == 1 else (end - start, channels), np.int16)
        filled = 0
        blocks = render_blocks(
            self.timeline, self.clips, gain=gain, start=start, end=end, mix=self.mix
        )
        for block in blocks:
            out[filled : filled + len(block)] = block
            filled += len(block)
        return Run(start, end, gain, out)
