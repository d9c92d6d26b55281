"""Playback: what the device takes, with and without keys (samples are ms here)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.play_helpers import (
    RATE,
    FakeClips,
    ScriptedKeys,
    heard,
    playback,
    rendered,
    spoken,
    take,
    timeline_of,
)
from voiceguide.compile import phrases
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import DeviceStalledError
from voiceguide.play.device import ManualOutput
from voiceguide.play.keys import Command
from voiceguide.play.navigation import steps_of
from voiceguide.play.playback import Playback
from voiceguide.play.source import FixedSource


def onsets(samples: np.ndarray, text: str) -> list[int]:
    """Where the clip of ``text`` starts in ``samples`` (exact matches)."""
    clip = spoken(text)
    found: list[int] = []
    for i in np.flatnonzero(samples == clip[0]):
        whole = i + len(clip) <= len(samples) and np.array_equal(samples[i : i + len(clip)], clip)
        if whole and (not found or i >= found[-1] + len(clip)):
            found.append(int(i))
    return found


def test_an_uninterrupted_session_is_the_rendered_samples_exactly() -> None:
    pb, out = playback()
    mode = pb.run(ScriptedKeys(pb, out, []))
    assert mode == "finished"
    assert np.array_equal(heard(out)[: len(rendered(pb))], rendered(pb))
    assert not heard(out)[len(rendered(pb)) :].any()  # after the end only silence
    assert pb.ring.underruns == 0


def test_position_is_what_the_device_took() -> None:
    pb, out = playback()
    take(pb, out, 1_500)
    assert pb.position == 1_500
    take(pb, out, 1_000)
    assert pb.position == 2_500


def test_volume_applies_from_the_next_block_and_restarts_nothing() -> None:
    pb, out = playback("say-pause")
    take(pb, out, 700)  # inside the first sentence
    pb.command(Command.SOFTER)
    take(pb, out, 400)
    pb.run(ScriptedKeys(pb, out, []))
    played, expected = heard(out), rendered(pb)
    assert len(played[: len(expected)]) == len(expected)  # nothing added, nothing said again
    assert np.array_equal(played[:700], expected[:700])
    ramp = 30 * RATE // 1000
    later = slice(700 + ramp, len(expected))
    scaled = np.round(expected[later].astype(np.float32) * 0.9).astype(np.int16)
    assert np.abs(played[later].astype(int) - scaled).max() <= 1
    assert pb.said == []  # playing, a volume change is heard, not said


def test_where_in_a_hold_is_mixed_over_it_and_moves_no_cue() -> None:
    pb, out = playback()
    timeline = pb.source.prefix()
    hold = next(c for c in timeline.cues if c.phase == "hold" and c.kind == "silence")
    release = next(c for c in timeline.cues if c.text == "release" and c.start > hold.start)
    keys = ScriptedKeys(pb, out, [(hold.start + 100, Command.WHERE)])
    pb.run(keys)
    played, expected = heard(out), rendered(pb)
    assert len(pb.said) == 1
    assert pb.said[0].startswith("Step")
    assert len(played) >= len(expected)
    # The release sound starts where the timeline says, and sounds as rendered.
    sound = slice(release.start, release.end)
    assert np.array_equal(played[sound], expected[sound])
    # The answer is heard inside the hold, over its silence.
    inside = played[hold.start : hold.end]
    assert inside.any()
    assert not expected[hold.start + 200 : hold.start + 300].any()


def test_where_between_instructions_is_said_after_the_sentence_which_is_whole() -> None:
    pb, out = playback("say-pause")
    timeline = pb.source.prefix()
    first = next(c for c in timeline.cues if c.kind == "speech")
    pb.run(ScriptedKeys(pb, out, [(first.start + 50, Command.WHERE)]))
    played = heard(out)
    answer = pb.said[0]
    assert onsets(played, first.text) == [first.start]  # once, not restarted
    assert onsets(played, answer) == [first.end]  # right after it
    # Then the session goes on, every sample of it, once.
    rest = rendered(pb)[first.end :]
    after = first.end + len(spoken(answer))
    assert np.array_equal(played[after : after + len(rest)], rest)


def test_pause_says_paused_and_waits_then_resume_says_where_and_goes_on() -> None:
    pb, out = playback("say-pause")
    take(pb, out, 500)
    pb.command(Command.PAUSE)
    take(pb, out, 3_000)
    assert pb.paused
    at = pb.position
    assert pb.said == [phrases.PAUSED]
    take(pb, out, 2_000)
    assert pb.position == at  # the session's clock stands still
    pb.command(Command.PAUSE)
    assert pb.said[-1].startswith("Resuming")
    pb.run(ScriptedKeys(pb, out, []))
    assert pb.mode == "finished"


def test_next_moves_to_the_next_step_and_quit_ends() -> None:
    pb, out = playback("say-pause")
    take(pb, out, 300)
    pb.command(Command.NEXT)
    take(pb, out, 100)
    assert pb.position > 1_000
    pb.command(Command.QUIT)
    assert pb.done


def test_commands_from_another_thread_are_carried_out_in_order() -> None:
    import threading

    pb, out = playback("say-pause")

    def send() -> None:
        pb.submit(Command.LOUDER)
        pb.submit(Command.QUIT)

    sent = threading.Thread(target=send)
    sent.start()
    sent.join()
    assert pb.run(ScriptedKeys(pb, out, [])) == "quit"
    assert pb.said == [phrases.LOUDEST]


def test_a_device_that_stops_taking_sound_stops_the_session() -> None:
    pb, out = playback()
    take(pb, out, 500)
    out.stalled = 10.0
    with pytest.raises(DeviceStalledError, match="stopped taking sound"):
        pb.tick()


def test_an_answer_the_engine_cannot_say_ends_nothing() -> None:
    clips = FakeClips(fail_on=frozenset({phrases.LOUDEST}))
    pb, out = playback("say-pause", clips=clips)
    take(pb, out, 300)
    pb.command(Command.LOUDER)
    assert pb.run(ScriptedKeys(pb, out, [])) == "finished"


def test_a_remote_volume_change_moves_nothing_and_a_remote_seek_moves() -> None:
    from voiceguide.play.controller import Action

    pb, out = playback("say-pause")
    take(pb, out, 700)
    pb.act(lambda position, paused: Action("play", 0, volume_pct=50))
    take(pb, out, 200)
    assert pb.position == 900  # went on, not back to 0
    assert pb.volume_pct == 50
    pb.act(lambda position, paused: Action("play", 5_000))
    take(pb, out, 100)
    assert pb.position == 5_100


class GrowingSource(FixedSource):
    """A timeline laid out only up to ``laid_out``, as synthesis behind would leave it."""

    def __init__(self, timeline: Timeline, clips: FakeClips, laid_out: int) -> None:
        super().__init__(timeline, clips)
        self.grow_to(laid_out)

    def grow_to(self, sample: int) -> None:
        whole = self.timeline_
        cues = tuple(c for c in whole.cues if c.end <= sample)
        self.laid_out = self.safe_end = cues[-1].end if cues else 0
        self.done = self.laid_out == whole.total
        self.total = whole.total if self.done else None
        self._prefix = Timeline(whole.sample_rate, cues, whole.title, whole.routine)
        self.grew = True

    def advance(self) -> bool:
        grew, self.grew = self.grew, False
        return grew

    def prefix(self) -> Timeline:
        return self._prefix


def test_next_to_a_step_not_laid_out_yet_moves_there_once_it_is() -> None:
    timeline = timeline_of("say-pause")
    clips = FakeClips()
    steps = steps_of(timeline)
    source = GrowingSource(timeline, clips, steps[1].start - 1)
    out = ManualOutput()
    pb = Playback(source, clips, out)
    take(pb, out, 300)
    pb.command(Command.NEXT)
    assert pb.said == [phrases.ONE_MOMENT]  # not "This is the last step."
    source.grow_to(timeline.total)
    take(pb, out, 100)
    assert pb.position >= steps[1].start


def test_a_stereo_session_takes_two_channel_blocks_and_answers_in_both_ears() -> None:
    from voiceguide.sound.mix import STEREO
    from voiceguide.sound.render import render

    timeline = timeline_of("sides-repeat")
    clips = FakeClips()
    out = ManualOutput()
    pb = Playback(FixedSource(timeline, clips, STEREO), clips, out)
    take(pb, out, 300)
    pb.command(Command.LOUDER)  # "This is as loud as it goes.", said after the sentence
    pb.run(ScriptedKeys(pb, out, []))
    taken = np.concatenate(out.from_ring)
    assert taken.shape[1] == 2
    whole = render(timeline, clips, mix=STEREO)
    own = [
        taken[span.frame : pb.spans[i + 1].frame if i + 1 < len(pb.spans) else len(taken)]
        for i, span in enumerate(pb.spans)
        if span.inserted is None
    ]
    assert np.array_equal(np.concatenate(own)[: len(whole)], whole)  # the mix, sides and all
    assert not np.array_equal(whole[:, 0], whole[:, 1])  # a side leans to its ear
    said = next(s for s in pb.spans if s.inserted == phrases.LOUDEST)
    length = len(FakeClips().speech(phrases.LOUDEST))
    answer = taken[said.frame : said.frame + length]
    assert np.array_equal(answer[:, 0], answer[:, 1])  # the answer: the same in both
    assert answer.any()


def test_a_sound_mixed_over_a_hold_keeps_its_clock_and_is_cut_before_the_next_words() -> None:
    pb, out = playback()
    timeline = pb.source.prefix()
    hold = next(c for c in timeline.cues if c.phase == "hold" and c.kind == "silence")
    release = next(c for c in timeline.cues if c.text == "release" and c.start > hold.start)
    words = next(c for c in timeline.cues if c.kind == "speech" and c.start >= release.end)
    while pb.position < hold.start + 100:
        take(pb, out, 10)
    tone = np.full(words.start - pb.position + 5_000, 0.2, dtype=np.float32)  # runs past them
    mixed = pb.mix_over(tone)
    pb.run(ScriptedKeys(pb, out, []))
    played, expected = heard(out), rendered(pb)
    assert len(played) == len(expected)  # nothing moved: the session's own length
    assert mixed < len(tone)  # cut before the words
    assert np.array_equal(played[words.start :], expected[words.start :])
    assert played[hold.start + 200 : hold.start + 300].any()  # heard over the hold's silence
    assert not expected[hold.start + 200 : hold.start + 300].any()
