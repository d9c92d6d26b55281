"""Voice commands, measured: detection, false triggers, latency and CPU of the listening stage.

Run by hand (not a test): ``python tools/bench_listen.py [--routines all] [--no-piper]``.
The default run takes a few minutes on two shared cores.

* **Detection**: every phrase, spoken by the project's engines (espeak with several voices,
  rates and pitches; Piper's natural voice when installed), in pink room noise at 10 and
  20 dB SNR, fed through the recogniser. Goal: at least 90 % heard as themselves.
* **False triggers**: built-in routines rendered as ``voiceguide export`` renders them, played
  into a simulated room (a reverberant impulse response) at the level of a voice near the
  microphone, with room noise, fed as capture for the whole session, gated by the session's
  timeline as ``play --listen`` gates it. Anything heard is a false trigger. Goal: at most
  0.5 an hour. The same audio without the gate shows what the gate is worth.
* **Latency**: utterances written in real time into the capture side of an ALSA ``asym``
  device (a FIFO as its file), recorded by ``arecord`` and recognised by the real
  :class:`~voiceguide.listen.listener.Listener`: time from the last sample of the phrase to
  the decision (when the acknowledgement tone is due). Goal: at most 700 ms.
* **CPU**: the process's and arecord's CPU time while listening in real time, as a percent
  of one core.
* **In play** (``tools/bench_listen_play.py``): ``voiceguide play --listen`` through a clocked
  sink, the phrase said into the capture in a hold: end of the phrase to the acknowledgement
  tone at the device, and play's CPU with and without listening.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from voiceguide.app.detecting import detect_pcm  # noqa: E402
from voiceguide.listen.gate import SilenceGate  # noqa: E402
from voiceguide.listen.recognizer import RATE_HZ, THRESHOLD, Recognizer  # noqa: E402
from voiceguide.listen.vocabulary import PHRASES  # noqa: E402

if TYPE_CHECKING:
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]

SPEECH_RMS = 0.1
DEFAULT_ROUTINES = ("stomach", "hipbone", "lower-back")
ESPEAK_VOICES = (("en-us", 130, 40), ("en-us", 170, 65), ("en-us", 150, 50), ("en-gb", 140, 55),
                 ("en-gb", 165, 35), ("en-gb-x-rp", 155, 45), ("en-us-nyc", 150, 50),
                 ("en-gb-scotland", 145, 60))  # fmt: skip
PIPER_RATES = (130, 165)
THRESHOLDS = tuple(sorted({-20.0, -18.0, -16.0, -14.0, -12.0, -10.0, -8.0, THRESHOLD}))


def pink_noise(length: int, rng: np.random.Generator) -> Samples:
    """Noise falling 3 dB an octave, RMS 1: the hum and air of a room."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    spectrum /= np.sqrt(np.maximum(1, np.arange(len(spectrum))))
    x = np.fft.irfft(spectrum, length)
    return (x / float(np.sqrt(np.mean(x**2)))).astype(np.float32)


def to_pcm(x: Samples) -> bytes:
    return bytes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def synthesize(engine_name: str, voice: str | None, rate: int, pitch: int) -> dict[str, Samples]:
    """Every phrase spoken by one engine setting, at 16 kHz and speech level."""
    from voiceguide.pcm import resample
    from voiceguide.script.spec import DEFAULT_VOICE
    from voiceguide.sound.engines import make_engine

    settings = replace(DEFAULT_VOICE, engine=engine_name, voice=voice, rate_wpm=rate, pitch=pitch)
    engine = make_engine(settings)
    clips = {}
    for phrase in PHRASES:
        speech = engine.synthesize(phrase.words)
        x = resample(speech.samples.astype(np.float32) / 32768, speech.sample_rate, RATE_HZ)
        voiced = x[np.abs(x) > 0.01]
        clips[phrase.words] = x * np.float32(SPEECH_RMS / float(np.sqrt(np.mean(voiced**2))))
    engine.close()
    return clips


def voices(use_piper: bool) -> list[tuple[str, str | None, int, int]]:
    found: list[tuple[str, str | None, int, int]] = [("espeak", *v) for v in ESPEAK_VOICES]
    if use_piper:
        try:
            import piper  # noqa: F401
        except ImportError:
            print("(Piper is not installed: espeak voices only)")
        else:
            found += [("piper", None, rate, 50) for rate in PIPER_RATES]
    return found


