"""Choose, check and make ready a sound bed: a built-in one, or a file of the user's own.

A bed is a loop. Whatever its source, it is made ready once as a loop of float32 samples
(mono, or left and right), at :data:`BED_REFERENCE_LUFS` (BS.1770, channels summed), its
true peaks held :data:`BED_CREST_DB` over that by the project's look-ahead limiter, run
around the loop so that it has no seam either. The mixer sets the level it plays at.

- A built-in bed (:mod:`voiceguide.sound.bedgen`) is periodic as it is made.
- A file loops with a crossfade: its last :data:`LOOP_CROSSFADE_MS` are faded out over
  its first ones faded in (equal power), so its end runs on into its start without a
  click, however abruptly it was cut. Files are bounded like other sound files, from
  their size and header before a sample is decoded: at most
  :data:`~voiceguide.pcm.MAX_SOUND_FILE_BYTES`, at a rate the pipeline takes, mono or
  stereo, and :data:`MIN_BED_MS` to :data:`MAX_BED_MS` long (longer than a cue may be,
  shorter than a recording needs to be to loop well); anything else is one clear line.

Loops are kept in the phrase cache, so a bed is made once per machine (a built-in one
takes a second or two), and always rounded to 16-bit steps, so a loop read back from
the cache is the very loop that was made.

Import this module lazily: it imports numpy at the top.
"""

from __future__ import annotations

import difflib
import math
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from voiceguide.errors import AudioError, NotFoundError
from voiceguide.pcm import MAX_SOUND_FILE_BYTES, MAX_SOUND_RATE_HZ, MIN_SOUND_RATE_HZ
from voiceguide.script import spec
from voiceguide.sound import bedgen, loudness, meter

if TYPE_CHECKING:
    import numpy.typing as npt

    from voiceguide.sound.cache import PhraseCache

    BedArray = npt.NDArray[np.float32]
    """A loop: shape ``(n,)`` (mono) or ``(n, 2)`` (left, right)."""

BUILTIN_BEDS = spec.BED_NAMES
NO_BED = spec.NO_BED
"""What turns a bed off (say, one a routine's settings ask for)."""

BED_REFERENCE_LUFS = -26.0
"""The loudness every loop is made at; the mixer scales it to the level asked for."""
BED_CREST_DB = 12.0
"""A loop's true peaks stay this far over its loudness at most, so a bed under the speech
and sounds adds little to their peaks (see :mod:`voiceguide.sound.mix`)."""

MAX_BED_BYTES = MAX_SOUND_FILE_BYTES
MIN_BED_MS = 4_000
MAX_BED_MS = 5 * 60_000
BED_RATES_HZ = (MIN_SOUND_RATE_HZ, MAX_SOUND_RATE_HZ)
LOOP_CROSSFADE_MS = 2_000
"""How long a file's end is crossfaded into its start (a quarter of it, if shorter)."""
BED_PROCESSING = "bed-v1"
"""Names how loops are made; change it when that changes, so cached loops are made again."""

_LIMIT_CONTEXT = 4096
"""Samples of the loop's other end given to the limiter on each side, so it runs round."""


@dataclass(frozen=True)
class BedSource:
    """A bed chosen: a built-in one by name, or a sound file."""

    name: str
    """The built-in name, or the file's name (for messages)."""
    path: Path | None = None
    """The file, for a bed of the user's own."""


def looks_like_file(value: str) -> bool:
    """Whether ``value`` names a file rather than a built-in bed."""
    return "/" in value or "\\" in value or "." in value


