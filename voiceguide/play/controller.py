"""Turn a command into an action: where the main audio goes on, whether it plays, what is said.

:class:`Controller` decides on the timeline alone (no device, no clock); playback
(:mod:`voiceguide.play.playback`) carries the :class:`Action` out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, assert_never

from voiceguide.compile import phrases
from voiceguide.compile.timeline import Timeline
from voiceguide.play.answers import resume_words, where_words
from voiceguide.play.keys import Command
from voiceguide.play.navigation import (
    last_instruction_start,
    next_step_start,
    previous_step_start,
    sound_start,
    steps_of,
)

Then = Literal["play", "pause", "quit"]

VOLUME_STEP_PCT = 10
MIN_VOLUME_PCT = 10
MAX_VOLUME_PCT = 100
"""The rendered level is already loudness-matched to full scale; louder would clip."""


@dataclass(frozen=True)
class Action:
    """What playback does next: say something (optional), then play or wait at ``at``."""

    then: Then
    at: int
    """The sample the main audio goes on from (or waits at)."""
    say: str | None = None
    """Spoken first, as an interjection, with the main audio stopped."""
    volume_pct: int | None = None
    """The new volume, when it changed."""


def next_volume(volume_pct: int, *, louder: bool) -> int:
    """The volume one step louder or softer than ``volume_pct`` (the same at either end)."""
    wanted = volume_pct + (VOLUME_STEP_PCT if louder else -VOLUME_STEP_PCT)
    lowest = min(MIN_VOLUME_PCT, volume_pct)  # --volume may start below it
    return max(lowest, min(MAX_VOLUME_PCT, wanted))


def volumes_from(volume_pct: int) -> list[int]:
    """Every volume the keys can reach from ``volume_pct``, in the order first reached."""
    found = [volume_pct]
    for volume in found:  # grows as it goes: a breadth-first walk
        for louder in (True, False):
            reached = next_volume(volume, louder=louder)
            if reached not in found:
                found.append(reached)
    return found


class Controller:
    """Turn commands into actions for one session."""

    def __init__(self, timeline: Timeline, *, volume_pct: int = 100) -> None:
        """Control ``timeline``, starting at ``volume_pct`` percent."""
        self.timeline = timeline
        self.steps = steps_of(timeline)
        self.volume_pct = volume_pct

    def fixed_sentences(self) -> list[str]:
        """Every answer whose words do not depend on where the session is, likeliest first.

        These are said again and again, so they are worth making ready once and keeping;
        the others ("Resuming: left side, hold, twelve seconds left.") are said once.
        """
        volumes = [phrases.volume(v) for v in volumes_from(self.volume_pct)]
        return [phrases.PAUSED, phrases.LOUDEST, phrases.QUIETEST, phrases.LAST_STEP, *volumes]

    def handle(self, command: Command, *, position: int, paused: bool) -> Action:
        """Decide what ``command`` does at ``position`` (playing, or paused there)."""
        timeline = self.timeline
        here = sound_start(timeline, position)
        carry_on: Then = "pause" if paused else "play"
        match command:
            case Command.QUIT:
                return Action("quit", here)
            case Command.SUSPEND:
                return Action("pause", here)
            case Command.PAUSE if paused:
                return Action("play", here, resume_words(timeline, here, self.steps))
            case Command.PAUSE:
                return Action("pause", here, phrases.PAUSED)
            case Command.WHERE:
                return Action(carry_on, here, where_words(timeline, self.steps, position))
            case Command.NEXT:
                target = next_step_start(self.steps, position)
                if target is None:
                    return Action(carry_on, here, phrases.LAST_STEP)
                return Action("play", target)
            case Command.PREVIOUS:
                return Action(
                    "play", previous_step_start(self.steps, position, timeline.sample_rate)
                )
            case Command.REPEAT:
                target = last_instruction_start(timeline, position)
                return Action("play", here if target is None else target)
            case Command.LOUDER | Command.SOFTER:
                louder = command is Command.LOUDER
                volume = next_volume(self.volume_pct, louder=louder)
                if volume == self.volume_pct:
                    return Action(carry_on, here, phrases.LOUDEST if louder else phrases.QUIETEST)
                self.volume_pct = volume
                # Playing, the change is heard at once; paused, it is said.
                say = phrases.volume(volume) if paused else None
                return Action(carry_on, here, say, volume_pct=volume)
            case _:
                assert_never(command)
