"""The audio device behind a small interface: hand it PCM, ask how much has played, stop it.

Only this module knows the device. :class:`SimpleaudioPlayer` plays through simpleaudio
(ALSA on Linux); :class:`NullPlayer` plays nothing, in real time or faster, for
``--dry-run`` and tests. Both take int16 PCM at :data:`~voiceguide.pcm.SAMPLE_RATE`, one
buffer at a time: shape ``(n,)`` for mono, ``(n, 2)`` for stereo (left, right). The
buffer's shape says its channels, so a stereo session and a mono answer can follow each
other; positions count frames (one sample of every channel).

simpleaudio has traps, handled here (see DESIGN.md):

* ``play_buffer`` does not copy the buffer: its C thread reads our memory while it plays.
  The player keeps a reference to the array until the device is quiet, and never changes it.
* It cannot say how far it has got. Position is the time since the buffer was handed over,
  against the buffer's length; the end of the buffer is when ``is_playing()`` turns false
  (that is after ALSA has drained, so it is when the last sample was heard).
* Every buffer opens the device and closes it at the end, so two buffers in a row leave a gap
  of tens of milliseconds: callers hand over long buffers (see :mod:`voiceguide.play.playback`).
* ``stop()`` only sets a flag; the device falls quiet after its ~0.1 s buffer drains, and
  ``is_playing()`` turns false about then. :meth:`SimpleaudioPlayer.stop` waits for that, so
  nothing plays on after it returns, and the next buffer can open the device.
* With no device it raises ``SimpleaudioError`` ("Error opening PCM device. -- CODE: -2 …"),
  after libasound has printed a screenful of its own diagnostics on stderr from C.
  :func:`silence_alsa_errors` installs a no-op libasound error handler first.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from voiceguide.errors import AudioDeviceError
from voiceguide.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Int16Array = npt.NDArray[np.int16]

Clock = Callable[[], float]

STOP_TIMEOUT_S = 2.0
"""How long :meth:`SimpleaudioPlayer.stop` waits for the device to fall quiet."""
_POLL_S = 0.002


class Player(Protocol):
    """Plays one buffer of int16 PCM at a time and says how much of it has played.

    What playback builds on (any player must keep to it): :meth:`played` counts samples
    *heard* since :meth:`play`, not samples taken, so it is the position within the buffer;
    it never goes back, and it stops at the buffer's length. :meth:`is_playing` turns false
    only once the last sample was heard. Once :meth:`stop` returns nothing more is heard, and
    :meth:`played` stays where the sound stopped. The caller does not change a buffer once
    handed over (simpleaudio reads it in place).
    """

    @property
    def sample_rate(self) -> int:
        """The rate every buffer is played at."""
        ...

    def play(self, samples: Int16Array) -> None:
        """Start playing ``samples`` (``(n,)`` mono or ``(n, channels)``) and return at once.

        Anything still playing is stopped first.
        """
        ...

    def played(self) -> int:
        """How many samples of the current buffer have been heard (all of it once it ended)."""
        ...

    def is_playing(self) -> bool:
        """Whether the current buffer is still playing."""
        ...

    def stop(self) -> None:
        """Stop the current buffer; return once the device is quiet."""
        ...

    def close(self) -> None:
        """Stop and let go of the device."""
        ...


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


def channels_of(samples: Int16Array) -> int:
    """How many channels a buffer holds: 1 for shape ``(n,)``, else its second dimension."""
    if samples.ndim == 1:
        return 1
    if samples.ndim == 2 and samples.shape[1] in (1, 2):
        return int(samples.shape[1])
    raise ValueError(f"expected PCM of shape (n,) or (n, 2), got {samples.shape}")


# -- simpleaudio ---------------------------------------------------------------------------


class SimpleaudioPlayer:
    """Play through simpleaudio: ALSA's default device on Linux, the system's elsewhere."""

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        *,
        quiet_alsa: bool = True,
        clock: Clock = time.monotonic,
    ) -> None:
        """Play at ``sample_rate``; ``quiet_alsa=False`` lets libasound print its diagnostics."""
        self._rate = sample_rate
        self._quiet = quiet_alsa
        self._clock = clock
        self._play: Any = None
        self._buffer: Int16Array | None = None
        self._length = 0
        self._started = 0.0
        self._played: int | None = None
        """Frozen count once the buffer ended or was stopped."""

    @property
    def sample_rate(self) -> int:
        """The rate buffers are played at."""
        return self._rate

    @classmethod
    def check(cls, *, quiet_alsa: bool = True) -> None:
        """Raise :class:`AudioDeviceError` unless simpleaudio imports and a device opens."""
        if quiet_alsa:
            silence_alsa_errors()
        try:
            import simpleaudio  # noqa: F401
        except ImportError as error:
            raise AudioDeviceError(
                f"cannot play sound: simpleaudio is not installed ({error})"
            ) from error
        problem = probe_alsa()
        if problem is not None:
            raise AudioDeviceError(f"no audio device could be opened (ALSA: {problem})")

    @classmethod
    def is_available(cls) -> bool:
        """Whether playing would work here: simpleaudio imports and a device opens."""
        try:
            cls.check()
        except AudioDeviceError:
            return False
        return True

    def play(self, samples: Int16Array) -> None:
        """Hand ``samples`` to the device; raise :class:`AudioDeviceError` if it cannot open."""
        import numpy as np

        if self._quiet:
            silence_alsa_errors()
        import simpleaudio

        self.stop()
        channels = channels_of(samples)
        # Interleaved frames: a C-ordered (n, channels) array is that in memory already.
        data = np.ascontiguousarray(samples, dtype="<i2").reshape(-1)
        data.flags.writeable = False  # simpleaudio reads this memory while it plays
        try:
            play = simpleaudio.play_buffer(data, channels, 2, self._rate)
        except simpleaudio.SimpleaudioError as error:
            raise AudioDeviceError(
                f"no audio device could be opened ({describe_simpleaudio_error(error)})"
            ) from error
        except ValueError as error:  # a rate or format simpleaudio does not take
            raise AudioDeviceError(f"cannot play this audio: {error}") from error
        self._started = self._clock()
        self._play = play
        self._buffer = data
        self._length = len(data) // channels
        self._played = None

    def played(self) -> int:
        """Samples heard so far: time since handing over, capped by the buffer's length."""
        if self._played is not None:
            return self._played
        if self._play is None:
            return 0
        if not self._play.is_playing():
            # It ended by itself: ALSA drained every sample (instantly, on a device with no
            # clock, such as the null device tests use).
            self._finish(self._length)
            return self._length
        return min(self._length, int((self._clock() - self._started) * self._rate))

    def is_playing(self) -> bool:
        """Whether the device is still playing the current buffer."""
        if self._play is None or self._played is not None:
            return False
        if self._play.is_playing():
            return True
        self._finish(self._length)
        return False

    def stop(self) -> None:
        """Stop now and wait (up to :data:`STOP_TIMEOUT_S`) until the device is quiet."""
        play = self._play
        if play is None or self._played is not None:
            return
        play.stop()
        deadline = self._clock() + STOP_TIMEOUT_S
        while play.is_playing() and self._clock() < deadline:
            time.sleep(_POLL_S)
        # The device played on while its buffer drained: count up to when it fell quiet.
        heard = int((self._clock() - self._started) * self._rate)
        self._finish(max(0, min(self._length, heard)))

    def close(self) -> None:
        """Stop playing."""
        self.stop()

    def _finish(self, played: int) -> None:
        self._played = played
        if self._play is not None and not self._play.is_playing():
            self._buffer = None  # the C thread has let go of it


