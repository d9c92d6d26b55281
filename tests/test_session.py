"""Opening a session: one request, the voice settled once, engine, cache and config injectable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import TWO_SIDED_ROUTINE
from voiceguide.app.session import SessionRequest, estimate, open_session
from voiceguide.compile.compiler import CompileOptions
from voiceguide.errors import UsageError
from voiceguide.prefs import VoicePrefs
from voiceguide.script.config import UserConfig
from voiceguide.script.library import load_path
from voiceguide.sound.cache import PhraseCache
from voiceguide.sound.engines.base import Speech, Voice

SR = 22_050


class ToneEngine:
    """Speaks 10 ms a character of a quiet tone; counts what it was asked."""

    name = "tone"

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def identity(self) -> str:
        return "tone 1"

    def voices(self) -> list[Voice]:
        return [Voice(id="tone", name="Tone")]

    def synthesize(self, text: str) -> Speech:
        self.spoken.append(text)
        voiced = 0.3 * np.sin(2 * np.pi * 330 * np.arange(SR * len(text) // 100) / SR)
        audio = np.concatenate([np.zeros(SR // 50), voiced, np.zeros(SR // 50)])
        return Speech(samples=np.round(audio * 32767).astype(np.int16), sample_rate=SR)

    def close(self) -> None:
        pass


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TWO_SIDED_ROUTINE, encoding="utf-8")
    return path


def test_engine_cache_and_config_can_be_passed_in(script: Path, tmp_path: Path) -> None:
    engine = ToneEngine()
    cache = PhraseCache(tmp_path / "phrases")
    config = UserConfig(VoicePrefs(rate_wpm=130, volume_pct=40))

    session = open_session(SessionRequest(script), engine=engine, cache=cache, config=config)

    assert session.clips.engine is engine
    assert session.synthesized > 0
    assert cache.info().entries >= len(set(engine.spoken))  # phrases, and finished sounds
    assert (session.voice.rate_wpm, session.volume_pct, session.gain) == (130, 40, 0.4)
    # The same request again: every phrase from the cache it was given.
    silent = ToneEngine()
    again = open_session(SessionRequest(script), engine=silent, cache=cache, config=config)
    assert (again.synthesized, silent.spoken) == (0, [])
    assert again.timeline == session.timeline


def test_the_request_names_a_routine_by_name_path_or_as_loaded(script: Path) -> None:
    engine = ToneEngine()
    options = CompileOptions(intro="none")
    by_path = open_session(SessionRequest(script, options), engine=engine, config=UserConfig())
    by_text = open_session(SessionRequest(str(script), options), engine=engine, config=UserConfig())
    loaded = SessionRequest(load_path(script), options)
    given = open_session(loaded, engine=engine, config=UserConfig())

    assert by_path.timeline == by_text.timeline == given.timeline
    with pytest.raises(UsageError, match="no routine given"):
        open_session(SessionRequest(), engine=engine, config=UserConfig())


def test_the_estimate_speaks_at_the_rate_a_session_would(script: Path) -> None:
    request = SessionRequest(script, CompileOptions(intro="none", tones=False))
    at_default = estimate(request, config=UserConfig()).total_ms
    slow_config = UserConfig(VoicePrefs(rate_wpm=100))

    slower = estimate(request, config=slow_config).total_ms
    # The request's own rate still wins over the config's.
    fast = SessionRequest(script, request.options, VoicePrefs(rate_wpm=150))

    assert slower > at_default
    assert estimate(fast, config=slow_config).total_ms == at_default


def test_an_export_takes_a_routine_by_name_path_or_as_loaded(
    script: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceguide.app import exporting
    from voiceguide.sound import engines

    monkeypatch.setattr(engines, "make_engine", lambda *args, **kwargs: ToneEngine())
    options = CompileOptions(intro="none")
    for routine in (str(script), script, load_path(script)):
        target = tmp_path / "out" / "tiny.wav"
        line = exporting.export_one(SessionRequest(routine, options), str(target))
        assert line.startswith(f"wrote {target} (")
        assert target.stat().st_size > 44
        target.unlink()
    with pytest.raises(UsageError, match="no routine given"):
        exporting.export_one(SessionRequest(), str(tmp_path / "x.wav"))
