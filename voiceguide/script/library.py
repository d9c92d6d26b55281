"""Find routines by name: the built-in library, the user's own folder, or a path."""

from __future__ import annotations

import difflib
import functools
import os
import stat
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voiceguide import paths
from voiceguide.errors import NotFoundError, UsageError

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


def _mode(path: Path) -> int | None:
    """The file type bits of ``path`` (links followed), or ``None`` if it cannot be looked at.

    Unlike ``Path.is_file``, a name too long or a link loop is "nothing there", not an error.
    """
    try:
        return os.stat(path).st_mode
    except (OSError, ValueError):
        return None


def _is_file(path: Path) -> bool:
    mode = _mode(path)
    return mode is not None and stat.S_ISREG(mode)


def _scan(folder: Path, origin: Origin) -> dict[str, Entry]:
    mode = _mode(folder)
    if mode is None or not stat.S_ISDIR(mode):
        return {}
    found: dict[str, Entry] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix in SUFFIXES and path.name != POINTS_FILE and _is_file(path):
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
    from voiceguide.script.yamltext import excerpt, quoted

    if looks_like_path(name):
        path = Path(name).expanduser()
        mode = _mode(path)
        if mode is not None and stat.S_ISDIR(mode):
            raise NotFoundError(f"{name}: is a folder; name a routine file in it")
        if mode is None and not os.path.lexists(path):
            shown = excerpt(name, 80)
            if len(os.path.basename(name)) > 255 or len(name) > 4096:
                raise NotFoundError(f"{shown}: the file name is too long")
            raise NotFoundError(f"{shown}: no such file")
        return Entry(path.stem, path, "file")
    known = entries()
    if name in known:
        return known[name]
    if _mode(Path(name)) is not None:
        return Entry(Path(name).stem, Path(name), "file")
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise NotFoundError(f"no routine named {quoted(name)}{hint} ('voiceguide list' shows them)")


def resolve_include(name: str, including: Path, *, allow_outside: bool = False) -> Path:
    """Find an included routine: a name, or a path relative to the including file.

    A path must stay in the including file's folder or below, or in the built-in or the
    user's routines folder (:mod:`voiceguide.script.places`), unless ``allow_outside``;
    it must name a YAML file. Raises :class:`NotFoundError` or :class:`UsageError`.
    """
    from voiceguide.script import places
    from voiceguide.script.yamltext import quoted

    if looks_like_path(name):
        refused = places.refusal(name, including, allow_outside)
        if refused:
            raise UsageError(refused)
        path = including.parent / Path(name).expanduser()
        if _mode(path) is None:
            raise NotFoundError(f"no file {quoted(name)} next to {including.name}")
        if path.resolve().suffix.lower() not in SUFFIXES:
            raise UsageError(
                f"{quoted(name)} is not a routine: expected a file named .yaml or .yml"
            )
        return path
    sibling = including.parent / f"{name}.yaml"
    if _mode(sibling) is not None:
        refused = places.refusal(sibling.name, including, allow_outside)
        if refused:
            raise UsageError(refused)
        return sibling
    known = entries()
    if name in known:
        return known[name].path
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    raise NotFoundError(f"no routine named {quoted(name)}{hint}")


@cache
def _points_in(path: Path, mtime_ns: int) -> dict[str, Point]:
    from voiceguide.script.loader import load_points

    return load_points(path)


def points_files() -> list[Path]:
    """The point library files in force: built-in, then the user's own."""
    files = [
        folder / POINTS_FILE for folder in (paths.builtin_scripts_dir(), paths.user_scripts_dir())
    ]
    return [file for file in files if os.path.lexists(file)]


def shared_points() -> dict[str, Point]:
    """The point library: built-in points, then the user's own ``points.yaml``."""
    points: dict[str, Point] = {}
    for file in points_files():
        try:
            mtime_ns = os.stat(file).st_mtime_ns
        except OSError:
            mtime_ns = -1  # a dangling link: loading it says so
        points.update(_points_in(file, mtime_ns))
    return points


def load(name: str, *, allow_outside: bool = False) -> Routine:
    """Load the routine called ``name`` (or at the path ``name``), fully checked."""
    entry = find(name)
    return load_path(entry.path, allow_outside=allow_outside)


def load_path(
    path: Path, memo: dict[Path, Routine] | None = None, *, allow_outside: bool = False
) -> Routine:
    """Load the routine at ``path`` with the shared point library.

    Pass the same ``memo`` to load many routines that share included parts.
    ``allow_outside`` lets its includes and sounds name files outside its folder.
    """
    from voiceguide.script.loader import load_routine

    resolve = functools.partial(resolve_include, allow_outside=allow_outside)
    return load_routine(
        path,
        resolve=resolve,
        shared_points=shared_points(),
        memo=memo,
        allow_outside=allow_outside,
    )


def is_point_library(path: Path) -> bool:
    """Whether ``path`` is a point library (top-level ``points:`` and no ``steps:``)."""
    if path.name == POINTS_FILE:
        return True
    from voiceguide.errors import VoiceguideError
    from voiceguide.script import spec
    from voiceguide.script.source import read_bytes

    try:
        data = read_bytes(path, str(path), limit=spec.MAX_SCRIPT_BYTES, what="routine script")
    except VoiceguideError:
        return False  # loading it as a routine says what is wrong with it
    head = data[:200_000].decode("utf-8", errors="replace")
    top = {line.split(":", 1)[0] for line in head.splitlines() if line[:1].isalpha()}
    return "points" in top and "steps" not in top and "title" not in top
