"""The user's own defaults: ``config.yaml`` in the user's config folder.

A small flat file, read when a session starts; a command-line option or a routine's
``settings`` overrides each value. Example::

    engine: piper                          # espeak (default) or piper
    voice: joe                             # a voice of that engine ('voiceguide voices')
    rate: 140                              # words per minute, 80 to 400
    voice_model: ~/voices/en_GB-alba-medium.onnx   # a Piper model of your own

``voice`` applies when the engine in use is the one ``engine`` names (espeak if none),
``voice_model`` whenever the engine in use is piper. A relative ``voice_model`` is
relative to the config file's folder. It is read and checked like a routine (the same
reader and checker, :data:`voiceguide.script.spec.CONFIG`): every problem is reported,
each on a line naming ``path:line:column`` and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from voiceguide import paths
from voiceguide.errors import NotFoundError, Position, Problem, ScriptError, UsageError
from voiceguide.prefs import VoicePrefs
from voiceguide.script import spec

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
    """The voice the user prefers (engine, voice, rate, voice model)."""
    path: Path | None = None
    """The file it was read from, if there was one."""


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
    model = None
    if fields is not None and fields.text("voice_model") is not None:
        raw = Path(str(fields.text("voice_model"))).expanduser()
        model = raw if raw.is_absolute() else path.parent / raw
        if not _is_file(model):
            checker.problems.append(
                Problem(fields.at("voice_model"), f"voice_model: no such file {model}")
            )
    if checker.problems:
        if not source.quotable:
            raise ConfigError([not_shown(str(path), "config file")])
        raise ConfigError(checker.problems)
    assert fields is not None
    prefs = VoicePrefs(
        engine=fields.text("engine"),
        voice=fields.text("voice"),
        rate_wpm=fields.number("rate"),
        voice_model=model,
    )
    return UserConfig(prefs=prefs, path=path)


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
