"""Loading is safe: no object construction, bounded aliases and nesting, sane sizes."""

from __future__ import annotations

import functools
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from voiceguide.errors import NotFoundError, ScriptError
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_routine
from voiceguide.script.model import Routine, Say

LOLS = ", ".join(["{say: lol}"] * 9)
BILLION_LAUGHS = (
    "title: Laughs\nsteps:\n  - repeat: 1\n    steps: &a ["
    + LOLS
    + "]\n"
    + "".join(
        f"  - repeat: 1\n    steps: &{b} [" + ", ".join([f"{{repeat: 1, steps: *{a}}}"] * 9) + "]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
)


def load_text(tmp_path: Path, text: str | bytes, name: str = "script.yaml") -> Routine:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return load_routine(path, resolve=resolve_include, display=name)


def test_billion_laughs_is_refused_quickly_in_bounded_memory(tmp_path: Path) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(ScriptError, match=r"values with aliases expanded, found") as caught:
        load_text(tmp_path, BILLION_LAUGHS)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert "script.yaml:" in str(caught.value)
    # Not a timing target: a generous bound that an unbounded expansion (9^9 nodes) cannot meet.
    assert elapsed < 30
    assert peak < 200 * 1024 * 1024


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="alias that contains itself"):
        load_text(tmp_path, "title: x\ncautions: &a [*a]\nsteps: [{say: hi}]\n")


def test_python_object_tag_constructs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f"title: !!python/object/apply:os.system ['touch {marker}']\nsteps: [{{say: hi}}]\n"
    with pytest.raises(ScriptError, match="not allowed"):
        load_text(tmp_path, text)
    assert not marker.exists()


def test_file_over_one_mebibyte_is_refused_before_parsing(tmp_path: Path) -> None:
    text = "title: big\nsteps:\n" + "  - say: hello\n" * 80_000
    limit = r"script.yaml:1:1: file is [\d,]+ bytes; scripts are limited to 1,048,576"
    with pytest.raises(ScriptError, match=limit):
        load_text(tmp_path, text)


def test_non_utf8_is_refused_with_its_position(tmp_path: Path) -> None:
    data = "title: Caf\u00e9\nsteps: [{say: hi}]\n".encode("latin-1")
    with pytest.raises(
        ScriptError, match=r"script.yaml:1:11: expected UTF-8 text, found byte 0xe9"
    ):
        load_text(tmp_path, data)


def test_utf8_with_bom_is_accepted(tmp_path: Path) -> None:
    assert load_text(tmp_path, "\ufefftitle: Caf\u00e9\nsteps: [{say: hi}]\n").title == "Caf\u00e9"


def test_nul_byte_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="NUL byte"):
        load_text(tmp_path, "title: x\nsteps: [{say: \x00}]\n")


def test_directory_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="found a directory"):
        load_routine(tmp_path, resolve=resolve_include)
    with pytest.raises(NotFoundError, match="no such file"):
        load_routine(tmp_path / "absent.yaml", resolve=resolve_include)


def test_deeply_nested_flow_collections_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ScriptError, match="nesting"):
        load_text(tmp_path, "title: x\nsteps: " + "[" * 5000 + "]" * 5000 + "\n")


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    text = "title: deep\nsteps:\n" + "".join(
        "  " * i + "  - repeat: 2\n" + "  " * i + "    steps:\n" for i in range(0, 60, 2)
    )
    with pytest.raises(ScriptError, match="levels of nesting"):
        load_text(tmp_path, text)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("title: x\nsteps: [{press: {point: p, hold: 3d}}]", "hold: expected a duration"),
        ("title: x\nsteps: [{press: {point: p, hold: 72h}}]", "from 1s to 10m, got '72h'"),
        ("title: x\nsteps: [{press: {point: p, hold: 5s, reps: 10000}}]", "from 1 to 50"),
        ("title: x\nsteps: [{pause: -5s}]", "from 0.1s to 1h, got '-5s'"),
    ],
)
def test_absurd_values_are_refused(tmp_path: Path, yaml_text: str, message: str) -> None:
    text = yaml_text + "\npoints: {p: {name: a point, where: here}}\n"
    with pytest.raises(ScriptError, match=message):
        load_text(tmp_path, text)


def test_too_many_points_are_refused(tmp_path: Path) -> None:
    points = "".join(f"  p{i}: {{name: point {i}, where: here}}\n" for i in range(501))
    with pytest.raises(ScriptError, match="points: expected at most 500 points, got 501"):
        load_text(tmp_path, "title: x\nsteps: [{say: hi}]\npoints:\n" + points)


# -- placeholders are names only (issue 9) -------------------------------------------------

FORMAT_SPECS = [
    "{round:d}", "{side:=5}", "{rounds:,}", "{round!x}", "{side:{side}}", "{side:>{rounds}}",
    "{side!r}", "{side:>9}", "{side:>100000}",
]  # fmt: skip


