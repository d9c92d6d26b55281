"""What can be said: each phrase, the player command it gives, and when it gives it.

Every phrase starts with "guide", so that it is hard to say by accident, and ends in words
the recogniser tells apart well. The words were
chosen by measured recognition and confusion rates (tools/bench_listen.py, docs/listen.md):
short one-syllable endings ("guide back", "guide next", "guide stop") were heard wrongly far
more often than the phrases below.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from voiceguide.play.keys import Command


class Intent(enum.Enum):
    """What a phrase asks for; :func:`command_for` turns it into the player's command."""

    PAUSE = "pause"
    RESUME = "resume"
    REPEAT = "repeat"
    WHERE = "where"
    NEXT = "next"
    BACK = "back"
    LOUDER = "louder"
    SOFTER = "softer"
    STOP = "stop"


@dataclass(frozen=True)
class Phrase:
    """Words to say, and what they ask for."""

    words: str
    """Lower case, as the recogniser's dictionary spells them."""
    intent: Intent


PHRASES: tuple[Phrase, ...] = (
    Phrase("guide pause now", Intent.PAUSE),
    Phrase("guide resume", Intent.RESUME),
    Phrase("guide continue", Intent.RESUME),
    Phrase("guide repeat", Intent.REPEAT),
    Phrase("guide where am i", Intent.WHERE),
    Phrase("guide next step", Intent.NEXT),
    Phrase("guide previous", Intent.BACK),
    Phrase("guide volume up", Intent.LOUDER),
    Phrase("guide volume down", Intent.SOFTER),
    Phrase("guide stop now", Intent.STOP),
)
"""Everything that can be said, in the order ``voiceguide commands`` lists it."""

DOES: dict[Intent, str] = {
    Intent.PAUSE: "pause (while playing)",
    Intent.RESUME: "resume (while paused)",
    Intent.REPEAT: "repeat the last instruction",
    Intent.WHERE: "where am I: step, side, round and time left",
    Intent.NEXT: "next step",
    Intent.BACK: "previous step (twice: the one before)",
    Intent.LOUDER: "louder",
    Intent.SOFTER: "softer",
    Intent.STOP: "stop the session",
}
"""What each intent does, in the words of ``voiceguide play --help``."""

_COMMANDS: dict[Intent, Command] = {
    Intent.PAUSE: Command.PAUSE,
    Intent.RESUME: Command.PAUSE,
    Intent.REPEAT: Command.REPEAT,
    Intent.WHERE: Command.WHERE,
    Intent.NEXT: Command.NEXT,
    Intent.BACK: Command.PREVIOUS,
    Intent.LOUDER: Command.LOUDER,
    Intent.SOFTER: Command.SOFTER,
    Intent.STOP: Command.QUIT,
}


def command_for(intent: Intent, *, paused: bool) -> Command | None:
    """The player command ``intent`` gives now; ``None`` when it asks for what already is.

    The pause key toggles, but a voice does not: "pause" while paused, or "resume" while
    playing, does nothing (a second "pause" must not undo the first).
    """
    if intent is Intent.PAUSE and paused:
        return None
    if intent is Intent.RESUME and not paused:
        return None
    return _COMMANDS[intent]


def phrase_named(words: str) -> Phrase:
    """The phrase spelled ``words`` (case and spaces folded); ``KeyError`` if there is none."""
    wanted = " ".join(words.lower().split())
    for phrase in PHRASES:
        if phrase.words == wanted:
            return phrase
    raise KeyError(words)