def bench_detection(use_piper: bool) -> list[tuple[str, str, int, str | None, float]]:
    """Each utterance: (setting, phrase, snr, heard phrase, its score); scores for any threshold.

    One long capture per voice and SNR, noise throughout and the phrases 2.5 s apart, fed in
    60 ms chunks as the live capture feeds it: the recogniser must find where each begins
    and ends by itself.
    """
    rng = np.random.default_rng(15)
    recognizer = Recognizer(threshold=-1e9)
    gap = int(2.5 * RATE_HZ)
    results = []
    for engine, voice, rate, pitch in voices(use_piper):
        setting = f"{engine}:{voice or 'default'}@{rate}wpm/p{pitch}"
        clips = synthesize(engine, voice, rate, pitch)
        for snr in (10, 20):
            starts, at = [], gap
            for clip in clips.values():
                starts.append(at)
                at += len(clip) + gap
            stream = pink_noise(at, rng) * np.float32(SPEECH_RMS * 10 ** (-snr / 20))
            for start, clip in zip(starts, clips.values(), strict=True):
                stream[start : start + len(clip)] += clip
            data = to_pcm(stream)
            step = 2 * RATE_HZ * 60 // 1000
            found = detect_pcm((data[i : i + step] for i in range(0, len(data), step)), recognizer)
            for start, (words, clip) in zip(starts, clips.items(), strict=True):
                near = [d.heard for d in found if start - 5000 <= d.heard.start < start + len(clip)]
                best = max(near, key=lambda h: h.score, default=None)
                heard = best.phrase.words if best else None
                results.append((setting, words, snr, heard, best.score if best else -1e9))
    return results


def report_detection(results: list[tuple[str, str, int, str | None, float]]) -> None:
    total = len(results)
    print(f"\nDetection: {total} utterances")
    for threshold in THRESHOLDS:
        right = sum(h == w and s >= threshold for _, w, _, h, s in results)
        wrong = sum(h is not None and h != w and s >= threshold for _, w, _, h, s in results)
        mark = "  <- in use" if threshold == THRESHOLD else ""
        print(f"  threshold {threshold:6.1f}: heard {right / total:6.1%}, "
              f"taken for another phrase {wrong / total:5.1%}{mark}")  # fmt: skip
    ok = [(st, w, snr) for st, w, snr, h, s in results if h == w and s >= THRESHOLD]
    for label, key in (("by SNR", 2), ("by voice", 0), ("by phrase", 1)):
        seen: Counter[object] = Counter(r[key] for r in results)
        hits: Counter[object] = Counter(r[key] for r in ok)
        print(f"  {label}: " + ", ".join(f"{k} {hits[k] / n:.0%}" for k, n in seen.items()))
    confusions = Counter((w, h) for _, w, _, h, s in results if h != w and s >= THRESHOLD)
    if confusions:
        print(
            "  confusions: "
            + ", ".join(f"{w!r}->{h!r} x{n}" for (w, h), n in confusions.most_common(6))
        )


def room_response(rng: np.random.Generator) -> Samples:
    """A small living room: the direct sound, then reverberation decaying 60 dB in 0.45 s."""
    length = int(0.6 * RATE_HZ)
    t = np.arange(length) / RATE_HZ
    tail = rng.standard_normal(length) * np.exp(-6.9 * t / 0.45) * 0.25
    tail[: int(0.004 * RATE_HZ)] = 0  # the first reflection arrives a few ms late
    tail[0] = 1.0
    return tail.astype(np.float32)


def bench_false_triggers(routines: list[str]) -> None:
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.pcm import resample
    from voiceguide.sound.mix import Mix
    from voiceguide.sound.render import render

    rng = np.random.default_rng(16)
    recognizer = Recognizer(threshold=-1e9)
    response = room_response(rng)
    seconds = 0.0
    open_s = 0.0
    scores: dict[str, list[float]] = {"gated": [], "ungated": []}
    started = time.process_time()
    for name in routines:
        session = open_session(SessionRequest(name, CompileOptions()))
        timeline = session.timeline
        mono = Mix(channels=1)
        pcm = render(timeline, session.clips, gain=session.gain, mix=mono)
        x = resample(pcm.astype(np.float32) / 32768, timeline.sample_rate, RATE_HZ)
        room = np.convolve(x, response)[: len(x)].astype(np.float32)
        voiced = room[np.abs(room) > 0.01]
        room *= np.float32(SPEECH_RMS / float(np.sqrt(np.mean(voiced**2))))  # as loud as a voice
        for snr in (10, 20):
            mic = room + pink_noise(len(room), rng) * np.float32(SPEECH_RMS * 10 ** (-snr / 20))
            data = to_pcm(mic)
            chunks = [data[i : i + 192_000] for i in range(0, len(data), 192_000)]
            gate = SilenceGate(timeline)
            gates: tuple[tuple[str, SilenceGate | None], ...] = (("gated", gate), ("ungated", None))
            for kind, gating in gates:
                for d in detect_pcm(chunks, recognizer, gating):
                    scores[kind].append(d.heard.score)
            seconds += len(mic) / RATE_HZ
            open_s += min(gate.open_ms() / 1000, len(mic) / RATE_HZ)
    cpu = time.process_time() - started
    hours = seconds / 3600
    print(f"\nFalse triggers: {', '.join(routines)} at 10 and 20 dB SNR, "
          f"{seconds / 60:.1f} min of capture ({open_s / seconds:.0%} of it with the gate open); "
          f"{cpu:.0f} s CPU")  # fmt: skip
    for threshold in THRESHOLDS:
        gated = sum(s >= threshold for s in scores["gated"])
        ungated = sum(s >= threshold for s in scores["ungated"])
        mark = "  <- in use" if threshold == THRESHOLD else ""
        print(f"  threshold {threshold:6.1f}: gated {gated / hours:5.2f}/h ({gated}), "
              f"without the gate {ungated / hours:6.1f}/h ({ungated}){mark}")  # fmt: skip


