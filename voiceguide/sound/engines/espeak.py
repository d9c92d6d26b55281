"""The espeak-ng voice, driven through pyttsx3.

pyttsx3 2.99's espeak driver has traps, all handled here (see DESIGN.md):

* espeak-ng runs asynchronously and calls back from its own thread; ``runAndWait()``
  can return before the audio is written. We wait for ``finished-utterance``.
* espeak-ng can be initialized once per process and holds one global callback: a second
  pyttsx3 engine silently steals it, and collecting an engine clears it. So there is one
  shared pyttsx3 engine per process, kept alive forever, used under one lock.
* Only the last of several queued ``save_to_file`` calls is written, and the target file
  and text stick between runs. We queue exactly one phrase per run, to a fresh file.
* A bad voice raises nothing (only an ``error`` event) and an out-of-range rate is
  silently clamped, so settings are validated here before they reach the driver.
* The driver prints "Audio saved to …" from Python (on espeak-ng's thread), and setting a
  voice calls ``logging.debug`` on the root logger, which installs a stderr handler via
  ``logging.basicConfig`` if the application has none. Both are contained here.
  (The redirection swaps ``sys.stdout`` for the few milliseconds of a phrase, so another
  thread printing at that moment would lose its line; nothing in voiceguide does.)
* espeak-ng applies rate, pitch and volume on its own thread. If a run starts while that
  thread is busy, the driver cancels the phrase, and the next one too. We wait for
  espeak-ng to be idle before each run, and speak a phrase again if it was cancelled.
* If the driver's callback fails (say, writing the file), ``runAndWait()`` never returns;
  a watchdog ends the run loop after a timeout.
* Repeated synthesis of one text varies in length by up to ~13 ms; compare durations
  with a tolerance, never hashes.

Starting pyttsx3 takes longer than playing a session from the cache, which only needs
:meth:`Pyttsx3Engine.identity` (the cache key). So the engine starts pyttsx3 only when it
must: to speak, to list voices, or to resolve a voice it has not resolved before. The
identity names the versions of espeak-ng (asked of libespeak-ng itself) and pyttsx3 (from its
installed metadata), the resolved voice and the settings; which voice a request resolves to
is remembered per request and per versions (:func:`_remembered_voice`), so a new espeak-ng or
pyttsx3 resolves again.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import io
import json
import logging
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voiceguide.atomic import replace_quietly
from voiceguide.errors import EngineError
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import UnknownVoiceError
from voiceguide.sound.engines.base import Speech, Voice, normal_label, quote_phrase

logger = logging.getLogger(__name__)

ENGINE_NAME = "espeak"

MIN_RATE_WPM = 80
"""espeak-ng's slowest rate (``espeakRATE_MINIMUM``); slower values are silently clamped."""
MAX_RATE_WPM = 450
"""espeak-ng's fastest documented rate (``espeakRATE_MAXIMUM``)."""

DEFAULT_VOICE_IDS = ("gmw/en-us", "gmw/en")
"""Preferred default voices, first available wins: American, then British English."""

BASE_TIMEOUT_S = 10.0
"""How long one phrase may take before the engine is declared stuck, plus per character."""
TIMEOUT_PER_CHAR_S = 0.01
IDLE_TIMEOUT_S = 2.0
"""How long to wait for espeak-ng to settle after a phrase before starting the next."""


class _Cancelled(Exception):
    """The driver reported the phrase as stopped before its end."""


@dataclass
class _Utterance:
    """What the driver reported about the phrase being spoken."""

    done: threading.Event = field(default_factory=threading.Event)
    completed: bool = False
    errors: list[str] = field(default_factory=list)