def choose_bed(value: str, base: Path | None = None) -> BedSource | None:
    """Return the bed ``value`` names (``None`` for ``none``), its file checked if it is one.

    A file is relative to ``base`` (the current folder if ``None``). Raises
    :class:`NotFoundError` for an unknown name or a missing file, :class:`AudioError`
    for a file that cannot be a bed.
    """
    text = value.strip()
    if text.lower() in NO_BED:
        return None
    if text in BUILTIN_BEDS:
        return BedSource(text)
    if not looks_like_file(text):
        close = difflib.get_close_matches(text, BUILTIN_BEDS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise NotFoundError(
            f"no bed named {text!r}{hint}; the built-in beds are {', '.join(BUILTIN_BEDS)}, "
            "or give a sound file"
        )
    path = Path(text).expanduser()
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise NotFoundError(f"bed file not found: {path}")
    check_bed_file(path)
    return BedSource(path.name, path.resolve())


def check_bed_file(path: Path) -> int:
    """Refuse, in one line, a file that cannot be a bed; return its length in frames.

    Checked from the file's size and header, before a sample is decoded.
    """
    import soundfile

    try:
        status = path.stat()
    except OSError as exc:
        raise AudioError(f"bed file {path}: cannot read it ({exc.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise AudioError(f"bed file {path}: expected a sound file, got a device or a pipe")
    if status.st_size > MAX_BED_BYTES:
        raise AudioError(
            f"bed file {path}: expected at most {MAX_BED_BYTES // 2**20} MB, "
            f"got {status.st_size / 2**20:.0f} MB (a few minutes that loop well are enough)"
        )
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, OSError, ValueError):  # LibsndfileError is a RuntimeError
        raise AudioError(
            f"bed file {path}: not a sound file that can be read (expected WAV, FLAC, OGG or MP3)"
        ) from None
    low, high = BED_RATES_HZ
    if not low <= info.samplerate <= high:
        raise AudioError(
            f"bed file {path}: expected a sample rate of {low:,} to {high:,} Hz, "
            f"got {info.samplerate:,} Hz"
        )
    if info.channels not in (1, 2):
        raise AudioError(f"bed file {path}: expected mono or stereo, got {info.channels} channels")
    length_ms = info.frames * 1000 // info.samplerate
    if not MIN_BED_MS <= length_ms <= MAX_BED_MS:
        raise AudioError(
            f"bed file {path}: expected {MIN_BED_MS // 1000} s to "
            f"{MAX_BED_MS // 60_000} minutes, got {length_ms / 1000:.1f} s"
        )
    return int(info.frames)


def bed_loop(
    source: BedSource, rate: int, channels: int, cache: PhraseCache | None = None
) -> BedArray:
    """Return the bed's loop at ``rate`` with ``channels`` (1 or 2): read-only, at the reference.

    Made once per process (the last few are kept), and once per machine with a ``cache``.
    """
    key = (source, rate, channels)
    loop = _made.get(key)
    if loop is None:
        loop = _finish(_cached_pcm(source, rate, channels, cache), channels)
        while len(_made) >= _KEEP:
            del _made[next(iter(_made))]
        _made[key] = loop
    return loop


_KEEP = 4
_made: dict[tuple[BedSource, int, int], BedArray] = {}


def _cached_pcm(
    source: BedSource, rate: int, channels: int, cache: PhraseCache | None
) -> npt.NDArray[np.int16]:
    if cache is None:
        return _to_pcm(_make(source, rate, channels))
    from voiceguide.sound.cache import phrase_key
    from voiceguide.sound.engines.base import Speech

    identity = (
        f"bed {BED_PROCESSING} rate={rate} channels={channels} "
        f"reference={BED_REFERENCE_LUFS} crest={BED_CREST_DB}"
    )
    key = phrase_key(identity, _content_id(source))
    cached = cache.get(key)
    if cached is not None and cached.sample_rate == rate and len(cached.samples) % channels == 0:
        return np.asarray(cached.samples, dtype=np.int16)  # the cache holds 16-bit PCM
    pcm = _to_pcm(_make(source, rate, channels))
    cache.put(key, Speech(pcm.reshape(-1), rate))
    return pcm


def _content_id(source: BedSource) -> str:
    """What the loop is made from: the built-in's name, or the file's bytes (hashed)."""
    if source.path is None:
        return f"built-in {source.name}"
    import hashlib

    digest = hashlib.sha256()
    try:
        with source.path.open("rb") as file:
            for chunk in iter(lambda: file.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as exc:
        raise AudioError(f"cannot read bed file {source.path}: {exc.strerror or exc}") from None
    return f"file {digest.hexdigest()}"


def _to_pcm(samples: npt.NDArray[np.float64]) -> npt.NDArray[np.int16]:
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def _finish(pcm: npt.NDArray[np.int16], channels: int) -> BedArray:
    loop = (pcm.astype(np.float32) / np.float32(32768.0)).reshape(-1, channels)
    if channels == 1:
        loop = loop[:, 0]
    loop = np.ascontiguousarray(loop)
    loop.flags.writeable = False
    return loop


def _make(source: BedSource, rate: int, channels: int) -> npt.NDArray[np.float64]:
    """Make the loop: raw stereo, folded to ``channels``, levelled, its peaks held."""
    if source.path is None:
        raw = bedgen.GENERATORS[source.name](rate, bedgen.LOOP_SAMPLES)
    else:
        raw = crossfade_loop(_read(source.path, rate), rate * LOOP_CROSSFADE_MS // 1000)
    folded = raw.mean(axis=1, keepdims=True) if channels == 1 else raw
    return _level(folded, rate)


def _read(path: Path, rate: int) -> npt.NDArray[np.float64]:
    """Read a bed file as stereo float64 at ``rate``."""
    import soundfile

    from voiceguide.pcm import resample

    frames = check_bed_file(path)
    try:
        # No more than the header promised: a file that understates its length stops there.
        data, file_rate = soundfile.read(str(path), frames=frames, dtype="float64", always_2d=True)
    except (RuntimeError, OSError, ValueError) as exc:
        raise AudioError(f"bed file {path}: cannot read it ({exc})") from None
    data = np.asarray(data, dtype=np.float64)
    if not np.all(np.isfinite(data)):
        raise AudioError(f"bed file {path}: holds invalid samples (NaN or infinity)")
    if not np.any(data):
        raise AudioError(f"bed file {path}: holds only silence")
    if data.shape[1] == 1:
        data = np.repeat(data, 2, axis=1)
    if file_rate != rate:
        data = np.stack(
            [resample(data[:, c], int(file_rate), rate).astype(np.float64) for c in range(2)],
            axis=1,
        )
    return data


def crossfade_loop(samples: npt.NDArray[np.float64], crossfade: int) -> npt.NDArray[np.float64]:
    """Return a loop of ``samples`` whose end runs on into its start.

    The last ``crossfade`` samples (a quarter of the whole at most) fade out, with equal
    power, over the first ones fading in; the loop is that much shorter than the input.
    Its last sample is followed, around the loop, by the one that followed it in the input.
    """
    n = len(samples)
    fade = max(1, min(crossfade, n // 4))
    loop = samples[: n - fade].copy()
    t = (np.arange(fade, dtype=np.float64) + 0.5) / fade
    shape = (fade,) + (1,) * (samples.ndim - 1)
    fade_in = np.sin(0.5 * np.pi * t).reshape(shape)
    fade_out = np.cos(0.5 * np.pi * t).reshape(shape)
    loop[:fade] = samples[:fade] * fade_in + samples[n - fade :] * fade_out
    return loop


def _level(loop: npt.NDArray[np.float64], rate: int) -> npt.NDArray[np.float64]:
    """Bring a loop of shape ``(n, channels)`` to the reference, its peaks held round the loop.

    Limiting takes a little loudness; one more pass gives it back, up to
    :data:`_MAX_GIVE_BACK_DB` (a file with towering peaks plays quieter, not crushed).
    """
    lufs = _loudness(loop, rate)
    if not math.isfinite(lufs):
        raise AudioError("the bed is too quiet to be heard (nothing above -70 LUFS)")
    gain_db = BED_REFERENCE_LUFS - lufs
    out = _limit_around(loop * 10.0 ** (gain_db / 20.0), rate)
    shortfall_db = BED_REFERENCE_LUFS - _loudness(out, rate)
    if shortfall_db > _LEVEL_TOLERANCE_DB:
        gain_db += min(shortfall_db, _MAX_GIVE_BACK_DB)
        out = _limit_around(loop * 10.0 ** (gain_db / 20.0), rate)
    return out


_LEVEL_TOLERANCE_DB = 0.1
_MAX_GIVE_BACK_DB = 3.0
_OVER_MARGIN_DB = 1.0
"""A bed rolls off well under the Nyquist frequency: its true peaks pass its sample peaks by
a fraction of a dB, so a loop this far under the ceiling needs no limiter."""


def _loudness(loop: npt.NDArray[np.float64], rate: int) -> float:
    return meter.program_lufs(loop if loop.shape[1] > 1 else loop[:, 0], rate)


def _limit_around(loop: npt.NDArray[np.float64], rate: int) -> npt.NDArray[np.float64]:
    """Hold each channel's true peaks at the bed's ceiling, as if the loop went on both ways."""
    ceiling_dbtp = BED_REFERENCE_LUFS + BED_CREST_DB
    if float(np.max(np.abs(loop))) <= 10.0 ** ((ceiling_dbtp - _OVER_MARGIN_DB) / 20.0):
        return loop  # far enough under: its true peaks cannot reach the ceiling
    context = min(_LIMIT_CONTEXT, len(loop))
    out: npt.NDArray[np.float64] = np.empty_like(loop)
    for channel in range(loop.shape[1]):
        x = loop[:, channel]
        around = np.concatenate([x[-context:], x, x[:context]])
        limited = loudness.Limiter(around, rate, ceiling_dbtp).apply(0.0)
        out[:, channel] = limited[context : context + len(x)]
    return out
