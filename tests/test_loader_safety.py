"""Loading is safe: no object construction, bounded aliases and nesting, sane sizes."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from voiceguide.errors import NotFoundError, ScriptError
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_routine
from voiceguide.script.model import Routine

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
