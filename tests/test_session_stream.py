"""A session opened to stream: fits checked before any sound, the same timeline as the compile."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from tests.play_helpers import play_until_done, session_frames
from tests.test_compiler import load
from tests.test_session import SR, ToneEngine
from voiceguide.app.session import (
    MixChoice,
    SessionRequest,
    StreamingSession,
    open_session,
    open_stream,
)
from voiceguide.compile import phrases
from voiceguide.compile.compiler import CompileOptions, compile_routine
from voiceguide.compile.estimate import EstimatedSpeech
from voiceguide.errors import ScriptError
from voiceguide.play.device import ManualOutput
from voiceguide.play.playback import Playback
from voiceguide.script.config import UserConfig
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.engines.base import Speech
from voiceguide.sound.render import render

MONO = MixChoice(mono=True)

PROMPT = "Breathe slowly and let your shoulders drop a little more with every breath out."

ROUTINE = """\
title: Prompt in a hold
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down.
  - press:
      point: web
      hold: {hold}
      prompts:
        - {{at: 50%, say: {prompt}}}
  - say: Done.
"""


def routine_file(tmp_path: Path, hold: str, prompt: str = PROMPT) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(ROUTINE.format(hold=hold, prompt=prompt), encoding="utf-8")
    return path


class LongEngine(ToneEngine):
    """Speaks ``text`` for ``seconds`` (a voice far slower than any estimate)."""

    def __init__(self, text: str, seconds: float) -> None:
        super().__init__()
        self.long, self.seconds = text, seconds

    def synthesize(self, text: str) -> Speech:
        if text != self.long:
            return super().synthesize(text)
        self.spoken.append(text)
        tone = 0.3 * np.sin(2 * np.pi * 330 * np.arange(int(SR * self.seconds)) / SR)
        return Speech(samples=np.round(tone * 32767).astype(np.int16), sample_rate=SR)


def test_a_prompt_too_long_for_its_hold_is_an_error_at_its_line_before_any_sound(
    tmp_path: Path,
) -> None:
    path = routine_file(tmp_path, "1s")
    engine = ToneEngine()
    with pytest.raises(ScriptError, match=r"tiny\.yaml:12:11:.*does not fit"):
        open_stream(
            SessionRequest(path), engine=engine, cache=PhraseCache(tmp_path / "c"),
            config=UserConfig(),
        )  # fmt: skip
    assert PROMPT in engine.spoken  # measured for real before saying no


def test_a_prompt_that_only_its_bound_overflows_is_made_first_and_plays(
    tmp_path: Path,
) -> None:
    path = routine_file(tmp_path, "6s")  # the bound (~6 s) overflows, the tone (0.8 s) fits
    engine = ToneEngine()
    opened = open_stream(
        SessionRequest(path), engine=engine, cache=PhraseCache(tmp_path / "c"),
        config=UserConfig(),
    )  # fmt: skip
    try:
        assert engine.spoken[0] == PROMPT  # measured before anything else is made
        timeline = opened.stream.timeline()
    finally:
        opened.stream.close()
    assert any(c.text == PROMPT for c in timeline.cues)


def test_a_prompt_that_fits_at_its_estimate_is_not_waited_for_and_is_confirmed_later(
    tmp_path: Path,
) -> None:
    path = routine_file(tmp_path, "10s")  # estimate 5 + 4.2 s fits; the bound (5 + 7.1 s) not
    engine = ToneEngine()
    opened = open_stream(
        SessionRequest(path), engine=engine, cache=PhraseCache(tmp_path / "c"),
        config=UserConfig(),
    )  # fmt: skip
    try:
        timeline = opened.stream.timeline()
    finally:
        opened.stream.close()
    assert engine.spoken.index(PROMPT) > 0  # made in its turn, not first
    assert any(c.text == PROMPT for c in timeline.cues)


def refused_while_playing(
    path: Path, engine: ToneEngine, cache: Path
) -> tuple[StreamingSession, Playback, ManualOutput]:
    """Play the routine at ``path`` (no introduction) until it stops with its fit error."""
    opened = open_stream(
        SessionRequest(path, CompileOptions(intro="none")), engine=engine,
        cache=PhraseCache(cache), config=UserConfig(),
    )  # fmt: skip
    output = ManualOutput()
    playback = Playback(opened.stream, opened.clips, output)
    try:
        with pytest.raises(ScriptError, match=r"tiny\.yaml:12:11:.*does not fit"):
            play_until_done(playback, output, frames=4410)
    finally:
        opened.stream.close()
    return opened, playback, output


def test_a_real_length_past_its_estimate_stops_the_session_where_that_phase_starts(
    tmp_path: Path,
) -> None:
    path = routine_file(tmp_path, "10s")
    engine = LongEngine(PROMPT, seconds=6.0)  # its estimate (4.2 s) fits, 6 s does not
    opened, playback, output = refused_while_playing(path, engine, tmp_path / "c")
    assert opened.stream.layout.cues[-1].phase != "hold"  # laid out up to the hold
    whole = render(opened.stream.prefix(), opened.clips, mix=opened.mix)
    assert np.array_equal(session_frames(playback, output), whole)
    assert playback.said[-1:] == [phrases.STOPPING]  # heard last: it falls silent on purpose
    assert playback.spans[-1].inserted == phrases.STOPPING
    # The phrase is in the cache now: the next run reads it and refuses before any sound.
    again = LongEngine(PROMPT, seconds=6.0)
    with pytest.raises(ScriptError, match=r"tiny\.yaml:12:11:.*does not fit"):
        open_stream(
            SessionRequest(path, CompileOptions(intro="none")), engine=again,
            cache=PhraseCache(tmp_path / "c"), config=UserConfig(),
        )  # fmt: skip
    assert PROMPT not in again.spoken


def test_the_session_opened_is_the_pure_compile_with_the_announced_length(
    tmp_path: Path,
) -> None:
    path = routine_file(tmp_path, "20s")
    session = open_session(
        SessionRequest(path), engine=ToneEngine(), cache=PhraseCache(tmp_path / "c"),
        config=UserConfig(),
    )  # fmt: skip
    announce = EstimatedSpeech(session.voice.rate_wpm, session.clips)
    expected = compile_routine(session.routine, session.clips, CompileOptions(), announce=announce)
    assert session.timeline == expected
    spoken = [c.text for c in expected.cues if c.kind == "speech"]
    assert any(t.startswith("This session takes") for t in spoken)


def test_a_real_length_past_its_bound_stops_the_session_where_that_phase_starts(
    tmp_path: Path,
) -> None:
    short = "Breathe out."
    path = routine_file(tmp_path, "5s", short)
    engine = LongEngine(short, seconds=4.0)  # its bound is under two seconds
    opened, playback, output = refused_while_playing(path, engine, tmp_path / "c")
    stream = opened.stream
    hold = next(s for s in stream.layout.segments if getattr(s, "phase", "") == "hold")
    assert stream.layout.cues[-1].phase != "hold"  # laid out up to the hold, not into it
    assert hold is not None
    whole = render(stream.prefix(), opened.clips, mix=opened.mix)
    assert np.array_equal(session_frames(playback, output), whole)


@pytest.mark.parametrize(
    "choice",
    [MixChoice(), MixChoice(mono=True), MixChoice(bed="rain"), MixChoice(mono=True, bed="drone")],
    ids=["stereo", "mono", "stereo-bed", "mono-bed"],
)
def test_a_stream_renders_what_the_whole_timeline_renders_in_every_mix(
    tmp_path: Path, choice: MixChoice
) -> None:
    path = routine_file(tmp_path, "20s")
    opened = open_stream(
        SessionRequest(path, mix=choice), engine=ToneEngine(), cache=PhraseCache(tmp_path / "c"),
        config=UserConfig(),
    )  # fmt: skip
    try:
        blocks = list(opened.stream.blocks(gain=0.8))
        timeline = opened.stream.timeline()
    finally:
        opened.stream.close()
    assert (opened.mix.channels, opened.mix.bed is not None) == (
        1 if choice.mono else 2,
        choice.bed is not None,
    )
    assert np.array_equal(
        np.concatenate(blocks), render(timeline, opened.clips, gain=0.8, mix=opened.mix)
    )


def test_with_a_bed_the_stream_holds_back_what_the_bed_may_still_change(tmp_path: Path) -> None:
    from voiceguide.sound.mix import BED_FADE_OUT_MS, DUCK_FADE_MS, DUCK_MERGE_MS
    from voiceguide.sound.stream import bed_hold_ms

    assert bed_hold_ms() >= max(BED_FADE_OUT_MS, DUCK_MERGE_MS + DUCK_FADE_MS)
    path = routine_file(tmp_path, "20s")
    for bed, held in ((None, False), ("rain", True)):
        opened = open_stream(
            SessionRequest(path, mix=MixChoice(bed=bed)), engine=ToneEngine(),
            cache=PhraseCache(tmp_path / "c"), config=UserConfig(),
        )  # fmt: skip
        stream = opened.stream
        try:
            while not stream.done:
                stream.wait(1.0)
                if not stream.done:
                    assert (stream.final_end < stream.laid_out) == held or stream.final_end == 0
                    assert stream.safe_end <= stream.final_end
        finally:
            stream.close()
        assert stream.final_end == stream.laid_out  # all final once laid out whole


class GatedCache(PhraseCache):
    """A warm phrase cache whose reads stop after ``open_reads`` until the test opens it."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.open_reads: int | None = None
        self.reads = 0
        self.gate = threading.Event()

    def get(self, key: str) -> Speech | None:
        if self.open_reads is not None:
            self.reads += 1
            if self.reads > self.open_reads:
                self.gate.wait(30)
        return super().get(key)


