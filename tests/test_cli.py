"""The command line: help, exit codes, one-line errors, the list index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import yaml

from tests.helpers import run_cli as run
from voiceguide import paths
from voiceguide.app import listing
from voiceguide.cli import app
from voiceguide.errors import ExitStatus

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = REPO / "scripts"


def command_names() -> list[list[str]]:
    import typer.main

    group = typer.main.get_command(app)
    names: list[list[str]] = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        sub = getattr(command, "commands", None)
        if sub:
            names.extend([name, s] for s in sub)
        else:
            names.append([name])
    return names


@pytest.mark.parametrize("command", command_names(), ids=" ".join)
def test_every_command_has_help_with_an_example(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run([*command, "--help"], capsys)
    assert code == 0
    assert "Example: voiceguide " + command[0] in out


def test_top_level_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--help"], capsys)
    assert code == 0
    assert "eyes closed" in out
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.startswith("voiceguide ")


def test_list_shows_built_in_routines_with_length_and_safety_note(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["list"], capsys)
    assert code == 0
    for name in ("sitting-foot", "back-pain", "hand"):
        assert name in out
    assert "~" in out
    assert "Safety:" in out


def test_list_json_and_user_routine_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    user = paths.user_scripts_dir()
    user.mkdir(parents=True)
    (user / "mine.yaml").write_text(
        "title: Mine\nposture: sitting\nsteps: [{say: Hello there.}]\n", encoding="utf-8"
    )
    code, out, _ = run(["list", "--json"], capsys)
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["mine"]["origin"] == "user"
    assert rows["mine"]["title"] == "Mine"
    assert rows["sitting-foot"]["origin"] == "built-in"


def test_list_index_notices_a_changed_file(capsys: pytest.CaptureFixture[str]) -> None:
    user = paths.user_scripts_dir()
    user.mkdir(parents=True)
    script = user / "mine.yaml"
    script.write_text("title: First\nsteps: [{say: Hello.}]\n", encoding="utf-8")
    rows, _ = listing.list_routines()
    assert {r.name: r.title for r in rows}["mine"] == "First"
    script.write_text("title: Second title\nsteps: [{say: Hello.}]\n", encoding="utf-8")
    os.utime(script, ns=(1, 1))  # a different mtime even on coarse clocks
    rows, _ = listing.list_routines()
    assert {r.name: r.title for r in rows}["mine"] == "Second title"


def test_list_index_notices_a_changed_include(capsys: pytest.CaptureFixture[str]) -> None:
    user = paths.user_scripts_dir()
    user.mkdir(parents=True)
    (user / "part.yaml").write_text("title: Part\nsteps: [{pause: 2s}]\n", encoding="utf-8")
    (user / "whole.yaml").write_text("title: Whole\nsteps: [{include: part}]\n", encoding="utf-8")
    before = {r.name: r.estimated_ms for r in listing.list_routines()[0]}["whole"]
    (user / "part.yaml").write_text("title: Part\nsteps: [{pause: 9s}]\n", encoding="utf-8")
    after = {r.name: r.estimated_ms for r in listing.list_routines()[0]}["whole"]
    assert after - before == 7_000


def test_list_reports_an_invalid_user_routine_and_goes_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    user = paths.user_scripts_dir()
    user.mkdir(parents=True)
    (user / "broken.yaml").write_text("title: Broken\nsteps: [{sya: x}]\n", encoding="utf-8")
    code, out, err = run(["list"], capsys)
    assert code == 0
    assert "sitting-foot" in out
    assert err.count("broken.yaml") == 1
    assert "did you mean 'say'" in err


def test_check_reports_every_problem_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(
        "title: Bad\nsteps:\n  - press: {point: nowhere, hold: thirty}\n  - pasue: 2s\n",
        encoding="utf-8",
    )
    code, out, err = run(["check", "--estimate", "bad.yaml"], capsys)
    assert code == ExitStatus.INVALID
    assert out == ""
    assert err.splitlines() == [
        "bad.yaml:3:20: point: no point named 'nowhere'",
        "bad.yaml:3:35: hold: expected a duration like 30s, 1m30s, 90 or 1:30, got 'thirty'",
        "bad.yaml:4:5: pasue: unknown step; did you mean 'pause'?",
    ]
    assert "Traceback" not in err


def test_check_accepts_builtin_scripts_and_the_point_library(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(
        ["check", "--estimate", str(SCRIPTS / "hand.yaml"), str(SCRIPTS / "points.yaml")], capsys
    )
    assert (code, err) == (0, "")
    assert "ok:" in out
    assert "points)" in out


def test_unknown_routine_is_one_line_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["show", "sittng-foot"], capsys)
    assert (code, out) == (ExitStatus.NOT_FOUND, "")
    assert err == (
        "voiceguide: no routine named 'sittng-foot'; did you mean 'sitting-foot'? "
        "('voiceguide list' shows them)\n"
    )


def test_bad_option_value_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["show", "hand", "--pace", "9"], capsys)
    assert code == ExitStatus.INVALID
    assert "--pace: expected 0.25 to 4.0, got 9.0" in err


def test_new_writes_a_starter_that_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(["new", "evening-hands"], capsys)
    assert code == 0
    target = paths.user_scripts_dir() / "evening-hands.yaml"
    assert target.is_file()
    assert str(target) in out
    code, out, err = run(["check", "--estimate", "evening-hands"], capsys)
    assert (code, err) == (0, "")
    # a second time refuses to overwrite
    code, _, err = run(["new", "evening-hands"], capsys)
    assert code == ExitStatus.INVALID
    assert "already exists" in err
    code, _, err = run(["new", "Bad Name"], capsys)
    assert code == ExitStatus.INVALID


def test_schema_is_valid_and_accepts_every_built_in_script(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(["schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for script in SCRIPTS.glob("*.yaml"):
        if script.name == "points.yaml":
            continue
        errors = list(validator.iter_errors(yaml.safe_load(script.read_text(encoding="utf-8"))))
        assert errors == [], (script.name, errors[:1])
    assert list(validator.iter_errors({"title": "x", "steps": [{"sya": "x"}]}))


def test_committed_schema_is_up_to_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["schema"], capsys)
    assert code == 0
    committed = (REPO / "docs" / "routine.schema.json").read_text(encoding="utf-8")
    assert out == committed, "run: voiceguide schema -o docs/routine.schema.json"


def test_debug_shows_a_traceback_and_plain_does_not() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    plain = subprocess.run(
        [sys.executable, "-m", "voiceguide", "show", "no-such"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert plain.returncode == ExitStatus.NOT_FOUND
    assert "Traceback" not in plain.stderr
    assert len(plain.stderr.splitlines()) == 1
    debug = subprocess.run(
        [sys.executable, "-m", "voiceguide", "--debug", "show", "no-such"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert "Traceback" in debug.stderr


def test_options_are_parsed_without_pydantic() -> None:
    """Parsing a session's options imports no validation library (it cost 150 ms a start)."""
    driver = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('PYDANTIC', 'pydantic' in sys.modules, file=sys.stderr))\n"
        "from voiceguide.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["show", "sitting-foot", "--pace", "1.1", "--rate", "150", "--skip-intro"]
    result = subprocess.run(
        [sys.executable, "-c", driver, *args],
        capture_output=True, text=True, env=env, check=False, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "instruction" in result.stdout  # it showed the session
    assert result.stderr.splitlines()[-1] == "PYDANTIC False"


def test_committed_format_reference_is_up_to_date() -> None:
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import gen_format_docs
    finally:
        sys.path.pop(0)
    committed = gen_format_docs.TARGET.read_text(encoding="utf-8")
    assert committed == gen_format_docs.render(), "run: python tools/gen_format_docs.py"
    cli = gen_format_docs.CLI.read_text(encoding="utf-8")
    assert cli == gen_format_docs.with_config(cli), "run: python tools/gen_format_docs.py"
    from voiceguide.script import spec

    for key in spec.CONFIG.keys:
        assert f"| `{key.name}` |" in cli


def test_shell_completion_completes_routine_names() -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "_VOICEGUIDE_COMPLETE": "complete_bash",
        "COMP_WORDS": "voiceguide show sitt",
        "COMP_CWORD": "2",
    }
    result = subprocess.run(
        [sys.executable, "-c", "from voiceguide.cli import main; main()"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.stdout.split() == ["sitting-foot"]


def test_cache_clear_removes_phrases_and_derived_files(capsys: pytest.CaptureFixture[str]) -> None:
    from voiceguide.sound.cache import PhraseCache, phrase_key
    from voiceguide.sound.engines.base import Speech

    cache = PhraseCache()
    samples = np.zeros(100, dtype=np.int16)
    cache.put(phrase_key("engine", "Hello."), Speech(samples=samples, sample_rate=22_050))
    listing.list_routines()
    index = paths.user_cache_dir() / listing.INDEX_NAME
    assert index.is_file()
    code, out, _ = run(["cache", "info"], capsys)
    assert code == 0
    assert "phrases: 1" in out
    code, out, _ = run(["cache", "clear"], capsys)
    assert (code, out) == (0, "removed 1 cached phrase\n")
    assert cache.info().entries == 0
    assert not index.exists()


def test_cache_clear_that_cannot_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x", encoding="utf-8")
    monkeypatch.setenv("VOICEGUIDE_HOME", str(not_a_folder))
    code, _, err = run(["cache", "clear"], capsys)
    assert code == ExitStatus.ERROR
    assert err.startswith("voiceguide: cannot clear the cache: ")
    assert len(err.splitlines()) == 1


def test_a_folder_is_not_a_routine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["show", f"{tmp_path}/"], capsys)
    assert code == ExitStatus.NOT_FOUND
    assert err == f"voiceguide: {tmp_path}/: is a folder; name a routine file in it\n"


def test_new_with_output_tells_how_to_check_that_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "sub" / "other.yaml"
    code, _, _ = run(["new", "other", "-o", str(target)], capsys)
    assert code == 0
    assert f"voiceguide check {target}" in target.read_text(encoding="utf-8")
    code, out, err = run(["check", "--estimate", str(target)], capsys)
    assert out.startswith("ok: ")
    assert (code, err) == (0, "")


# --- options declared once, checked at the edge -----------------------------------------------

SESSION_OPTIONS = {
    "--skip-intro", "--pace", "--repeat", "--no-tones", "--engine", "--voice", "--rate",
    "--pitch", "--volume", "--voice-model", "--intro", "--full-intro", "--detail", "--length",
    "--tones", "--mono", "--stereo", "--bed", "--bed-level",
}  # fmt: skip


def options_of(name: str) -> set[str]:
    import typer.main

    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    return {
        opt
        for param in command.params
        for opt in (*param.opts, *getattr(param, "secondary_opts", ()))
        if opt.startswith("--")
    }


@pytest.mark.parametrize("command", ["play", "export", "show"])
def test_play_export_and_show_take_the_same_session_options(command: str) -> None:
    assert options_of(command) >= SESSION_OPTIONS


def test_every_flag_the_core_may_name_is_an_option() -> None:
    from voiceguide.cli.options import FLAGS

    every = set().union(*(options_of(name[0]) for name in command_names() if len(name) == 1))
    assert set(FLAGS.values()) <= every


FESTIVAL = "--engine: expected espeak or piper, got 'festival'"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "hand", "--engine", "festival"], FESTIVAL),
        (["play", "hand", "--engine", "festival"], FESTIVAL),
        (["export", "hand", "--engine", "festival"], FESTIVAL),
        (["voices", "--engine", "festival"], FESTIVAL),
        (["show", "hand", "--voice", ""],
         "--voice: expected a voice id or name ('voiceguide voices' lists them), got ''"),
        (["show", "hand", "--rate", "900"], "--rate: expected 80 to 400 words per minute, got 900"),
        (["show", "hand", "--rate", "x"], "--rate: expected 80 to 400 words per minute, got 'x'"),
        (["play", "hand", "--pitch", "101"], "--pitch: expected 0 to 100, got 101"),
        (["export", "hand", "--volume", "0"], "--volume: expected 1 to 100 percent, got 0"),
        (["show", "hand", "--repeat", "abc"], "--repeat: expected 1 to 20, got 'abc'"),
        (["show", "hand", "--pace", "nan"], "--pace: expected 0.25 to 4.0, got nan"),
        (["play", "hand", "--dry-run", "--speed", "1e-300"],
         "--speed: expected 1 to 1000, got 1e-300"),
        (["export", "hand", "-f", "aac"],
         "--format: expected one of mp3, wav, flac, ogg, opus, m4a, m4b, got 'aac'"),
    ],
)  # fmt: skip
def test_a_bad_option_is_a_usage_error_before_any_work(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from voiceguide.app import session

    def no_session(*args: object, **kwargs: object) -> None:
        raise AssertionError("a session was opened")

    monkeypatch.setattr(session, "open_session", no_session)
    code, out, err = run(args, capsys)
    assert (code, out) == (ExitStatus.INVALID, "")
    assert err == f"voiceguide: {message}\n"


def test_help_names_the_allowed_values(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["play", "--help"], capsys)
    assert code == 0
    assert "{" not in out.replace("{ROUTINE}", "")
    for allowed in ("80 to 400 words", "0 to 100", "1 to 100 percent", "0.25 to 4.0", "1 to 20"):
        assert allowed in " ".join(out.split())


def test_commands_stay_thin() -> None:
    """Each command's body (past its docstring) is at most 15 lines: the work is in the core."""
    import ast
    import inspect
    import textwrap

    import typer.main

    group = typer.main.get_command(app)
    callbacks = []
    for command in group.commands.values():  # type: ignore[attr-defined]
        callbacks += [s.callback for s in getattr(command, "commands", {}).values()] or [
            command.callback
        ]
    for callback in callbacks:
        function = inspect.unwrap(callback)
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        body = tree.body[0].body  # type: ignore[attr-defined]
        if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            body = body[1:]  # the docstring
        lines = body[-1].end_lineno - body[0].lineno + 1
        assert lines <= 15, f"{function.__name__}: {lines} lines"


# --- the voice a session would speak with, everywhere ------------------------------------------


def test_list_and_check_estimate_at_the_configured_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def listed() -> int:
        return {r.name: r.estimated_ms for r in listing.list_routines()[0]}["hand"]

    def checked() -> str:
        code, out, _ = run(["check", "--estimate", "hand"], capsys)
        assert code == 0
        return out

    at_default, check_default = listed(), checked()
    config = paths.user_config_file()
    config.parent.mkdir(parents=True)
    config.write_text("rate: 130\n", encoding="utf-8")

    assert listed() > at_default  # the index notices the config changed
    assert checked() != check_default
    slower = listed()
    config.write_text("rate: 130\npace: 1.5\n", encoding="utf-8")
    assert listed() > slower  # the config's pace counts too
    config.write_text("rate: 130\nintro: none\n", encoding="utf-8")
    assert listed() < slower


def test_the_core_names_settings_and_the_command_line_names_flags(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run(["show", "hand", "--repeat", "0"], capsys)
    assert (code, err) == (ExitStatus.INVALID, "voiceguide: --repeat: expected 1 to 20, got 0\n")
    code, _, err = run(["export", "hand", "--captions", "txt"], capsys)
    assert (code, err) == (
        ExitStatus.INVALID,
        "voiceguide: --captions: expected vtt or srt, got 'txt'\n",
    )


def test_the_command_reference_states_the_spec_bounds_and_defaults() -> None:
    from voiceguide.script import spec

    text = " ".join((REPO / "docs" / "cli.md").read_text(encoding="utf-8").split())
    rate, pitch, volume = spec.RATE_WPM, spec.PITCH, spec.VOLUME_PCT
    assert f"{rate.minimum} to {rate.maximum} words per minute" in text
    assert f"{pitch.minimum} to {pitch.maximum}" in text
    assert f"{volume.minimum} to {volume.maximum} percent" in text
    assert f"{spec.MIN_PACE} to {spec.MAX_PACE}" in text
    assert f"{spec.REPEAT.minimum} to {spec.REPEAT.maximum}" in text
    defaults = spec.VOICE_DEFAULTS
    assert f"{defaults.rate_wpm} words per minute, pitch {defaults.pitch}" in text
