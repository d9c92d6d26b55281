"""Choosing the format, and how each format is encoded (output/formats.py, output/codecs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voiceguide.errors import SettingError
from voiceguide.output import codecs
from voiceguide.output.formats import FORMATS, Format, choose_format


@pytest.mark.parametrize(
    ("output", "requested", "expected"),
    [
        (None, None, "mp3"),
        ("x.wav", None, "wav"),
        ("x.WAV", None, "wav"),
        ("x.flac", None, "flac"),
        ("x.oga", None, "ogg"),
        ("x.ogg", "OGG", "ogg"),
        ("session", "flac", "flac"),
        (None, "wav", "wav"),
        ("x.mp3", ".mp3", "mp3"),
        ("x.opus", None, "opus"),
        ("x.m4a", None, "m4a"),
        ("x.M4B", None, "m4b"),
        ("session", "opus", "opus"),
    ],
)
def test_the_format_comes_from_the_option_or_the_name(
    output: str | None, requested: str | None, expected: str
) -> None:
    assert choose_format(Path(output) if output else None, requested) == expected


@pytest.mark.parametrize(
    ("output", "requested", "message"),
    [
        ("x.aac", None, "format: cannot tell it from the name x.aac; end the name in .mp3, "),
        ("session", None, "format: cannot tell it from the name session"),
        ("x.wav", "mp3", "format: mp3 does not match the file name x.wav (wav)"),
        (None, "aac", "format: expected one of mp3, wav, flac, ogg, opus, m4a, m4b, got 'aac'"),
    ],
)
def test_a_format_that_cannot_be_settled_is_refused_naming_the_field(
    output: str | None, requested: str | None, message: str
) -> None:
    with pytest.raises(SettingError, match="^" + re.escape(message)) as info:
        choose_format(Path(output) if output else None, requested)
    assert info.value.field == "format"
    assert "--" not in str(info.value)  # the CLI, not the core, speaks of flags


def test_mp3_is_lame_vbr_quality_6_through_either_encoder() -> None:
    # libsndfile hands LAME level * 10 as the VBR quality; ffmpeg passes -q:a through.
    spec = codecs.sndfile_codec("mp3")
    assert spec.bitrate_mode == "VARIABLE"
    assert spec.compression_level is not None
    assert round(spec.compression_level * 10) == codecs.MP3_VBR_QUALITY == 6
    command = codecs.ffmpeg_command("ffmpeg", "mp3", Path("x"), sample_rate=22_050, channels=1)
    assert command[command.index("-q:a") + 1] == "6"
    with pytest.raises(ValueError, match="0 to 9"):
        codecs.mp3_vbr_level(10)


def test_ogg_without_ffmpeg_is_libsndfiles_default_vorbis_quality(tmp_path: Path) -> None:
    import numpy as np
    import soundfile

    noise = np.random.default_rng(1).uniform(-0.2, 0.2, 22_050 * 4).astype(np.float32)
    spec = codecs.sndfile_codec("ogg")
    ours, default = tmp_path / "ours.ogg", tmp_path / "default.ogg"
    soundfile.write(ours, noise, 22_050, format="OGG", subtype="VORBIS",
                    compression_level=spec.compression_level)  # fmt: skip
    soundfile.write(default, noise, 22_050, format="OGG", subtype="VORBIS")  # quality 0.4
    assert abs(ours.stat().st_size - default.stat().st_size) < 1000


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("fmt", sorted(codecs.FFMPEG_FORMATS))
def test_the_ffmpeg_command_reads_pcm_of_one_or_two_channels(fmt: Format, channels: int) -> None:
    output = Path("/out/.x.part")
    command = codecs.ffmpeg_command(
        "/usr/bin/ffmpeg", fmt, output, sample_rate=22_050, channels=channels
    )
    assert command[0] == "/usr/bin/ffmpeg"
    joined = " ".join(command)
    assert f"-f s16le -ar 22050 -ac {channels} -i pipe:0" in joined
    assert command[-1] == "file:/out/.x.part"  # a name with ':' or a leading '-' is a file
    assert "+bitexact" in command  # no version strings: the same bytes every time
    assert "-f" in command[command.index("-map") :]  # the muxer is named, not guessed


def test_metadata_and_chapters_come_from_the_pipe_only_when_given() -> None:
    plain = codecs.ffmpeg_command("ffmpeg", "m4a", Path("x"), sample_rate=22_050, channels=1)
    assert plain[plain.index("-map_chapters") + 1] == "-1"
    fed = codecs.ffmpeg_command(
        "ffmpeg", "m4a", Path("x"), sample_rate=22_050, channels=1, metadata="pipe:7"
    )
    assert "-f ffmetadata -i pipe:7 -map_metadata 1 -map_chapters 1" in " ".join(fed)


def test_opus_is_encoded_at_a_rate_opus_takes() -> None:
    command = codecs.ffmpeg_command("ffmpeg", "opus", Path("x"), sample_rate=22_050, channels=1)
    assert command[command.index("-ar", command.index("pipe:0")) + 1] == "24000"


def test_every_format_has_a_way_to_be_written() -> None:
    for fmt in FORMATS:
        assert fmt in codecs.SNDFILE_FORMATS | codecs.FFMPEG_FORMATS
        if fmt in codecs.SNDFILE_FORMATS:
            codecs.sndfile_codec(fmt)
    assert {"opus", "m4a", "m4b"} == codecs.NEEDS_FFMPEG
