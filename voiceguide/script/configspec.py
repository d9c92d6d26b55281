"""The user's config file, key by key: what ``config.yaml`` may set, checked like a routine.

:mod:`voiceguide.script.config` reads the file with this spec; ``tools/gen_format_docs.py``
writes its reference into ``docs/cli.md``.
"""

from __future__ import annotations

from voiceguide.prefs import DETAIL_SETTINGS, INTRO_SETTINGS
from voiceguide.script.bounds import (
    BED_LEVEL_LUFS,
    BED_TEXT,
    CHANNELS,
    ENGINE,
    MAX_PACE,
    MIN_PACE,
    PITCH,
    RATE_WPM,
    VOICE,
    VOICE_DEFAULTS,
    VOLUME_PCT,
)
from voiceguide.script.kinds import Boolean, Choice, Key, Number, ObjectSpec, Text

CONFIG = ObjectSpec(
    "config",
    "Your own defaults, in `config.yaml` in your config folder. A routine's `settings` and the "
    "command line override each. A key with no value is not set.",
    (
        Key("engine", ENGINE, "Speech engine.", default=VOICE_DEFAULTS.engine),
        Key(
            "voice",
            VOICE,
            "A voice of that engine (`voiceguide voices`); used when the engine in use is the "
            "one `engine` names.",
        ),
        Key("rate", RATE_WPM, "Speaking rate in words per minute.", default="150"),
        Key("pitch", PITCH, "Voice pitch, 0 (low) to 100 (high); espeak only.", default="50"),
        Key("volume", VOLUME_PCT, "Volume in percent.", default="100"),
        Key(
            "voice_model",
            Text(max_chars=4_096, placeholders=False, numbers=False),
            "A Piper voice model of your own (`.onnx`); relative to the config's folder.",
        ),
        Key(
            "pace",
            Number(MIN_PACE, MAX_PACE),
            "Multiply holds, rests, finds and pauses (not speech) by this: 1.25 is slower.",
            default="1",
        ),
        Key(
            "intro",
            Choice(INTRO_SETTINGS),
            "The introduction: `full` (title, posture, every caution, the length), `short` (the "
            "title, one line of care, the length), `none`, or `auto`: `play` gives the full one "
            "the first time, when the cautions changed and every 30 days, else the short one "
            "(`show` and `export` give the full one).",
            default="auto",
        ),
        Key(
            "detail",
            Choice(DETAIL_SETTINGS),
            "The instructions: `full`, `brief` (each text's `brief` where it has one), or `auto`: "
            "`play` gives full ones until the routine has been played whole three times, then "
            "brief ones (`show` and `export` give full ones).",
            default="auto",
        ),
        Key("tones", Boolean(), "Play the press, release and other sounds.", default="true"),
        Key(
            "channels",
            Choice(tuple(CHANNELS)),
            "`stereo` leans each side's cues to that ear; `mono` is one channel, for one speaker.",
            default="stereo",
        ),
        Key(
            "bed",
            BED_TEXT,
            "A quiet sound under every session, softer under speech: `rain`, `drone`, `waves`, "
            "`none`, or a sound file (relative to the config's folder), which loops. A routine's "
            "own `bed` comes first.",
            default="none",
        ),
        Key(
            "bed_level",
            Number(*BED_LEVEL_LUFS),
            "How loud the bed is where nothing is said, in LUFS.",
            default="-26",
        ),
        Key(
            "history",
            Boolean(),
            "Record each `play` in your practice history (`voiceguide history`).",
            default="true",
        ),
        Key(
            "mpris",
            Boolean(),
            "Offer each `play` to headset buttons, media keys and phone remotes (MPRIS).",
            default="true",
        ),
        Key(
            "listen",
            Boolean(),
            "Listen for voice commands while a session plays (`play --listen`; "
            "see docs/listen.md).",
            default="false",
        ),
    ),
    blank_is_unset=True,
)