class _SharedEngine:
    """The one pyttsx3 engine of this process, its voice list and its lock."""

    def __init__(self) -> None:
        with _contained():
            try:
                import pyttsx3

                engine = pyttsx3.init("espeak")
                raw_voices = engine.getProperty("voices")
                # Until its first run, the driver queues property changes and applies them
                # in the middle of the run, where they race with the phrase (see
                # wait_until_idle). An empty run makes every later change immediate.
                engine.runAndWait()
            except ImportError as error:
                raise EngineError(f"pyttsx3 is not installed: {error}") from error
            except Exception as error:
                raise EngineError(f"could not start espeak-ng through pyttsx3: {error}") from error
        self.engine: Any = engine
        self.voices: tuple[Voice, ...] = tuple(_voice_from_pyttsx3(v) for v in raw_voices)
        self.versions = _versions()
        self.lock = threading.Lock()
        self.current: _Utterance | None = None
        self._is_playing = _espeak_is_playing()
        engine.connect("finished-utterance", self._on_finished)
        engine.connect("error", self._on_error)

    def wait_until_idle(self, timeout_s: float = IDLE_TIMEOUT_S) -> None:
        """Wait until espeak-ng's own thread has nothing left to do."""
        # espeak-ng queues parameter changes (rate, pitch, volume) on its own thread, and
        # finishes a phrase there after the driver has reported its end. If the driver
        # starts a run while that thread is busy, it decides a phrase is in progress, cancels
        # it, and cancels the next phrase too (measured under load: "stopped before the end").
        if self._is_playing is None:
            time.sleep(0.02)  # no way to ask: give it a moment
            return
        deadline = time.monotonic() + timeout_s
        while self._is_playing() and time.monotonic() < deadline:
            time.sleep(0.0002)

    def _on_finished(self, completed: bool = True, **_: object) -> None:
        current = self.current
        if current is not None:
            current.completed = bool(completed)
            current.done.set()

    def _on_error(self, exception: object = None, **_: object) -> None:
        current = self.current
        if current is not None:
            current.errors.append(str(exception))


_shared: _SharedEngine | None = None
_shared_guard = threading.Lock()


def _shared_engine() -> _SharedEngine:
    """Return the process-wide pyttsx3 engine, starting it on first use."""
    global _shared  # noqa: PLW0603 - one engine per process is the point
    with _shared_guard:
        if _shared is None:
            _shared = _SharedEngine()
        return _shared


@contextlib.contextmanager
def _contained() -> Iterator[None]:
    """Swallow pyttsx3's stray stdout and undo its ``logging.basicConfig`` side effect."""
    root = logging.getLogger()
    had_handlers = bool(root.handlers)
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            yield
    finally:
        if not had_handlers:
            for handler in list(root.handlers):
                root.removeHandler(handler)
        said = "".join(
            line for line in sink.getvalue().splitlines(True) if not line.startswith("Audio saved")
        )
        if said.strip():
            logger.debug("pyttsx3 printed: %s", said.strip())


def _voice_from_pyttsx3(voice: Any) -> Voice:
    gender = voice.gender.lower() if isinstance(voice.gender, str) else None
    return Voice(
        id=str(voice.id),
        name=str(voice.name),
        languages=tuple(str(language) for language in voice.languages or ()),
        gender=gender,
    )


_LIBESPEAK_NAMES = (
    "libespeak-ng.so.1",
    "/usr/local/lib/libespeak-ng.so.1",
    "/opt/homebrew/lib/libespeak-ng.1.dylib",
    "/usr/local/lib/libespeak-ng.1.dylib",
)
"""Where pyttsx3 looks for libespeak-ng (the same names, Linux first as it tries them there)."""


def _espeak_version() -> str:
    """Ask libespeak-ng for its version, without initializing it or importing pyttsx3."""
    import ctypes

    for name in _LIBESPEAK_NAMES:
        try:
            info = ctypes.CDLL(name).espeak_Info
        except (OSError, AttributeError):
            continue
        info.restype = ctypes.c_char_p
        info.argtypes = [ctypes.c_void_p]
        version = info(None)
        return version.decode("ascii", "replace") if version else "unknown"
    try:  # elsewhere (Windows), through pyttsx3's own loader
        from pyttsx3.drivers import _espeak

        version = _espeak.Info(None)
        return version.decode("ascii", "replace") if version else "unknown"
    except Exception:  # a private module: its absence only costs us the version
        return "unknown"


def _espeak_is_playing() -> Callable[[], bool] | None:
    """Return espeak-ng's ``IsPlaying`` (pyttsx3 exposes it only in a private module)."""
    try:
        from pyttsx3.drivers import _espeak

        is_playing = _espeak.IsPlaying
    except Exception:
        return None
    return lambda: bool(is_playing())


