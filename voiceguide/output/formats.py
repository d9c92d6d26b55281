"""Which formats export writes, and how the format is settled from a file name or a setting."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from voiceguide.errors import SettingError

Format = Literal["mp3", "wav", "flac", "ogg", "opus", "m4a", "m4b"]
FORMATS: tuple[Format, ...] = get_args(Format)
DEFAULT_FORMAT: Format = "mp3"
"""What a phone plays, with chapters: the format when neither a setting nor a file name says."""
STREAM_FORMAT: Format = "wav"
"""The format written to standard output unless the format is set."""

CaptionFormat = Literal["vtt", "srt"]
CAPTION_FORMATS: tuple[CaptionFormat, ...] = get_args(CaptionFormat)
CueFormat = Literal["json"]
CUE_FORMATS: tuple[CueFormat, ...] = get_args(CueFormat)

EXTENSIONS: dict[str, Format] = {
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".oga": "ogg",
    ".opus": "opus",
    ".m4a": "m4a",
    ".m4b": "m4b",
}

LOSSLESS: frozenset[Format] = frozenset({"wav", "flac"})
CHAPTERED: frozenset[Format] = frozenset({"mp3", "flac", "ogg", "opus", "m4a", "m4b"})
"""The formats whose files carry chapters (WAV has no chapter format players read)."""
CHAPTERS_FIRST: frozenset[Format] = frozenset({"m4a", "m4b"})
"""The formats ffmpeg writes the tags and chapters of as it encodes (MP4's chapter track):
their timeline must be whole before encoding starts. The others are tagged afterwards."""


def choose_format(output: Path | None, requested: str | None) -> Format:
    """Settle the format from the ``format`` setting and the output file's extension.

    Without either it is :data:`DEFAULT_FORMAT`; an extension that names another format
    than the setting is refused rather than writing, say, MP3 into ``x.wav``.
    """
    by_name = EXTENSIONS.get(output.suffix.lower()) if output is not None else None
    if requested is None:
        if output is None:
            return DEFAULT_FORMAT
        if by_name is None:
            known = ", ".join(EXTENSIONS)
            raise SettingError(
                "format", f"cannot tell it from the name {output}; end the name in {known}"
            )
        return by_name
    fmt = requested.lower().lstrip(".")
    if fmt not in FORMATS:
        raise SettingError("format", f"expected one of {', '.join(FORMATS)}, got {requested!r}")
    if by_name is not None and by_name != fmt:
        raise SettingError("format", f"{fmt} does not match the file name {output} ({by_name})")
    return fmt


def choose(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """Return ``value`` in lower case if it is one of ``allowed``; ``field`` names the setting."""
    if value is None:
        return None
    if value.lower() not in allowed:
        raise SettingError(field, f"expected {' or '.join(allowed)}, got {value!r}")
    return value.lower()
