"""The ``voiceguide`` command line: parse arguments, call the core, report errors.

Each command's docstring is its ``--help``. Errors from the core arrive as
:class:`~voiceguide.errors.VoiceguideError` and leave as one line on stderr
with a documented exit code (see docs/cli.md); ``--debug`` shows the traceback.
"""

from voiceguide.cli import (  # noqa: F401 - registers commands
    commands,
    config,
    export,
    history,
    play,
    routines,
    sound,
)
from voiceguide.cli.app import app, main

__all__ = ["app", "main"]
