"""MP3 on every core: cuts in silence, chunks side by side, joined exactly (output/parallel.py)."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tests.output.helpers import (
    SR,
    NoiseClips,
    Plan,
    ToneClips,
    build,
    expected_onsets,
    export_files,
    listing,
    needs_ffmpeg,
    onsets,
)
from voiceguide.compile.timeline import Timeline
from voiceguide.errors import ExportError
from voiceguide.output import mp3frames, parallel
from voiceguide.output.audio import Cuts, write_audio
from voiceguide.output.export import cuts
from voiceguide.sound.render import render


def test_chunks_are_cut_in_silence_and_start_where_the_decoder_puts_them() -> None:
    total = 600 * SR
    silences = [(s * SR, s * SR + 5 * SR) for s in range(20, 600, 40)]  # 5 s every 40 s
    chunks = parallel.plan(total, silences, 3, SR)
    assert len(chunks) == 3
    assert chunks[0].start == 0
    assert chunks[-1].end == total
    for before, after in itertools.pairwise(chunks):
        silence = next(s for s in silences if s[0] <= before.end < s[1])
        assert before.end - silence[0] >= parallel.GUARD  # zeros before the cut
        assert silence[1] - after.start >= parallel.GUARD  # and after the next start
        frames = parallel.frames_for(before.end - before.start)
        assert after.start == before.start + frames * parallel.FRAME
        assert abs(before.end - total * (chunks.index(before) + 1) // 3) <= 40 * SR


def test_without_a_long_enough_silence_there_is_one_chunk() -> None:
    total = 600 * SR
    assert parallel.plan(total, [], 2, SR) == [parallel.Chunk(0, total)]
    too_short = [(300 * SR, 300 * SR + 2000)]  # no room for the guards and the drop
    assert parallel.plan(total, too_short, 2, SR) == [parallel.Chunk(0, total)]
    assert len(parallel.plan(40 * SR, [(20 * SR, 25 * SR)], 2, SR)) == 1  # chunks too short


def test_lames_frames_for_a_length() -> None:
    # LAME 3.100 (MPEG-2): its 576-sample delay and one frame of flush, rounded up.
    assert parallel.frames_for(57_600) == 102
    assert parallel.frames_for(57_601) == 103
    assert parallel.frames_for(92_765) == 164


MINUTES: Plan = []
for minute in range(4):
    MINUTES += [
        ("speech", f"Part {minute}: press, and hold for a while.", f"Part {minute}"),
        ("tone", "press", f"Part {minute}"),
        ("silence", 50 * SR, f"Part {minute}"),
        ("tone", "release", f"Part {minute}"),
        ("silence", 8 * SR, f"Part {minute}"),
    ]


@pytest.fixture
def minutes() -> Timeline:
    """Four minutes of presses and long holds: room for cuts."""
    return build(MINUTES)


@pytest.fixture
def three_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "cores", lambda: 3)


@needs_ffmpeg
def test_a_chunked_mp3_decodes_to_the_session_to_the_sample(
    minutes: Timeline, tmp_path: Path, three_cores: None
) -> None:
    spans = cuts(minutes, ToneClips(), 1.0, None)
    assert spans is not None
    chunks = parallel.plan(minutes.total, spans.silences, 3, SR)
    assert len(chunks) == 3
    export_files(minutes, tmp_path / "s.mp3", "mp3")
    heard, rate = soundfile.read(tmp_path / "s.mp3", dtype="float32")
    assert (rate, len(heard)) == (SR, minutes.total)
    rendered = render(minutes, ToneClips()).astype(np.float32) / 32768
    # Every sound where it belongs, nothing at the cuts (no click), and no more coding
    # noise than a single encoder leaves.
    found, expected = onsets(heard, 10 ** (-30 / 20)), expected_onsets(minutes)
    assert len(found) == len(expected)
    assert all(abs(a - b) <= 10 * SR // 1000 for a, b in zip(found, expected, strict=True))
    for before, after in itertools.pairwise(chunks):
        # From the cut to past the next chunk's start: silence (before the cut, the last
        # sound's coding noise fades out as it would in one piece).
        assert np.max(np.abs(heard[before.end : after.start + parallel.GUARD])) < 1e-4
    noise = heard - rendered
    snr_db = 10 * np.log10(np.sum(rendered**2) / np.sum(noise**2))
    assert snr_db > 15


@needs_ffmpeg
def test_the_joined_header_counts_every_frame_and_gives_the_padding(
    minutes: Timeline, tmp_path: Path, three_cores: None
) -> None:
    export_files(minutes, tmp_path / "s.mp3", "mp3")
    data = (tmp_path / "s.mp3").read_bytes()
    start = data.index(b"\xff\xf3")  # after the ID3 tag
    audio = data[start:]
    offsets = mp3frames.frames(audio)
    info = mp3frames.frame_at(audio, 0)
    count, size, crc = mp3frames.xing_fields(audio, info)
    assert (count, size) == (len(offsets) - 1, len(audio))
    assert crc == mp3frames.crc16(audio[info.size :])
    delay, padding = mp3frames.delay_and_padding(audio, info)
    decoded = count * 576 - delay - mp3frames.DECODER_DELAY - (padding - mp3frames.DECODER_DELAY)
    assert (delay, decoded) == (576, minutes.total)


@needs_ffmpeg
def test_an_encoder_that_writes_other_frames_falls_back_to_one_piece(
    minutes: Timeline, tmp_path: Path, three_cores: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = mp3frames.xing_fields

    def miscounted(data: bytes, frame: mp3frames.Frame) -> tuple[int, int, int]:
        count, size, crc = real(data, frame)
        return count + 1, size, crc

    monkeypatch.setattr(mp3frames, "xing_fields", miscounted)
    export_files(minutes, tmp_path / "s.mp3", "mp3")
    assert abs(soundfile.info(tmp_path / "s.mp3").frames - minutes.total) <= 576
    assert listing(tmp_path) == ["s.mp3"]


def _children() -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@needs_ffmpeg
def test_an_interrupt_ends_every_encoder_and_leaves_no_chunk(
    minutes: Timeline, tmp_path: Path, three_cores: None
) -> None:
    before = _children()
    running: list[int] = []

    def interrupt(done: int, total: int) -> None:
        running.extend(_children() - before)
        if done > total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(minutes, tmp_path / "s.mp3", "mp3", progress=interrupt)
    assert len(set(running)) == 3, "three encoders ran side by side"
    assert _children() - before == set()
    assert listing(tmp_path) == []


@needs_ffmpeg
def test_a_full_disk_while_chunks_encode_leaves_nothing(full_disk: Path, three_cores: None) -> None:
    plan: Plan = [("speech", "n" * 4000, "Noise"), ("silence", 35 * SR, "Noise")] * 3
    noisy = build(plan, NoiseClips())
    with pytest.raises(ExportError, match=r"no space left on the device; nothing was written$"):
        export_files(noisy, full_disk / "s.mp3", "mp3", clips=NoiseClips())
    assert listing(full_disk) == []


def test_under_a_sound_bed_nothing_is_cut(minutes: Timeline) -> None:
    # The bed fills every silence: a cut there would be heard, so the MP3 is one piece.
    from voiceguide.sound.bed import BUILTIN_BEDS, BedSource
    from voiceguide.sound.mix import Mix

    assert cuts(minutes, ToneClips(), 1.0, Mix(bed=BedSource(BUILTIN_BEDS[0]))) is None
    assert cuts(minutes, ToneClips(), 1.0, Mix(channels=1)) is not None


@needs_ffmpeg
def test_two_channels_join_as_exactly(tmp_path: Path, three_cores: None) -> None:
    # Stereo comes next: 100 s, a tone left and another right, a silence every 30 s.
    seconds = 100
    t = np.arange(seconds * SR) / SR
    both = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1)
    silences = [(s * SR, (s + 3) * SR) for s in (30, 60, 90)]
    for start, end in silences:
        both[start:end] = 0
    pcm = np.round(both * 32767).astype(np.int16)

    def render_span(start: int, end: int) -> list[npt.NDArray[np.int16]]:
        return [pcm[i : min(i + SR, end)] for i in range(start, end, SR)]

    path = tmp_path / "s.mp3"
    assert len(parallel.plan(len(pcm), silences, 3, SR)) == 2  # the last 10 s: too short
    write_audio(
        path, "mp3", [], sample_rate=SR, total=len(pcm), channels=2,
        cuts=Cuts(silences, render_span),
    )  # fmt: skip
    heard, _ = soundfile.read(path, dtype="float32")
    assert heard.shape == (len(pcm), 2)
    for start, end in silences:  # silent where the session is, cuts and all
        assert np.max(np.abs(heard[start + SR // 10 : end - SR // 10])) < 1e-3
    spectrum = np.abs(np.fft.rfft(heard[: 30 * SR], axis=0))
    freqs = np.fft.rfftfreq(30 * SR, 1 / SR)
    assert abs(freqs[np.argmax(spectrum[:, 0])] - 440) < 2
    assert abs(freqs[np.argmax(spectrum[:, 1])] - 660) < 2
