"""Where voiceguide finds its built-in files and keeps the user's own."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent

APP_NAME = "voiceguide"


def _data_dir(name: str) -> Path:
    # Installed from a wheel, scripts/ and audio/ live inside the package as data/;
    # in a checkout (or an editable install) they sit beside the package.
    installed = _PACKAGE / "data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def builtin_scripts_dir() -> Path:
    """The folder of built-in routine scripts."""
    return _data_dir("scripts")


def builtin_audio_dir() -> Path:
    """The folder of built-in sound files."""
    return _data_dir("audio")


def _user_dir(kind: str) -> Path:
    """``$VOICEGUIDE_HOME/<kind>`` when set, else the platform's folder of that kind."""
    override = os.environ.get("VOICEGUIDE_HOME")
    if override:
        return Path(override) / kind
    import platformdirs

    folder: Path = getattr(platformdirs, f"user_{kind}_path")(APP_NAME, appauthor=False)
    return folder


def user_data_dir() -> Path:
    """The user's data folder (``$VOICEGUIDE_HOME`` overrides the platform default)."""
    return _user_dir("data")


def user_scripts_dir() -> Path:
    """Where the user's own routines live."""
    return user_data_dir() / "routines"


def user_audio_dir() -> Path:
    """Where the user's replacement sound files live (same names as the built-in ones)."""
    return user_data_dir() / "audio"


def user_cache_dir() -> Path:
    """The user's cache folder (synthesized phrases)."""
    return _user_dir("cache")


def user_config_dir() -> Path:
    """The user's configuration folder."""
    return _user_dir("config")


def user_config_file() -> Path:
    """The user's own defaults, ``config.yaml`` (see :mod:`voiceguide.script.config`)."""
    return user_config_dir() / "config.yaml"