# -- no device -----------------------------------------------------------------------------


class NullPlayer:
    """Play nothing, in real time or ``speed`` times faster: for ``--dry-run`` and tests.

    With ``record=True`` it keeps every buffer handed to it in :attr:`buffers`; with a
    ``clock`` a test controls, time passes only when the test says so.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        *,
        speed: float = 1.0,
        clock: Clock = time.monotonic,
        record: bool = False,
    ) -> None:
        """Pretend to play at ``sample_rate``, ``speed`` times faster than real time."""
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self._rate = sample_rate
        self._speed = speed
        self._clock = clock
        self._record = record
        self.buffers: list[Int16Array] = []
        """Every buffer played, in order (with ``record=True``)."""
        self.stops = 0
        """How many times a playing buffer was stopped."""
        self._length = 0
        self._started = 0.0
        self._played: int | None = 0

    @property
    def sample_rate(self) -> int:
        """The rate buffers are played at."""
        return self._rate

    def play(self, samples: Int16Array) -> None:
        """Start the clock on ``samples``."""
        channels_of(samples)  # the same shapes as a real device takes
        self.stop()
        if self._record:
            self.buffers.append(samples.copy())
        self._length = len(samples)
        self._started = self._clock()
        self._played = None

    def played(self) -> int:
        """Samples 'heard' so far, by the clock."""
        if self._played is not None:
            return self._played
        elapsed = (self._clock() - self._started) * self._rate * self._speed
        return min(self._length, int(elapsed))

    def is_playing(self) -> bool:
        """Whether the clock has not yet reached the end of the buffer."""
        return self._played is None and self.played() < self._length

    def stop(self) -> None:
        """Stop the clock."""
        if self._played is None:
            if self.played() < self._length:
                self.stops += 1
            self._played = self.played()

    def close(self) -> None:
        """Stop."""
        self.stop()
