"""Every built-in routine compiles with real speech, renders and exports."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from voiceguide.app.session import SessionRequest, open_session
from voiceguide.cli import main
from voiceguide.script import library

pytestmark = pytest.mark.audio


def test_every_built_in_routine_exports_to_its_exact_length(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exited:
        main(["export", "--all", str(out), "--format", "flac"])
    assert exited.value.code in (0, None)
    written = {p.stem: p for p in out.glob("*.flac")}
    built_in = {name for name, entry in library.entries().items() if entry.origin == "built-in"}
    assert set(written) == built_in
    for name in sorted(built_in):
        timeline = open_session(SessionRequest(name)).timeline  # the phrases are cached now
        info = sf.info(str(written[name]))
        assert info.samplerate == timeline.sample_rate
        assert info.frames == timeline.total, name
    assert "skipped" not in capsys.readouterr().err
