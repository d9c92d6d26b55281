"""The session cut into runs for the device, and the next run made ready ahead."""

from __future__ import annotations

import numpy as np

from tests.play_helpers import FakeClips, timeline_of
from voiceguide.play.runs import Runs, split_point
from voiceguide.sound.render import render


def test_split_point_without_a_breath_is_the_limit() -> None:
    timeline = timeline_of("press-reps")
    assert split_point(timeline, 20_000, 10_000, 5000) == 30_000  # inside a hold: no breath
    assert split_point(timeline, 0, 10**6, 5000) == timeline.total


def test_the_next_run_is_made_ready_when_due_and_used_only_where_it_starts() -> None:
    timeline = timeline_of("press-reps")
    events: list[str] = []
    runs = Runs(timeline, FakeClips(events=events), run_limit_ms=20_000)
    whole = render(timeline, FakeClips())
    first = runs.run_from(0, 1.0)
    assert (first.start, first.end) == (0, 17400)  # the breath after an instruction
    np.testing.assert_array_equal(first.samples, whole[:17400])
    assert runs.next_due(first, 0)  # 17.4 s to go, within 20 s: the next run is due
    runs.prepare_next(first, 0, 1.0)
    events.clear()
    second = runs.run_from(first.end, 1.0)
    assert events == []  # made ahead, so nothing is rendered now
    np.testing.assert_array_equal(second.samples, whole[first.end : second.end])
    runs.prepare_next(second, second.start, 1.0)
    runs.forget()  # a key changed the volume: what was made ahead is not played
    quieter = runs.run_from(second.end, 0.5)
    expected = render(timeline, FakeClips(), gain=0.5)[second.end : quieter.end]
    np.testing.assert_array_equal(quieter.samples, expected)
    for start, gain in ((0, 0.5), (quieter.end, 1.0)):  # another start, another gain
        assert runs.next_due(quieter, quieter.start)
        runs.prepare_next(quieter, quieter.start, 0.5)
        events.clear()
        runs.run_from(start, gain)
        assert events  # rendered afresh
