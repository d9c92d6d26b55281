"""How each format is encoded: libsndfile's settings, or the ffmpeg command line (pure).

The settings suit one calm voice and soft tones, mono today and stereo next:

- MP3: LAME's variable bit rate at quality 6 (``-V 6``), at the session's 22,050 Hz
  (MPEG-2 Layer III): about 50 kbit/s while someone speaks and far less in silence, with
  a Xing/LAME header that gives players the exact length, a seek table and the encoder's
  delay and padding (so decoders return exactly the rendered samples).
- Ogg Vorbis: quality 4, libsndfile's default (0.4 on its scale): clear speech, and
  silence costs almost nothing.
- Opus: 32 kbit/s (48 in stereo), variable, at 24 kHz (Opus takes no 22,050 Hz input).
- AAC (M4A, M4B): 48 kbit/s (80 in stereo) with ffmpeg's own encoder and its fast coder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from voiceguide.output.formats import Format

MP3_VBR_QUALITY = 6
"""LAME's ``-V``: 0 is the largest, 9 the smallest; 6 keeps speech clear at ~50 kbit/s."""
MP3_ALGORITHM_QUALITY = 5
"""LAME's ``-q``, its own speed against care: 5 is "good quality, fast"."""
OPUS_SAMPLE_RATE = 24_000
OPUS_KBPS = {1: 32, 2: 48}
OPUS_COMPLEXITY = 5
"""libopus's 0–10; above 5 costs twice the time for little a voice gains."""
AAC_KBPS = {1: 48, 2: 80}
VORBIS_QUALITY = 4

SNDFILE_FORMATS: frozenset[Format] = frozenset({"wav", "flac", "ogg", "mp3"})
"""What libsndfile (inside soundfile's wheel) can write."""
FFMPEG_FORMATS: frozenset[Format] = frozenset({"mp3", "ogg", "opus", "m4a", "m4b"})
"""What export writes through ffmpeg when it is installed: MP3 is several times faster that
way, and Ogg files get a fixed stream serial number (libsndfile draws one at random)."""
NEEDS_FFMPEG: frozenset[Format] = FFMPEG_FORMATS - SNDFILE_FORMATS


@dataclass(frozen=True)
class SndfileCodec:
    """How libsndfile writes one format."""

    major: str
    subtype: str
    compression_level: float | None = None
    bitrate_mode: Literal["CONSTANT", "AVERAGE", "VARIABLE"] | None = None


def mp3_vbr_level(quality: int) -> float:
    """Return libsndfile's compression level for LAME's VBR ``quality`` (``-V``, 0–9).

    libsndfile hands LAME ``level * 10`` as the VBR quality.
    """
    if not 0 <= quality <= 9:
        raise ValueError(f"LAME's VBR quality is 0 to 9, got {quality}")
    return quality / 10


def sndfile_codec(fmt: Format) -> SndfileCodec:
    """Return how libsndfile writes ``fmt``: 16-bit PCM for WAV and FLAC, Vorbis, or VBR MP3."""
    if fmt == "wav":
        return SndfileCodec("WAV", "PCM_16")
    if fmt == "flac":
        return SndfileCodec("FLAC", "PCM_16")
    if fmt == "ogg":
        # libsndfile's level runs the other way: Vorbis quality 0.4 is level 0.6.
        return SndfileCodec("OGG", "VORBIS", 1 - VORBIS_QUALITY / 10)
    if fmt == "mp3":
        return SndfileCodec("MP3", "MPEG_LAYER_III", mp3_vbr_level(MP3_VBR_QUALITY), "VARIABLE")
    raise ValueError(f"libsndfile does not write {fmt}")


def ffmpeg_command(
    ffmpeg: str,
    fmt: Format,
    output: Path,
    *,
    sample_rate: int,
    channels: int,
    metadata: str | None = None,
) -> list[str]:
    """Return the command that encodes 16-bit PCM on standard input into ``output``.

    ``metadata`` names an input (``pipe:N``) that holds ffmpeg's metadata file, whose tags
    and chapters go into the file (M4A and M4B); otherwise the file gets none from ffmpeg
    (MP3 and Opus are tagged afterwards, by mutagen). Bit-exact flags leave out ffmpeg's
    version, so the same session gives the same bytes.
    """
    command = [ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error"]
    command += ["-f", "s16le", "-ar", str(sample_rate), "-ac", str(channels), "-i", "pipe:0"]
    if metadata is not None:
        command += ["-f", "ffmetadata", "-i", metadata, "-map_metadata", "1", "-map_chapters", "1"]
    else:
        command += ["-map_metadata", "-1", "-map_chapters", "-1"]
    command += ["-map", "0:a", *_encoder(fmt, channels)]
    return [*command, "-fflags", "+bitexact", "-flags:a", "+bitexact", "-y", f"file:{output}"]


def _encoder(fmt: Format, channels: int) -> list[str]:
    if fmt == "mp3":
        quality = ["-q:a", str(MP3_VBR_QUALITY), "-compression_level", str(MP3_ALGORITHM_QUALITY)]
        # No ID3 from ffmpeg (mutagen writes the tag); the Xing/LAME header, yes.
        headers = ["-id3v2_version", "0", "-write_xing", "1"]
        return ["-c:a", "libmp3lame", *quality, *headers, "-f", "mp3"]
    if fmt == "ogg":
        return ["-c:a", "libvorbis", "-q:a", str(VORBIS_QUALITY), "-f", "ogg"]
    if fmt == "opus":
        return [
            "-ar", str(OPUS_SAMPLE_RATE), "-c:a", "libopus", "-b:a", f"{OPUS_KBPS[channels]}k",
            "-vbr", "on", "-compression_level", str(OPUS_COMPLEXITY), "-application", "audio",
            "-f", "ogg",
        ]  # fmt: skip
    if fmt in ("m4a", "m4b"):
        # The moov atom first (faststart), so a player starts before the whole file is read;
        # "ipod" is the muxer for the audiobook kind (M4B).
        return [
            "-c:a", "aac", "-aac_coder", "fast", "-b:a", f"{AAC_KBPS[channels]}k",
            "-movflags", "+faststart", "-f", "ipod" if fmt == "m4b" else "mp4",
        ]  # fmt: skip
    raise ValueError(f"ffmpeg is not used for {fmt}")
