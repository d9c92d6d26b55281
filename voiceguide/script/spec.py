"""The routine format, key by key: the one description the loader checks against.

The checker (:mod:`voiceguide.script.checker`) validates routines, point libraries and
the user's config (:mod:`voiceguide.script.configspec`) with these specs, :mod:`voiceguide.script.schema` turns them into a
JSON Schema, and ``tools/gen_format_docs.py`` into ``docs/format-reference.md``. Change
the format here and all three follow. The kinds of value are in
:mod:`voiceguide.script.kinds`.
"""

from __future__ import annotations

from voiceguide.script.bounds import (
    BED_LEVEL_LUFS,
    BED_NAMES,
    BED_TEXT,
    CHANNELS,
    DEFAULT_VOICE,
    ENGINE,
    ENGINES,
    FIT_LONGEST_PCT,
    FIT_MOST_REPS_PCT,
    FIT_SHORTEST_PCT,
    HOUR_MS,
    MAX_CUES,
    MAX_DEPTH,
    MAX_INCLUDE_DEPTH,
    MAX_NODES,
    MAX_PACE,
    MAX_SCRIPT_BYTES,
    MAX_SESSION_MS,
    MAX_TEXT_BYTES,
    MIN_PACE,
    MINUTE_MS,
    NO_BED,
    PITCH,
    PLACEHOLDERS,
    PLAYBACK_DEFAULTS,
    RATE_WPM,
    REPEAT,
    SAID,
    SAID_AS_IS,
    SECOND_MS,
    SESSION_LENGTH,
    SOUND_NAMES,
    VOICE,
    VOICE_DEFAULTS,
    VOLUME_PCT,
)
from voiceguide.script.configspec import CONFIG
from voiceguide.script.kinds import (
    Boolean,
    Choice,
    Duration,
    Integer,
    Key,
    Kind,
    ListOf,
    MapOf,
    Moment,
    Name,
    Number,
    Object,
    ObjectSpec,
    Steps,
    StepSpec,
    Text,
    Words,
)

__all__ = [
    "BED_LEVEL_LUFS", "BED_NAMES", "BED_TEXT", "CHANNELS", "CONFIG", "DEFAULT_VOICE", "ENGINE",
    "ENGINES", "FIT_LONGEST_PCT", "FIT_MOST_REPS_PCT", "FIT_SHORTEST_PCT", "HOUR_MS",
    "MAX_CUES", "MAX_DEPTH", "MAX_INCLUDE_DEPTH", "MAX_NODES", "MAX_PACE", "MAX_SCRIPT_BYTES",
    "MAX_SESSION_MS", "MAX_TEXT_BYTES", "MINUTE_MS", "MIN_PACE", "NO_BED", "PITCH",
    "PLACEHOLDERS", "PLAYBACK_DEFAULTS", "RATE_WPM", "REPEAT", "SAID", "SAID_AS_IS",
    "SECOND_MS", "SESSION_LENGTH", "SOUND_NAMES", "VOICE", "VOICE_DEFAULTS", "VOLUME_PCT",
    "Boolean", "Choice", "Duration", "Integer", "Key", "Kind", "ListOf", "MapOf", "Moment",
    "Name", "Number", "Object", "ObjectSpec", "StepSpec", "Steps", "Text", "Words",
]  # fmt: skip
# The bounds (voiceguide.script.bounds) and the config's keys (voiceguide.script.configspec)
# are read through this module too: spec.RATE_WPM, spec.CONFIG.

HOLD = Duration(SECOND_MS, 10 * MINUTE_MS, flexible=True)
REST = Duration(SECOND_MS, 10 * MINUTE_MS, flexible=True)
PAUSE = Duration(100, HOUR_MS, flexible=True)
ACTIVITY_FOR = Duration(SECOND_MS, HOUR_MS, flexible=True)
REPS = Integer(1, 50, flexible=True)

TITLE = Key(
    "title", Text(max_chars=120, placeholders=False), "Chapter title for exports and the live view."
)

PROMPT = ObjectSpec(
    "prompt",
    "Something said at a moment inside a hold or an activity. It must fit before the phase ends.",
    (
        Key(
            "at",
            Moment(),
            "When: a time from the start of the phase (`10s`) or a percentage of it (`50%`).",
            required=True,
        ),
        Key("say", SAID, "What is said.", required=True),
    ),
)