def _placeholder_script(placeholder: str) -> str:
    return (
        "title: Specs\nsteps:\n  - sides: [right]\n    steps:\n      - repeat: 2\n"
        f"        steps:\n          - say: 'Now {placeholder}.'\n"
    )


@pytest.mark.parametrize("placeholder", FORMAT_SPECS)
def test_a_format_spec_in_a_placeholder_is_a_located_error(
    tmp_path: Path, placeholder: str
) -> None:
    with pytest.raises(ScriptError) as caught:
        load_text(tmp_path, _placeholder_script(placeholder))
    (problem,) = caught.value.problems
    assert str(problem.position) == "script.yaml:7:18"
    assert "placeholders are names only" in problem.message


@pytest.mark.parametrize("command", ["check", "show", "export", "list"])
def test_a_format_spec_is_one_line_in_every_command(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import run_cli
    from voiceguide import paths

    user = paths.user_scripts_dir()
    user.mkdir(parents=True)
    script = user / "specs.yaml"
    script.write_text(_placeholder_script("{side:>100000}"), encoding="utf-8")
    args = {
        "check": ["check", "--estimate", str(script)],
        "show": ["show", "specs"],
        "export": ["export", "specs", "-o", str(tmp_path / "out.wav")],
        "list": ["list"],
    }[command]
    code, _, err = run_cli(args, capsys)
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1
    assert "specs.yaml:7:18: say: placeholders are names only: write {side}, not " in err
    assert code == (0 if command == "list" else 2)
    assert not (tmp_path / "out.wav").exists()


def test_filling_in_is_a_substitution_of_names_never_format() -> None:
    from voiceguide.compile.phrases import fill

    values = {"side": "left", "round": "2"}
    assert fill("Your {side} hand, round {round}.", values) == "Your left hand, round 2."
    assert fill("{{side}} {side}", values) == "{side} left"
    # Whatever reaches it, nothing is padded, converted or looked up as an attribute.
    assert fill("{side:>9}{side!r}{side.__class__}", values) == "{side:>9}{side!r}{side.__class__}"


# -- control characters (issue 9) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where", "name"),
    [
        ("title: x\nsteps:\n  - say: Ring \x07 ring\n", "3:15", "U+0007 (BEL)"),
        ("title: x\nsteps:\n  - say: Red \x1b[31m\n", "3:14", "U+001B (ESC)"),
        ("title: x\nsteps:\n  - say: Csi \x9b31m\n", "3:14", "U+009B"),
        ("title: x\r\nsteps:\r\n  - say: N\x00L\r\n", "3:11", "U+0000"),
        ('title: x\nsteps:\n  - say: "Escaped \\e[2J"\n', "3:10", "U+001B (ESC)"),
        ('title: x\nsteps:\n  - say: "Next line \\N"\n', "3:10", "U+0085 (NEL)"),
        ('title: "\\a"\nsteps:\n  - say: x\n', "1:8", "U+0007 (BEL)"),
    ],
)
def test_control_characters_are_refused_where_they_are(
    tmp_path: Path, text: str, where: str, name: str
) -> None:
    with pytest.raises(ScriptError) as caught:
        load_text(tmp_path, text)
    (problem,) = caught.value.problems
    assert str(problem.position) == f"script.yaml:{where}"
    assert name in problem.message
    assert all(c.isprintable() for c in str(caught.value))


def test_tabs_and_crlf_line_ends_are_layout_not_control_characters(tmp_path: Path) -> None:
    routine = load_text(tmp_path, "title: x\r\nsteps:\r\n  - say: a\tb\r\n")
    assert routine.steps[0] == Say("a b", routine.steps[0].position, "steps[0]")


# -- only regular files, read within the limit (issue 9) --------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(device: str) -> None:
    with pytest.raises(
        ScriptError, match=rf"^{device}:1:1: expected a routine script, found a device$"
    ):
        load_routine(Path(device), resolve=resolve_include, display=device)


@pytest.mark.timeout(30)
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    with pytest.raises(
        ScriptError, match=r"pipe.yaml:1:1: expected a routine script, found a FIFO"
    ):
        load_routine(fifo, resolve=resolve_include, display="pipe.yaml")


@pytest.mark.timeout(30)
def test_a_fifo_or_device_included_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "script.yaml").write_text(
        "title: x\nsteps:\n  - include: ./pipe.yaml\n  - include: zero\n", encoding="utf-8"
    )
    with pytest.raises(ScriptError) as caught:
        load_routine(tmp_path / "script.yaml", resolve=resolve_include)
    assert [str(p) for p in caught.value.problems] == [
        "pipe.yaml:1:1: expected a routine script, found a FIFO (named pipe)",
        "script.yaml:4:14: include: 'zero.yaml' is a link to a file outside this routine's "
        "folder; name a routine, or a file in this routine's folder or below "
        "(--allow-outside allows it)",
    ]
    allowed = functools.partial(resolve_include, allow_outside=True)
    with pytest.raises(ScriptError) as caught:
        load_routine(tmp_path / "script.yaml", resolve=allowed, allow_outside=True)
    assert "/dev/zero:1:1: expected a routine script, found a device" in str(caught.value)


