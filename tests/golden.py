"""Compare output with a golden file in tests/data, or rewrite it with --regen-golden."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest


def check_golden(path: Path, actual: str, regen: bool) -> None:
    """Assert ``actual`` equals the contents of ``path``; rewrite the file instead if ``regen``."""
    if regen or not path.exists():
        if not regen:
            path.write_text(actual, encoding="utf-8")
            pytest.fail(f"{path.name} did not exist; wrote it: review it and run again")
        path.write_text(actual, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"{path.name} (expected)",
                "actual",
            )
        )
        pytest.fail(f"{path.name} differs (run pytest --regen-golden to accept):\n{diff}")
