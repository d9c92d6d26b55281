"""``voiceguide play`` end to end through real ALSA, with no sound card.

ALSA reads ``$HOME/.asoundrc``; pointing its default device at the ``file`` plugin makes
whatever is played land in a file, byte for byte.
Its ``null`` slave has no clock, so a session "plays" at once: those tests check *what* was
played. A FIFO as the file gives ALSA a clock after all: writes block until the test reads,
and the test reads at the real-time rate, which is how the Ctrl-C test hears when sound stops.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
import wave
from pathlib import Path

import pytest

pytestmark = pytest.mark.audio

ROUTINE = ["stomach", "--skip-intro"]
"""A short built-in routine (about two minutes)."""
BYTES_PER_SECOND = 22_050 * 2 * 2
"""16-bit stereo, as sessions play unless told --mono."""


def voiceguide(
    args: list[str], env: dict[str, str], **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    """Run the CLI with this interpreter (so each Python version tests its own simpleaudio)."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "voiceguide", *args],
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=200,  # under the test's own limit: a hung child fails the test with its output
        **kwargs,
    )


def alsa_env(tmp_path: Path, asoundrc: str) -> dict[str, str]:
    """The environment with a HOME whose .asoundrc is ``asoundrc``."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    (home / ".asoundrc").write_text(asoundrc + "\n", encoding="utf-8")
    env = {**os.environ, "HOME": str(home)}
    env.pop("ALSA_CONFIG_PATH", None)
    return env


def to_file(path: Path) -> str:
    return f'pcm.!default {{ type file; slave.pcm "null"; file "{path}"; format "raw" }}'


def exported_pcm(args: list[str], env: dict[str, str], tmp_path: Path, channels: int = 2) -> bytes:
    """What ``voiceguide export`` writes for ``args``, as raw PCM bytes (frames interleaved)."""
    out = tmp_path / "exported.wav"
    result = voiceguide(["export", *args, "-o", str(out), "--format", "wav"], env)
    assert result.returncode == 0, result.stderr.decode()
    with wave.open(str(out), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (channels, 2, 22_050)
        return wav.readframes(wav.getnframes())


DEVICE_SILENCE_FRAMES = 22_050 // 4
"""PortAudio starts a stream with its buffer of silence (here ~0.13 s) and pads the last
block: at most this much silence comes before and after the session."""


def session_in(played: bytes, expected: bytes, channels: int = 2) -> tuple[int, int]:
    """Where ``expected`` starts in ``played``, and how much follows it, in frames.

    Only silence may come before and after it.
    """
    frame = 2 * channels
    lead = 0
    while lead < len(played) and played[lead] == 0:
        lead += 1
    first = 0
    while first < len(expected) and expected[first] == 0:
        first += 1
    start = (lead - first) // frame * frame
    assert start >= 0
    assert played[start : start + len(expected)] == expected
    assert not any(played[:start])
    assert not any(played[start + len(expected) :])
    return start // frame, (len(played) - start - len(expected)) // frame


@pytest.mark.parametrize(
    ("extra", "channels"),
    [
        ([], 2),  # stereo, the sides leaning to their ears
        (["--bed", "rain"], 2),
        (["--mono", "--bed", "drone", "--bed-level", "-30"], 1),
        (["--mono"], 1),
    ],
    ids=["stereo", "stereo-bed", "mono-bed", "mono"],
)
def test_play_sends_the_device_exactly_what_export_writes(
    tmp_path: Path, extra: list[str], channels: int
) -> None:
    played = tmp_path / "played.raw"
    env = alsa_env(tmp_path, to_file(played))
    expected = exported_pcm([*ROUTINE, *extra], env, tmp_path, channels)  # warms the cache
    result = voiceguide(["play", *ROUTINE, *extra], env)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""  # not a word from ALSA
    assert result.stdout.decode().splitlines()[-1].endswith("[end]")
    before, after = session_in(played.read_bytes(), expected, channels)
    assert before <= DEVICE_SILENCE_FRAMES
    assert after <= DEVICE_SILENCE_FRAMES


def test_first_audio_can_be_traced_for_the_benchmark(tmp_path: Path) -> None:
    env = alsa_env(tmp_path, to_file(tmp_path / "played.raw"))
    env["VOICEGUIDE_TRACE_FIRST_AUDIO"] = "1"
    before = time.monotonic()
    result = voiceguide(["play", *ROUTINE, "--from", "4", "--quiet"], env)
    assert result.returncode == 0, result.stderr.decode()
    match = re.fullmatch(rb"voiceguide: first audio heard at monotonic (\d+\.\d+)\n", result.stderr)
    assert match is not None, result.stderr
    assert before < float(match.group(1)) < time.monotonic()


@pytest.mark.parametrize(
    "setup",
    ["a card that does not exist", "no ALSA configuration at all"],
)
def test_no_audio_device_is_one_line_and_exit_4(tmp_path: Path, setup: str) -> None:
    if setup == "a card that does not exist":
        env = alsa_env(tmp_path, "pcm.!default { type hw; card 29 }")
    else:
        empty = tmp_path / "empty.conf"
        empty.write_text("", encoding="utf-8")
        env = {**alsa_env(tmp_path, ""), "ALSA_CONFIG_PATH": str(empty)}
    result = voiceguide(["play", *ROUTINE], env)
    assert result.returncode == 4
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("voiceguide: no audio device could be opened (ALSA: ")
    assert lines[0].endswith("to listen elsewhere, write it to a file: voiceguide export stomach")


class PacedReader(threading.Thread):
    """Read a FIFO at the real-time rate, as a sound card would; note when data last came.

    The FIFO is held open read-write with its buffer shrunk to one page (about 0.1 s of
    audio), so what ALSA writes is read, "heard", at most that long after.
    """

    def __init__(self, fifo: Path) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # does not wait for a writer
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 4096)
        self.total = 0
        self.last_read = 0.0
        self.done = threading.Event()

    def run(self) -> None:
        started: float | None = None
        while not self.done.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.02)
            if not ready:
                continue
            data = os.read(self.fd, 441 * 2)  # 10 ms
            now = time.monotonic()
            started = now if started is None else started
            self.total += len(data)
            self.last_read = now
            ahead = started + self.total / BYTES_PER_SECOND - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def close(self) -> None:
        self.done.set()
        self.join(5)
        os.close(self.fd)


def test_ctrl_c_stops_the_sound_at_once_and_exits_130(tmp_path: Path) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    reader = PacedReader(fifo)
    reader.start()
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", *ROUTINE],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # the first cue: it is playing
        time.sleep(1.5)
        fed = reader.total
        assert fed > BYTES_PER_SECOND  # the device really is being fed, in real time
        assert fed < 2 * BYTES_PER_SECOND
        at_interrupt = reader.total
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 130
        time.sleep(1.0)  # anything still coming would be read by now
        # Measured in the played stream, not in wall time (the machine may be busy): at most
        # 0.6 s of sound reached the device after Ctrl-C.
        assert reader.total - at_interrupt < 0.6 * BYTES_PER_SECOND
    finally:
        process.kill()
        process.wait()
        reader.close()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def wait_until_stopped(pid: int, timeout_s: float) -> bool:
    """Wait for ``pid`` to stop (not end); False if it has not within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found, status = os.waitpid(pid, os.WUNTRACED | os.WNOHANG)
        if found:
            return os.WIFSTOPPED(status)
        time.sleep(0.02)
    return False


