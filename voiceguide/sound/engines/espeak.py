"""The espeak-ng voice: libespeak-ng through pyttsx3's binding, one fresh state per phrase.

espeak-ng keeps state from one phrase to the next, so a phrase's samples depended on what
the process had spoken before; and pyttsx3's own engine runs espeak-ng asynchronously,
with traps of its own (a run that returns before the audio is written, phrases cancelled
by a busy thread, stray output on stdout, a callback a second engine steals). So phrases
are spoken in a speaker process (:mod:`voiceguide.sound.engines.espeak_speaker`), which
sets espeak-ng up once and forks a fresh copy of it per phrase: the same text with the
same settings gives the same samples, byte for byte, in any order, in any process, and a
failure of espeak-ng (a crash, a phrase that never ends) is one error, not the end of
voiceguide. Each engine has its own speaker, started on its first phrase; the speaker ends
with the engine, or with voiceguide however it ends (it watches its stdin).

Starting anything takes longer than playing a session from the cache, which only needs
:meth:`Pyttsx3Engine.identity` (the cache key). So the engine starts the speaker only to
speak, and loads libespeak-ng here only to list voices or resolve one it has not resolved
before (:mod:`voiceguide.sound.engines.espeak_voices`). The identity names the versions of
espeak-ng and pyttsx3, the resolved voice and the settings.
"""

from __future__ import annotations

import logging
import os
import select
import subprocess
import sys
import threading
import time
import weakref

from voiceguide.errors import EngineError
from voiceguide.prefs import VoiceSettings
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import UnknownVoiceError, espeak_speaker
from voiceguide.sound.engines.base import Speech, Voice, quote_phrase, speakable
from voiceguide.sound.engines.espeak_voices import (
    list_voices,
    remember_voice,
    remembered_voice,
    resolve_voice,
    unknown_voice_message,
    versions,
)

logger = logging.getLogger(__name__)

ENGINE_NAME = "espeak"

MIN_RATE_WPM = 80
"""espeak-ng's slowest rate (``espeakRATE_MINIMUM``); slower values are silently clamped."""
MAX_RATE_WPM = 450
"""espeak-ng's fastest documented rate (``espeakRATE_MAXIMUM``)."""

BASE_TIMEOUT_S = 10.0
"""How long one phrase may take before espeak-ng is declared stuck, plus per character."""
TIMEOUT_PER_CHAR_S = 0.01
START_TIMEOUT_S = 30.0
"""How long the speaker process may take to start (a cold disk, a loaded machine)."""
_ANSWER_MARGIN_S = 5.0
"""How much longer than the speaker's own deadline to wait for its answer."""

_shared: tuple[Voice, ...] | None = None
"""espeak-ng's voices, once listed in this process (libespeak-ng is loaded then)."""
_shared_guard = threading.Lock()


def _voices() -> tuple[Voice, ...]:
    """espeak-ng's voices, listed once per process."""
    global _shared  # noqa: PLW0603 - one list per process is the point
    with _shared_guard:
        if _shared is None:
            _shared = list_voices()
        return _shared


def _validate(settings: VoiceSettings) -> None:
    if not MIN_RATE_WPM <= settings.rate_wpm <= MAX_RATE_WPM:
        raise EngineError(
            f"speaking rate {settings.rate_wpm} wpm is out of range: "
            f"espeak-ng speaks at {MIN_RATE_WPM} to {MAX_RATE_WPM} wpm"
        )
    if not 0 <= settings.pitch <= 100:
        raise EngineError(f"pitch {settings.pitch} is out of range: expected 0 to 100")


class _SpeakerGone(Exception):
    """The speaker process ended or stopped answering (not the phrase's fault)."""


