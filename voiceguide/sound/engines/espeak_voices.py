"""espeak-ng's voices and versions: listing them, finding one by name, remembering the choice.

Listing voices loads libespeak-ng in this process (through pyttsx3's binding, in
synchronous mode: no thread of its own); it never speaks here, the speaker process does
(:mod:`voiceguide.sound.engines.espeak_speaker`). Which voice a request resolves to is
remembered per request and per versions (:func:`remembered_voice`), so a warm start needs
neither: a new espeak-ng or pyttsx3 resolves again.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from voiceguide.atomic import replace_quietly
from voiceguide.errors import EngineError
from voiceguide.sound.engines import UnknownVoiceError
from voiceguide.sound.engines.base import Voice, normal_label

logger = logging.getLogger(__name__)

DEFAULT_VOICE_IDS = ("gmw/en-us", "gmw/en")
"""Preferred default voices, first available wins: American, then British English."""


def list_voices() -> tuple[Voice, ...]:
    """Ask libespeak-ng for its voices (loads it in this process; takes a few milliseconds)."""
    try:
        from pyttsx3.drivers import _espeak
        from pyttsx3.drivers.espeak import EspeakDriver
    except ImportError as error:
        raise EngineError(f"pyttsx3 is not installed: {error}") from error
    except Exception as error:  # pyttsx3 raises RuntimeError when libespeak-ng is missing
        raise EngineError(f"could not load espeak-ng through pyttsx3: {error}") from error
    if _espeak.Initialize(_espeak.AUDIO_OUTPUT_SYNCHRONOUS, 0) <= 0:
        raise EngineError("could not start espeak-ng: is espeak-ng-data installed?")
    return tuple(_voice_from_pyttsx3(voice) for voice in EspeakDriver.getProperty("voices"))


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
def versions() -> str:
    """The versions that shape the sound: 'espeak-ng 1.51 (pyttsx3 2.99)'."""
    return f"espeak-ng {_espeak_version()} (pyttsx3 {_pyttsx3_version()})"


def _memo_path(wanted: str | None) -> Path:
    from voiceguide import paths

    material = json.dumps([1, versions(), None if wanted is None else normal_label(wanted)])
    digest = hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]
    return paths.user_cache_dir() / "espeak-voices" / f"{digest}.txt"


def remembered_voice(wanted: str | None) -> str | None:
    """The voice id ``wanted`` resolved to last time, with these versions; ``None`` if unknown."""
    try:
        voice_id = _memo_path(wanted).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return voice_id or None


def remember_voice(wanted: str | None, voice_id: str) -> None:
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
    raise UnknownVoiceError(unknown_voice_message(wanted, voices))


def unknown_voice_message(wanted: str, voices: tuple[Voice, ...]) -> str:
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
