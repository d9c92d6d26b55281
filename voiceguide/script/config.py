"""The user's own defaults: ``config.yaml`` in the user's config folder.

A small flat file, read when a session starts; a command-line option or a routine's
``settings`` overrides each value. Example::

    engine: piper                          # espeak (default) or piper
    voice: joe                             # a voice of that engine ('voiceguide voices')
    rate: 140                              # words per minute, 80 to 400
    voice_model: ~/voices/en_GB-alba-medium.onnx   # a Piper model of your own
    intro: short                           # full, short, auto (default) or none
    channels: mono                         # one speaker

Every key is in :data:`voiceguide.script.configspec.CONFIG` (and docs/cli.md). ``voice``
applies when the engine in use is the one ``engine`` names (espeak if none),
``voice_model`` whenever the engine in use is piper. A relative ``voice_model`` or ``bed``
file is relative to the config file's folder. It is read and checked like a routine (the
same reader and checker): every problem is reported, each on a line naming
``path:line:column`` and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voiceguide import paths
from voiceguide.errors import NotFoundError, Position, Problem, ScriptError, UsageError
from voiceguide.prefs import (
    DETAIL_SETTINGS,
    INTRO_SETTINGS,
    DetailSetting,
    IntroSetting,
    PlaybackPrefs,
    VoicePrefs,
)
from voiceguide.script import spec
from voiceguide.script.checked import Fields

MAX_CONFIG_BYTES = spec.MAX_TEXT_BYTES
KEYS = tuple(key.name for key in spec.CONFIG.keys)


class ConfigError(UsageError):
    """The user's config file is invalid (exits as invalid usage); one line a problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(dict.fromkeys(problems), key=lambda p: p.position)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class UserConfig:
    """What the user's config file sets; ``None`` leaves a value to the built-in default."""

    prefs: VoicePrefs = field(default_factory=VoicePrefs)
    """The voice the user prefers (engine, voice, rate, pitch, volume, voice model)."""
    path: Path | None = None
    """The file it was read from, if there was one."""
    playback: PlaybackPrefs = field(default_factory=PlaybackPrefs)
    """The rest of a session the user prefers (introduction, detail, pace, tones, bed…)."""
    positions: dict[str, Position] = field(default_factory=dict, compare=False)
    """Where each key set was written."""


def config_path() -> Path:
    """Return where the user's config file lives."""
    return paths.user_config_file()


def load_user_config(path: Path | None = None) -> UserConfig:
    """Read the user's config file; a missing file gives an empty config."""
    import yaml

    from voiceguide.script.checker import Checker
    from voiceguide.script.source import not_shown, read_source
    from voiceguide.script.yamltext import describe

    path = path if path is not None else config_path()
    try:
        source = read_source(path, str(path), limit=MAX_CONFIG_BYTES, what="config file")
    except NotFoundError as error:
        if not _exists(path):
            return UserConfig()
        raise ConfigError([Problem(_start(path), str(error).removeprefix(f"{path}: "))]) from None
    except ScriptError as error:
        raise ConfigError(error.problems) from None
    if source.root is None:
        return UserConfig(path=path)
    checker = Checker(source)
    fields = None
    if isinstance(source.root, yaml.MappingNode):
        fields = checker.mapping(source.root, spec.CONFIG, "config")
    else:  # not quoted: a config file might be a link to anything
        got = describe(source.root, quotable=False)
        checker.problem(source.root, f"config: expected config keys, got {got}")
    model = bed = None
    if fields is not None:
        model = _file(fields, "voice_model", path, checker.problems)
        bed = _bed(fields, path, checker.problems)
    if checker.problems:
        if not source.quotable:
            raise ConfigError([not_shown(str(path), "config file")])
        raise ConfigError(checker.problems)
    assert fields is not None
    prefs = VoicePrefs(
        engine=fields.text("engine"),
        voice=fields.text("voice"),
        rate_wpm=fields.number("rate"),
        pitch=fields.number("pitch"),
        volume_pct=fields.number("volume"),
        voice_model=model,
    )
    channels = fields.text("channels")
    playback = PlaybackPrefs(
        intro=_intro(fields.text("intro")),
        detail=_detail(fields.text("detail")),
        pace=fields.decimal("pace"),
        tones=fields.flag("tones"),
        channels=spec.CHANNELS[channels] if channels is not None else None,
        bed=bed,
        bed_level_lufs=fields.decimal("bed_level"),
        history=fields.flag("history"),
        mpris=fields.flag("mpris"),
        listen=fields.flag("listen"),
    )
    positions = {key: fields.at(key) for key in fields.values}
    return UserConfig(prefs=prefs, path=path, playback=playback, positions=positions)


def _file(fields: Fields, key: str, config: Path, problems: list[Problem]) -> Path | None:
    """The file a key names, relative to the config's folder; a problem if there is none."""
    text = fields.text(key)
    if text is None:
        return None
    raw = Path(text).expanduser()
    found = raw if raw.is_absolute() else config.parent / raw
    if not _is_file(found):
        problems.append(Problem(fields.at(key), f"{key}: no such file {found}"))
    return found


def _bed(fields: Fields, config: Path, problems: list[Problem]) -> str | None:
    """``bed``: a built-in bed's name, ``none``, or a sound file relative to the config."""
    name = fields.text("bed")
    if name is None or name in spec.BED_NAMES or name.lower() in spec.NO_BED:
        return name
    if "/" in name or "." in name:
        found = _file(fields, "bed", config, problems)
        return str(found) if found is not None else None
    from voiceguide.script.yamltext import quoted, suggest

    problems.append(
        Problem(
            fields.at("bed"),
            f"bed: expected one of {', '.join((*spec.BED_NAMES, 'none'))} or a sound file, "
            f"got {quoted(name)}{suggest(name, spec.BED_NAMES)}",
        )
    )
    return None


def _intro(text: str | None) -> IntroSetting | None:
    return next((kind for kind in INTRO_SETTINGS if kind == text), None)


def _detail(text: str | None) -> DetailSetting | None:
    return next((kind for kind in DETAIL_SETTINGS if kind == text), None)


def _start(path: Path) -> Position:
    return Position(str(path), 1, 1)


def _exists(path: Path) -> bool:
    try:
        path.lstat()
    except OSError:
        return False
    return True


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False
