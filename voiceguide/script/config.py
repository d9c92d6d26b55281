"""The user's own defaults: ``config.yaml`` in the user's config folder.

A small flat file, read when a session starts; a command-line option or a routine's
``settings`` overrides each value. Example::

    engine: piper                          # espeak (default) or piper
    voice: joe                             # a voice of that engine ('voiceguide voices')
    rate: 140                              # words per minute, 80 to 400
    voice_model: ~/voices/en_GB-alba-medium.onnx   # a Piper model of your own

``voice`` applies when the engine in use is the one ``engine`` names (espeak if none),
``voice_model`` whenever the engine in use is piper. A relative ``voice_model`` is
relative to the config file's folder. A bad value stops with one line naming
``path:line:column`` and what was expected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceguide import paths
from voiceguide.errors import Position, UsageError
from voiceguide.prefs import VoicePrefs
from voiceguide.script import spec

MAX_CONFIG_BYTES = 65_536
KEYS = ("engine", "voice", "rate", "voice_model")


class ConfigError(UsageError):
    """The user's config file is invalid (exits as invalid usage)."""


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

    path = path if path is not None else config_path()
    try:
        if path.stat().st_size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: {path.stat().st_size:,} bytes; expected a small file")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return UserConfig()
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: expected UTF-8 text") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = _at(path, mark) if mark is not None else str(path)
        raise ConfigError(f"{where}: not valid YAML: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from None
    if root is None:
        return UserConfig(path=path)
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError(f"{_at(path, root.start_mark)}: expected a mapping of settings")
    values: dict[str, Any] = {}
    for key_node, value_node in root.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in KEYS:
            close = difflib.get_close_matches(str(key), KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(KEYS)}"
            raise ConfigError(f"{_at(path, key_node.start_mark)}: unknown key {key!r}; {hint}")
        if key in values:
            raise ConfigError(f"{_at(path, key_node.start_mark)}: {key} is given twice")
        values[key] = _value(path, key, value_node)
    prefs = VoicePrefs(
        engine=values.get("engine"),
        voice=values.get("voice"),
        rate_wpm=values.get("rate"),
        voice_model=values.get("voice_model"),
    )
    return UserConfig(prefs=prefs, path=path)


def _at(path: Path, mark: Any) -> str:
    return str(Position(str(path), mark.line + 1, mark.column + 1))


def _value(path: Path, key: str, node: Any) -> Any:
    """Check one value; return it typed, or None for an empty value."""
    import yaml

    where = _at(path, node.start_mark)
    if not isinstance(node, yaml.ScalarNode):
        raise ConfigError(f"{where}: {key}: expected a single value, found a list or mapping")
    if node.tag == "tag:yaml.org,2002:null" or node.value == "":
        return None
    raw = str(node.value)
    if key == "engine":
        if raw not in spec.ENGINES:
            raise ConfigError(f"{where}: engine: expected {' or '.join(spec.ENGINES)}, got {raw!r}")
        return raw
    if key == "rate":
        try:
            rate = int(raw)
        except ValueError:
            rate = None
        bounds = spec.RATE_WPM
        if rate is None or not bounds.minimum <= rate <= bounds.maximum:
            raise ConfigError(
                f"{where}: rate: expected {bounds.minimum} to {bounds.maximum} words per minute, "
                f"got {raw!r}"
            )
        return rate
    if key == "voice_model":
        model = Path(raw).expanduser()
        model = model if model.is_absolute() else path.parent / model
        if not model.is_file():
            raise ConfigError(f"{where}: voice_model: no such file {model}")
        return model
    return raw
