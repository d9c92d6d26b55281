"""Every problem in a script, reported as path:line:column with what was expected."""

from __future__ import annotations

import pytest

from tests.conftest import DATA
from tests.golden import check_golden
from tests.lengths import FixedRateLengths
from voiceguide.compile.compiler import compile_routine
from voiceguide.errors import ScriptError
from voiceguide.script.library import resolve_include
from voiceguide.script.loader import load_points, load_routine

CASES = DATA / "errors"


@pytest.mark.parametrize("case", sorted(p.stem for p in CASES.glob("*.yaml")))
def test_golden_errors(case: str, regen: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CASES)  # paths in messages are shown relative to the working folder
    points = load_points(DATA / "points.yaml")

    def load_and_compile() -> None:
        routine = load_routine(
            CASES / f"{case}.yaml", resolve=resolve_include, shared_points=points
        )
        compile_routine(routine, FixedRateLengths())

    with pytest.raises(ScriptError) as caught:
        load_and_compile()
    check_golden(CASES / f"{case}.errors.txt", str(caught.value) + "\n", regen)
