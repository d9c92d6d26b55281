"""Exceptions and exit codes: one base class, one subclass per stage.

The CLI catches :class:`VoiceguideError` once, prints its message on one line
and exits with its ``exit_code``. Nothing below the CLI prints or exits.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitStatus(enum.IntEnum):
    """Process exit codes, documented in docs/cli.md."""

    OK = 0
    ERROR = 1  # an operation failed (engine, export, playback)
    INVALID = 2  # an invalid script or invalid command-line usage
    NOT_FOUND = 3  # no routine, file or voice by that name
    NO_AUDIO_DEVICE = 4  # playback asked for, but no audio device could be opened
    DEVICE_STALLED = 5  # the audio device stopped taking sound while playing
    INTERRUPTED = 130  # Ctrl-C


@dataclass(frozen=True, order=True)
class Position:
    """Where something stands in a source file (1-based line and column)."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class VoiceguideError(Exception):
    """Base class of every error voiceguide reports to a user."""

    exit_code: ExitStatus = ExitStatus.ERROR


@dataclass(frozen=True)
class Problem:
    """One problem found in a script: where, and what was expected."""

    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


class ScriptError(VoiceguideError):
    """A routine script is invalid; carries every problem found in it."""

    exit_code = ExitStatus.INVALID

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.position)
        super().__init__("\n".join(str(p) for p in self.problems))


class NotFoundError(VoiceguideError):
    """A routine, file, voice or sound named by the user does not exist."""

    exit_code = ExitStatus.NOT_FOUND


class UsageError(VoiceguideError):
    """Command-line arguments that cannot work together or are out of range."""

    exit_code = ExitStatus.INVALID


class SettingError(UsageError):
    """A setting is out of range or cannot be used; ``field`` names it (``pace``, ``volume``).

    The core names the setting as a library caller knows it; the CLI turns the field into
    the flag that sets it (``--pace``) when it prints the message.
    """

    def __init__(self, field: str, detail: str) -> None:
        self.field = field
        self.detail = detail
        super().__init__(f"{field}: {detail}")


class EngineError(VoiceguideError):
    """The speech engine failed or was configured with something it lacks."""


class AudioError(VoiceguideError):
    """A sound file could not be read, or audio could not be rendered."""


class ExportError(VoiceguideError):
    """An output file could not be written; nothing partial was left behind."""


class AudioDeviceError(VoiceguideError):
    """No audio device could be opened for playback."""

    exit_code = ExitStatus.NO_AUDIO_DEVICE


class DeviceStalledError(VoiceguideError):
    """The audio device stopped taking sound in the middle of a session.

    Its thread is stuck inside the device's driver and cannot be joined: the CLI ends the
    process at once after saying so (:attr:`hard_exit`).
    """

    exit_code = ExitStatus.DEVICE_STALLED
    hard_exit = True