def _pyttsx3_version() -> str:
    """pyttsx3's version from its ``.dist-info`` folder (importing importlib.metadata is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("pyttsx3")
    if spec is not None and spec.origin:
        site = Path(spec.origin).parent.parent
        found = sorted(site.glob("pyttsx3-*.dist-info"))
        if len(found) == 1:
            return found[0].name[len("pyttsx3-") : -len(".dist-info")]
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pyttsx3")
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def _versions() -> str:
    """The versions that shape the sound: 'espeak-ng 1.51 (pyttsx3 2.99)'."""
    return f"espeak-ng {_espeak_version()} (pyttsx3 {_pyttsx3_version()})"


def _memo_path(wanted: str | None) -> Path:
    from voiceguide import paths

    material = json.dumps([1, _versions(), None if wanted is None else normal_label(wanted)])
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
    return paths.user_cache_dir() / "espeak-voices" / f"{digest}.txt"


def _remembered_voice(wanted: str | None) -> str | None:
    """The voice id ``wanted`` resolved to last time, with these versions; ``None`` if unknown."""
    try:
        voice_id = _memo_path(wanted).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return voice_id or None


def _remember_voice(wanted: str | None, voice_id: str) -> None:
    """Remember what ``wanted`` resolved to; a failure only costs time next run."""
    path = _memo_path(wanted)
    error = replace_quietly(path, f"{voice_id}\n".encode())
    if error is not None:
        logger.debug("cannot remember the espeak-ng voice in %s: %s", path.parent, error)


def _short_id(voice: Voice) -> str:
    return voice.id.rsplit("/", 1)[-1]


def resolve_voice(wanted: str | None, voices: tuple[Voice, ...]) -> Voice:
    """Find a voice by id, short id, name or language; ``None`` picks the default English one."""
    if not voices:
        raise EngineError("espeak-ng offers no voices; is espeak-ng-data installed?")
    if wanted is None:
        by_id = {voice.id: voice for voice in voices}
        for voice_id in DEFAULT_VOICE_IDS:
            if voice_id in by_id:
                return by_id[voice_id]
        english = [v for v in voices if any(lang.startswith("en") for lang in v.languages)]
        return english[0] if english else voices[0]
    key = normal_label(wanted)
    for label in (lambda v: v.id, _short_id, lambda v: v.name):
        for voice in voices:
            if normal_label(label(voice)) == key:
                return voice
    for voice in voices:
        if key in (normal_label(language) for language in voice.languages):
            return voice
    raise UnknownVoiceError(_unknown_voice_message(wanted, voices))


def _unknown_voice_message(wanted: str, voices: tuple[Voice, ...]) -> str:
    key = normal_label(wanted)

    def closeness(voice: Voice) -> float:
        labels = (voice.id, _short_id(voice), voice.name, voice.name.split(" (")[0])
        return max(
            difflib.SequenceMatcher(None, key, normal_label(label)).ratio()
            for label in (*labels, *voice.languages)
        )

    scored = sorted((-closeness(voice), index) for index, voice in enumerate(voices))
    suggestions = [voices[index] for score, index in scored[:4] if -score >= 0.6]
    if not suggestions:
        return f"unknown espeak-ng voice {wanted!r}; none of its {len(voices)} voices is close"
    listed = ", ".join(f"{voice.id} ({voice.name})" for voice in suggestions)
    return f"unknown espeak-ng voice {wanted!r}; did you mean {listed}?"


def _validate(settings: VoiceSettings) -> None:
    if not MIN_RATE_WPM <= settings.rate_wpm <= MAX_RATE_WPM:
        raise EngineError(
            f"speaking rate {settings.rate_wpm} wpm is out of range: "
            f"espeak-ng speaks at {MIN_RATE_WPM} to {MAX_RATE_WPM} wpm"
        )
    if not 0 <= settings.pitch <= 100:
        raise EngineError(f"pitch {settings.pitch} is out of range: expected 0 to 100")


class Pyttsx3Engine:
    """Speak with espeak-ng through pyttsx3, one phrase at a time."""

    name = ENGINE_NAME

    def __init__(
        self, settings: VoiceSettings | None = None, *, timeout_s: float = BASE_TIMEOUT_S
    ) -> None:
        self.settings = settings if settings is not None else DEFAULT_VOICE
        _validate(self.settings)
        self._timeout_s = timeout_s
        self._closed = False
        self._started: _SharedEngine | None = None
        remembered = _remembered_voice(self.settings.voice)
        if remembered is None:
            # Resolve now, so an unknown voice fails here, and remember it for next time.
            remembered = resolve_voice(self.settings.voice, self._shared.voices).id
            _remember_voice(self.settings.voice, remembered)
        self.voice_id = remembered
        """The id of the voice spoken with."""

    @property
    def _shared(self) -> _SharedEngine:
        """The process's pyttsx3 engine, started on first use."""
        if self._started is None:
            self._started = _shared_engine()
        return self._started

    @property
    def voice(self) -> Voice:
        """The voice spoken with (starts pyttsx3 to describe it)."""
        for voice in self._shared.voices:
            if voice.id == self.voice_id:
                return voice
        raise UnknownVoiceError(_unknown_voice_message(self.voice_id, self._shared.voices))

    def identity(self) -> str:
        """Name the engine, its versions, the voice and the settings that shape the sound."""
        return (
            f"{_versions()} voice={self.voice_id} "
            f"rate={self.settings.rate_wpm}wpm pitch={self.settings.pitch}"
        )

    def voices(self) -> list[Voice]:
        """List the voices espeak-ng offers."""
        return list(self._shared.voices)

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` into mono int16 PCM; raise EngineError on any failure."""
        if self._closed:
            raise EngineError("the espeak-ng engine was closed")
        phrase = text.replace("\x00", " ").strip()
        if not phrase:
            raise EngineError("nothing to speak: the phrase is empty")
        timeout_s = self._timeout_s + TIMEOUT_PER_CHAR_S * len(phrase)
        with self._shared.lock:
            try:
                return self._synthesize_once(phrase, timeout_s)
            except _Cancelled:
                # A run left over from an earlier failure can make the driver cancel the
                # next phrase; that costs nothing but time, so try once more.
                logger.debug("espeak-ng cancelled %s; speaking it again", quote_phrase(phrase))
            try:
                return self._synthesize_once(phrase, timeout_s)
            except _Cancelled:
                raise EngineError(
                    f"espeak-ng stopped before the end of {quote_phrase(phrase)}"
                ) from None

    def _synthesize_once(self, phrase: str, timeout_s: float) -> Speech:
        shared = self._shared
        with tempfile.TemporaryDirectory(prefix="voiceguide-espeak-") as folder:
            path = Path(folder) / "phrase.wav"
            utterance = _Utterance()
            shared.current = utterance
            try:
                self._run(shared.engine, phrase, path, utterance, timeout_s)
            finally:
                shared.current = None
            if utterance.errors:
                raise EngineError(f"espeak-ng failed: {utterance.errors[0]}")
            if not utterance.done.is_set():
                raise EngineError(
                    f"espeak-ng did not finish speaking within {timeout_s:.0f} s: "
                    f"{quote_phrase(phrase)}"
                )
            if not utterance.completed:
                raise _Cancelled
            return _read_wav(path, phrase)

    def _run(
        self, engine: Any, phrase: str, path: Path, utterance: _Utterance, timeout_s: float
    ) -> None:
        # Every phrase sets every property: another Pyttsx3Engine may have changed them.
        watchdog = threading.Timer(timeout_s, _abort, args=(engine,))
        watchdog.daemon = True
        with _contained():
            engine.setProperty("voice", self.voice_id)
            engine.setProperty("rate", self.settings.rate_wpm)
            engine.setProperty("pitch", self.settings.pitch)
            engine.setProperty("volume", 1.0)
            engine.save_to_file(phrase, str(path))
            self._shared.wait_until_idle()
            deadline = time.monotonic() + timeout_s
            watchdog.start()
            try:
                engine.runAndWait()
                # Wait inside the stdout redirection: the driver prints before it notifies.
                utterance.done.wait(max(0.0, deadline - time.monotonic()))
            except Exception as error:
                raise EngineError(f"espeak-ng failed: {error}") from error
            finally:
                watchdog.cancel()

    def worker_recipe(self) -> VoiceSettings:
        """How to make this same engine in a worker process: its settings."""
        return self.settings

    def close(self) -> None:
        """Stop using the engine (the shared espeak-ng instance lives on for the process)."""
        self._closed = True


def _abort(engine: Any) -> None:
    """End a run loop that is stuck because the driver never reported the end."""
    # Engine.endLoop() cannot do it: runAndWait() has already run its queued endLoop, so
    # the engine believes no loop is running while the driver's loop polls on. The proxy's
    # endLoop stops the driver's loop itself (and cancels espeak-ng if it is still busy).
    with contextlib.suppress(Exception):
        engine.proxy.endLoop(True)


def _read_wav(path: Path, phrase: str) -> Speech:
    """Read the driver's WAV file, checking that it is complete."""
    if not path.is_file():
        raise EngineError(f"espeak-ng wrote no audio for {quote_phrase(phrase)}")
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.getnframes()
            data = wav.readframes(frames)
    except (wave.Error, EOFError, OSError) as error:
        raise EngineError(f"espeak-ng wrote an unreadable WAV file: {error}") from error
    if channels != 1 or width != 2:
        raise EngineError(
            f"espeak-ng wrote {channels}-channel {8 * width}-bit audio; expected mono 16-bit"
        )
    if frames == 0 or len(data) != 2 * frames:
        raise EngineError(
            f"espeak-ng wrote an incomplete WAV file ({len(data) // 2} of {frames} samples) "
            f"for {quote_phrase(phrase)}"
        )
    samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
    return Speech(samples=samples, sample_rate=rate)
