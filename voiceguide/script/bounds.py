"""Bounds and defaults of the format, written once: sizes, rates, volumes, paces, lengths.

:mod:`voiceguide.script.spec` (the routine format) and :mod:`voiceguide.script.configspec`
(the user's config) build on these; the command line checks its options against them.
"""

from __future__ import annotations

from voiceguide.prefs import PlaybackPrefs, VoicePrefs, VoiceSettings, resolve
from voiceguide.script.kinds import Choice, Duration, Integer, Text, Words

SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
HOUR_MS = 60 * MINUTE_MS

MAX_SCRIPT_BYTES = 1_048_576
"""Scripts larger than this are refused before parsing."""
MAX_NODES = 50_000
"""Bound on YAML nodes visited, aliases expanded: a 'billion laughs' file stops here."""
MAX_DEPTH = 40
"""Bound on nesting depth."""
MAX_SESSION_MS = 6 * HOUR_MS
"""Longest session: a routine as written, and a session as compiled, last at most this."""
MAX_CUES = 200_000
"""Most cues a session may hold; bounded from the routine's counts before it is laid out."""
MAX_INCLUDE_DEPTH = 8
MAX_TEXT_BYTES = 65_536
"""Config files and other small YAML files larger than this are refused."""

PLACEHOLDERS = {
    "side": "the current side, inside `sides`",
    "round": "the current round number, inside `repeat`",
    "rounds": "the number of rounds, inside `repeat`",
    "ordinal": "the current round as a word (first, second…), inside `repeat`",
}


ENGINES = ("espeak", "piper")
"""The speech engines, the default first."""
RATE_WPM = Integer(80, 400)
"""Speaking rate in words per minute, wherever a user sets it."""
PITCH = Integer(0, 100)
VOLUME_PCT = Integer(1, 100)
VOICE_DEFAULTS = VoicePrefs(engine=ENGINES[0], rate_wpm=150, pitch=50, volume_pct=100)
"""The voice when nothing else says: 150 wpm is a calm guidance pace (espeak-ng's own is 175)."""
DEFAULT_VOICE: VoiceSettings = resolve(VoicePrefs(), VoicePrefs(), VoicePrefs(), VOICE_DEFAULTS)
"""The defaults settled: what an engine made without settings speaks with."""
MIN_PACE, MAX_PACE = 0.25, 4.0
"""How far ``pace`` may scale holds, rests and pauses."""
BED_LEVEL_LUFS = (-40.0, -20.0)
"""How loud a bed may be set where nothing is said (its default: -26 LUFS)."""
REPEAT = Integer(1, 20)
"""How many times a whole session may run."""
SESSION_LENGTH = Duration(MINUTE_MS, MAX_SESSION_MS)
"""How long a session may be asked to last (``--length``)."""
ENGINE = Choice(ENGINES)
VOICE = Text(max_chars=200, placeholders=False, numbers=False)
SAID = Words()
"""Something said, with placeholders: text, or ``{text: …, brief: …}``."""
SAID_AS_IS = Words(Text(placeholders=False))
"""Something said without placeholders (a point's description)."""

FIT_SHORTEST_PCT = 50
"""Without a declared ``min:``, fitting to a length shortens a duration to half at most."""
FIT_LONGEST_PCT = 200
"""Without a declared ``max:``, fitting to a length makes a duration twice as long at most."""
FIT_MOST_REPS_PCT = 200
"""Without a declared ``max:``, fitting to a length at most doubles a press's ``reps``."""
CHANNELS = {"mono": 1, "stereo": 2}
"""The ``channels`` a session may have, by name."""
BED_TEXT = Text(max_chars=4_096, placeholders=False, numbers=False)

PLAYBACK_DEFAULTS = PlaybackPrefs(
    intro="auto",
    detail="auto",
    pace=1.0,
    tones=True,
    channels=CHANNELS["stereo"],
    bed="none",
    bed_level_lufs=-26.0,
    history=True,
    mpris=True,
    listen=False,
)
"""The rest of a session when nothing else says (the config keys' defaults above)."""

SOUND_NAMES = ("press", "release", "tick", "switch", "start", "end")
"""The built-in sound vocabulary (files in ``audio/``)."""

BED_NAMES = ("rain", "drone", "waves")
"""The built-in sound beds (made by :mod:`voiceguide.sound.bedgen`)."""
NO_BED = ("none", "off")
"""What turns a bed off."""
