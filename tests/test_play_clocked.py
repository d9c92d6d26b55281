"""``voiceguide play`` through a clocked ALSA sink: a FIFO the test reads at the device's rate.

Mono (``--mono``): the sink reads one 16-bit channel at 22,050 Hz, 44,100 bytes a second;
stereo and the bed are compared byte for byte in ``tests/test_play_alsa.py``. What was played
is read back byte for byte and compared with what export writes (the
session's samples), so the checks are on the played stream, not on the wall clock: the
first sound is reached (not timed), controls leave the session whole, cues sound where the
timeline puts them, and a device that stops reading ends play with one line and exit 5.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.test_play_alsa import Screen, alsa_env, exported_pcm, to_file

pytestmark = pytest.mark.audio

RATE = 22_050
TOLERANCE = RATE * 20 // 1000
"""20 ms, in samples."""
BYTES_PER_SECOND = RATE * 2
"""One 16-bit channel: the sessions here are --mono. (A sink read at the stereo rate runs
the device twice as fast as the wall clock, which only PortAudio, following the device,
survives: the simpleaudio fallback, paced by the wall clock, was overtaken by it.)"""

SHORT = """\
title: Short hold
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down and rest your hands in your lap.
  - press: {point: web, hold: 12s, find: 0s}
  - say: That is all for now.
"""


class Sink(threading.Thread):
    """Read a FIFO as a sound card would, ``speed`` times the real rate; keep what came.

    The real rate is ``channels`` 16-bit channels at :data:`RATE`.

    ``stall_after`` bytes in, it stops reading, as a device that hangs.
    """

    def __init__(
        self,
        fifo: Path,
        *,
        speed: float = 1.0,
        stall_after: int | None = None,
        channels: int = 1,
    ) -> None:
        super().__init__(daemon=True)
        self.fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        fcntl.fcntl(self.fd, fcntl.F_SETPIPE_SZ, 4096)
        self.rate = BYTES_PER_SECOND * channels * speed
        self.stall_after = stall_after
        self.data = bytearray()
        self.done = threading.Event()

    def run(self) -> None:
        started: float | None = None
        while not self.done.is_set():
            if self.stall_after is not None and len(self.data) >= self.stall_after:
                time.sleep(0.02)
                continue
            ready, _, _ = select.select([self.fd], [], [], 0.02)
            if not ready:
                continue
            chunk = os.read(self.fd, 882)
            now = time.monotonic()
            started = now if started is None else started
            self.data += chunk
            ahead = started + len(self.data) / self.rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)

    def samples(self) -> np.ndarray:
        return np.frombuffer(bytes(self.data[: len(self.data) // 2 * 2]), dtype="<i2")

    def close(self) -> None:
        self.done.set()
        self.join(5)
        os.close(self.fd)


def play(args: list[str], env: dict[str, str], **kwargs: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "voiceguide", "play", *args, "--mono"],  # the sink's rate
        env=env,
        stderr=subprocess.PIPE,
        **{"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, **kwargs},
    )


def lead_of(played: np.ndarray, expected: np.ndarray) -> int:
    """How many samples of the device's own silence come before the session."""
    return int(np.flatnonzero(played)[0] - np.flatnonzero(expected)[0])


def heard_up_to(played: np.ndarray, expected: np.ndarray) -> int:
    """The sample of the session the device has got to (-1 before its first sound)."""
    if not played.any():
        return -1
    return len(played) - lead_of(played, expected)


def timeline_of(path: Path, env: dict[str, str]) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", "show", str(path), "--json", "--skip-intro"],
        env=env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    import json

    return json.loads(result.stdout)["cues"]  # type: ignore[no-any-return]


def onset(played: np.ndarray, expected: np.ndarray, start: int, length: int) -> int:
    """Where ``expected[start:start+length]`` is found in ``played``, near ``start``."""
    piece = expected[start : start + length].astype(np.float64)
    window = played[max(0, start - 4 * TOLERANCE) : start + length + 4 * TOLERANCE]
    scores = np.correlate(window.astype(np.float64), piece, mode="valid")
    return max(0, start - 4 * TOLERANCE) + int(np.argmax(scores))


@pytest.fixture
def short(tmp_path: Path) -> Path:
    path = tmp_path / "short.yaml"
    path.write_text(SHORT, encoding="utf-8")
    return path


def test_first_sound_on_a_cold_cache_reaches_the_device(tmp_path: Path, short: Path) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = {**alsa_env(tmp_path, to_file(fifo)), "VOICEGUIDE_HOME": str(tmp_path / "cold")}
    sink = Sink(fifo)
    sink.start()
    process = play([str(short), "--skip-intro", "--quiet"], env)
    try:
        deadline = time.monotonic() + 60
        while not sink.samples().any() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sink.samples().any()  # sound, while the rest is still being made
        assert process.poll() is None
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 130
        sink.close()
        assert process.stderr is not None
        process.stderr.close()


