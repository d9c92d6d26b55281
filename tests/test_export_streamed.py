"""An export encoded while its session is laid out: fed early, the same bytes, the same errors.

``voiceguide export`` reads the session from its stream (app/exporting.py, output/export.py
``export_streamed``): on a cold cache the encoders run while the phrases are made. These
tests hold the last phrase back until the encoder has been fed (no clock in them), stop an
export in the middle of its synthesis, and check that the files and the errors are those
of the export that makes every phrase first.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from tests.helpers import TWO_SIDED_ROUTINE
from tests.output.helpers import listing
from tests.test_session import SR, ToneEngine
from voiceguide.app import exporting
from voiceguide.app.exporting import ProgressBar
from voiceguide.app.session import SessionRequest, open_session, open_stream
from voiceguide.compile.compiler import CompileOptions
from voiceguide.errors import ScriptError, VoiceguideError
from voiceguide.output.export import export_streamed
from voiceguide.output.formats import Format
from voiceguide.output.targets import Outputs
from voiceguide.script.config import UserConfig
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.engines.base import Speech

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")
LAST = "Done."
"""The last phrase of :data:`TWO_SIDED_ROUTINE`, some 20 s into it."""
NO_INTRO = CompileOptions(intro="none")


class GatedEngine(ToneEngine):
    """Speaks as :class:`ToneEngine` does, but :data:`LAST` only once ``go`` is set.

    ``went`` says whether it was (rather than the minute's guard running out).
    """

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.went = False

    def synthesize(self, text: str) -> Speech:
        if text == LAST:
            self.went = self.go.wait(60)
        return super().synthesize(text)


Seen = Callable[[str, int, int], None]


def bar_of(seen: Seen) -> ProgressBar:
    """A progress bar for ``export_one`` that hands every ``(label, done, total)`` to ``seen``."""

    @contextmanager
    def bar(label: str, count: Callable[[int], str]) -> Iterator[Callable[[int, int], None]]:
        yield lambda done, total: seen(label, done, total)

    return bar


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TWO_SIDED_ROUTINE)
    return path


def speak_with(monkeypatch: pytest.MonkeyPatch, engine: ToneEngine) -> None:
    """Make every session (and its spare engines) speak with ``engine``."""
    from voiceguide.sound import engines

    monkeypatch.setattr(engines, "make_engine", lambda *args, **kwargs: engine)


def _children() -> set[int]:
    """The processes this test process has started and not yet reaped."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@pytest.mark.parametrize("fmt", [pytest.param("mp3", marks=needs_ffmpeg), "flac", "wav"])
def test_the_encoder_is_fed_before_the_last_phrase_is_made(
    fmt: Format, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = GatedEngine()
    speak_with(monkeypatch, engine)
    shown: list[tuple[str, int, int]] = []

    def seen(label: str, done: int, total: int) -> None:
        shown.append((label, done, total))
        if label.startswith("Writing") and done > 0:
            engine.go.set()  # the encoder has its first blocks: now the last phrase

    target = tmp_path / f"s.{fmt}"
    line = exporting.export_one(SessionRequest(tiny, NO_INTRO), str(target), bar=bar_of(seen))
    assert engine.went, "the last phrase was waited for before anything was encoded"
    assert line.startswith(f"wrote {target} (")
    # One bar, from the start: the clock of what is written, never past the whole.
    assert {label for label, _, _ in shown} == {f"Writing s.{fmt}"}
    assert all(0 <= done <= total for _, done, total in shown)
    total = shown[-1][2]
    assert shown[-1] == (f"Writing s.{fmt}", total, total)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    "fmt",
    [pytest.param("mp3", marks=needs_ffmpeg), pytest.param("opus", marks=needs_ffmpeg), "flac"],
)
def test_an_interrupt_while_phrases_are_made_leaves_nothing_and_no_encoder(
    fmt: Format, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = GatedEngine()
    speak_with(monkeypatch, engine)
    before = _children()
    when: dict[str, object] = {}

    def seen(label: str, done: int, total: int) -> None:
        if label.startswith("Writing") and done > 0:
            when["spoken"] = list(engine.spoken)
            when["encoders"] = _children() - before
            engine.go.set()  # let the pool stop once it has spoken it
            raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        exporting.export_one(
            SessionRequest(tiny, NO_INTRO), str(out / f"s.{fmt}"), None, "vtt", bar=bar_of(seen)
        )
    assert LAST not in when["spoken"]  # type: ignore[operator]  # mid-synthesis
    assert bool(when["encoders"]) == (fmt != "flac")  # ffmpeg was running
    assert _children() - before == set(), "every encoder was ended and reaped"
    assert not out.exists(), "no file, no temporary file, no folder made for them"


PROMPT = "Breathe slowly and let your shoulders drop a little more with every breath out."

HOLD = """\
title: Prompt in a hold
settings: {{tones: false}}
points:
  web:
    name: the web of your hand
    where: between the thumb and the index finger
steps:
  - say: Sit down, and rest your hands on your knees for a moment.
  - pause: 5s
  - press:
      point: web
      hold: 10s
      prompts:
        - {{at: 50%, say: {prompt}}}
{after}"""

DOTS = """\
title: Dots
settings: {tones: false}
steps:
  - say: Sit down, and rest your hands on your knees for a moment.
  - pause: 5s
  - say: "..."
  - pause: 1s
  - say: "-"
"""


class TroubledEngine(ToneEngine):
    """Speaks :data:`PROMPT` for 6 s (its estimate fits its hold, that does not) and dots as
    silence."""

    def synthesize(self, text: str) -> Speech:
        if text.strip(".-") == "":
            self.spoken.append(text)
            return Speech(samples=np.zeros(SR, dtype=np.int16), sample_rate=SR)
        if text == PROMPT:
            self.spoken.append(text)
            tone = 0.3 * np.sin(2 * np.pi * 330 * np.arange(6 * SR) / SR)
            return Speech(samples=np.round(tone * 32767).astype(np.int16), sample_rate=SR)
        return super().synthesize(text)


@pytest.mark.parametrize(
    ("routine", "says"),
    [
        (HOLD.format(prompt=PROMPT, after="  - say: Done.\n"), "does not fit"),
        (DOTS, "spoken as silence"),
        (HOLD.format(prompt=PROMPT, after='  - say: "..."\n  - say: "-"\n'), "spoken as silence"),
    ],
    ids=["a prompt past its hold", "phrases spoken as silence", "silence after a misfit"],
)
@pytest.mark.parametrize("fmt", [pytest.param("mp3", marks=needs_ffmpeg), "flac"])
def test_a_stream_that_stops_midway_fails_as_the_whole_session_does_and_leaves_nothing(
    routine: str, says: str, fmt: Format, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text(routine)
    speak_with(monkeypatch, TroubledEngine())
    fed: list[int] = []

    def seen(label: str, done: int, total: int) -> None:
        if label.startswith("Writing") and done > 0:
            fed.append(done)

    out = tmp_path / "out"
    (out / "old").mkdir(parents=True)
    (out / "old" / f"r.{fmt}").write_bytes(b"the old export")
    with pytest.raises(VoiceguideError) as streamed:
        exporting.export_one(
            SessionRequest(path), str(out / "old" / f"r.{fmt}"), None, "vtt", "json",
            bar=bar_of(seen),
        )  # fmt: skip
    assert fed, "the encoder had blocks before the session stopped"
    assert listing(out / "old") == [f"r.{fmt}"]
    assert (out / "old" / f"r.{fmt}").read_bytes() == b"the old export"
    with pytest.raises(VoiceguideError) as whole:  # cold as well, every phrase made first
        open_session(
            SessionRequest(path), engine=TroubledEngine(), cache=PhraseCache(tmp_path / "c")
        )
    assert type(streamed.value) is type(whole.value) is ScriptError
    assert str(streamed.value) == str(whole.value)
    assert says in str(streamed.value)
    assert str(path) in str(streamed.value)  # at its line


@pytest.mark.parametrize("wrong", [0.2, 3.0], ids=["estimate short", "estimate long"])
def test_the_share_written_never_falls_whatever_the_estimate(
    wrong: float, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = GatedEngine()
    opened = open_stream(
        SessionRequest(tiny, NO_INTRO), engine=engine, cache=PhraseCache(tmp_path / "c"),
        config=UserConfig(),
    )  # fmt: skip
    stream = opened.stream
    estimate = int((stream.layout.estimated_total() or 0) * wrong)
    monkeypatch.setattr(stream.layout, "estimated_total", lambda: estimate)
    short = estimate if wrong < 1 else 0  # the last phrase, once past a short estimate
    told: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        told.append((done, total))
        if done > short:
            engine.go.set()

    try:
        timeline = export_streamed(
            stream, Outputs.plan(tmp_path / "s.wav", "wav"), progress=progress
        )
    finally:
        stream.close()
    assert engine.went
    assert all(0 <= done <= total for done, total in told)
    shares = [done / total for done, total in told if total]
    assert shares == sorted(shares)
    assert told[-1] == (timeline.total, timeline.total)
    assert told[0][1] == max(estimate, told[0][0])  # the estimate, until the end is known
    if wrong < 1:  # past a short estimate: full until the rest is written, not back
        assert any(done == total < timeline.total for done, total in told)


@needs_ffmpeg
def test_m4b_waits_for_the_whole_timeline_and_says_so_in_two_bars(
    tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = GatedEngine()
    engine.go.set()
    speak_with(monkeypatch, engine)
    labels: list[str] = []

    def seen(label: str, done: int, total: int) -> None:
        if not labels or labels[-1] != label:
            labels.append(label)

    target = tmp_path / "s.m4b"
    exporting.export_one(SessionRequest(tiny, NO_INTRO), str(target), bar=bar_of(seen))
    assert labels == ["Preparing speech", "Writing s.m4b"]  # every phrase, then the encoder


@pytest.mark.audio
@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
@pytest.mark.parametrize(
    "fmt", [pytest.param(f, marks=needs_ffmpeg) for f in ("mp3", "opus", "ogg")] + ["flac"]
)
def test_cold_warm_and_synthesis_first_exports_write_the_same_bytes(
    fmt: Format, tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from tests.helpers import run_cli
    from voiceguide.output import formats

    def export(home: str, name: str) -> list[bytes]:
        monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path / home))
        target = tmp_path / name / f"s.{fmt}"
        args = ["export", str(tiny), "-o", str(target), "--captions", "vtt", "--cues", "json"]
        assert run_cli(args, capsys)[::2] == (0, "")
        return [target.with_suffix(suffix).read_bytes() for suffix in (f".{fmt}", ".vtt", ".json")]

    cold = export("a", "cold")  # encoded while espeak-ng speaks
    warm = export("a", "warm")  # every phrase read from the cache
    monkeypatch.setattr(formats, "CHAPTERS_FIRST", formats.CHAPTERS_FIRST | {fmt})
    first = export("b", "first")  # cold again, but every phrase made before encoding
    assert cold == warm
    assert cold == first
    assert len(cold[0]) > 10_000


GATED = """\
import sys, time
from pathlib import Path

import numpy as np

from voiceguide.sound import engines
from voiceguide.sound.engines.base import Speech, Voice

GO, LAST = Path(sys.argv[1]), sys.argv[2]
SR = 22_050


class Gated:
    name = "gated"

    def identity(self):
        return "gated 1"

    def voices(self):
        return [Voice(id="gated", name="Gated")]

    def synthesize(self, text):
        deadline = time.monotonic() + 60
        while text == LAST and not GO.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        tone = 0.3 * np.sin(2 * np.pi * 330 * np.arange(SR * len(text) // 100) / SR)
        return Speech(samples=np.round(tone * 32767).astype(np.int16), sample_rate=SR)

    def close(self):
        pass


engines.make_engine = lambda *args, **kwargs: Gated()
from voiceguide.cli import main

main(sys.argv[3:])
"""


@needs_ffmpeg
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(
    ("sig", "code", "said"),
    [
        (signal.SIGINT, 130, b"voiceguide: interrupted; no partial file was left\n"),
        (signal.SIGTERM, 143, b""),
    ],
)
def test_a_signal_while_phrases_are_made_leaves_the_old_file_and_no_encoder(
    sig: signal.Signals, code: int, said: bytes, tiny: Path, tmp_path: Path
) -> None:
    from tests.test_export_e2e import _children as children_of
    from tests.test_export_e2e import _running

    script = tmp_path / "gated.py"
    script.write_text(GATED)
    go = tmp_path / "go"
    out = tmp_path / "out"
    out.mkdir()
    (out / "tiny.mp3").write_bytes(b"the old export")
    args = ["export", str(tiny), "-o", str(out / "tiny.mp3"), "--captions", "vtt"]
    process = subprocess.Popen(
        [sys.executable, str(script), str(go), LAST, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        encoders: set[int] = set()
        while not (list(out.glob(".tiny.mp3.*.part")) and encoders):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the export never started encoding"
            encoders = children_of(process.pid)
            time.sleep(0.02)
        process.send_signal(sig)  # the last phrase is still to be made: it waits for `go`
        go.touch()  # and the pool, stopping, finishes the phrase it is speaking
        stdout, stderr = process.communicate(timeout=60)
    finally:
        go.touch()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert (process.returncode, stdout, stderr) == (code, b"", said)
    assert listing(out) == ["tiny.mp3"]
    assert (out / "tiny.mp3").read_bytes() == b"the old export"
    assert not any(_running(pid) for pid in encoders), "ffmpeg ended with the export"