SETTINGS = ObjectSpec(
    "settings",
    "How the routine sounds and is paced. Command-line options override these.",
    (
        Key(
            "rate",
            RATE_WPM,
            "Speaking rate in words per minute.",
            default=str(VOICE_DEFAULTS.rate_wpm),
        ),
        Key(
            "voice",
            VOICE,
            "Voice id or name, as `voiceguide voices` lists them.",
        ),
        Key(
            "pitch",
            PITCH,
            "Voice pitch, 0 (low) to 100 (high).",
            default=str(VOICE_DEFAULTS.pitch),
        ),
        Key("volume", VOLUME_PCT, "Volume in percent.", default=str(VOICE_DEFAULTS.volume_pct)),
        Key("engine", ENGINE, "Speech engine.", default=VOICE_DEFAULTS.engine),
        Key(
            "find",
            Duration(0, 5 * MINUTE_MS),
            "Quiet time to find a point after it is described, before the first press.",
            default="5s",
        ),
        Key(
            "rest",
            Duration(SECOND_MS, 10 * MINUTE_MS),
            "Rest between repetitions when a `press` does not say.",
            default="10s",
        ),
        Key(
            "lead_in",
            Duration(0, 2 * MINUTE_MS),
            "Quiet time after the introduction, before the first instruction.",
            default="5s",
        ),
        Key(
            "tones",
            Boolean(),
            "Play the press, release, switch, start and end sounds.",
            default="true",
        ),
        Key(
            "bed",
            Text(max_chars=300, placeholders=False, numbers=False),
            "A quiet sound under the whole session, softer under speech: `rain`, `drone`, "
            "`waves`, `none`, or a sound file relative to this file, which loops.",
            default="none",
        ),
    ),
)

POINT = ObjectSpec(
    "point",
    "An acupressure point in the point library. Routines refer to it by its key.",
    (
        Key(
            "name",
            Text(max_chars=200, placeholders=False),
            "How the point is named when spoken.",
            required=True,
        ),
        Key(
            "where",
            SAID_AS_IS,
            "Where it is, in words a listener can follow with eyes closed. Its `brief` is said "
            "instead of both `where` and `find` with brief instructions (`--detail brief`).",
            required=True,
        ),
        Key(
            "find",
            SAID_AS_IS,
            "How to find it by touch: landmarks, finger-widths. With brief instructions only its "
            "`brief` is said, if it has one.",
        ),
        Key(
            "traditional",
            Text(max_chars=120, placeholders=False),
            "Its traditional name, as said after the point is described: `the Sea of Vitality` "
            "gives 'This point is traditionally called the Sea of Vitality.'",
        ),
        Key(
            "also",
            ListOf(Text(max_chars=200, placeholders=False), max_items=10),
            "Other names, such as a meridian code. Documentation only: never spoken.",
        ),
        Key(
            "pressure",
            Choice(("gentle", "medium", "firm")),
            "The pressure the point takes.",
            default="firm",
        ),
        Key(
            "cautions",
            ListOf(Text(placeholders=False), max_items=20),
            "Cautions spoken before a routine that presses this point.",
        ),
        Key(
            "helps",
            Text(placeholders=False),
            "What the source says it is used for. Documentation only: never spoken.",
        ),
    ),
)

PRESS = ObjectSpec(
    "press",
    "Describe a point, give time to find it, then press and hold it `reps` times with rests between. "
    "Press and release are marked by sounds; speech inside a hold or rest must fit inside it.",
    (
        Key("point", Name(), "The point's key in the point library.", required=True),
        Key(
            "hold",
            HOLD,
            "How long each press lasts, from the press sound to the release sound. "
            "`{for: 30s, min: 20s}` keeps `--length` from making it shorter than `min`.",
            required=True,
        ),
        Key(
            "reps",
            REPS,
            "How many times to press. `{count: 3, min: 2, max: 4}` bounds what `--length` may "
            "make of it.",
            default="1",
        ),
        Key(
            "rest",
            REST,
            "Rest between presses, from the release sound to the next press sound.",
            default="settings.rest",
        ),
        Key(
            "find",
            Duration(0, 5 * MINUTE_MS),
            "Quiet time to find the point before the first press.",
            default="settings.find",
        ),
        Key(
            "pressure",
            Choice(("gentle", "medium", "firm")),
            "Overrides the point's pressure.",
            default="the point's",
        ),
        Key("say", SAID, "Said instead of the generated description of where the point is."),
        Key("prompts", ListOf(Object(PROMPT), max_items=50), "Things said during each hold."),
        Key(
            "countdown", Integer(0, 30), "Soft ticks on the last seconds of each hold.", default="0"
        ),
        Key("halfway", Boolean(), "Say 'halfway' in the middle of each hold.", default="false"),
        TITLE,
    ),
)