def keyed(
    tmp_path: Path, short: Path, key: bytes, when: str, until: str, extra: tuple[str, ...] = ()
) -> tuple[np.ndarray, np.ndarray, list[dict[str, object]]]:
    """Play ``short`` (with ``extra`` options) with keys on a pty; press ``key`` in the cue
    ``when`` picks, and q half a second after the end of the cue ``until`` picks; return
    what was played, what export writes, and the cues."""
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    args = [str(short), "--skip-intro", *extra]
    expected = np.frombuffer(
        exported_pcm([*args, "--mono"], env, tmp_path, 1), dtype="<i2"
    )  # warm cache
    cues = timeline_of(short, {**env, "COLUMNS": "200"})
    sink = Sink(fifo)
    sink.start()
    master, slave = pty.openpty()
    process = play(args, env, stdin=slave, stdout=slave, process_group=0)
    screen = Screen(master)
    screen.start()
    try:
        screen.read_until(b"Playing")
        target = next(c for c in cues if eval(when, {}, {"c": c}))
        at = int(target["start"]) + RATE // 2  # type: ignore[call-overload]
        while heard_up_to(sink.samples(), expected) < at:
            time.sleep(0.01)
        os.write(master, key)
        last = next(c for c in cues if eval(until, {}, {"c": c}))
        end = int(last["start"]) + int(last["duration"]) + RATE // 2  # type: ignore[call-overload]
        while heard_up_to(sink.samples(), expected) < end:
            time.sleep(0.01)
        os.write(master, b"q")
        assert process.wait(120) == 0
    finally:
        process.kill()
        process.wait()
        sink.close()
        os.close(slave)
        screen.join(timeout=5)
        os.close(master)
        assert process.stderr is not None
        process.stderr.close()
    return sink.samples(), expected, cues


@pytest.mark.parametrize(
    ("key", "extra", "level"),
    [(b"-", (), 0.9), (b"+", ("--volume", "50"), 1.2)],
    ids=["softer", "louder"],
)
def test_a_volume_change_mid_sentence_leaves_it_whole_and_said_once(
    tmp_path: Path, short: Path, key: bytes, extra: tuple[str, ...], level: float
) -> None:
    speech = "c['kind'] == 'speech'"
    played, expected, cues = keyed(tmp_path, short, key, speech, speech, extra)
    lead = lead_of(played, expected)
    session = played[lead : lead + len(expected)]
    first = next(c for c in cues if c["kind"] == "speech")
    end = int(first["start"]) + int(first["duration"])  # type: ignore[call-overload]
    start = int(first["start"])  # type: ignore[call-overload]
    assert np.array_equal(session[:start], expected[:start])
    # From mid-sentence on (after the ramp): the same sentence, one step softer or louder
    # (90 % of 100, 60 % of 50), never restarted.
    tail = slice(start + RATE, end)
    assert end - start > 2 * RATE
    got, want = session[tail].astype(float), expected[tail].astype(float)
    ratio = np.sqrt(np.mean(got * got) / np.mean(want * want))
    assert abs(ratio - level) < 0.01
    assert np.corrcoef(session[tail], expected[tail])[0, 1] > 0.99


def test_where_during_a_hold_does_not_move_the_release(tmp_path: Path, short: Path) -> None:
    when = "c['phase'] == 'hold' and c['kind'] == 'silence'"
    played, expected, cues = keyed(tmp_path, short, b"w", when, "c['text'] == 'release'")
    lead = lead_of(played, expected)
    session = played[lead:]
    hold = next(c for c in cues if c["phase"] == "hold" and c["kind"] == "silence")
    silent = slice(int(hold["start"]) + RATE, int(hold["start"]) + 2 * RATE)  # type: ignore[call-overload]
    assert session[silent].any()  # the answer, over the hold's silence
    release = next(c for c in cues if c["text"] == "release")
    start = int(release["start"])  # type: ignore[call-overload]
    found = onset(session, expected, start, int(release["duration"]))  # type: ignore[call-overload]
    assert abs(found - start) <= TOLERANCE  # the hold's clock ran on while it was said


