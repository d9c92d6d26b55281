"""The errors of the listening stage."""

from __future__ import annotations

from voiceguide.errors import ExitStatus, VoiceguideError


class ListenUnavailable(VoiceguideError):
    """Voice commands cannot work here: no capture device, no recogniser or no model.

    ``voiceguide play --listen`` says this in one line and plays on without listening.
    """


class RecordingError(VoiceguideError):
    """A recording given to ``voiceguide commands --detect`` cannot be used."""

    exit_code = ExitStatus.INVALID
