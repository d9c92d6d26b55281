"""A session played while it is made, with real speech: waits, "One moment.", nothing lost."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from tests.play_helpers import session_frames
from tests.test_compiler import load
from voiceguide.app.session import SessionRequest, open_stream
from voiceguide.compile import phrases
from voiceguide.compile.compiler import CompileOptions
from voiceguide.play.device import ManualOutput
from voiceguide.play.playback import Playback
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


def test_slow_synthesis_waits_at_a_silence_says_one_moment_and_loses_nothing(
    tmp_path: Path,
) -> None:
    engine = SlowEngine(0.4)
    request = SessionRequest(load("press-reps"), CompileOptions(intro="none"))
    opened = open_stream(request, engine=engine, cache=PhraseCache(tmp_path), config=UserConfig())
    output = ManualOutput()
    pb = Playback(opened.stream, opened.clips, output)
    try:
        for _ in range(20_000):  # the device takes 0.5 s a turn, far faster than real time
            pb.tick()
            if output.ring is not None:
                output.take(11_025)
            if pb.done:
                break
            time.sleep(0.005)
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
