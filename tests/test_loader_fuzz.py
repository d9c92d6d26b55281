"""Fuzzing the loader: any input gives a routine or located problems, never a crash.

Property-based (Hypothesis) with a fixed seed and a bounded budget, so the suite stays
fast and a failure is the same on every machine. Two sources of input: real routines
mutated the way editing goes wrong (cut, pasted, re-indented, stray characters), and YAML
built from the format's own vocabulary, which reaches deeper into the checker.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import compile_routine
from voiceguide.errors import ScriptError, UsageError
from voiceguide.script import spec
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
SEEDS = [
    (REPO / "scripts" / name).read_text(encoding="utf-8")
    for name in ("hand.yaml", "elbow.yaml", "back-pain.yaml")
] + [(DATA / "compile" / name).read_text(encoding="utf-8") for name in ("sides-repeat.yaml",)]
POINTS = load_points(DATA / "points.yaml")
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

STRAY = st.sampled_from(
    ["{", "}", "{{", ":", ": ", ",", "- ", "  ", "\t", "\n", "'", '"', "&a ", "*a", "!!str ",
     "%", "#", "\x00", "\x07", "\x1b[2J", "\u2028", "\x85", "{side:>9}", "{round!r}", "é", "…",
     "1:75", "30s1m", "-5s", "1e999", "0x10", "~", "null", "<<: ", "? ", "|", ">-", "\\"]
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A real routine, edited wrongly a few times."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        lines = text.splitlines(keepends=True) or [""]
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines) - 1))
        match draw(st.integers(0, 5)):
            case 0:  # a stray piece typed somewhere
                at = draw(st.integers(0, len(text)))
                text = text[:at] + draw(STRAY) + text[at:]
            case 1:  # a line deleted
                del lines[i]
                text = "".join(lines)
            case 2:  # a line pasted elsewhere
                lines.insert(j, lines[i])
                text = "".join(lines)
            case 3:  # a line re-indented
                shift = draw(st.integers(-3, 3))
                body = lines[i].lstrip(" ")
                indent = max(0, len(lines[i]) - len(body) + shift)
                lines[i] = " " * indent + body
                text = "".join(lines)
            case 4:  # a span cut out
                a, b = sorted((draw(st.integers(0, len(text))), draw(st.integers(0, len(text)))))
                text = text[:a] + text[b : min(len(text), b + 0)] + text[b:]
                text = text[:a] + text[a + min(b - a, 200) :]
            case _:  # a value replaced by anything
                at = text.find(": ", draw(st.integers(0, len(text))))
                if at != -1:
                    end = text.find("\n", at)
                    end = len(text) if end == -1 else end
                    text = text[: at + 2] + draw(st.text(max_size=30)) + text[end:]
    return text


KEYS = sorted(
    {k.name for o in (spec.ROUTINE, spec.SETTINGS, spec.POINT, spec.PRESS, spec.ACTIVITY,
                      spec.PROMPT) for k in o.keys}
    | set(spec.STEP_KEYS) | {"steps", "sumary"}
)  # fmt: skip
SCALARS = st.one_of(
    st.sampled_from(["30s", "1:30", "50%", "right", "hand-valley", "press", "5", "true", "{side}",
                     "Say it.", "", "0", "-1", "101", "1000h", "elbow", "./x.yaml", "/etc/passwd"]),
    st.integers(-10, 10_000),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
)  # fmt: skip
TREES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def vocabulary(draw: st.DrawFn) -> str:
    """YAML made of the format's own keys and values, shaped at random."""
    tree = draw(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=6))
    if draw(st.booleans()):
        tree.setdefault("title", "Fuzz")
        tree.setdefault("steps", draw(st.lists(TREES, min_size=1, max_size=4)))
    return yaml.safe_dump(tree, allow_unicode=True, default_flow_style=draw(st.booleans()))


def located(error: ScriptError, text: str) -> list[str]:
    """Every problem of ``error`` that is not well placed or not one printable line."""
    lines = text.count("\n") + 1
    wrong = []
    for problem in error.problems:
        position = problem.position
        inside = position.line <= lines if position.path == "fuzz.yaml" else True
        if not (position.line >= 1 and position.column >= 1 and inside):
            wrong.append(f"misplaced: {problem}")
        if not problem.message.isprintable():
            wrong.append(f"not one printable line: {problem!r}")
    return wrong


def attempt(call: Callable[[], T]) -> T | ScriptError:
    """What ``call`` returns, or the ScriptError it raises."""
    try:
        return call()
    except ScriptError as error:
        return error


def check(tmp_path: Path, text: str) -> None:
    """Loading ``text`` gives a routine or a ScriptError of well-placed problems."""
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    loaded = attempt(
        lambda: load_routine(
            path, resolve=resolve_include, shared_points=POINTS, display="fuzz.yaml"
        )
    )
    if isinstance(loaded, ScriptError):
        assert loaded.problems
        assert located(loaded, text) == []
        return
    with contextlib.suppress(UsageError):  # a pace or repeat option: not from the file
        compiled = attempt(lambda: compile_routine(loaded, FixedRateLengths()))
        if isinstance(compiled, ScriptError):
            assert located(compiled, text) == []


@FUZZ
@given(text=mutated())
def test_a_mutated_routine_loads_or_is_refused_with_located_problems(
    tmp_path: Path, text: str
) -> None:
    check(tmp_path, text)


@FUZZ
@given(text=vocabulary())
def test_yaml_of_the_formats_own_words_loads_or_is_refused_with_located_problems(
    tmp_path: Path, text: str
) -> None:
    check(tmp_path, text)