def bench_live(count: int) -> None:
    """Latency and CPU through arecord and the Listener, paced in real time."""
    from voiceguide.compile.timeline import Cue, Timeline
    from voiceguide.listen.gate import LiveGate
    from voiceguide.listen.listener import HeardLive, Listener

    clips = synthesize("espeak", None, 150, 50)
    rng = np.random.default_rng(17)
    with tempfile.TemporaryDirectory(prefix="bench-listen-") as tmp:
        fifo = Path(tmp) / "mic"
        os.mkfifo(fifo)
        home = Path(tmp) / "home"
        home.mkdir()
        (home / ".asoundrc").write_text(
            "pcm.!default { type asym\n"
            '  playback.pcm { type file; slave.pcm "null"; file "/dev/null"; format "raw" }\n'
            f'  capture.pcm {{ type file; slave.pcm "null"; file "/dev/null"; infile "{fifo}"; '
            'format "raw" }\n}\n',
            encoding="utf-8",
        )
        os.environ["HOME"] = str(home)
        silence = SilenceGate(
            Timeline(22_050, (Cue(0, 22_050, "silence", "", "pause", "", None, ""),), "", "")
        )
        gate = LiveGate(silence)
        gate.follow("paused", 0, at_s=time.monotonic() - 60)
        decided: list[HeardLive] = []
        listener = Listener(gate, on_heard=decided.append)
        writer_fd = os.open(fifo, os.O_RDWR)  # opened before arecord, so it never waits
        ends: list[float] = []
        # Whole 20 ms periods, as arecord reads them: a part-period read would be padded.
        block = RATE_HZ // 50

        def write_paced(samples: Samples) -> None:
            data = to_pcm(samples)
            data += bytes(-len(data) % (block * 2))
            begin = time.monotonic()
            for k, i in enumerate(range(0, len(data), block * 2)):
                os.write(writer_fd, data[i : i + block * 2])
                ahead = begin + (k + 1) / 50 - time.monotonic()
                if ahead > 0:
                    time.sleep(ahead)

        noise_level = np.float32(SPEECH_RMS * 10 ** (-20 / 20))
        write_paced(pink_noise(RATE_HZ // 2, rng) * noise_level)  # something for the first read
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        listener.start()
        wall = time.monotonic()
        phrases = [p.words for p in PHRASES]
        for k in range(count):
            clip = clips[phrases[k % len(phrases)]]
            scene = pink_noise(len(clip) + 2 * RATE_HZ, rng) * noise_level
            scene[RATE_HZ // 2 : RATE_HZ // 2 + len(clip)] += clip
            # The phrase ends at its last loud sample (espeak leaves a pause after it).
            voiced_end = RATE_HZ // 2 + int(np.flatnonzero(np.abs(clip) > 0.01)[-1]) + 1
            head, rest = scene[:voiced_end], scene[voiced_end:]
            write_paced(head)
            ends.append(time.monotonic())
            write_paced(rest)
        elapsed = time.monotonic() - wall
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        arecord_cpu = _child_cpu_s(listener)
        listener.stop()
        os.close(writer_fd)
    latencies = []
    for end in ends:
        after = [d.decided_s - end for d in decided if 0 <= d.decided_s - end < 2]
        if after:
            latencies.append(min(after) * 1000)
    own = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    print(f"\nLive (arecord from a paced FIFO, {count} phrases, {elapsed:.0f} s): "
          f"heard {len(latencies)} of {count}")  # fmt: skip
    if latencies:
        median = statistics.median(latencies)
        print(f"  latency, end of phrase to decision: median {median:.0f} ms, "
              f"max {max(latencies):.0f} ms (goal 700 ms)")  # fmt: skip
    print(f"  CPU while listening: {100 * own / elapsed:.1f} % of a core in voiceguide (with "
          f"the bench's own writer), {100 * arecord_cpu / elapsed:.1f} % in arecord")  # fmt: skip


def _child_cpu_s(listener: object) -> float:
    """arecord's CPU seconds so far, from /proc (it is still running)."""
    process = getattr(getattr(listener, "capture", None), "_process", None)
    if process is None:
        return 0.0
    try:
        fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--routines", default=",".join(DEFAULT_ROUTINES),
                        help="comma-separated routines for false triggers, or 'all'")  # fmt: skip
    parser.add_argument("--no-piper", action="store_true", help="espeak voices only")
    parser.add_argument("--live", type=int, default=12, help="phrases for latency and CPU")
    parser.add_argument("--skip", default="", help="comma-separated: detection,false,live,play")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if "detection" not in skip:
        report_detection(bench_detection(not args.no_piper))
    if "false" not in skip:
        from voiceguide.script import library

        routines = sorted(library.entries()) if args.routines == "all" else args.routines.split(",")
        bench_false_triggers(routines)
    if "live" not in skip:
        bench_live(args.live)
    if "play" not in skip:
        from bench_listen_play import bench_play  # tools/ is on the path when run as a script

        bench_play(max(10, args.live))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
