"""A session played while it is made, with real speech: waits, "One moment.", nothing lost."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.play_helpers import play_until_done, session_frames
from tests.test_compiler import load
from voiceguide.app.session import SessionRequest, open_stream
from voiceguide.compile import phrases
from voiceguide.compile.compiler import CompileOptions
from voiceguide.compile.timeline import Timeline
from voiceguide.play.device import ManualOutput
from voiceguide.play.interfaces import NoView, Status
from voiceguide.play.keys import Command
from voiceguide.play.playback import Playback
from voiceguide.play.speaking import ANSWERS_AHEAD_S
from voiceguide.script.config import UserConfig
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.engines.base import Speech, Voice
from voiceguide.sound.engines.espeak import Pyttsx3Engine
from voiceguide.sound.render import render

pytestmark = pytest.mark.audio


class SlowEngine:
    """espeak-ng, but each phrase takes ``delay_s`` longer: a slow machine."""

    def __init__(self, delay_s: float) -> None:
        self.inner = Pyttsx3Engine()
        self.name = self.inner.name
        self.delay_s = delay_s
        self.spoken: list[str] = []

    def identity(self) -> str:
        return self.inner.identity()

    def voices(self) -> list[Voice]:
        return self.inner.voices()

    def synthesize(self, text: str) -> Speech:
        time.sleep(self.delay_s)
        self.spoken.append(text)
        return self.inner.synthesize(text)

    def close(self) -> None:
        self.inner.close()


def test_on_a_cold_cache_the_sessions_next_phrases_come_before_the_fixed_answers(
    tmp_path: Path,
) -> None:
    engine = SlowEngine(0.05)
    request = SessionRequest(load("press-reps"))  # its introduction: short phrases
    opened = open_stream(request, engine=engine, cache=PhraseCache(tmp_path), config=UserConfig())
    pb = Playback(opened.stream, opened.clips, ManualOutput())  # heard stays at 0

    def quit_once_paused_is_made() -> None:
        deadline = time.monotonic() + 60
        while phrases.PAUSED not in engine.spoken and time.monotonic() < deadline:
            time.sleep(0.01)
        pb.submit(Command.QUIT)

    watcher = threading.Thread(target=quit_once_paused_is_made)
    watcher.start()
    try:
        assert pb.run() == "quit"
        laid = opened.stream.timeline()
    finally:
        watcher.join()
        opened.stream.close()
    assert engine.spoken.index(phrases.ONE_MOMENT) < 3  # made at once, for a wait
    early = [
        c.text for c in laid.cues
        if c.kind == "speech" and c.start < ANSWERS_AHEAD_S * laid.sample_rate
    ]  # fmt: skip
    assert len(early) >= 2
    assert phrases.PAUSED in engine.spoken
    assert max(map(engine.spoken.index, early)) < engine.spoken.index(phrases.PAUSED)


class KnownEnd(NoView):
    """A view that notes each time what is heard was past the end of the timeline it had."""

    def __init__(self) -> None:
        self.end = 0
        self.late: list[tuple[int, int]] = []

    def laid_out(self, timeline: Timeline) -> None:
        self.end = timeline.cues[-1].end if timeline.cues else 0

    def update(self, status: Status) -> None:
        if status.position > self.end:
            self.late.append((status.position, self.end))


def test_the_view_knows_each_cue_before_it_is_heard_while_the_session_is_made(
    tmp_path: Path,
) -> None:
    engine = SlowEngine(0.3)  # the layout stays just ahead of what is heard
    request = SessionRequest(load("press-reps"), CompileOptions(intro="none"))
    opened = open_stream(request, engine=engine, cache=PhraseCache(tmp_path), config=UserConfig())
    output = ManualOutput()
    view = KnownEnd()
    pb = Playback(opened.stream, opened.clips, output, view=view)
    try:
        play_until_done(pb, output, frames=2205, pause_s=0.005)  # the device takes 0.1 s a turn
    finally:
        opened.stream.close()
    assert pb.mode == "finished"
    assert view.late == []


def test_slow_synthesis_waits_at_a_silence_says_one_moment_and_loses_nothing(
    tmp_path: Path,
) -> None:
    engine = SlowEngine(0.4)
    request = SessionRequest(load("press-reps"), CompileOptions(intro="none"))
    opened = open_stream(request, engine=engine, cache=PhraseCache(tmp_path), config=UserConfig())
    output = ManualOutput()
    pb = Playback(opened.stream, opened.clips, output)
    try:
        # 0.5 s a turn, far faster than real time
        play_until_done(pb, output, frames=11_025, pause_s=0.005)
        assert pb.mode == "finished"
        timeline = opened.stream.timeline()
    finally:
        opened.stream.close()
    assert pb.waits >= 1
    assert pb.said.count(phrases.ONE_MOMENT) <= pb.waits  # at most once a wait
    assert phrases.ONE_MOMENT in pb.said
    # What the device took is the session, every sample once, with only answers between.
    for span in pb.spans:
        if span.inserted is not None:
            assert span.inserted == phrases.ONE_MOMENT
            before = [c for c in timeline.cues if c.end == span.at]
            assert before, span  # between two cues, never inside one
            assert before[0].phase not in ("hold", "rest"), span  # never inside a timed phase
    assert np.array_equal(
        session_frames(pb, output), render(timeline, opened.clips, mix=opened.mix)
    )
    assert sorted(engine.spoken) == sorted(set(engine.spoken))  # each phrase spoken once
