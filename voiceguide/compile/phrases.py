"""The words voiceguide itself says: press and release cues, progress, the introduction.

Routine authors write their own instructions; these are the sentences the
compiler generates around them. Numbers are spelt out so every engine says
them the same calm way.
"""

from __future__ import annotations

from voiceguide.script import placeholders
from voiceguide.script.model import Point, Pressure

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip

HALFWAY = "Halfway."
RELEASE_REST = "Release, and rest."
RELEASE_LAST = "Release, and let go."
PAUSED = "Paused."
ONE_MOMENT = "One moment."
"""Said, softly, when playback waits at a silence for speech still being made."""
STOPPING = "The session has to stop here, sooner than planned. The reason is on the screen."
"""Said when a session cannot go on (a prompt found not to fit, an engine that failed)."""
BEFORE_CAUTIONS = "Before we begin, a word of care."
SHORT_CARE = "As always, stop if anything hurts."
"""The one line of care of the short introduction."""


def number_words(n: int) -> str:
    """Spell out ``n`` (0–9999): 42 → 'forty-two'."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")
    thousands, rest = divmod(n, 1000)
    tail = "" if not rest else (" and " if rest < 100 else " ") + number_words(rest)
    return f"{number_words(thousands)} thousand{tail}"


def ordinal_words(n: int) -> str:
    """Spell out the ordinal of ``n``: 1 → 'first', 22 → 'twenty-second'."""
    words = number_words(n)
    head, sep, last = words.rpartition("-") if "-" in words else ("", "", words)
    if " " in last:
        head2, _, last = last.rpartition(" ")
        head, sep = (f"{head}{sep}{head2}", " ")
    if last in _ORDINALS:
        last = _ORDINALS[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}{sep}{last}"


def duration_words(ms: int) -> str:
    """Say a duration: 30000 → 'thirty seconds', 90000 → 'one minute and thirty seconds'."""
    seconds = max(1, round(ms / 1000))
    minutes, seconds = divmod(seconds, 60)
    parts = []
    if minutes:
        parts.append(f"{number_words(minutes)} minute{'s' if minutes != 1 else ''}")
    if seconds:
        parts.append(f"{number_words(seconds)} second{'s' if seconds != 1 else ''}")
    return " and ".join(parts)


def sentence(text: str) -> str:
    """Make ``text`` a spoken sentence: a capital first, a full stop last."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def locate(point: Point, *, brief: bool = False) -> str:
    """Describe where a point is and how to find it.

    ``brief``: a reminder for someone who knows the point. The brief form of ``where``
    stands for both ``where`` and ``find``, unless ``find`` has a brief of its own; without
    a brief form, the full text is said.
    """
    where, find = point.where, point.find
    if brief and point.where_brief:
        where, find = point.where_brief, point.find_brief
    elif brief and point.find_brief:
        find = point.find_brief
    parts = [f"Find {point.name}.", sentence(where)]
    if find:
        parts.append(sentence(find))
    return " ".join(parts)


def traditional_name(point: Point) -> str | None:
    """Say a point's traditional name, if it has one, after it is described.

    'These points are…' when the point's spoken name is plural ('the lower back points').
    """
    if not point.traditional:
        return None
    subject = "These points are" if "points" in point.name.split() else "This point is"
    return f"{subject} traditionally called {point.traditional.rstrip('.')}."


_PRESS = {"gentle": "Press gently", "medium": "Press steadily", "firm": "Press firmly"}


def press_first(pressure: Pressure, hold_ms: int, reps: int) -> str:
    """The cue before the first press of a step."""
    press = f"{_PRESS[pressure]}, and hold for {duration_words(hold_ms)}."
    if reps == 1:
        return press
    return f"First of {number_words(reps)}. {press}"


def press_next(rep: int, reps: int) -> str:
    """The cue at the end of a rest, just before the next press."""
    return f"{ordinal_words(rep).capitalize()} of {number_words(reps)}. Press."


def session_length(ms: int) -> str:
    """Say how long a session takes: 'This session takes about twelve minutes.'"""
    minutes = round(ms / 60_000)
    if minutes < 1:
        return "This session takes less than a minute."
    unit = "minute" if minutes == 1 else "minutes"
    return f"This session takes about {number_words(minutes)} {unit}."


def get_comfortable(posture: str | None) -> str:
    """The settling-in line of the introduction."""
    return f"Get comfortable, {posture.rstrip('.')}." if posture else "Get comfortable."


def session_round(round_: int, rounds: int) -> str:
    """Announce a repetition of the whole session (``--repeat``)."""
    return f"Round {number_words(round_)} of {number_words(rounds)}."


def side_title(side: str) -> str:
    """A chapter title for one side: 'right' → 'Right side'."""
    return sentence(side).rstrip(".") + ("" if " " in side else " side")


def fill(text: str, values: dict[str, str]) -> str:
    """Fill ``{side}``, ``{round}``… into an author's text: names only, never ``str.format``."""
    return placeholders.fill(text, values)


# -- answers to the keys during playback (voiceguide.play.answers chooses what is said) -------

LOUDEST = "This is as loud as it goes."
QUIETEST = "This is as quiet as it goes."
LAST_STEP = "This is the last step."
INTRODUCTION = "Introduction"
PHASE_NAMES = {
    "intro": "introduction",
    "find": "finding the point",
    "hold": "hold",
    "rest": "rest",
    "release": "release",
    "activity": "activity",
    "pause": "pause",
    "closing": "the end",
}
"""How a phase is named in an answer (the others go unnamed)."""


def volume(volume_pct: int) -> str:
    """Say a volume: 'Volume, eighty percent.'"""
    return f"Volume, {number_words(volume_pct)} percent."


def resuming(place: str) -> str:
    """What is said on resuming: 'Resuming: left side, hold, twelve seconds left.'"""
    return sentence(f"Resuming: {place}" if place else "Resuming")


def step_of(number: int, last: int) -> str:
    """Which step of how many: 'Step three of five' (step 0 is the introduction)."""
    return f"Step {number_words(number)} of {number_words(last)}" if number else INTRODUCTION


def step_named(number: int) -> str:
    """A step inside a sentence: 'step three', or 'the introduction'."""
    return f"step {number_words(number)}" if number else "the introduction"


def side_named(side: str) -> str:
    """A side inside a sentence: 'left side'."""
    return f"{side} side"


def round_of(round_: int, rounds: int) -> str:
    """Which round of a repeat: 'round two of three' ('round two' when it has one)."""
    of = f" of {number_words(rounds)}" if rounds > 1 else ""
    return f"round {number_words(round_)}{of}"


def press_of(press: int, presses: int, *, resting: bool) -> str:
    """Which press: 'second of three', or in the rest before it 'before the second of three'."""
    of = f"{ordinal_words(press)} of {number_words(presses)}"
    return f"before the {of}" if resting else of


def time_left(ms: int) -> str:
    """Time left in a phase: 'twelve seconds left'."""
    return f"{duration_words(ms)} left"


def session_left(ms: int) -> str:
    """Time left in the session: 'about four minutes left in the session' (seconds under two)."""
    if ms < 120_000:
        return f"{duration_words(ms)} left in the session"
    return f"about {number_words(round(ms / 60_000))} minutes left in the session"
