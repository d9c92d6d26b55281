"""Find routines by name: the built-in library, the user's own folder, or a path."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voiceguide import paths
from voiceguide.errors import NotFoundError

if TYPE_CHECKING:
    from voiceguide.script.model import Point, Routine

POINTS_FILE = "points.yaml"
SUFFIXES = (".yaml", ".yml")

Origin = Literal["built-in", "user", "file"]


@dataclass(frozen=True)
class Entry:
    """A routine that can be named: where it lives and who made it."""

    name: str
    path: Path
    origin: Origin


def _scan(folder: Path, origin: Origin) -> dict[str, Entry]:
    if not folder.is_dir():
        return {}
    found: dict[str, Entry] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in SUFFIXES and path.name != POINTS_FILE and path.is_file():
            found.setdefault(path.stem, Entry(path.stem, path, origin))
    return found


def entries() -> dict[str, Entry]:
    """Every named routine; a user routine hides a built-in one of the same name."""
    return {
        **_scan(paths.builtin_scripts_dir(), "built-in"),
        **_scan(paths.user_scripts_dir(), "user"),
    }


def looks_like_path(name: str) -> bool:
    """Whether ``name`` names a file rather than a routine."""
    return "/" in name or name.endswith(SUFFIXES) or name in (".", "..")


def find(name: str) -> Entry:
    """Return the routine called ``name``, or at the path ``name``."""
    if looks_like_path(name):
        path = Path(name).expanduser()
        if path.is_dir():
            raise NotFoundError(f"{name}: is a folder; name a routine file in it")
        if not path.exists():
            raise NotFoundError(f"{name}: no such file")
        return Entry(path.stem, path, "file")
    known = entries()
    if name in known:
        return known[name]
    if Path(name).is_file():
        return Entry(Path(name).stem, Path(name), "file")
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise NotFoundError(f"no routine named {name!r}{hint} ('voiceguide list' shows them)")


def resolve_include(name: str, including: Path) -> Path:
    """Find an included routine: a path relative to the including file, or a name."""
    if looks_like_path(name):
        path = (including.parent / name).expanduser()
        if not path.is_file():
            raise NotFoundError(f"no file {name!r} next to {including.name}")
        return path
    sibling = including.parent / f"{name}.yaml"
    if sibling.is_file():
        return sibling
    known = entries()
    if name in known:
        return known[name].path
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise NotFoundError(f"no routine named {name!r}{hint}")


@cache
def _points_in(path: Path, mtime_ns: int) -> dict[str, Point]:
    from voiceguide.script.loader import load_points

    return load_points(path)


def points_files() -> list[Path]:
    """The point library files in force: built-in, then the user's own."""
    files = [
        folder / POINTS_FILE for folder in (paths.builtin_scripts_dir(), paths.user_scripts_dir())
    ]
    return [file for file in files if file.is_file()]


def shared_points() -> dict[str, Point]:
    """The point library: built-in points, then the user's own ``points.yaml``."""
    points: dict[str, Point] = {}
    for file in points_files():
        points.update(_points_in(file, file.stat().st_mtime_ns))
    return points


def load(name: str) -> Routine:
    """Load the routine called ``name`` (or at the path ``name``), fully checked."""
    entry = find(name)
    return load_path(entry.path)


def load_path(path: Path, memo: dict[Path, Routine] | None = None) -> Routine:
    """Load the routine at ``path`` with the shared point library.

    Pass the same ``memo`` to load many routines that share included parts.
    """
    from voiceguide.script.loader import load_routine

    return load_routine(path, resolve=resolve_include, shared_points=shared_points(), memo=memo)


def is_point_library(path: Path) -> bool:
    """Whether ``path`` is a point library (top-level ``points:`` and no ``steps:``)."""
    if path.name == POINTS_FILE:
        return True
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:200_000]
    except OSError:
        return False
    top = {line.split(":", 1)[0] for line in head.splitlines() if line[:1].isalpha()}
    return "points" in top and "steps" not in top and "title" not in top
