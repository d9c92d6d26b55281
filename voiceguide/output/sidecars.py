"""The text files written beside the audio: captions (WebVTT, SubRip) and the cue timeline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.output.formats import CaptionFormat

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Chapter, Timeline


@dataclass(frozen=True)
class Caption:
    """One thing said, and when (milliseconds from the start)."""

    start_ms: int
    end_ms: int
    text: str


def captions(timeline: Timeline) -> list[Caption]:
    """Return every speech cue of ``timeline`` as a caption, in order."""
    return [
        Caption(timeline.to_ms(cue.start), timeline.to_ms(cue.end), " ".join(cue.text.split()))
        for cue in timeline.cues
        if cue.kind == "speech"
    ]


def timestamp(ms: int, decimal: str = ".") -> str:
    """Format ``ms`` as ``HH:MM:SS.mmm`` (``decimal`` between seconds and milliseconds)."""
    seconds, milli = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{decimal}{milli:03d}"


def to_vtt(entries: Iterable[Caption]) -> str:
    """Format captions as WebVTT."""
    lines = ["WEBVTT", ""]
    for number, entry in enumerate(entries, 1):
        text = entry.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        start, end = timestamp(entry.start_ms, "."), timestamp(entry.end_ms, ".")
        lines += [str(number), f"{start} --> {end}", text, ""]
    return "\n".join(lines)


def to_srt(entries: Iterable[Caption]) -> str:
    """Format captions as SubRip (SRT)."""
    lines: list[str] = []
    for number, entry in enumerate(entries, 1):
        start, end = timestamp(entry.start_ms, ","), timestamp(entry.end_ms, ",")
        lines += [str(number), f"{start} --> {end}", entry.text, ""]
    return "\n".join(lines)


def captions_text(timeline: Timeline, kind: CaptionFormat) -> str:
    """Return the captions file of ``timeline`` in ``kind``."""
    entries = captions(timeline)
    return to_vtt(entries) if kind == "vtt" else to_srt(entries)


def cues_text(timeline: Timeline, chapters: list[Chapter] | None = None) -> str:
    """Return the timeline as the JSON ``--cues json`` writes.

    It is the document ``show --json`` prints, except that its chapters are ``chapters``,
    the ones written into the audio file beside it, when given.
    """
    import json

    document = timeline.to_json()
    if chapters is not None:
        document["chapters"] = [
            {
                "title": c.title,
                "start_ms": round(c.start * 1000 / timeline.sample_rate, 3),
                "end_ms": round(c.end * 1000 / timeline.sample_rate, 3),
            }
            for c in chapters
        ]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