class _Speaker:
    """The speaker process of one engine: a phrase in, its samples out."""

    def __init__(self, voice_id: str, settings: VoiceSettings) -> None:
        # Run as a script, not a module: importing the voiceguide packages on the way
        # would cost the speaker a third of its start. -P: nothing shadows the stdlib.
        command = [sys.executable, "-P", espeak_speaker.__file__, voice_id]
        command += [str(settings.rate_wpm), str(settings.pitch)]
        try:
            # stderr goes nowhere: a speaker that outlived voiceguide for a moment must not
            # hold the caller's terminal or pipe open; its errors come back as answers.
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, bufsize=0,
            )  # fmt: skip
        except OSError as error:
            raise EngineError(f"could not start the espeak-ng speaker: {error}") from None
        self._stop = weakref.finalize(self, _stop_process, self.process)
        try:
            kind, self.sample_rate, payload = self._answer(START_TIMEOUT_S)
        except _SpeakerGone:
            self.close()
            raise EngineError("the espeak-ng speaker did not start") from None
        if kind != espeak_speaker.READY:
            self.close()
            raise EngineError(f"could not start espeak-ng: {payload.decode(errors='replace')}")

    def alive(self) -> bool:
        """Tell whether the process is still there to speak."""
        return self.process.poll() is None

    def speak(self, phrase: str, timeout_s: float) -> tuple[bytes, bytes]:
        """Send one phrase; return the answer's kind and payload."""
        assert self.process.stdin is not None
        data = phrase.encode("utf-8")
        try:
            espeak_speaker.write_all(
                self.process.stdin.fileno(),
                espeak_speaker.REQUEST.pack(timeout_s, len(data)) + data,
            )
            kind, _, payload = self._answer(timeout_s + _ANSWER_MARGIN_S)
        except OSError:
            self.close()
            raise _SpeakerGone from None
        except BaseException:
            self.close()  # mid-answer: the stream cannot be trusted any more
            raise
        return kind, payload

    def _answer(self, timeout_s: float) -> tuple[bytes, int, bytes]:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        header = self._read(fd, espeak_speaker.ANSWER.size, deadline)
        kind, rate, length = espeak_speaker.ANSWER.unpack(header)
        return kind, rate, self._read(fd, length, deadline)

    def _read(self, fd: int, size: int, deadline: float) -> bytes:
        data = bytearray()
        while len(data) < size:
            if not select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
                self.close()
                raise _SpeakerGone
            chunk = os.read(fd, min(size - len(data), 1 << 20))
            if not chunk:
                self.close()
                raise _SpeakerGone
            data += chunk
        return bytes(data)

    def close(self) -> None:
        """End the process."""
        self._stop()


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """Close the speaker's stdin (it ends at once), then make sure it has ended."""
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    try:
        process.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Pyttsx3Engine:
    """Speak with espeak-ng, each phrase from a fresh state, one phrase at a time."""

    name = ENGINE_NAME

    def __init__(
        self,
        settings: VoiceSettings | None = None,
        *,
        timeout_s: float = BASE_TIMEOUT_S,
        timeout_per_char_s: float = TIMEOUT_PER_CHAR_S,
    ) -> None:
        self.settings = settings if settings is not None else DEFAULT_VOICE
        _validate(self.settings)
        self._timeout_s = timeout_s
        self._timeout_per_char_s = timeout_per_char_s
        self._closed = False
        self._speaker: _Speaker | None = None
        self._lock = threading.Lock()
        remembered = remembered_voice(self.settings.voice)
        if remembered is None:
            # Resolve now, so an unknown voice fails here, and remember it for next time.
            remembered = resolve_voice(self.settings.voice, _voices()).id
            remember_voice(self.settings.voice, remembered)
        self.voice_id = remembered
        """The id of the voice spoken with."""

    @property
    def voice(self) -> Voice:
        """The voice spoken with (loads libespeak-ng to describe it)."""
        for voice in _voices():
            if voice.id == self.voice_id:
                return voice
        raise UnknownVoiceError(unknown_voice_message(self.voice_id, _voices()))

    def identity(self) -> str:
        """Name the engine, its versions, the voice and the settings that shape the sound."""
        return (
            f"{versions()} voice={self.voice_id} "
            f"rate={self.settings.rate_wpm}wpm pitch={self.settings.pitch}"
        )

    def voices(self) -> list[Voice]:
        """List the voices espeak-ng offers."""
        return list(_voices())

    def synthesize(self, text: str) -> Speech:
        """Speak ``text`` into mono int16 PCM; raise EngineError on any failure."""
        import numpy as np

        if self._closed:
            raise EngineError("the espeak-ng engine was closed")
        phrase = speakable(text)
        timeout_s = self._timeout_s + self._timeout_per_char_s * len(phrase)
        with self._lock:
            for attempt in (1, 2):
                speaker = self._ready()
                try:
                    kind, payload = speaker.speak(phrase, timeout_s)
                    break
                except _SpeakerGone:
                    # Killed from outside, say: the phrase is not at fault, so try it again.
                    if attempt == 2:
                        raise EngineError(
                            f"the espeak-ng speaker stopped answering on {quote_phrase(phrase)}"
                        ) from None
                    logger.debug("the espeak-ng speaker went away; starting another")
        if kind != espeak_speaker.AUDIO:
            raise EngineError(_failure(payload.decode(errors="replace"), phrase, timeout_s))
        if not payload or len(payload) % 2:
            raise EngineError(f"espeak-ng wrote no audio for {quote_phrase(phrase)}")
        samples = np.frombuffer(payload, dtype="<i2").astype(np.int16)
        return Speech(samples=samples, sample_rate=speaker.sample_rate)

    def _ready(self) -> _Speaker:
        if self._speaker is None or not self._speaker.alive():
            self._speaker = _Speaker(self.voice_id, self.settings)
        return self._speaker

    def close(self) -> None:
        """Stop the engine and its speaker process."""
        self._closed = True
        with self._lock:
            if self._speaker is not None:
                self._speaker.close()
                self._speaker = None


def _failure(problem: str, phrase: str, timeout_s: float) -> str:
    """Say in words why the speaker could not speak ``phrase``."""
    quoted = quote_phrase(phrase)
    if problem == "timeout":
        return f"espeak-ng did not finish speaking within {timeout_s:.0f} s: {quoted}"
    if problem == "too long":
        return f"espeak-ng kept on speaking (over ten minutes of audio) for {quoted}"
    if problem.startswith("signal "):
        return f"espeak-ng crashed ({problem}) on {quoted}"
    return f"espeak-ng failed ({problem}) on {quoted}"
