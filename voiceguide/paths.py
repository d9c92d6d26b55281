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


def user_data_dir() -> Path:
    """The user's data folder (``$VOICEGUIDE_HOME`` overrides the platform default)."""
    override = os.environ.get("VOICEGUIDE_HOME")
    if override:
        return Path(override) / "data"
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False)


def user_scripts_dir() -> Path:
    """Where the user's own routines live."""
    return user_data_dir() / "routines"


def user_audio_dir() -> Path:
    """Where the user's replacement sound files live (same names as the built-in ones)."""
    return user_data_dir() / "audio"


def user_cache_dir() -> Path:
    """The user's cache folder (synthesized phrases)."""
    override = os.environ.get("VOICEGUIDE_HOME")
    if override:
        return Path(override) / "cache"
    from platformdirs import user_cache_path

    return user_cache_path(APP_NAME, appauthor=False)


def user_config_dir() -> Path:
    """The user's configuration folder."""
    override = os.environ.get("VOICEGUIDE_HOME")
    if override:
        return Path(override) / "config"
    from platformdirs import user_config_path

    return user_config_path(APP_NAME, appauthor=False)
