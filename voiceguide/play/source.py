"""What playback reads a session from: laid out as far as it is, growing while it plays.

:class:`SessionSource` is the interface; :class:`voiceguide.sound.stream.SessionStream`
is the real one (phrases made in order while the session plays), :class:`FixedSource`
serves a timeline compiled whole (tests, and anything that has one already).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.compile.timeline import Cue, Timeline
    from voiceguide.errors import VoiceguideError
    from voiceguide.sound.clips import ClipSource
    from voiceguide.sound.mix import Mix


class SessionSource(Protocol):
    """A session as far as it is laid out; every sample below :attr:`final_end` is final."""

    @property
    def sample_rate(self) -> int:
        """Samples per second."""
        ...

    @property
    def mix(self) -> Mix:
        """How it is mixed: its channels (what :meth:`render` yields), where an answer goes."""
        ...

    @property
    def laid_out(self) -> int:
        """The sample where what is laid out ends."""
        ...

    @property
    def final_end(self) -> int:
        """How far :meth:`render` may go: samples that will not change (a bed looks ahead)."""
        ...

    @property
    def safe_end(self) -> int:
        """How far playback may go without risking a wait inside a sentence or a phase."""
        ...

    @property
    def done(self) -> bool:
        """Whether nothing more will be laid out (the end, or :attr:`error`)."""
        ...

    @property
    def speaking(self) -> bool:
        """Whether an engine is speaking a phrase: more is laid out only once it is spoken.

        False when what is next is only read from the phrase cache (milliseconds away).
        """
        ...

    @property
    def total(self) -> int | None:
        """The session's length, once it is all laid out."""
        ...

    @property
    def error(self) -> VoiceguideError | None:
        """Why the session stops at :attr:`laid_out` before its end, if it does."""
        ...

    def advance(self) -> bool:
        """Lay out what is ready now (quick); return whether anything was."""
        ...

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for more to lay out (laying it out); return whether it was."""
        ...

    def prefix(self) -> Timeline:
        """The timeline laid out so far."""
        ...

    def cue_at(self, sample: int) -> Cue | None:
        """The cue at ``sample``, if laid out."""
        ...

    def render(self, start: int, end: int, *, gain: float = 1.0) -> Iterator[npt.NDArray[np.int16]]:
        """The samples from ``start`` to ``end`` (laid out), as export renders them."""
        ...

    def prepare(self, text: str) -> None:
        """Make ``text`` ready soon, before the session's next phrases (an answer)."""
        ...

    def ready(self, text: str) -> bool:
        """Whether ``text`` is ready to be said at once."""
        ...


class FixedSource:
    """A timeline compiled whole, with the clips it renders from."""

    def __init__(self, timeline: Timeline, clips: ClipSource, mix: Mix | None = None) -> None:
        """Serve ``timeline``, rendered from ``clips``, mixed by ``mix`` (default: stereo)."""
        from voiceguide.sound.mix import STEREO

        self.timeline_ = timeline
        self.clips = clips
        self.mix = mix or STEREO
        self.sample_rate = timeline.sample_rate
        self.laid_out = self.safe_end = self.final_end = timeline.total
        self.done = True
        self.speaking = False
        self.total: int | None = timeline.total
        self.error: VoiceguideError | None = None

    def advance(self) -> bool:
        """Everything is laid out."""
        return False

    def wait(self, timeout_s: float) -> bool:
        """Everything is laid out: nothing to wait for."""
        return False

    def prefix(self) -> Timeline:
        """The whole timeline."""
        return self.timeline_

    def cue_at(self, sample: int) -> Cue | None:
        """The cue at ``sample``."""
        cues = self.timeline_.cues
        i = bisect.bisect_right(self.timeline_.starts, sample) - 1
        return cues[i] if 0 <= i < len(cues) and sample < cues[i].end else None

    def render(self, start: int, end: int, *, gain: float = 1.0) -> Iterator[npt.NDArray[np.int16]]:
        """The samples from ``start`` to ``end``."""
        from voiceguide.sound.render import render_blocks

        yield from render_blocks(
            self.timeline_, self.clips, gain=gain, start=start, end=end, mix=self.mix
        )

    def timeline(self) -> Timeline:
        """The whole timeline."""
        return self.timeline_

    def close(self) -> None:
        """Nothing to stop."""

    def prepare(self, text: str) -> None:
        """Nothing to do: a phrase is spoken when it is asked for."""

    def ready(self, text: str) -> bool:
        """Always: a phrase is spoken when asked for."""
        return True
