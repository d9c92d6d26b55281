"""The phrase cache: round trips, self-checking entries, atomic writes, info and clear."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest

from voiceguide.sound.cache import CacheInfo, PhraseCache, default_cache_root, phrase_key
from voiceguide.sound.engines.base import Speech

KEY = phrase_key("fake-engine 1 voice=a rate=150wpm pitch=50", "Press gently.")


def speech(count: int = 2000, sample_rate: int = 22050) -> Speech:
    ramp = (np.arange(count, dtype=np.int64) * 37 % 65536 - 32768).astype(np.int16)
    return Speech(samples=ramp, sample_rate=sample_rate)


def entry_path(cache: PhraseCache, key: str = KEY) -> Path:
    (path,) = [p for p in cache.root.iterdir() if p.name.startswith(key)]
    return path


def test_a_phrase_comes_back_as_it_went_in(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    original = speech(sample_rate=16000)

    assert cache.put(KEY, original) is True
    got = cache.get(KEY)

    assert got is not None
    assert got.sample_rate == 16000
    assert got.samples.dtype == np.int16
    np.testing.assert_array_equal(got.samples, original.samples)


def test_a_missing_phrase_is_none(tmp_path: Path) -> None:
    assert PhraseCache(tmp_path / "not-yet").get(KEY) is None


def test_holds_looks_for_an_entry_without_reading_it(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    assert not cache.holds(KEY)
    cache.put(KEY, speech())
    assert cache.holds(KEY)
    assert not cache.holds(phrase_key("fake-engine 1 voice=a rate=150wpm pitch=50", "Other."))
    assert not PhraseCache(tmp_path / "not-yet").holds(KEY)


def test_keys_depend_on_both_identity_and_text() -> None:
    keys = {
        phrase_key("engine A", "Release."),
        phrase_key("engine B", "Release."),
        phrase_key("engine A", "Release"),
        phrase_key("engine A\x00", "Release."),
        phrase_key("engine ", "A Release."),
    }

    assert len(keys) == 5
    assert phrase_key("engine A", "Release.") == phrase_key("engine A", "Release.")
    assert all(len(key) == 64 and set(key) <= set("0123456789abcdef") for key in keys)


def test_a_malformed_key_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a phrase key"):
        PhraseCache(tmp_path).get("../escape")


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: data[: len(data) // 2], id="truncated"),
        pytest.param(lambda data: data[:40], id="header-only"),
        pytest.param(lambda data: b"", id="empty"),
        pytest.param(lambda data: data[:-1] + bytes([data[-1] ^ 1]), id="flipped-payload-bit"),
        pytest.param(lambda data: b"XXXX" + data[4:], id="bad-magic"),
        pytest.param(lambda data: data + b"\x00\x00", id="trailing-bytes"),
    ],
)
def test_a_damaged_entry_is_discarded(tmp_path: Path, damage: Any) -> None:
    cache = PhraseCache(tmp_path)
    cache.put(KEY, speech())
    path = entry_path(cache)
    path.write_bytes(damage(path.read_bytes()))

    assert cache.get(KEY) is None
    assert not path.exists()
    assert cache.put(KEY, speech())
    assert cache.get(KEY) is not None


def test_an_entry_copied_under_another_key_is_refused(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    other = phrase_key("fake-engine", "Release.")
    cache.put(other, speech())
    entry_path(cache, other).rename(tmp_path / entry_path(cache, other).name.replace(other, KEY))

    assert cache.get(KEY) is None


def test_a_failed_rename_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    cache = PhraseCache(tmp_path)

    def disk_full(src: Any, dst: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with caplog.at_level(logging.WARNING, logger="voiceguide.sound.cache"):
        stored = cache.put(KEY, speech())

    assert stored is False
    assert list(tmp_path.iterdir()) == []
    assert "No space left on device" in caplog.text


def test_a_disk_filling_up_mid_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = PhraseCache(tmp_path)
    cache.put(KEY, speech(count=10))  # an older entry must survive a failed overwrite
    real_fdopen = os.fdopen

    class FillsUp:
        def __init__(self, file: IO[bytes]) -> None:
            self.file = file

        def __enter__(self) -> FillsUp:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: bytes) -> int:
            self.file.write(data[: len(data) // 2])
            self.file.flush()
            raise OSError(errno.ENOSPC, "No space left on device")

    def fills_up(fd: int, mode: str = "wb") -> FillsUp:
        return FillsUp(real_fdopen(fd, "wb"))

    monkeypatch.setattr(os, "fdopen", fills_up)
    assert cache.put(KEY, speech(count=5000)) is False
    monkeypatch.undo()

    assert [p.name for p in tmp_path.iterdir()] == [f"{KEY}.phrase"]
    kept = cache.get(KEY)
    assert kept is not None
    assert len(kept.samples) == 10


def test_a_cache_folder_that_cannot_be_made_is_not_fatal(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = PhraseCache(blocker / "phrases")

    assert cache.put(KEY, speech()) is False
    assert cache.get(KEY) is None
    assert cache.info() == CacheInfo(path=blocker / "phrases", entries=0, bytes=0)


def test_info_counts_entries_and_bytes(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    (tmp_path / "notes.txt").write_text("not the cache's")
    for text in ("one", "two", "three"):
        cache.put(phrase_key("fake", text), speech(count=1000))

    info = cache.info()

    assert info.path == tmp_path
    assert info.entries == 3
    assert info.bytes == sum(p.stat().st_size for p in tmp_path.glob("*.phrase"))
    assert info.bytes > 3 * 2000


def test_clear_removes_only_the_cache_s_own_files(tmp_path: Path) -> None:
    cache = PhraseCache(tmp_path)
    for text in ("one", "two"):
        cache.put(phrase_key("fake", text), speech())
    (tmp_path / f".{KEY[:16]}-abc.tmp").write_bytes(b"left by a crash")
    (tmp_path / "notes.txt").write_text("not the cache's")
    (tmp_path / "sub").mkdir()

    assert cache.clear() == 2

    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "sub"]
    assert cache.info().entries == 0
    assert cache.clear() == 0


def test_clear_of_a_missing_folder_is_zero(tmp_path: Path) -> None:
    assert PhraseCache(tmp_path / "never-made").clear() == 0


def test_the_default_folder_is_in_the_user_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOICEGUIDE_HOME", str(tmp_path))

    assert default_cache_root() == tmp_path / "cache" / "phrases"
    assert PhraseCache().root == tmp_path / "cache" / "phrases"


def test_an_unusable_cache_costs_one_warning_not_one_a_phrase(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = PhraseCache(blocker / "phrases")
    keys = [phrase_key("engine", f"Phrase {n}.") for n in range(50)]

    with caplog.at_level(logging.DEBUG, logger="voiceguide.sound.cache"):
        for key in keys:
            assert cache.get(key) is None
            assert cache.put(key, speech()) is False

    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert (
        warnings[0]
        .getMessage()
        .startswith(f"cannot write to the phrase cache in {blocker / 'phrases'}: ")
    )
    assert warnings[0].getMessage().endswith("; going on without it (phrases are spoken each time)")
    assert len(caplog.records) == 50  # the other 49 failures, for --debug


def test_an_unreadable_cache_costs_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = PhraseCache(tmp_path)
    keys = [phrase_key("engine", f"Phrase {n}.") for n in range(5)]
    for key in keys:
        (tmp_path / f"{key}.phrase").mkdir()  # reading it fails: a folder, not a file

    with caplog.at_level(logging.WARNING, logger="voiceguide.sound.cache"):
        assert all(cache.get(key) is None for key in keys)

    assert len(caplog.records) == 1
    assert "cannot read the phrase cache in" in caplog.text


def test_only_16_bit_pcm_is_kept(tmp_path: Path) -> None:
    floats = Speech(samples=np.zeros(10, dtype=np.float32), sample_rate=22_050)

    with pytest.raises(TypeError, match="16-bit PCM"):
        PhraseCache(tmp_path).put(KEY, floats)


@pytest.mark.audio
def test_an_export_with_an_unusable_cache_warns_once(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.helpers import TWO_SIDED_ROUTINE, run_cli

    home = tmp_path / "home"
    home.mkdir()
    (home / "cache").write_text("not a folder")
    monkeypatch.setenv("VOICEGUIDE_HOME", str(home))
    routine = tmp_path / "hand.yaml"
    routine.write_text(TWO_SIDED_ROUTINE, encoding="utf-8")

    with caplog.at_level(logging.WARNING):
        code, _, _ = run_cli(["export", str(routine), "-o", str(tmp_path / "hand.wav")], capsys)

    assert code == 0
    (warning,) = caplog.records  # the phrases and the sounds share the one cache
    phrases = home / "cache" / "phrases"
    assert warning.getMessage().startswith(f"cannot write to the phrase cache in {phrases}: ")