@pytest.mark.slow
def test_the_onsets_of_a_five_minute_session_match_the_timeline(tmp_path: Path) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    args = ["sitting-foot", "--skip-intro"]  # about five minutes
    expected = np.frombuffer(exported_pcm([*args, "--mono"], env, tmp_path, 1), dtype="<i2")
    assert len(expected) > 4 * 60 * RATE
    sink = Sink(fifo, speed=8.0)  # a device with a clock, eight times fast: 40 s
    sink.start()
    process = play([*args, "--quiet"], env)
    try:
        assert process.wait(300) == 0
    finally:
        process.kill()
        process.wait()
        sink.close()
        assert process.stderr is not None
        process.stderr.close()
    played = sink.samples()
    lead = lead_of(played, expected)
    session = played[lead:]
    cues = [c for c in timeline_of(Path(args[0]), env) if c["kind"] != "silence"]
    assert len(cues) > 10
    for cue in cues:
        start, length = int(cue["start"]), min(int(cue["duration"]), RATE // 10)  # type: ignore[call-overload]
        found = onset(session, expected, start, length)
        assert abs(found - start) <= TOLERANCE, cue


def test_a_warm_start_plays_the_session_whole_from_its_first_sound(tmp_path: Path) -> None:
    # The device starts as soon as the write-ahead is written, before the session is laid
    # out whole: through a device with a clock, its first seconds come without a gap.
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    args = ["back-pain", "--full-intro"]  # the start tone, the title: a long session to lay out
    expected = np.frombuffer(exported_pcm([*args, "--mono"], env, tmp_path, 1), dtype="<i2")
    sink = Sink(fifo, speed=4.0)
    sink.start()
    process = play([*args, "--quiet", "--no-history"], env)
    seconds = 12 * RATE
    try:
        deadline = time.monotonic() + 60
        while heard_up_to(sink.samples(), expected) < seconds and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(10)
        sink.close()
        assert process.stderr is not None
        process.stderr.close()
    played = sink.samples()
    lead = lead_of(played, expected)
    assert 0 <= lead <= RATE // 4  # only the device's own silence before it
    assert np.array_equal(played[lead : lead + seconds], expected[:seconds])


def test_a_device_that_stops_reading_ends_play_with_one_line_and_exit_5(
    tmp_path: Path, short: Path
) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    sink = Sink(fifo, stall_after=2 * BYTES_PER_SECOND)
    sink.start()
    process = play([str(short), "--skip-intro", "--quiet"], env)
    try:
        code = process.wait(60)
        assert process.stderr is not None
        err = process.stderr.read().decode()
    finally:
        process.kill()
        process.wait()
        sink.close()
        assert process.stderr is not None
        process.stderr.close()
    assert code == 5
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("voiceguide: the audio device stopped taking sound")
    # No process of voiceguide's is left (its speakers end with it).
    left = subprocess.run(["pgrep", "-f", str(short)], capture_output=True, check=False)
    assert left.stdout == b""


def without_portaudio(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``voiceguide play ARGS`` with sounddevice made unimportable: the simpleaudio fallback."""
    code = (
        "import sys; sys.modules['sounddevice'] = None; from voiceguide.cli import main; "
        f"main({['play', *args, '--quiet', '--no-mpris', '--no-history']!r})"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
    )


@pytest.mark.slow
@pytest.mark.parametrize("channels", [1, 2], ids=["mono", "stereo"])
def test_without_portaudio_simpleaudio_plays_the_session_whole(
    tmp_path: Path, short: Path, channels: int
) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    args = [str(short), "--skip-intro", *(["--mono"] if channels == 1 else [])]
    expected = exported_pcm(args, env, tmp_path, channels)
    sink = Sink(fifo, channels=channels)
    sink.start()
    process = without_portaudio(args, env)
    try:
        assert process.wait(120) == 0
    finally:
        process.kill()
        process.wait()
        sink.close()
        assert process.stderr is not None
        process.stderr.close()
    played = bytes(sink.data)
    lead = len(played) - len(played.lstrip(b"\0"))
    first = len(expected) - len(expected.lstrip(b"\0"))
    start = (lead - first) // (2 * channels) * 2 * channels  # whole frames of the device's silence
    assert played[start : start + len(expected)] == expected
    assert not played[start + len(expected) :].strip(b"\0")  # only silence after it


@pytest.mark.slow
def test_without_portaudio_a_device_that_stops_reading_is_exit_5(
    tmp_path: Path, short: Path
) -> None:
    fifo = tmp_path / "speaker"
    os.mkfifo(fifo)
    env = alsa_env(tmp_path, to_file(fifo))
    sink = Sink(fifo, stall_after=2 * BYTES_PER_SECOND)
    sink.start()
    process = without_portaudio([str(short), "--skip-intro", "--mono"], env)
    try:
        code = process.wait(60)  # the session lasts 33 s: noticed well before its end
        assert process.stderr is not None
        err = process.stderr.read().decode()
    finally:
        process.kill()
        process.wait()
        sink.close()
        assert process.stderr is not None
        process.stderr.close()
    assert code == 5, err
    lines = err.splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("voiceguide: the audio device stopped taking sound")


def test_without_portaudio_no_audio_device_is_one_line_and_exit_4(
    tmp_path: Path, short: Path
) -> None:
    env = alsa_env(tmp_path, "pcm.!default { type hw; card 29 }")  # a card that does not exist
    process = without_portaudio([str(short), "--skip-intro"], env)
    try:
        code = process.wait(60)
        assert process.stderr is not None
        lines = process.stderr.read().decode().splitlines()
    finally:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()
    assert code == 4
    assert len(lines) == 1, lines
    assert lines[0].startswith("voiceguide: no audio device could be opened (ALSA: ")
