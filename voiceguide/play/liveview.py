"""What a sighted helper sees while a session plays.

On a terminal, :class:`TerminalView` keeps one block of lines redrawn in place: the step, what
is being said, phase, side, round and press, time left in the phase and the session, a
progress bar, the volume and the keys. Elsewhere (a pipe, a file, ``--dry-run``),
:class:`LineView` prints one plain line per cue as it starts, and a line for each thing the
controls say. Both read the position from :class:`~voiceguide.play.playback.Status`.
"""

from __future__ import annotations

import bisect
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from voiceguide.play.keys import key_help_line
from voiceguide.play.navigation import TIMED_PHASES, Step, phase_end, step_at, steps_of
from voiceguide.script.durations import format_clock

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Cue, Timeline
    from voiceguide.play.playback import Status

REDRAW_S = 0.2
"""The block is redrawn at most this often unless something changed."""
BAR_WIDTH = 30

_HIDE_CURSOR = "\x1b[?25l"
_SHOW_CURSOR = "\x1b[?25h"
_CLEAR_LINE = "\x1b[2K"


def _seconds_clock(samples: int, sample_rate: int) -> str:
    """``M:SS`` or ``H:MM:SS``: the whole seconds in ``samples``."""
    return format_clock(max(0, samples) // sample_rate * 1000).rsplit(".", 1)[0]


def describe_cue(cue: Cue) -> str:
    """How a cue reads in a list: its words, or ``[press sound]``."""
    if cue.kind == "speech":
        return cue.text
    return f"[{Path(cue.text).stem} sound]"


class TerminalView:
    """One block of lines on a terminal, redrawn in place."""

    def __init__(
        self,
        stream: TextIO,
        timeline: Timeline,
        steps: list[Step],
        *,
        show_keys: bool = True,
        width: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Draw on ``stream`` (a terminal); ``show_keys`` adds a line with the keys."""
        self.stream = stream
        self.timeline = timeline
        self.steps = steps
        self.show_keys = show_keys
        self._width = width or (lambda: shutil.get_terminal_size((80, 24)).columns)
        self._clock = clock
        self._drawn = 0
        self._last: tuple[object, ...] | None = None
        self._last_time = 0.0

    def started(self, position: int) -> None:
        """Nothing to do: the next update shows the new place."""

    def laid_out(self, timeline: Timeline) -> None:
        """Show the session as far as it is laid out now."""
        self.timeline, self.steps = timeline, steps_of(timeline)

    def said(self, text: str, position: int) -> None:
        """Nothing to do: the status carries what is said."""

    def update(self, status: Status) -> None:
        """Redraw if anything shown changed, or every :data:`REDRAW_S`."""
        lines = self.lines(status)
        now = self._clock()
        key = (tuple(lines), self._width())
        if key == self._last and now - self._last_time < REDRAW_S:
            return
        self._last, self._last_time = key, now
        self._draw(lines)

    def close(self) -> None:
        """Leave the block on screen, move below it and show the cursor again.

        The next update (after Ctrl-Z and ``fg``, say) draws a new block below.
        """
        if self._drawn:
            self.stream.write("\n" + _SHOW_CURSOR)
            self.stream.flush()
            self._drawn = 0
            self._last = None

    def lines(self, status: Status) -> list[str]:
        """The block for ``status``, without escape codes."""
        timeline = self.timeline
        rate = timeline.sample_rate
        position = min(status.position, timeline.total)
        cues = timeline.cues
        index = timeline.index_at(position) if cues else 0
        cue = cues[index] if cues else None
        head = timeline.title
        if self.steps:
            step = self.steps[step_at(self.steps, position)]
            last = self.steps[-1].number
            place = f"Step {step.number} of {last}: {step.title}" if step.number else "Introduction"
            head += f"  |  {place}"
        if status.saying:
            now = f'Saying: "{status.saying}"'
        else:
            state = {
                "paused": "Paused",
                "waiting": "Waiting",
                "finished": "Finished",
                "quit": "Stopped",
            }.get(status.mode, "Playing")
            speech = self._last_speech(position)
            now = f"{state:<8}  " + (f'"{speech.text}"' if speech is not None else "")
        where: list[str] = []
        if cue is not None:
            where.append(cue.phase)
            if cue.side:
                where.append(f"{cue.side} side")
            if cue.round:
                where.append(f"round {cue.round}")
            if cue.rep and cue.reps and cue.reps > 1:
                where.append(f"press {cue.rep} of {cue.reps}")
            if cue.phase in TIMED_PHASES:
                left = _seconds_clock(phase_end(timeline, index) - position + rate - 1, rate)
                where.append(f"{left} left in this {cue.phase}")  # rounded up, as countdowns are
        total = timeline.total
        filled = BAR_WIDTH * position // total if total else BAR_WIDTH
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        progress = (
            f"[{bar}] {_seconds_clock(position, rate)} / {_seconds_clock(total, rate)}"
            f"   {_seconds_clock(total - position, rate)} left   volume {status.volume_pct}%"
        )
        lines = [head, now, "  ".join(where) if where else "", progress]
        if self.show_keys:
            lines.append(key_help_line())
        return lines

    def _last_speech(self, position: int) -> Cue | None:
        cues = self.timeline.cues
        i = self.timeline.index_at(position) if cues else -1
        while i >= 0:
            if cues[i].kind == "speech":
                return cues[i]
            i -= 1
        return None

    def _draw(self, lines: list[str]) -> None:
        width = max(10, self._width() - 1)  # never wrap, or redrawing in place breaks
        out = [_HIDE_CURSOR] if not self._drawn else []
        if self._drawn > 1:
            out.append(f"\r\x1b[{self._drawn - 1}A")
        elif self._drawn:
            out.append("\r")
        out.append("\n".join(_CLEAR_LINE + _fit(line, width) for line in lines))
        self._drawn = len(lines)
        self.stream.write("".join(out))
        self.stream.flush()


def _fit(line: str, width: int) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


class LineView:
    """One plain line per cue as it starts (for pipes, files and ``--dry-run``)."""

    def __init__(self, stream: TextIO, timeline: Timeline, steps: list[Step]) -> None:
        """Print on ``stream``."""
        self.stream = stream
        self.timeline = timeline
        self.steps = steps
        self._next = 0
        self._step: int | None = None
        self._state: str | None = None

    def started(self, position: int) -> None:
        """Print from the first cue that starts at or after ``position``."""
        self._next = bisect.bisect_left(self.timeline.starts, position)

    def laid_out(self, timeline: Timeline) -> None:
        """Show the session as far as it is laid out now."""
        self.timeline, self.steps = timeline, steps_of(timeline)

    def said(self, text: str, position: int) -> None:
        """Print what the controls say."""
        self._print(f"{self._time(position)}  {'(control)':<11}  {text}")

    def update(self, status: Status) -> None:
        """Print every cue that started since the last update."""
        cues = self.timeline.cues
        if status.mode in ("playing", "finished"):
            while self._next < len(cues) and cues[self._next].start <= status.position:
                cue = cues[self._next]
                self._next += 1
                if cue.kind == "silence":
                    continue
                self._step_header(cue.start)
                self._print(f"{self._time(cue.start)}  {cue.phase:<11}  {describe_cue(cue)}")
        state = "paused" if status.paused else status.mode
        if state != self._state:
            word = {"paused": "paused", "finished": "end", "quit": "stopped"}.get(state)
            if word is not None:
                self._print(f"{self._time(status.position)}  [{word}]")
            self._state = state

    def close(self) -> None:
        """Nothing to tidy."""

    def _step_header(self, position: int) -> None:
        if not self.steps:
            return
        i = step_at(self.steps, position)
        if i != self._step:
            self._step = i
            step = self.steps[i]
            label = "Introduction" if step.number == 0 else f"Step {step.number}"
            self._print(f"-- {label}: {step.title}")

    def _time(self, samples: int) -> str:
        return format_clock(self.timeline.to_ms(samples))

    def _print(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()
