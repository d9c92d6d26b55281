"""Every playback setting, settled one way: command line, routine, config, defaults."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from tests.helpers import run_cli as run
from voiceguide.app.session import MixChoice, SessionRequest
from voiceguide.app.settling import Decisions, explain, settle
from voiceguide.compile.compiler import CompileOptions
from voiceguide.errors import ExitStatus, UsageError
from voiceguide.prefs import (
    PlaybackPrefs,
    VoicePrefs,
    playback_origins,
    resolve_playback,
    voice_origins,
)
from voiceguide.script import spec
from voiceguide.script.config import ConfigError, UserConfig, config_path, load_user_config
from voiceguide.script.library import load_path
from voiceguide.script.model import Routine

REPO = Path(__file__).resolve().parent.parent
EVERY_KEY = """\
engine: espeak
voice: en-gb
rate: 140
pitch: 40
volume: 80
pace: 1.25
intro: short
detail: brief
tones: false
channels: mono
bed: rain
bed_level: -30
history: false
mpris: false
listen: true
"""


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def routine() -> Routine:
    return load_path(REPO / "scripts" / "sitting-foot.yaml")


def asked(**fields: object) -> SessionRequest:
    """A request as the command line makes it, with ``fields`` in its playback layer."""
    return SessionRequest("sitting-foot", playback=PlaybackPrefs(**fields))  # type: ignore[arg-type]


# -- the config file --------------------------------------------------------------------


def test_the_config_reads_every_key() -> None:
    path = write_config(EVERY_KEY)
    config = load_user_config()
    assert config.prefs == VoicePrefs(
        engine="espeak", voice="en-gb", rate_wpm=140, pitch=40, volume_pct=80
    )
    assert config.playback == PlaybackPrefs(
        intro="short", detail="brief", pace=1.25, tones=False, channels=1, bed="rain",
        bed_level_lufs=-30.0, history=False, mpris=False, listen=True,
    )  # fmt: skip
    assert config.positions["bed_level"] == config.positions["bed_level"]
    assert str(config.positions["listen"]) == f"{path}:15:9"
    assert set(config.positions) == {key.name for key in spec.CONFIG.keys} - {"voice_model"}


def test_every_config_key_is_documented_in_the_spec() -> None:
    names = {key.name for key in spec.CONFIG.keys}
    assert names >= {"engine", "voice", "rate", "volume", "pace", "intro", "detail", "tones",
                     "history", "mpris", "channels", "bed", "bed_level", "listen"}  # fmt: skip
    assert all(key.doc for key in spec.CONFIG.keys)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pace: 9\n", "1:7: pace: expected a number from 0.25 to 4, got 9"),
        ("pace: slow\n", "1:7: pace: expected a number from 0.25 to 4, got 'slow'"),
        ("pace: .nan\n", "1:7: pace: expected a number from 0.25 to 4, got .nan"),
        (
            "intro: shorter\n",
            "1:8: intro: expected one of full, short, auto, none, got 'shorter'; "
            "did you mean 'short'?",
        ),
        ("detail: terse\n", "1:9: detail: expected one of full, brief, auto, got 'terse'"),
        ("channels: quad\n", "1:11: channels: expected one of mono, stereo, got 'quad'"),
        (
            "bed: rian\n",
            "1:6: bed: expected one of rain, drone, waves, none or a sound file, "
            "got 'rian'; did you mean 'rain'?",
        ),
        ("bed: sounds/sea.wav\n", "1:6: bed: no such file "),
        ("bed_level: -10\n", "1:12: bed_level: expected a number from -40 to -20, got -10"),
        ("history: maybe\n", "1:10: history: expected true or false, got 'maybe'"),
        ("mprs: false\n", "1:1: mprs: unknown key in config; did you mean 'mpris'?"),
        ("lisen: true\n", "1:1: lisen: unknown key in config; did you mean 'listen'?"),
        ("volume: 0\n", "1:9: volume: expected a whole number from 1 to 100, got 0"),
        ("tones: !!binary eA==\n", "1:8: YAML tag 'binary' is not "),
    ],
)
def test_a_bad_value_is_one_line_naming_where_and_what(text: str, message: str) -> None:
    path = write_config(text)
    with pytest.raises(ConfigError) as caught:
        load_user_config()
    assert str(caught.value).startswith(f"{path}:")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_every_problem_is_collected() -> None:
    write_config("pace: 9\nintro: shorter\nbed_level: -10\n")
    with pytest.raises(ConfigError) as caught:
        load_user_config()
    assert [line.split(": ")[1] for line in str(caught.value).splitlines()] == [
        "pace", "intro", "bed_level",
    ]  # fmt: skip


def test_a_bed_file_is_relative_to_the_config_folder() -> None:
    path = write_config("bed: sounds/sea.wav\n")
    bed = path.parent / "sounds" / "sea.wav"
    bed.parent.mkdir()
    bed.write_bytes(b"RIFF")
    assert load_user_config().playback.bed == str(bed)


# -- one merge order --------------------------------------------------------------------


def test_playback_settings_merge_field_by_field() -> None:
    cli = PlaybackPrefs(intro="none")
    routine = PlaybackPrefs(tones=False, bed="waves")
    config = PlaybackPrefs(intro="short", tones=True, pace=1.5, channels=1)
    settled = resolve_playback(cli, routine, config, spec.PLAYBACK_DEFAULTS)
    assert (settled.intro, settled.tones, settled.bed, settled.pace, settled.channels) == (
        "none", False, "waves", 1.5, 1,
    )  # fmt: skip
    assert settled.detail == "auto"
    origins = playback_origins(cli, routine, config, spec.PLAYBACK_DEFAULTS)
    assert (origins["intro"], origins["tones"], origins["pace"], origins["detail"]) == (0, 1, 2, 3)


def test_voice_origins_follow_the_voice_rules() -> None:
    config = VoicePrefs(engine="piper", voice="joe")
    origins = voice_origins(VoicePrefs(rate_wpm=120), VoicePrefs(engine="espeak"), config,
                            spec.VOICE_DEFAULTS)  # fmt: skip
    assert origins["rate_wpm"] == 0
    assert origins["engine"] == 1
    assert "voice" not in origins  # the config's voice is Piper's; the routine asks for espeak


def test_settle_writes_the_merge_into_the_options_and_the_mix(routine: Routine) -> None:
    config = UserConfig(playback=PlaybackPrefs(intro="short", pace=1.25, channels=1, bed="rain"))
    settled = settle(asked(detail="brief"), routine, config)
    options = settled.request.options
    assert (options.intro, options.detail, options.pace, options.tones) == (
        "short", "brief", 1.25, True,
    )  # fmt: skip
    assert settled.request.mix == MixChoice(mono=True, bed="rain", bed_level_lufs=-26.0)
    assert settled.request.playback is None  # settled once


def test_the_command_line_wins_over_the_config(routine: Routine) -> None:
    config = UserConfig(playback=PlaybackPrefs(intro="short", channels=1, tones=False))
    settled = settle(asked(intro="full", channels=2, tones=True), routine, config)
    assert settled.request.options.intro == "full"
    assert settled.request.mix.mono is False
    assert settled.request.options.tones is True


def test_the_routine_wins_over_the_config(routine: Routine) -> None:
    own = replace(routine, settings=replace(routine.settings, tones=False, bed="drone"))
    config = UserConfig(playback=PlaybackPrefs(tones=True, bed="rain"))
    settled = settle(asked(), own, config)
    assert settled.request.options.tones is False
    assert settled.request.mix.bed == "drone"


def test_auto_without_a_decider_is_the_full_session(routine: Routine) -> None:
    settled = settle(asked(), routine, UserConfig())
    assert (settled.intro, settled.detail) == ("full", "full")
    assert (settled.playback.intro, settled.playback.detail) == ("auto", "auto")


def test_auto_is_decided_only_where_it_is_auto(routine: Routine) -> None:
    from voiceguide.practice.decide import DetailDecision, IntroDecision

    calls: list[tuple[bool, bool]] = []

    def decide(_: Routine, intro: bool, detail: bool) -> Decisions:
        calls.append((intro, detail))
        return Decisions(
            IntroDecision("short", "heard recently") if intro else None,
            DetailDecision("brief", "played whole often enough", 3) if detail else None,
        )

    settled = settle(asked(detail="full"), routine, UserConfig(), decide=decide)
    assert (settled.intro, settled.detail) == ("short", "full")
    assert calls == [(True, False)]
    settle(asked(intro="none", detail="brief"), routine, UserConfig(), decide=decide)
    assert calls == [(True, False)]  # nothing auto: the history is not read


def test_a_length_and_a_pace_on_the_command_line_are_refused(routine: Routine) -> None:
    request = replace(asked(pace=1.5), options=CompileOptions(length_ms=600_000))
    with pytest.raises(UsageError, match="--pace and --length both set the timing"):
        settle(request, routine, UserConfig())


def test_a_length_sets_the_pace_the_config_asks_for_aside(routine: Routine) -> None:
    request = replace(asked(), options=CompileOptions(length_ms=600_000))
    settled = settle(request, routine, UserConfig(playback=PlaybackPrefs(pace=1.5)))
    assert settled.request.options.pace == 1.0


def test_a_request_without_a_playback_layer_is_final(routine: Routine) -> None:
    request = SessionRequest(routine, CompileOptions(intro="none", tones=False))
    config = UserConfig(playback=PlaybackPrefs(intro="full", tones=True))
    assert settle(request, routine, config).request == request


# -- on the command line ------------------------------------------------------------------


def test_pace_and_length_together_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["show", "hand", "--pace", "1.5", "--length", "10m"], capsys)
    assert (code, out) == (ExitStatus.INVALID, "")
    assert err == "voiceguide: --pace and --length both set the timing: give one of them\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--length", "soon"], "--length: expected a length like 20m, 1h or 25:00, got 'soon'"),
        (["--length", "30s"], "--length: expected 1m to 6h, got '30s'"),
        (
            ["--intro", "shortest"],
            "--intro: expected one of full, short, auto, none, got 'shortest'",
        ),
        (["--detail", "terse"], "--detail: expected one of full, brief, auto, got 'terse'"),
        (
            ["--full-intro", "--skip-intro"],
            "--full-intro and --skip-intro ask for different introductions: give one",
        ),
        (
            ["--intro", "short", "--full-intro"],
            "--intro short and --full-intro ask for different introductions: give one",
        ),
    ],
)
def test_a_bad_session_option_is_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["show", "hand", *args], capsys)
    assert (code, out) == (ExitStatus.INVALID, "")
    assert err == f"voiceguide: {message}\n"


def test_config_path_prints_where_the_file_goes(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["config", "path"], capsys)
    assert (code, out) == (0, f"{config_path()}\n")


def test_config_show_says_where_each_setting_came_from(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_config("rate: 140\nchannels: mono\n")
    script = tmp_path / "mine.yaml"
    script.write_text(
        "title: Mine\nsettings:\n  pitch: 30\n  tones: false\nsteps:\n  - say: Hello.\n",
        encoding="utf-8",
    )
    code, out, err = run(["config", "show", str(script), "--volume", "70"], capsys)
    assert (code, err) == (0, "")
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert rows["rate"].split(None, 2)[1:] == ["140", f"config ({path}:1:7)"]
    assert rows["pitch"].split(None, 2)[1:] == ["30", f"routine ({script}:3:10)"]
    assert rows["tones"].split(None, 2)[1:] == ["false", f"routine ({script}:4:10)"]
    assert rows["volume"].split(None, 2)[1:] == ["70", "command line (--volume)"]
    assert rows["channels"].split(None, 2)[1:] == ["mono", f"config ({path}:2:11)"]
    assert rows["intro"].split(None, 2)[1:] == ["auto", "default"]
    assert "With auto, play would give now: full introduction (first time)" in out


def test_config_show_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    path = write_config("detail: brief\n")
    code, out, _ = run(["config", "show", "--json"], capsys)
    assert code == 0
    shown = json.loads(out)
    assert shown["config_file"] == str(path)
    detail = next(row for row in shown["settings"] if row["key"] == "detail")
    assert detail == {"key": "detail", "value": "brief", "from": "config", "file": str(path),
                      "line": 1}  # fmt: skip


def test_config_show_reports_a_bad_config(capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config("pace: 9\n")
    code, out, err = run(["config", "show"], capsys)
    assert (code, out) == (ExitStatus.INVALID, "")
    assert err == f"voiceguide: {path}:1:7: pace: expected a number from 0.25 to 4, got 9\n"


def test_explain_lists_every_setting_once(routine: Routine) -> None:
    rows = explain(SessionRequest(), routine, UserConfig())
    keys = [row.key for row in rows]
    assert len(keys) == len(set(keys))
    assert set(keys) == {key.name for key in spec.CONFIG.keys}


def test_new_writes_no_rate_so_the_config_applies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_config("rate: 130\n")
    target = tmp_path / "mine.yaml"
    code, _, _ = run(["new", "mine", "-o", str(target)], capsys)
    assert code == 0
    assert "rate:" not in target.read_text(encoding="utf-8")
    from voiceguide.app.session import resolve_voice

    assert load_path(target).settings.prefs.rate_wpm is None
    assert resolve_voice(VoicePrefs(), load_path(target)).rate_wpm == 130


# -- show and export with the real pipeline, a fake voice ---------------------------------


@pytest.fixture
def fake_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.output.test_cli import FakeEngine
    from voiceguide.sound import engines

    monkeypatch.setattr(engines, "make_engine", lambda *a, **k: FakeEngine())


def test_show_a_fitted_session_and_what_the_fit_changed(
    fake_voice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["show", "stomach", "--length", "4m"], capsys)
    assert (code, err) == (0, "")
    total = next(line for line in out.splitlines() if line.startswith("Total: "))
    assert total.startswith(("Total: 4m ", "Total: 3m59s", "Total: 4m01s"))
    assert "\nFitted to 4m:\n  holds      30s → " in out
    assert "\n  rests      10s → " in out
    assert "\n  reps       " in out


def test_show_a_length_out_of_reach_is_one_line_exit_2(
    fake_voice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(["show", "stomach", "--length", "1m"], capsys)
    assert (code, out) == (ExitStatus.INVALID, "")
    assert err.startswith("voiceguide: --length: stomach lasts between ")
    assert err.endswith("; got 1m\n")


def test_export_writes_a_fitted_session(
    fake_voice: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import soundfile

    target = tmp_path / "stomach.wav"
    code, _, err = run(["export", "stomach", "--length", "5m", "-o", str(target)], capsys)
    assert (code, err) == (0, "")
    info = soundfile.info(target)
    assert abs(info.frames / info.samplerate - 300) <= 1


def test_show_brief_shows_the_brief_texts(
    fake_voice: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, full, _ = run(["show", "stomach"], capsys)
    code, brief, _ = run(["show", "stomach", "--detail", "brief", "--intro", "short"], capsys)
    assert code == 0
    assert "Lie on your back, knees bent, feet flat, and let your belly soften." in full
    assert "Lie on your back, knees bent.\n" in brief
    assert "As always, stop if anything hurts." in brief
    assert "This point is traditionally called" not in brief
