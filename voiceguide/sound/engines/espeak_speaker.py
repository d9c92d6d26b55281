"""The espeak-ng speaker process: every phrase spoken by a fresh copy of a ready voice.

Run by :mod:`voiceguide.sound.engines.espeak` as ``python -P espeak_speaker.py VOICE RATE
PITCH`` (a script: importing the voiceguide packages would slow its start); it speaks the
phrases it reads on stdin and answers on stdout (frames below). Standard library and
pyttsx3's binding of libespeak-ng only: it starts in a few tens of milliseconds.

Why a process, and why a fork per phrase: libespeak-ng keeps state from one phrase to the
next in static variables (the pitch flutter's phase, the wave generator's phase and gain,
the echo buffer), none of which a call resets. So the same text came out a few samples
longer or shorter depending on what the process had said before (145,461 samples alone,
145,471 after another phrase), and a cold export differed from run to run. This process
sets up espeak-ng once, in synchronous mode (no thread of its own, so forking is safe):
voice, rate, pitch and volume. It never speaks itself. For each phrase it forks, and the
child speaks from that pristine state, streams the samples back through a pipe and exits.
A fork costs about a millisecond; the phrase is the same samples every time, and the same
as the first phrase of any process with these settings.

The child also keeps espeak-ng's failures away from voiceguide: a phrase that crashes it,
never ends or runs on for minutes costs one child, and is reported as an error. The
speaker ends when its stdin closes (voiceguide exited, however it ended, SIGKILL
included), and takes a child still speaking with it; a child dies with the speaker
(``PR_SET_PDEATHSIG`` on Linux).

Frames: a request is ``<dI`` (timeout in seconds, text length) and the UTF-8 text; an
answer is ``<cIQ`` (kind, sample rate, payload length) and the payload: ``R`` ready (once,
at the start), ``A`` audio (mono 16-bit little-endian PCM), ``E`` an error (UTF-8 text:
``timeout``, ``too long``, ``signal N``, ``exit N``, or a message).
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import struct
import sys
from typing import Any

REQUEST = struct.Struct("<dI")
ANSWER = struct.Struct("<cIQ")
READY, AUDIO, ERROR = b"R", b"A", b"E"
BUFFER_MS = 200
"""Length of the chunks espeak-ng hands back while it speaks."""
MAX_PHRASE_BYTES = 600 * 22_050 * 2
"""Ten minutes of audio: a phrase that runs on longer is a runaway (espeak-ng has spoken
endless gibberish for some inputs), and is stopped."""
_PR_SET_PDEATHSIG = 1

_out_fd = -1
"""In a child, where the samples go."""


def read_exactly(fd: int, size: int) -> bytes | None:
    """Read ``size`` bytes from ``fd``; ``None`` if it ends first."""
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, size - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def write_all(fd: int, data: bytes | bytearray | memoryview) -> None:
    """Write all of ``data`` to ``fd``."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _answer(kind: bytes, rate: int, payload: bytes | bytearray = b"") -> None:
    write_all(1, ANSWER.pack(kind, rate, len(payload)) + payload)


def _on_samples(wav: Any, count: int, events: Any) -> int:
    """espeak-ng's callback, in the child: pass the samples on as they come."""
    if count > 0:
        write_all(_out_fd, ctypes.string_at(wav, count * 2))
    return 0


def _die_with_parent(parent: int) -> None:
    """Have the kernel end this process when its parent ends (Linux), or end it now."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def _child(espeak: Any, text: str, out: int, speaker: int) -> None:
    """Speak ``text`` from the state forked from the speaker, into ``out``; never return."""
    global _out_fd  # noqa: PLW0603 - the C callback has no other way in
    code = 3
    try:
        _die_with_parent(speaker)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.dup2(null, 1)
        _out_fd = out
        status = espeak.Synth(text.encode("utf-8"), flags=espeak.ENDPAUSE | espeak.CHARS_UTF8)
        code = 0 if status == espeak.EE_OK else 2
    finally:
        os._exit(code)


def _speak(espeak: Any, text: str, timeout_s: float) -> tuple[bytes, bytes]:
    """Speak ``text`` in a fresh child; return the answer's kind and payload."""
    import time

    speaker = os.getpid()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(espeak, text, write_end, speaker)
    os.close(write_end)
    data = bytearray()
    problem = ""
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            remaining = deadline - time.monotonic()
            ready = select.select([read_end, 0], [], [], max(0.0, remaining))[0]
            if 0 in ready:
                os.kill(pid, signal.SIGKILL)  # voiceguide has gone: so do we
                raise SystemExit(0)
            if remaining <= 0 or not ready:
                problem = "timeout"
                break
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_PHRASE_BYTES:
                problem = "too long"
                break
    finally:
        os.close(read_end)
        if problem:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if problem:
        return ERROR, problem.encode()
    if os.WIFSIGNALED(status):
        return ERROR, f"signal {os.WTERMSIG(status)}".encode()
    if os.WEXITSTATUS(status):
        return ERROR, f"exit {os.WEXITSTATUS(status)}".encode()
    return AUDIO, bytes(data)


def _start(voice: str, rate_wpm: int, pitch: int) -> tuple[Any, int]:
    """Set espeak-ng up for the voice and settings; return its binding and sample rate."""
    from pyttsx3.drivers import _espeak as espeak

    sample_rate = int(espeak.Initialize(espeak.AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS))
    if sample_rate <= 0:
        raise RuntimeError("espeak-ng could not be initialized")
    if espeak.SetVoiceByName(voice.encode("utf-8")) != espeak.EE_OK:
        raise RuntimeError(f"espeak-ng cannot load the voice {voice!r}")
    for parameter, value in ((espeak.RATE, rate_wpm), (espeak.PITCH, pitch), (espeak.VOLUME, 100)):
        if espeak.SetParameter(parameter, value, 0) != espeak.EE_OK:
            raise RuntimeError(f"espeak-ng refused the setting {parameter} = {value}")
    espeak.SetSynthCallback(_on_samples)
    return espeak, sample_rate


def main(argv: list[str]) -> int:
    """Serve phrases read on stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is voiceguide's to handle
    try:
        voice, rate_wpm, pitch = argv[0], int(argv[1]), int(argv[2])
        espeak, sample_rate = _start(voice, rate_wpm, pitch)
    except Exception as error:  # anything: voiceguide reports it as one line
        _answer(ERROR, 0, f"{type(error).__name__}: {error}".encode())
        return 1
    try:
        _answer(READY, sample_rate)
        while (header := read_exactly(0, REQUEST.size)) is not None:
            timeout_s, length = REQUEST.unpack(header)
            text = read_exactly(0, length)
            if text is None:
                break
            kind, payload = _speak(espeak, text.decode("utf-8"), timeout_s)
            _answer(kind, sample_rate, payload)
    except BrokenPipeError:
        pass  # voiceguide has gone
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
