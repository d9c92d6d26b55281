"""libasound, through ctypes: open the default device to see it is there, keep it quiet.

The outputs (:mod:`voiceguide.play.device`) play; this module only asks ALSA whether a
device opens (:func:`probe_alsa`, before any synthesis) and stops libasound printing its
diagnostics on stderr from C (:func:`silence_alsa_errors`): with no device it prints a
screenful. :func:`describe_simpleaudio_error` reads simpleaudio's errors, for the fallback.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
from typing import Any

# -- libasound ---------------------------------------------------------------------------

_ErrorHandler = ctypes.CFUNCTYPE(
    None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p
)
_alsa: dict[str, Any] = {}


def _load_libasound() -> Any:
    try:
        return ctypes.CDLL("libasound.so.2")  # by soname: find_library() runs ldconfig (slow)
    except OSError:
        name = ctypes.util.find_library("asound")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def _libasound() -> Any:
    """Return libasound loaded through ctypes, or ``None`` where there is none (not Linux)."""
    if "lib" not in _alsa:
        lib = _load_libasound()
        try:
            if lib is not None:
                lib.snd_strerror.restype = ctypes.c_char_p
                lib.snd_strerror.argtypes = [ctypes.c_int]
                lib.snd_pcm_open.argtypes = [
                    ctypes.POINTER(ctypes.c_void_p), ctypes.c_char_p, ctypes.c_int, ctypes.c_int
                ]  # fmt: skip
                lib.snd_pcm_close.argtypes = [ctypes.c_void_p]
                lib.snd_lib_error_set_handler.argtypes = [_ErrorHandler]
        except AttributeError:  # not the libasound we know
            lib = None
        _alsa["lib"] = lib
    return _alsa["lib"]


def _ignore_alsa_error(*_: object) -> None:
    return None


def silence_alsa_errors() -> bool:
    """Stop libasound printing diagnostics on stderr (it writes from C, past Python).

    libasound's handler is variadic (``file, line, function, err, fmt, ...``); a callback
    declaring only the fixed arguments is safe on the C calling conventions Linux uses.
    The same libasound is the one simpleaudio is linked against, so this covers it too.
    Return whether libasound was found.
    """
    lib = _libasound()
    if lib is None:
        return False
    if "handler" not in _alsa:
        _alsa["handler"] = _ErrorHandler(_ignore_alsa_error)  # kept alive for the process
        lib.snd_lib_error_set_handler(_alsa["handler"])
    return True


def probe_alsa(device: bytes = b"default") -> str | None:
    """Open and close ALSA's ``device`` for playback; return why it failed, or ``None``."""
    lib = _libasound()
    if lib is None:
        return None
    handle = ctypes.c_void_p()
    playback, nonblock = 0, 1  # SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK: a busy device fails
    result = lib.snd_pcm_open(ctypes.byref(handle), device, playback, nonblock)
    if result < 0:
        return str(lib.snd_strerror(result).decode("utf-8", "replace"))
    lib.snd_pcm_close(handle)
    return None


_SA_ERROR = re.compile(r"(?P<what>.*?)\s*-- CODE: (?P<code>-?\d+) -- MSG: (?P<msg>.*)")


def describe_simpleaudio_error(error: BaseException) -> str:
    """Turn ``"Error opening PCM device. -- CODE: -2 -- MSG: No such …"`` into a short reason."""
    text = str(error).strip()
    match = _SA_ERROR.fullmatch(text)
    if match is None:
        return text or type(error).__name__
    what = match["what"].rstrip(".").lower()
    msg = match["msg"].strip()
    return f"{what}: {msg}" if msg else what