@pytest.mark.timeout(30)
def test_a_point_library_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    from voiceguide.script.loader import load_points

    fifo = tmp_path / "points.yaml"
    os.mkfifo(fifo)
    with pytest.raises(ScriptError, match=r"expected a point library, found a FIFO"):
        load_points(fifo, "points.yaml")


def test_a_file_that_grows_past_the_limit_is_not_read_past_it(tmp_path: Path) -> None:
    from voiceguide.script.source import read_bytes

    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * 2_000)
    with pytest.raises(ScriptError, match=r"big.yaml:1:1: file is 2,000 bytes; tests are"):
        read_bytes(path, "big.yaml", limit=1_000, what="test")
    assert read_bytes(path, "big.yaml", limit=2_000, what="test") == b"#" * 2_000


@pytest.mark.parametrize("command", ["check", "show"])
def test_a_routine_name_300_characters_long_is_one_line(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import run_cli

    for name in ("a" * 300, "./" + "a" * 300 + ".yaml", "a" * 300 + "/b.yaml"):
        code, _, err = run_cli([command, name], capsys)
        assert code == 3, err
        assert len(err.splitlines()) == 1
        assert len(err) < 200
        assert "Traceback" not in err


@pytest.mark.timeout(30)
def test_check_of_a_device_or_a_fifo_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import run_cli

    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for target in ("/dev/zero", "/dev/urandom", str(fifo)):
        code, _, err = run_cli(["check", "--estimate", target], capsys)
        assert code == 2
        assert len(err.splitlines()) == 1
        assert "expected a routine script, found" in err


# -- bombs: sizes counted before anything is expanded (issue 9) --------------------------------


def nested_repeats(depth: int, rounds: int, leaf: str, head: str = "") -> str:
    lines = ["title: Bomb", *([head] if head else []), "steps:"]
    for level in range(depth):
        pad = "  " * (2 * level)
        lines += [f"{pad}  - repeat: {rounds}", f"{pad}    steps:"]
    lines.append("  " * (2 * depth) + f"  - {leaf}")
    return "\n".join(lines) + "\n"


def refused_in_bounded_memory(load: Callable[[], object]) -> ScriptError:
    tracemalloc.start()
    try:
        with pytest.raises(ScriptError) as caught:
            load()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Not a timing target: expanding any of these takes gigabytes.
    assert peak < 50 * 1024 * 1024
    return caught.value


def test_a_repeat_bomb_is_refused_at_the_block_that_makes_it(tmp_path: Path) -> None:
    text = nested_repeats(5, 20, "pause: 0.1s")
    error = refused_in_bounded_memory(lambda: load_text(tmp_path, text))
    assert [str(p) for p in error.problems] == [
        "script.yaml:3:5: repeat: at least 88h53m of pauses, holds and rests inside this "
        "block; a session lasts at most 6h"
    ]


def test_a_silent_bomb_is_refused_by_its_count_of_cues(tmp_path: Path) -> None:
    text = nested_repeats(6, 100, "sound: tick", head="settings: {tones: false}")
    error = refused_in_bounded_memory(lambda: load_text(tmp_path, text))
    (problem,) = error.problems
    assert str(problem.position) == "script.yaml:10:17"  # 2 cues x 100^3: 2,000,000
    assert "sounds and silences inside this block; a session holds at most 200,000" in str(error)


def test_an_include_bomb_is_refused_at_the_include_that_makes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "part7.yaml").write_text("title: Last\nsteps:\n  - say: Breathe.\n", "utf-8")
    for i in range(6, 0, -1):
        body = "".join(f"  - include: part{i + 1}\n" for _ in range(10))
        (tmp_path / f"part{i}.yaml").write_text(f"title: Part {i}\nsteps:\n{body}", "utf-8")
    error = refused_in_bounded_memory(
        lambda: load_routine(tmp_path / "part1.yaml", resolve=resolve_include)
    )
    assert [str(p) for p in error.problems] == [
        "part1.yaml:4:5: include: up to 400,000 sounds and silences up to this step; "
        "a session holds at most 200,000"
    ]


def test_the_compiler_bounds_pace_and_repeat_before_laying_out(tmp_path: Path) -> None:
    from tests.lengths import FixedRateLengths
    from voiceguide.compile.compiler import CompileOptions, compile_routine, phrases_of

    text = "title: Long\nsteps:\n  - repeat: 5\n    steps:\n      - pause: 1h\n"
    routine = load_text(tmp_path, text)  # 5 hours: a session may last 6
    for options in (CompileOptions(pace=1.5), CompileOptions(repeat=2)):
        for compile_it in (compile_routine, phrases_of):
            with pytest.raises(ScriptError, match=r"script.yaml:1:1: the session lasts at least"):
                compile_it(routine, FixedRateLengths(), options)
