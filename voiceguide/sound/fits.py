"""Before the first sound of a stream: what must fit is checked, what a fit needs is made.

:func:`check_fits` refuses, at its line, a prompt that cannot fit its hold, with phrases not
spoken yet taken at the longest they may be (or, where only their estimates fit, left to be
confirmed as their real lengths arrive); :func:`pool_prepare` makes phrases ready through
a :class:`~voiceguide.sound.pool.ClipPool` (on every core) for a fit to a length.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceguide.compile.compiler import CompileOptions, compile_routine

if TYPE_CHECKING:
    from voiceguide.compile.lengths import Lengths
    from voiceguide.compile.plan import Segment
    from voiceguide.script.model import Routine
    from voiceguide.sound.pool import ClipPool
    from voiceguide.sound.speech import SpeechClips

Progress = Callable[[int, int], None]


def check_fits(
    routine: Routine,
    clips: SpeechClips,
    pool: ClipPool,
    options: CompileOptions,
    rate_wpm: int,
    announce: Lengths | None,
    segments: list[Segment],
) -> None:
    """Refuse, at its line, speech that cannot fit its phase, before any sound.

    Each timed phase of ``segments`` is laid out alone (what fits in a phase does not
    depend on where it is) with each phrase not spoken yet at the longest it may be
    (:class:`~voiceguide.compile.estimate.BoundLengths`): a phase that fits so fits for
    real. One that fits only at its phrases' estimates (their likely lengths), with a
    phrase not in the phrase cache yet, is left to be confirmed as its real lengths
    arrive: the layout checks it before it is heard
    (:meth:`~voiceguide.compile.stream.PrefixLayout.advance`; docs/play.md says what
    happens in the rare case it then does not fit). Any other phase that does not fit at
    its bounds (one that does not fit even at the estimates, or whose phrases are all in
    the cache) has its phrases made or read first and is tried again with their real
    lengths; if it still does not fit, the error is the one the full compile gives,
    before the first sound.
    """
    from voiceguide.compile.estimate import BoundLengths
    from voiceguide.compile.layout import Layout
    from voiceguide.compile.plan import Timed

    bounds = BoundLengths(clips, rate_wpm)
    likely = BoundLengths(clips, rate_wpm, scale=1.0, extra_ms=0)

    def fits(segment: Timed, lengths: BoundLengths) -> bool:
        layout = Layout(lengths)
        layout.place(segment)
        return not layout.problems

    def stored(segment: Timed) -> bool:
        """Whether its phrases are all in the cache: read in milliseconds, checked now."""
        return all(clips.stored(e.text) for e in segment.events if e.kind == "speech")

    seen: set[Timed] = set()
    tight: list[Timed] = []
    for segment in segments:
        if isinstance(segment, Timed) and segment.events and segment not in seen:
            seen.add(segment)
            if not fits(segment, bounds) and (stored(segment) or not fits(segment, likely)):
                tight.append(segment)
    texts = {
        event.text
        for segment in tight
        for event in segment.events
        if event.kind == "speech" and bounds.bounded(event.text)
    }
    for text in texts:
        pool.hurry(text)
    for text in texts:
        pool.wait(text)
    if not all(fits(segment, bounds) for segment in tight):
        compile_routine(routine, bounds, options, announce=announce)  # raises its error


def pool_prepare(pool: ClipPool, progress: Progress | None = None) -> Callable[[list[str]], None]:
    """A ``prepare(texts)`` that makes ``texts`` ready through ``pool`` and waits for them.

    Raises the engine's error for a phrase it cannot speak (the first, in order).
    ``progress`` is told (phrases ready, phrases asked) as they come.
    """

    def prepare(texts: list[str]) -> None:
        pool.make_ready(texts, progress, raising=True)

    return prepare
