"""MP3 from blocks in order: cut in silence, encoded side by side, joined (output/parallel.py)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
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
from voiceguide.output.audio import write_audio
from voiceguide.sound.render import render


def test_a_silence_is_cut_on_the_frame_grid_inside_its_margins() -> None:
    for begin, end in [(0, SR), (1000, 9000), (5 * SR + 13, 7 * SR + 101)]:
        where = parallel.cut(begin, end)
        assert where is not None
        first, last = where
        assert (first + parallel.LEAD) % parallel.FRAME == 0  # a frame of the join starts
        assert (last + parallel.LEAD) % parallel.FRAME == 0
        assert begin + parallel.MARGIN <= first < begin + parallel.MARGIN + parallel.FRAME
        assert end - parallel.MARGIN - parallel.FRAME < last <= end - parallel.MARGIN


def test_a_silence_too_short_for_both_margins_is_not_cut() -> None:
    assert parallel.cut(0, 2 * parallel.MARGIN - 1) is None
    assert parallel.cut(100, 100 + 2 * parallel.MARGIN + 2 * parallel.FRAME) is not None


def test_lames_frames_for_a_length() -> None:
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


Pieces = list[list[parallel.Piece]]


@pytest.fixture
def pieces(monkeypatch: pytest.MonkeyPatch) -> Pieces:
    """The pieces of each MP3 joined while the test runs."""
    joined: Pieces = []
    real = parallel._join

    def spying(out, streams, found, length):  # type: ignore[no-untyped-def]
        joined.append(list(found))
        real(out, streams, found, length)

    monkeypatch.setattr(parallel, "_join", spying)
    return joined


@needs_ffmpeg
def test_a_chunked_mp3_decodes_to_the_session_to_the_sample(
    minutes: Timeline, tmp_path: Path, pieces: Pieces
) -> None:
    export_files(minutes, tmp_path / "s.mp3", "mp3")
    heard, rate = soundfile.read(tmp_path / "s.mp3", dtype="float32")
    assert (rate, len(heard)) == (SR, minutes.total)
    [cut] = pieces
    assert {p.encoder for p in cut} == {0, 1}, "both encoders had work"
    skipped = [(a.end, b.start) for a, b in itertools.pairwise(cut) if a.end]
    assert sum(b - a for a, b in skipped) > minutes.total // 2  # the holds: not encoded
    rendered = render(minutes, ToneClips()).astype(np.float32) / 32768
    # Every sound where it belongs, nothing where the silence was not encoded (no
    # click), and no more coding noise than a single encoder leaves.
    found, expected = onsets(heard, 10 ** (-30 / 20)), expected_onsets(minutes)
    assert len(found) == len(expected)
    assert all(abs(a - b) <= 10 * SR // 1000 for a, b in zip(found, expected, strict=True))
    for end, start in skipped:
        assert not np.any(heard[end:start])  # digital silence: copies of a silent frame
        # After it, before the next sound's coding noise can reach back: still silence.
        assert np.max(np.abs(heard[start : start + parallel.FRAME])) < 1e-4
    noise = heard - rendered
    snr_db = 10 * np.log10(np.sum(rendered**2) / np.sum(noise**2))
    assert snr_db > 15


@needs_ffmpeg
def test_the_joined_header_counts_every_frame_and_gives_the_padding(
    minutes: Timeline, tmp_path: Path
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
    minutes: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = mp3frames.xing_fields

    def miscounted(data: bytes, frame: mp3frames.Frame) -> tuple[int, int, int]:
        count, size, crc = real(data, frame)
        return count + 1, size, crc

    monkeypatch.setattr(mp3frames, "xing_fields", miscounted)
    export_files(minutes, tmp_path / "s.mp3", "mp3")
    assert abs(soundfile.info(tmp_path / "s.mp3").frames - minutes.total) <= 576
    assert listing(tmp_path) == ["s.mp3"]


@needs_ffmpeg
def test_a_streamed_export_falls_back_to_one_piece_from_clips_read_back_from_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The stream lets each clip go once it is rendered; encoding again in one piece reads
    # it back from the phrase cache (not the engine), and writes what the whole export does.
    from tests.helpers import TWO_SIDED_ROUTINE
    from tests.test_session import ToneEngine
    from voiceguide.app.session import SessionRequest, open_stream
    from voiceguide.output.export import export, export_streamed
    from voiceguide.output.targets import Outputs
    from voiceguide.script.config import UserConfig
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.speech import SpeechClips

    forgotten: list[str] = []
    real_forget = SpeechClips.forget

    def forget(self: SpeechClips, texts: Iterable[str]) -> None:
        texts = list(texts)
        forgotten.extend(texts)
        real_forget(self, texts)

    monkeypatch.setattr(SpeechClips, "forget", forget)
    real = mp3frames.xing_fields

    def miscounted(data: bytes, frame: mp3frames.Frame) -> tuple[int, int, int]:
        count, size, crc = real(data, frame)
        return count + 1, size, crc

    monkeypatch.setattr(mp3frames, "xing_fields", miscounted)
    (tmp_path / "tiny.yaml").write_text(TWO_SIDED_ROUTINE)
    engine = ToneEngine()
    opened = open_stream(
        SessionRequest(tmp_path / "tiny.yaml"), engine=engine, cache=PhraseCache(tmp_path / "c"),
        config=UserConfig(),
    )  # fmt: skip
    out = tmp_path / "out"
    try:
        timeline = export_streamed(opened.stream, Outputs.plan(out / "s.mp3", "mp3"))
    finally:
        opened.stream.close()
    assert forgotten, "clips were let go as the stream rendered"
    assert sorted(engine.spoken) == sorted(set(engine.spoken)), "none spoken again"
    assert abs(soundfile.info(out / "s.mp3").frames - timeline.total) <= 576
    assert listing(out) == ["s.mp3"]
    export(timeline, opened.clips, Outputs.plan(out / "w.mp3", "mp3"), mix=opened.mix)
    assert (out / "s.mp3").read_bytes() == (out / "w.mp3").read_bytes()


@needs_ffmpeg
def test_sound_at_a_cut_falls_back_to_one_piece_or_fails_in_one_line(
    minutes: Timeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mp3frames, "is_silent", lambda data, frame: False)
    export_files(minutes, tmp_path / "s.mp3", "mp3")  # rendered again, in one piece
    assert abs(soundfile.info(tmp_path / "s.mp3").frames - minutes.total) <= 576
    pcm = render(minutes, ToneClips())
    with pytest.raises(OSError, match=r"^\[Errno 5\] the MP3's pieces do not join \(frame"):
        write_audio(tmp_path / "t.mp3", "mp3", [pcm], sample_rate=SR, total=len(pcm), channels=2)


def _children() -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


@needs_ffmpeg
def test_an_interrupt_ends_every_encoder_and_leaves_no_piece(
    minutes: Timeline, tmp_path: Path
) -> None:
    before = _children()
    running: list[int] = []

    def interrupt(done: int, total: int) -> None:
        running.extend(_children() - before)
        if done > total // 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        export_files(minutes, tmp_path / "s.mp3", "mp3", progress=interrupt)
    assert len(set(running)) == parallel.ENCODERS, "the encoders ran side by side"
    assert _children() - before == set()
    assert listing(tmp_path) == []


@needs_ffmpeg
def test_a_full_disk_while_pieces_encode_leaves_nothing(full_disk: Path) -> None:
    plan: Plan = [("speech", "n" * 4000, "Noise"), ("silence", 35 * SR, "Noise")] * 3
    noisy = build(plan, NoiseClips())
    with pytest.raises(ExportError, match=r"no space left on the device; nothing was written$"):
        export_files(noisy, full_disk / "s.mp3", "mp3", clips=NoiseClips())
    assert listing(full_disk) == []


def _blocks(pcm: npt.NDArray[np.int16], sizes: list[int]) -> Iterator[npt.NDArray[np.int16]]:
    at = 0
    while at < len(pcm):
        for size in sizes:
            yield pcm[at : at + size]
            at += size


@needs_ffmpeg
def test_the_bytes_do_not_depend_on_how_the_blocks_come(tmp_path: Path, minutes: Timeline) -> None:
    # A session laid out while it plays hands its blocks in other sizes than a render:
    # the cuts are where the samples are silent, whatever the blocks.
    pcm = render(minutes, ToneClips())
    files = []
    for number, sizes in enumerate([[len(pcm)], [65_536], [1, 4999, 577, 20_000, 3]]):
        path = tmp_path / f"{number}.mp3"
        blocks = _blocks(pcm, sizes)
        write_audio(path, "mp3", blocks, sample_rate=SR, total=len(pcm), channels=2)
        files.append(path.read_bytes())
    assert files[1] == files[0]
    assert files[2] == files[0]


@needs_ffmpeg
def test_sound_without_digital_silence_is_one_piece(tmp_path: Path, pieces: Pieces) -> None:
    # Under a sound bed nothing is ever silent: one encoder codes it all, as one stream.
    noise = np.random.default_rng(5).integers(-300, 300, (40 * SR, 2)).astype(np.int16)
    write_audio(
        tmp_path / "s.mp3", "mp3", _blocks(noise, [10_000]), sample_rate=SR, total=len(noise),
        channels=2,
    )  # fmt: skip
    assert pieces == [[parallel.Piece(0, 0, 0, None)]]
    heard, _ = soundfile.read(tmp_path / "s.mp3", dtype="float32")
    assert heard.shape == noise.shape


@needs_ffmpeg
def test_two_channels_join_as_exactly(tmp_path: Path, pieces: Pieces) -> None:
    # 100 s, a tone left and another right, a silence every 30 s.
    seconds = 100
    t = np.arange(seconds * SR) / SR
    both = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1)
    silences = [(s * SR, (s + 3) * SR) for s in (30, 60, 90)]
    for start, end in silences:
        both[start:end] = 0
    pcm = np.round(both * 32767).astype(np.int16)
    path = tmp_path / "s.mp3"
    write_audio(
        path, "mp3", _blocks(pcm, [SR]), sample_rate=SR, total=len(pcm), channels=2,
    )  # fmt: skip
    assert len(pieces[0]) == 4
    heard, _ = soundfile.read(path, dtype="float32")
    assert heard.shape == (len(pcm), 2)
    for start, end in silences:  # silent where the session is, cuts and all
        assert np.max(np.abs(heard[start + SR // 10 : end - SR // 10])) < 1e-3
    spectrum = np.abs(np.fft.rfft(heard[: 30 * SR], axis=0))
    freqs = np.fft.rfftfreq(30 * SR, 1 / SR)
    assert abs(freqs[np.argmax(spectrum[:, 0])] - 440) < 2
    assert abs(freqs[np.argmax(spectrum[:, 1])] - 660) < 2


@needs_ffmpeg
def test_under_a_sound_bed_the_mp3_is_one_stream_with_its_reservoir(
    minutes: Timeline, tmp_path: Path, pieces: Pieces
) -> None:
    # A bed fills every silence: nothing to cut in, so the reservoir's bytes are kept.
    from voiceguide.sound.bed import BUILTIN_BEDS, BedSource
    from voiceguide.sound.mix import Mix

    export_files(minutes, tmp_path / "s.mp3", "mp3", mix=Mix(bed=BedSource(BUILTIN_BEDS[0])))
    assert pieces == []  # not through the pieces
    data = (tmp_path / "s.mp3").read_bytes()
    audio = data[data.index(b"\xff\xf3") :]
    frames = [mp3frames.frame_at(audio, o) for o in mp3frames.frames(audio)[1:]]
    assert any(audio[f.offset + 4] for f in frames)  # some frame reaches back: a reservoir
    heard, _ = soundfile.read(tmp_path / "s.mp3", dtype="float32")
    assert len(heard) == minutes.total