class Screen(threading.Thread):
    """What a terminal would do with a pty: read everything the program writes, always.

    A pty holds only a few kilobytes; a test that stops reading (to wait for the child to
    stop, say) would otherwise block the program's next redraw, and with it the program.
    """

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.data = b""
        self.seen = 0
        self.changed = threading.Condition()

    def run(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                chunk = b""  # the other end closed (EIO)
            with self.changed:
                if not chunk:
                    self.changed.notify_all()
                    return
                self.data += chunk
                self.changed.notify_all()

    def read_until(self, wanted: bytes, timeout_s: float = 30.0) -> bytes:
        """Return what came since the last call, up to and including ``wanted``."""
        deadline = time.monotonic() + timeout_s
        with self.changed:
            while (found := self.data.find(wanted, self.seen)) < 0:
                left = deadline - time.monotonic()
                assert left > 0, f"{wanted!r} never came: {self.data[-300:]!r}"
                self.changed.wait(left)
            end = found + len(wanted)
            piece, self.seen = self.data[self.seen : end], end
            return piece


def test_ctrl_z_gives_the_terminal_back_with_its_cursor(tmp_path: Path) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    reader = PacedReader(fifo)
    reader.start()
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", *ROUTINE],
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=subprocess.PIPE,
        # A group of its own in this session, as a shell gives a job. Were it left in a
        # group with no parent outside it (pytest started from a detached job, setsid),
        # the kernel would discard the stop that SIGTSTP asks for.
        process_group=0,
    )
    screen = Screen(master)
    screen.start()
    try:
        screen.read_until(b"Playing")  # drawn once keys are read: Ctrl-Z is handled
        process.send_signal(signal.SIGTSTP)
        assert wait_until_stopped(process.pid, timeout_s=10)
        shown = screen.read_until(b"\x1b[?25h", timeout_s=5)
        assert b"Paused" in shown.rsplit(b"\x1b[?25l", 1)[-1]  # the block as it was left
        assert termios.tcgetattr(slave) == before  # echo and line editing back
        process.send_signal(signal.SIGCONT)  # fg
        after = screen.read_until(b"Paused")
        assert after.startswith(b"\x1b[?25l\x1b[2K")  # a new block, not drawn over the shell's
        os.write(master, b"q")
        assert process.wait(10) == 0
        assert screen.read_until(b"\x1b[?25h", timeout_s=5)  # the cursor is back at the end
        assert termios.tcgetattr(slave) == before
    finally:
        process.kill()
        process.wait()
        reader.close()
        os.close(slave)
        screen.join(timeout=5)
        os.close(master)
        if process.stderr is not None:
            process.stderr.close()


