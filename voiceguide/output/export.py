"""Write a session to files: the audio, and its captions and cues, each whole or not at all.

The audio comes from :func:`voiceguide.sound.render.render_blocks`, the same samples
``play`` sends to the speaker, and is streamed block by block into the encoder, so a
two-hour session never sits in memory. Every file is written to a temporary file beside
its target and flushed to disk; only when all of them are complete are they renamed into
place, in one pass (:func:`voiceguide.atomic.atomic_path`): an export that fails or is
interrupted leaves nothing partial behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.atomic import atomic_path
from voiceguide.errors import ExportError
from voiceguide.output.audio import Cuts, write_audio
from voiceguide.output.chapters import chapters
from voiceguide.output.sidecars import captions_text, cues_text
from voiceguide.output.tags import Mark, Metadata
from voiceguide.output.targets import Outputs, make_folders, remove_empty_folders

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from voiceguide.compile.timeline import Timeline
    from voiceguide.sound.clips import ClipSource
    from voiceguide.sound.mix import Mix

Progress = Callable[[int, int], None]
"""Called with (samples written, samples in all)."""


def cuts(timeline: Timeline, clips: ClipSource, gain: float, mix: Mix | None) -> Cuts | None:
    """Where ``timeline`` is digital silence, and how to render any span of it.

    ``None`` under a sound bed: it fills every silence, so no cut would be silent.
    """
    from voiceguide.sound.render import render_blocks

    if mix is not None and mix.bed is not None:
        return None
    silences: list[tuple[int, int]] = []
    for cue in timeline.cues:
        if cue.kind != "silence":
            continue
        if silences and silences[-1][1] == cue.start:
            silences[-1] = (silences[-1][0], cue.end)
        else:
            silences.append((cue.start, cue.end))

    def render(start: int, end: int) -> Iterator[npt.NDArray[np.int16]]:
        return render_blocks(timeline, clips, gain=gain, start=start, end=end, mix=mix)

    return Cuts(silences, render)


def channels(mix: Mix | None) -> int:
    """How many channels ``mix`` renders (stereo when there is none)."""
    return 2 if mix is None else mix.channels


def marks(timeline: Timeline) -> list[Mark]:
    """Return the chapters an exported file of ``timeline`` carries, in milliseconds."""
    return [
        Mark(timeline.to_ms(c.start), timeline.to_ms(c.end), c.title) for c in chapters(timeline)
    ]


def export(
    timeline: Timeline,
    clips: ClipSource,
    outputs: Outputs,
    *,
    gain: float = 1.0,
    mix: Mix | None = None,
    meta: Metadata | None = None,
    progress: Progress | None = None,
) -> None:
    """Write the session's audio, and any captions and cues, each file whole or not at all.

    Missing folders are created (and removed again, if still empty, when the export
    fails). Every file is written to a temporary file beside its target and flushed to
    disk; only then are they renamed into place, one after another, the audio first.
    Raises :class:`ExportError` (one line) on failure. Call :meth:`Outputs.check` first
    to refuse an impossible target before any work.
    """
    from voiceguide.sound.render import render_blocks

    meta = meta or Metadata(title=timeline.title)
    sidecars: dict[Path, str] = {}
    if outputs.captions is not None and outputs.caption_format is not None:
        sidecars[outputs.captions] = captions_text(timeline, outputs.caption_format)
    if outputs.cues is not None:
        sidecars[outputs.cues] = cues_text(timeline, chapters(timeline))
    order = [outputs.audio, *sidecars]  # the order of the renames
    renamed: list[Path] = []
    created = make_folders(outputs.audio.parent)
    try:
        with ExitStack() as stack:
            # The stack unwinds last in, first out: enter the files in reverse rename order.
            for path, text in reversed(sidecars.items()):
                tmp = stack.enter_context(_staged(path, renamed))
                tmp.write_text(text, encoding="utf-8")
                _sync(tmp)
            tmp = stack.enter_context(_staged(outputs.audio, renamed))
            write_audio(
                tmp,
                outputs.format,
                render_blocks(timeline, clips, gain=gain, mix=mix),
                sample_rate=timeline.sample_rate,
                total=timeline.total,
                channels=channels(mix),
                meta=meta,
                marks=marks(timeline),
                progress=progress,
                cuts=cuts(timeline, clips, gain, mix),
            )
            _sync(tmp)
            # Every file is complete and on disk: leaving the stack renames them all.
    except BaseException as exc:
        remove_empty_folders(created)  # only what this export made, and only if empty
        if renamed and isinstance(exc, ExportError):
            raise ExportError(_partly_renamed(exc, order, renamed)) from None
        raise


@contextlib.contextmanager
def _staged(target: Path, renamed: list[Path]) -> Iterator[Path]:
    """Yield a temporary file for ``target`` (:func:`atomic_path`); note ``target`` once renamed."""
    with atomic_path(target) as tmp:
        yield tmp
    renamed.append(target)


def _sync(path: Path) -> None:
    """Flush ``path`` to disk: a full disk can surface only now, on some filesystems."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _partly_renamed(exc: ExportError, order: list[Path], renamed: list[Path]) -> str:
    """Say which files a rename pass that failed midway replaced, and which it did not."""
    failed, *rest = order[len(renamed) :]
    cause = exc.__context__  # the system error behind atomic_path's message
    reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(exc)
    done = _and([str(p) for p in renamed])
    kept = _and([p.name for p in (failed, *rest)])
    return (
        f"{failed}: cannot rename it into place ({reason}); {done} "
        f"{'was' if len(renamed) == 1 else 'were'} replaced but {kept} "
        f"{'were' if rest else 'was'} not, so the files do not match: export again"
    )


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
