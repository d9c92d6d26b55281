"""What a routine may include, and what an error may show of another file (issue 9)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.helpers import run_cli
from voiceguide import paths
from voiceguide.errors import ScriptError
from voiceguide.script.library import load_path, resolve_include
from voiceguide.script.loader import load_routine
from voiceguide.script.model import Include, Routine

SECRET = "hunter2-do-not-print"
KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
    "-----END OPENSSH PRIVATE KEY-----\n"
)
PART = "title: Part\nsteps:\n  - say: Inside the part.\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A routine's folder (``home/routine``) beside files it must not reach (``home``)."""
    monkeypatch.chdir(tmp_path)
    home = tmp_path / "home"
    (home / "routine" / "parts").mkdir(parents=True)
    (home / "routine" / "parts" / "warm.yaml").write_text(PART, encoding="utf-8")
    (home / "outside.yaml").write_text(PART, encoding="utf-8")
    (home / "passwd").write_text(f"root:x:0:0:{SECRET}:/root:/bin/bash\n", encoding="utf-8")
    (home / "shadow").write_text(f"root:{SECRET}:20228:0:99999:7:::\n" * 20, encoding="utf-8")
    (home / "id_ed25519").write_text(KEY, encoding="utf-8")
    (home / "key.yaml").write_text(KEY, encoding="utf-8")
    (home / "secrets.yaml").write_text(f"title: {SECRET}\npassword: {SECRET}\n", "utf-8")
    (home / "binary.yaml").write_bytes(b"\x89PNG\r\n\x1a\n" + SECRET.encode() + b"\xff" * 64)
    return home / "routine"


def write(folder: Path, step: str) -> Path:
    script = folder / "main.yaml"
    script.write_text(f"title: Main\nsteps:\n  - say: Begin.\n  - {step}\n", encoding="utf-8")
    return script


def load(script: Path, allow_outside: bool = False) -> Routine:
    resolve = functools.partial(resolve_include, allow_outside=allow_outside)
    return load_routine(script, resolve=resolve, allow_outside=allow_outside)


def problems(script: Path, allow_outside: bool = False) -> list[str]:
    with pytest.raises(ScriptError) as caught:
        load(script, allow_outside)
    text = str(caught.value)
    assert SECRET not in text
    assert "b3Blbn" not in text
    return text.splitlines()


def test_a_file_in_the_routines_folder_or_below_is_included(tree: Path) -> None:
    routine = load(write(tree, "include: parts/warm.yaml"))
    assert isinstance(routine.steps[1], Include)
    assert routine.steps[1].routine.title == "Part"


@pytest.mark.parametrize(
    ("step", "why"),
    [
        ("include: ../outside.yaml", "'../outside.yaml' is outside this routine's folder"),
        ("include: parts/../../outside.yaml", "is outside this routine's folder"),
        ("include: /etc/passwd", "'/etc/passwd' is an absolute path"),
        ("include: ~/.ssh/id_rsa.yaml", "is an absolute path"),
        ("sound: ../bell.wav", "sound: '../bell.wav' is outside this routine's folder"),
        ("sound: /usr/share/sounds/bell.wav", "is an absolute path"),
    ],
)
def test_a_path_out_of_the_routines_folder_is_refused_at_its_line(
    tree: Path, step: str, why: str
) -> None:
    (line,) = problems(write(tree, step))
    assert line.startswith("home/routine/main.yaml:4:")
    assert why in line
    assert line.endswith("(--allow-outside allows it)")


def test_a_link_that_points_out_is_refused(tree: Path) -> None:
    (tree / "inside.yaml").symlink_to(tree.parent / "outside.yaml")
    for step in ("include: ./inside.yaml", "include: inside"):
        (line,) = problems(write(tree, step))
        assert "'inside.yaml' is a link to a file outside" in line or "'./inside.yaml' is a" in line


def test_allow_outside_reaches_anywhere_a_routine_is(tree: Path) -> None:
    (tree / "inside.yaml").symlink_to(tree.parent / "outside.yaml")
    for step in (
        "include: ../outside.yaml",
        "include: inside",
        f"include: {tree.parent}/outside.yaml",
    ):
        routine = load(write(tree, step), allow_outside=True)
        assert isinstance(routine.steps[1], Include)


@pytest.mark.parametrize(
    "target", ["passwd", "shadow", "id_ed25519", "link-to-key.yaml", "/etc/passwd", "/etc/shadow"]
)
def test_even_when_allowed_a_file_that_is_not_yaml_is_not_read(tree: Path, target: str) -> None:
    if target == "link-to-key.yaml":
        (tree.parent / target).symlink_to(tree.parent / "id_ed25519")
    name = target if target.startswith("/") else f"../{target}"
    (line,) = problems(write(tree, f"include: {name}"), allow_outside=True)
    assert line == (
        f"home/routine/main.yaml:4:14: include: '{name}' is not a routine: "
        "expected a file named .yaml or .yml"
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("key.yaml", "key.yaml:1:1: routine: expected routine keys, got text"),
        ("binary.yaml", "binary.yaml:1:1: expected UTF-8 text, found byte 0x89"),
        ("secrets.yaml", "secrets.yaml:2:1: password: unknown key in routine"),
    ],
)
def test_what_an_error_shows_of_an_included_yaml_file(
    tree: Path, target: str, expected: str
) -> None:
    lines = problems(write(tree, f"include: ../{target}"), allow_outside=True)
    assert any(line.endswith(expected) or expected in line for line in lines), lines
    assert all(len(line) < 200 for line in lines)


@pytest.mark.parametrize("target", ["passwd", "shadow", "id_ed25519", "aliased", "tagged"])
def test_a_file_named_on_the_command_line_that_is_not_yaml_is_not_shown(
    tree: Path, target: str
) -> None:
    (tree.parent / "aliased").write_text(f"key: *{SECRET}\n", encoding="utf-8")
    (tree.parent / "tagged").write_text(f"key: !{SECRET} x\n", encoding="utf-8")
    with pytest.raises(ScriptError) as caught:
        load_path(tree.parent / target)
    assert str(caught.value) == (
        f"home/{target}:1:1: not a valid routine script; the problems are only shown for "
        "files named .yaml or .yml"
    )


def test_an_error_quotes_only_a_short_escaped_excerpt(tree: Path) -> None:
    long_text = "word " * 200
    (line,) = problems(write(tree, f"pause: {long_text}"))
    assert line.endswith("got 'word word word word word word word word…'")


def test_a_user_routine_may_include_from_the_routines_folder(tree: Path) -> None:
    user = paths.user_scripts_dir()
    (user / "parts").mkdir(parents=True)
    (user / "shared.yaml").write_text(PART, encoding="utf-8")
    (user / "parts" / "uses.yaml").write_text(
        "title: Uses\nsteps:\n  - include: ../shared.yaml\n  - include: shared\n", "utf-8"
    )
    routine = load_path(user / "parts" / "uses.yaml")
    assert [type(s) for s in routine.steps] == [Include, Include]


def test_the_cli_refuses_then_allows_with_allow_outside(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = write(tree, "include: ../outside.yaml")
    code, _, err = run_cli(["check", "--estimate", str(script)], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "is outside this routine's folder" in err
    code, out, err = run_cli(["check", "--estimate", "--allow-outside", str(script)], capsys)
    assert (code, err) == (0, "")
    assert out.startswith("ok: ")