def test_a_warm_start_plays_before_the_layout_is_whole_with_its_write_ahead_written(
    tmp_path: Path,
) -> None:
    cache = GatedCache(tmp_path)
    request = SessionRequest(load("press-reps"), CompileOptions(intro="none"), mix=MONO)
    open_session(request, engine=ToneEngine(), cache=cache, config=UserConfig())  # warm
    cache.open_reads = 6  # the first phrases read at once, the rest held back
    opened = open_stream(request, engine=ToneEngine(), cache=cache, config=UserConfig())
    stream = opened.stream
    output = ManualOutput()
    ahead = SR  # one second
    pb = Playback(stream, opened.clips, output, ahead_s=1.0)
    try:
        for _ in range(3):  # a few ticks: no waiting out a clock
            pb.tick()
        assert output.ring is not None  # started
        assert not stream.done  # before the layout is whole
        assert output.ring.written >= ahead  # the device's buffer and the write-ahead
        for _ in range(20):  # a device with no clock takes all there is at once
            output.take(output.ring.written - output.ring.taken + 1)
            pb.tick()
        assert stream.safe_end == pb.cursor  # caught up with what the cache let through
        assert (pb.mode, pb.waits, pb.said) == ("playing", 0, [])  # no wait: clips are coming
        assert output.ring.expecting  # the device waits for them
        cache.gate.set()
        short_takes = 0
        while not pb.done:
            pb.tick()
            ring = output.ring
            if ring.written - ring.taken < 2205 and not stream.done:
                stream.wait(0.5)  # as a device with a clock would: the rest is on its way
                continue
            before = ring.taken
            output.take(2205)
            short_takes += ring.taken - before < 2205 and not ring.ending
        timeline = stream.timeline()
    finally:
        cache.gate.set()
        stream.close()
    assert short_takes == 0  # the device never found the ring short: no gap
    assert np.array_equal(
        session_frames(pb, output), render(timeline, opened.clips, mix=opened.mix)
    )


class HeldEngine(ToneEngine):
    """Speaks as ToneEngine does, once ``go`` is set; ``asked`` is set when a phrase comes."""

    def __init__(self) -> None:
        super().__init__()
        self.go, self.asked = threading.Event(), threading.Event()

    def synthesize(self, text: str) -> Speech:
        self.asked.set()
        assert self.go.wait(30)
        return super().synthesize(text)


@pytest.mark.parametrize("aside", [True, False], ids=["an answer", "a phrase of the session"])
def test_an_answer_being_spoken_holds_nothing_of_the_session_up(aside: bool) -> None:
    # A clock-less device drains the ring at once; a pool counting an answer as the
    # session's speech made playback play a wait's silence there (not what export writes).
    from tests.test_speech import FakeSounds
    from voiceguide.sound.pool import ClipPool
    from voiceguide.sound.speech import SpeechClips

    engine = HeldEngine()
    pool = ClipPool(SpeechClips(engine, None, FakeSounds()), workers=1)
    try:
        pool.hurry("Paused.", aside=aside)
        assert engine.asked.wait(30)
        assert pool.speaking is not aside
        engine.go.set()
        assert pool.wait("Paused.", 30)
        assert not pool.speaking
    finally:
        engine.go.set()
        pool.close()
