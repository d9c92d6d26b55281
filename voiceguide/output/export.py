"""Write a session to files: the audio, and its captions and cues, each whole or not at all.

The audio comes from :func:`voiceguide.sound.render.render_blocks`, the same samples
``play`` sends to the speaker, and is streamed block by block into the encoder, so a
two-hour session never sits in memory. :func:`export` writes a timeline compiled whole;
:func:`export_streamed` writes a session while it is laid out
(:class:`~voiceguide.sound.stream.SessionStream`), so the encoders run while its phrases
are still being made, and writes what needs the whole timeline (tags, chapters, captions,
cues) once the audio is encoded. Every file is written to a temporary file beside its
target and flushed to disk; only when all of them are complete are they renamed into
place, in one pass (:func:`voiceguide.atomic.atomic_path`): an export that fails or is
interrupted leaves nothing partial behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.atomic import atomic_path, export_error
from voiceguide.errors import ExportError
from voiceguide.output.audio import encode_audio, finish_audio, write_audio
from voiceguide.output.chapters import chapters
from voiceguide.output.formats import CHAPTERS_FIRST
from voiceguide.output.sidecars import captions_text, cues_text
from voiceguide.output.tags import Mark, Metadata
from voiceguide.output.targets import Outputs, make_folders, remove_empty_folders

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Timeline
    from voiceguide.output.formats import Format
    from voiceguide.sound.clips import ClipSource
    from voiceguide.sound.mix import Mix
    from voiceguide.sound.stream import SessionStream

Progress = Callable[[int, int], None]
"""Called with (samples written, samples in all)."""


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
    meta = meta or Metadata(title=timeline.title)

    def encode(audio: Path) -> Timeline:
        write_timeline(
            audio, outputs.format, timeline, clips, gain=gain, mix=mix, meta=meta,
            progress=progress,
        )  # fmt: skip
        return timeline

    _write_staged(outputs, encode)


def write_timeline(
    path: Path,
    fmt: Format,
    timeline: Timeline,
    clips: ClipSource,
    *,
    gain: float,
    mix: Mix | None,
    meta: Metadata,
    progress: Progress | None,
) -> None:
    """Render the whole ``timeline`` into a new ``fmt`` file at ``path``, tagged, with chapters.

    :func:`~voiceguide.output.audio.write_audio` with what a timeline known whole gives it:
    its length, its chapters, and its blocks again should an MP3 have to be encoded in
    one piece.
    """
    from voiceguide.sound.render import render_blocks

    write_audio(
        path,
        fmt,
        render_blocks(timeline, clips, gain=gain, mix=mix),
        sample_rate=timeline.sample_rate,
        total=timeline.total,
        channels=channels(mix),
        meta=meta,
        marks=marks(timeline),
        progress=progress,
        again=lambda: render_blocks(timeline, clips, gain=gain, mix=mix),
        silent_holds=mix is None or mix.bed is None,
    )


def export_streamed(
    stream: SessionStream,
    outputs: Outputs,
    *,
    gain: float = 1.0,
    meta: Metadata | None = None,
    progress: Progress | None = None,
) -> Timeline:
    """Write the session ``stream`` lays out to ``outputs`` as it goes; return its timeline.

    The audio is encoded from :meth:`SessionStream.blocks` as the phrases are made, so on
    a cold phrase cache the encoders run while the engines speak. Once the blocks are
    exhausted the session is laid out whole, and what needs its timeline is written: the
    tags and chapters, the length in the tag, the captions and cues. The files are then
    renamed into place together, as :func:`export` does, and hold the same bytes.
    ``progress`` is told (samples encoded, the session's length: estimated until it is
    laid out whole); what it is told done never goes back, nor past the whole. What
    stops the stream (a phrase that does not fit, an engine's error) is raised, and
    nothing is left behind. Not for the formats whose encoder writes the chapters
    (:data:`~voiceguide.output.formats.CHAPTERS_FIRST`): wait for the timeline and call
    :func:`export`.
    """
    from voiceguide.sound.render import render_blocks

    fmt, mix, rate = outputs.format, stream.mix, stream.sample_rate
    if fmt in CHAPTERS_FIRST:
        raise ValueError(f"{fmt} is tagged as it is encoded: export the whole timeline")
    meta = meta or Metadata(title=stream.layout.routine.title)

    def encode(audio: Path) -> Timeline:
        estimate = stream.layout.estimated_total()
        if estimate is None:  # fitted to a length: every phrase was made for the fit
            estimate = stream.timeline().total
        told = _Told(stream, estimate, progress)
        done = encode_audio(
            audio, fmt, stream.blocks(gain=gain), sample_rate=rate, total=estimate,
            channels=mix.channels, meta=meta, progress=told,
            again=lambda: render_blocks(stream.timeline(), stream.clips, gain=gain, mix=mix),
            silent_holds=mix.bed is None,
        )  # fmt: skip
        timeline = stream.timeline()  # at once: the blocks ran to the session's end
        if done != timeline.total:
            raise OSError(errno.EIO, f"{done} samples rendered, not the {timeline.total} laid out")
        finish_audio(
            audio, fmt, done, sample_rate=rate, total=timeline.total, meta=meta,
            marks=marks(timeline),
        )  # fmt: skip
        told(done, done)
        return timeline

    return _write_staged(outputs, encode)


class _Told:
    """Tell ``progress`` (samples encoded, the session's length) while ``stream`` is laid out.

    The length is ``estimate`` until the stream is laid out whole, then the real one; the
    share shown as done never falls (a real length past the estimate would make it) and
    never passes the whole.
    """

    def __init__(self, stream: SessionStream, estimate: int, progress: Progress | None) -> None:
        self.stream = stream
        self.estimate = estimate
        self.progress = progress
        self.share = 0.0

    def __call__(self, done: int, total: int) -> None:
        if self.progress is None:
            return
        known = self.stream.total
        whole = max(self.estimate if known is None else known, done)
        if whole and done / whole < self.share:
            whole = max(done, int(done / self.share))  # the share shown stays where it was
        self.share = done / whole if whole else 0.0
        self.progress(done, whole)


def _write_staged(outputs: Outputs, encode: Callable[[Path], Timeline]) -> Timeline:
    """Write ``outputs`` staged: ``encode`` the audio into its temporary file, then the rest.

    ``encode`` returns the whole timeline, which the captions and cues are made from. The
    folders are made first (and removed again, if still empty, on failure); every file is
    flushed to disk before the first rename, and the audio is renamed first.
    """
    sidecars = [p for p in (outputs.captions, outputs.cues) if p is not None]
    order = [outputs.audio, *sidecars]  # the order of the renames
    renamed: list[Path] = []
    created = make_folders(outputs.audio.parent)
    try:
        with ExitStack() as stack:
            # The stack unwinds last in, first out: enter the files in reverse rename order.
            staged = {path: stack.enter_context(_staged(path, renamed)) for path in sidecars[::-1]}
            audio = stack.enter_context(_staged(outputs.audio, renamed))
            timeline = encode(audio)
            for path, text in _sidecar_texts(outputs, timeline).items():
                try:
                    staged[path].write_text(text, encoding="utf-8")
                    _sync(staged[path])
                except OSError as exc:  # said of this file, not of the audio staged around it
                    raise export_error(exc, path) from None
            _sync(audio)
            # Every file is complete and on disk: leaving the stack renames them all.
    except BaseException as exc:
        remove_empty_folders(created)  # only what this export made, and only if empty
        if renamed and isinstance(exc, ExportError):
            raise ExportError(_partly_renamed(exc, order, renamed)) from None
        raise
    return timeline


def _sidecar_texts(outputs: Outputs, timeline: Timeline) -> dict[Path, str]:
    """The captions and cues ``outputs`` asks for, as text."""
    texts: dict[Path, str] = {}
    if outputs.captions is not None and outputs.caption_format is not None:
        texts[outputs.captions] = captions_text(timeline, outputs.caption_format)
    if outputs.cues is not None:
        texts[outputs.cues] = cues_text(timeline, chapters(timeline))
    return texts


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
