"""The house keeps its shape: arrows one way between stages, no cycles, modules of one job."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "voiceguide"

LAYERS = {
    "ground": 0,
    "script": 1,
    "compile": 2,
    "sound": 3,
    "output": 4,
    "play": 4,
    "remote": 5,
    "listen": 5,
    "practice": 5,
    "app": 6,
    "cli": 7,
}
"""A module may import from its own package and from packages of a lower layer only."""

MAX_LINES = 420
"""One job per module: a module past this is several (docs/architecture.md)."""


def stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else "ground"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules ``path`` imports, at any depth (lazy imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name in known and name.startswith("voiceguide")}


def graph() -> dict[str, set[str]]:
    """Who imports whom; ``python -m voiceguide`` (the entry point) stands outside the house."""
    known = modules()
    return {
        name: imports(path, known) - {name, "voiceguide.__main__"}
        for name, path in known.items()
        if name != "voiceguide.__main__"
    }


def test_every_package_has_a_layer() -> None:
    stages = {stage(name) for name in modules()}
    assert stages <= set(LAYERS), sorted(stages - set(LAYERS))


def test_arrows_run_one_way_between_stages() -> None:
    upward = [
        f"{name} -> {target}"
        for name, targets in graph().items()
        for target in targets
        if stage(target) != stage(name) and LAYERS[stage(target)] >= LAYERS[stage(name)]
    ]
    assert upward == []


def test_stages_import_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for name, targets in graph().items():
        edges[stage(name)].update(stage(t) for t in targets if stage(t) != stage(name))
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        assert node not in visiting, " -> ".join([*visiting, node])
        if node in done:
            return
        visiting.append(node)
        for target in sorted(edges[node]):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(edges):
        visit(node)


def test_the_model_depends_on_the_ground_floor_alone() -> None:
    above = {t for t in graph()["voiceguide.script.model"] if stage(t) != "ground"}
    assert above == set()


def test_no_module_is_several() -> None:
    long = {
        name: lines
        for name, path in modules().items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}
