"""Captions and cues written beside the audio (output/sidecars.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.output.helpers import MS, Plan, build, export_files, listing, parse_captions
from voiceguide.compile.timeline import Timeline
from voiceguide.output.chapters import chapters
from voiceguide.output.formats import CaptionFormat
from voiceguide.output.sidecars import Caption, captions_text, cues_text, to_srt


def test_vtt_captions_say_what_is_said_when(timeline: Timeline) -> None:
    text = captions_text(timeline, "vtt")
    first = timeline.cues[2]
    assert text.startswith(
        "WEBVTT\n\n1\n"
        f"00:00:00.{timeline.to_ms(first.start):03d} --> 00:00:00.{timeline.to_ms(first.end):03d}\n"
        "Sit comfortably &amp; breathe &lt;slowly&gt;.\n\n2\n"
    )
    assert text.count(" --> ") == 3


def test_srt_captions_use_commas_and_plain_text(timeline: Timeline) -> None:
    text = captions_text(timeline, "srt")
    blocks = text.strip("\n").split("\n\n")
    assert len(blocks) == 3
    number, times, words = blocks[0].split("\n")
    assert number == "1"
    assert re.fullmatch(r"\d\d:\d\d:\d\d,\d{3} --> \d\d:\d\d:\d\d,\d{3}", times)
    assert words == "Sit comfortably & breathe <slowly>."


@pytest.mark.parametrize("kind", ["vtt", "srt"])
def test_captions_are_monotonic_and_match_the_speech_cues(kind: CaptionFormat) -> None:
    plan: Plan = [("speech", f"Phrase number {i}.", "Long") for i in range(40)]
    timeline = build([item for p in plan for item in (p, ("silence", 61_001 * MS // 7, "Long"))])
    assert timeline.total_ms > 3600_000 / 20
    parsed = parse_captions(captions_text(timeline, kind))
    speech = [c for c in timeline.cues if c.kind == "speech"]
    assert [p[2] for p in parsed] == [c.text for c in speech]
    assert [(p[0], p[1]) for p in parsed] == [
        (timeline.to_ms(c.start), timeline.to_ms(c.end)) for c in speech
    ]
    flat = [t for p in parsed for t in p[:2]]
    assert flat == sorted(flat)


def test_hours_are_written_in_timestamps() -> None:
    assert to_srt([Caption(3_723_004, 3_723_005, "x")]).split("\n")[1] == (
        "01:02:03,004 --> 01:02:03,005"
    )


def test_captions_and_cues_are_written_beside_the_audio(timeline: Timeline, tmp_path: Path) -> None:
    export_files(timeline, tmp_path / "s.wav", "wav", captions="vtt", cues="json")
    assert listing(tmp_path) == ["s.json", "s.vtt", "s.wav"]
    written = json.loads((tmp_path / "s.json").read_text())
    # The timeline as 'show --json' prints it, with the chapters an exported file carries.
    assert {k: v for k, v in written.items() if k != "chapters"} == {
        k: v for k, v in timeline.to_json().items() if k != "chapters"
    }
    assert [c["title"] for c in written["chapters"]] == [c.title for c in chapters(timeline)]
    assert (tmp_path / "s.json").read_text() == cues_text(timeline, chapters(timeline))
    assert (tmp_path / "s.vtt").read_text() == captions_text(timeline, "vtt")


def test_the_cues_without_chapters_given_are_the_timeline_itself(timeline: Timeline) -> None:
    assert json.loads(cues_text(timeline)) == timeline.to_json()
