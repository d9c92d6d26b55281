"""Where each frame written to the ring stands in the session, and an answer's envelope.

Playback writes the session, answers and waits into one stream of frames; :class:`Spans`
notes, for each stretch, the session sample it starts at, so the frame the device plays now
maps to the sample of the session heard now (an answer maps to where the session waits).
:func:`answer_envelope` shapes an answer mixed over a phase: full over silence, ducked under
a sound, cut with a short fade before the next words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.play.source import SessionSource

DUCK = 0.25
"""An answer mixed over a phase plays at this level under a sound of the session."""
CUT_FADE_MS = 20
"""An answer cut before the next words fades out over this long."""


@dataclass(frozen=True)
class Span:
    """From ring frame ``frame`` on, the session at sample ``at`` (an insert: waiting there)."""

    frame: int
    at: int
    inserted: str | None = None
    """What was said there, for an insert; ``None`` for the session's own samples."""


class Spans(list[Span]):
    """The spans written so far, in order (never empty)."""

    def session_at(self, frame: int, written_up_to: int) -> int:
        """The session sample that ring frame ``frame`` plays (not past ``written_up_to``)."""
        for span in reversed(self):
            if span.frame <= frame:
                if span.inserted is not None:
                    return span.at
                return min(span.at + frame - span.frame, written_up_to)
        return self[0].at

    def frame_of(self, at: int, written_up_to: int) -> int | None:
        """The ring frame where session sample ``at`` is, if the last span wrote it."""
        last = self[-1]
        if last.inserted is None and last.at <= at <= written_up_to:
            return last.frame + at - last.at
        return None

    def truncate(self, written: int) -> None:
        """Forget the spans that start at or after ring frame ``written`` (taken back)."""
        while len(self) > 1 and self[-1].frame >= written:
            self.pop()


def answer_envelope(source: SessionSource, at: int, length: int) -> npt.NDArray[np.float32]:
    """The gain of each sample of an answer ``length`` long mixed over the session from ``at``.

    1 over silence, :data:`DUCK` under a sound, and 0 from the next words on (faded over
    :data:`CUT_FADE_MS`), or from what is not laid out yet: the result may be shorter.
    """
    import numpy as np

    from voiceguide.pcm import ms_to_samples

    end = min(length, max(0, source.laid_out - at))
    envelope = np.ones(end, dtype=np.float32)
    cut = end
    for offset in range(0, end, 256):
        cue = source.cue_at(at + offset)
        if cue is None:
            continue
        if cue.kind == "speech":
            cut = max(0, cue.start - at)
            break
        if cue.kind == "tone":
            envelope[max(0, cue.start - at) : min(end, cue.end - at)] = DUCK
    fade = min(cut, ms_to_samples(CUT_FADE_MS, source.sample_rate))
    envelope = envelope[:cut]
    if cut < length and fade:
        envelope[cut - fade :] *= np.linspace(1, 0, fade, dtype=np.float32)
    return envelope