def test_ctrl_c_in_a_dry_run_exits_130_at_once(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "voiceguide", "play", *ROUTINE, "--dry-run"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()
        time.sleep(0.5)
        interrupted = time.monotonic()
        process.send_signal(signal.SIGINT)
        assert process.wait(5) == 130
        assert time.monotonic() - interrupted < 1.0
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def test_a_warm_start_names_the_voice_without_starting_pyttsx3() -> None:
    """Time to first sound: with every phrase cached, pyttsx3 is never started."""
    script = (
        "import json, sys\n"
        "from voiceguide.sound.engines import espeak, make_engine\n"
        "from voiceguide.script.spec import DEFAULT_VOICE\n"
        "from dataclasses import replace\n"
        "ids = [make_engine(replace(DEFAULT_VOICE, voice=v, rate_wpm=r)).identity()\n"
        "       for v, r in ((None, 150), ('en_US', 150), ('en-gb', 150), (None, 170))]\n"
        "print(json.dumps([ids, espeak._shared is not None]))\n"
    )

    def identities() -> tuple[list[str], bool]:
        result = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        found, started = json.loads(result.stdout)
        return found, started

    cold, started_cold = identities()
    warm, started_warm = identities()
    assert started_cold  # the first time, voices are resolved by pyttsx3
    assert not started_warm
    assert warm == cold
    assert cold[0] == cold[1]  # en_US is the default voice, gmw/en-us
    assert "voice=gmw/en-us " in cold[0]
    assert "voice=gmw/en " in cold[2]
    assert "rate=170wpm" in cold[3]