ACTIVITY = ObjectSpec(
    "activity",
    "A timed activity without press and release sounds, such as a massage: an instruction, "
    "then exactly `for` of time, then a closing word.",
    (
        Key("say", SAID, "The instruction, said before the time starts.", required=True),
        Key(
            "for",
            ACTIVITY_FOR,
            "How long the activity lasts.",
            required=True,
        ),
        Key("done", SAID, "Said when the time is up.", default="And stop. Let your hands rest."),
        Key("prompts", ListOf(Object(PROMPT), max_items=50), "Things said during the activity."),
        Key("countdown", Integer(0, 30), "Soft ticks on the last seconds.", default="0"),
        Key("halfway", Boolean(), "Say 'halfway' in the middle.", default="false"),
        TITLE,
    ),
)

STEP_SPECS: tuple[StepSpec, ...] = (
    StepSpec(
        "say",
        SAID,
        "Speak an instruction. It takes as long as it takes to say. With `{text: …, brief: …}`, "
        "the brief form is said instead with brief instructions (`--detail brief`).",
        "- say: Sit comfortably on a chair.\n"
        "- say:\n    text: Lie on your back, knees bent, feet flat on the floor.\n"
        "    brief: Lie on your back, knees bent.",
        (TITLE,),
    ),
    StepSpec(
        "pause",
        PAUSE,
        "Silence for exactly this long (`{for: 30s, min: 10s}`: no shorter than 10s with "
        "`--length`).",
        "- pause: 5s",
        (TITLE,),
    ),
    StepSpec(
        "press",
        Object(PRESS),
        PRESS.doc,
        "- press:\n    point: hand-valley\n    hold: 30s\n    reps: 3\n    rest: 10s\n    countdown: 3\n"
        "    prompts:\n      - {at: 50%, say: Breathe out slowly.}",
    ),
    StepSpec(
        "activity",
        Object(ACTIVITY),
        ACTIVITY.doc,
        "- activity:\n    say: Massage the sole of your {side} foot.\n    for: 1m",
    ),
    StepSpec(
        "sides",
        ListOf(Text(max_chars=40, placeholders=False), min_items=1, max_items=4),
        "Run `steps` once for each side; `{side}` in their text names the side. "
        "A switch sound plays between sides.",
        "- sides: [right, left]\n  steps:\n    - say: Now your {side} hand.",
        (Key("steps", Steps(), "The steps to run for each side.", required=True), TITLE),
        fills=("side",),
    ),
    StepSpec(
        "repeat",
        Integer(1, 100),
        "Run `steps` this many times; `{round}`, `{rounds}` and `{ordinal}` fill in.",
        "- repeat: 3\n  steps:\n    - say: Round {round} of {rounds}.",
        (Key("steps", Steps(), "The steps to repeat.", required=True), TITLE),
        fills=("round", "rounds", "ordinal"),
    ),
    StepSpec(
        "include",
        Text(max_chars=300, placeholders=False),
        "The steps of another routine, in place: a built-in or user routine name, or a path "
        "relative to this file, in its folder or below. Its cautions join this routine's.",
        "- include: elbow",
        (TITLE,),
    ),
    StepSpec(
        "sound",
        Text(max_chars=300, placeholders=False),
        "Play a sound: press, release, tick, switch, start, end, or a sound file relative to this file, in its folder or below.",
        "- sound: switch",
        (TITLE,),
    ),
)

STEP_KEYS = tuple(s.key for s in STEP_SPECS)

ROUTINE = ObjectSpec(
    "routine",
    "A routine script.",
    (
        Key(
            "title",
            Text(max_chars=120, placeholders=False),
            "The routine's title, spoken at the start.",
            required=True,
        ),
        Key("summary", Text(placeholders=False), "One or two sentences on what the routine does."),
        Key(
            "posture",
            Text(max_chars=200, placeholders=False),
            "How to sit or lie, completing 'get comfortable, …': 'lying on your back'.",
        ),
        Key(
            "cautions",
            ListOf(Text(placeholders=False), max_items=20),
            "Spoken before the practice.",
        ),
        Key("settings", Object(SETTINGS), SETTINGS.doc),
        Key(
            "points",
            MapOf(POINT),
            "Points this routine defines or overrides, by key. The shared library is `scripts/points.yaml`.",
        ),
        Key("steps", Steps(), "What to do, in order.", required=True),
    ),
)

POINT_LIBRARY = ObjectSpec(
    "point library",
    "A file of points shared by routines.",
    (Key("points", MapOf(POINT), "Points by key.", required=True),),
)
