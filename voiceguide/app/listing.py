"""The routine list: title, posture, estimated length, cautions, for every named routine.

Listing means loading and compiling every routine, so the rows are kept in a
small index in the cache folder, keyed by the size and modification time of
every file that shapes them (the routine, what it includes, the point
libraries, the sounds, the user's config, whose rate the estimate speaks at)
and by voiceguide's version. An unchanged library is listed without reading
any YAML; a changed file is read again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceguide import __version__, paths
from voiceguide.compile.estimate import ESTIMATE_VERSION
from voiceguide.script import library

if TYPE_CHECKING:
    from voiceguide.script.config import UserConfig

INDEX_NAME = "list-index.json"
_VERSION = f"{__version__}/estimate-{ESTIMATE_VERSION}"
"""Stored rows are made again when voiceguide or its estimate changes."""

Fingerprint = list[list[Any]]
"""``[path, mtime_ns, size]`` for each file: lists, so that it survives a JSON round trip."""


@dataclass(frozen=True)
class Listed:
    """One row of ``voiceguide list``."""

    name: str
    title: str
    posture: str
    estimated_ms: int
    origin: str
    path: str
    cautions: tuple[str, ...]


def _stat(files: list[Path]) -> Fingerprint:
    marks: Fingerprint = []
    for file in files:
        try:
            info = file.stat()
        except OSError:
            marks.append([str(file), -1, -1])
        else:
            marks.append([str(file), info.st_mtime_ns, info.st_size])
    return marks


def _shared_files() -> list[Path]:
    """Files that shape every routine's row: point libraries, sounds, the user's config."""
    files = [*library.points_files(), paths.user_config_file()]
    for folder in (paths.builtin_audio_dir(), paths.user_audio_dir()):
        if folder.is_dir():
            files.extend(sorted(p for p in folder.iterdir() if p.is_file()))
    return files


def _read_index(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("version") == _VERSION else {}


def _row(
    entry: library.Entry, memo: dict[Path, Any], config: Callable[[], UserConfig]
) -> tuple[Listed, list[Path]]:
    from voiceguide.app.session import SessionRequest, estimate
    from voiceguide.prefs import PlaybackPrefs

    routine = library.load_path(entry.path, memo)
    # Settled as a show would be: the config's pace, introduction and tones count.
    timeline = estimate(SessionRequest(routine, playback=PlaybackPrefs()), config=config())
    row = Listed(
        name=entry.name,
        title=routine.title,
        posture=routine.posture or "",
        estimated_ms=timeline.total_ms,
        origin=entry.origin,
        path=str(entry.path),
        cautions=routine.all_cautions(),
    )
    return row, [Path(r.source) for r in routine.included()]


def _lazy_config() -> Callable[[], UserConfig]:
    """The user's config, read the first time a row must be made (not when all are stored)."""
    read: list[UserConfig] = []

    def config() -> UserConfig:
        if not read:
            from voiceguide.script.config import load_user_config

            read.append(load_user_config())
        return read[0]

    return config


def list_routines(index_path: Path | None = None) -> tuple[list[Listed], list[str]]:
    """Return the rows of every valid routine, and one line for each invalid one."""
    from voiceguide.atomic import write_text_atomic
    from voiceguide.errors import VoiceguideError

    index_path = index_path or paths.user_cache_dir() / INDEX_NAME
    old = _read_index(index_path).get("routines", {})
    shared = _stat(_shared_files())
    rows: list[Listed] = []
    problems: list[str] = []
    fresh: dict[str, Any] = {}
    memo: dict[Path, Any] = {}
    config = _lazy_config()
    for entry in library.entries().values():
        key = str(entry.path)
        cached = old.get(key)
        if (
            cached
            and cached["origin"] == entry.origin
            and cached["shared"] == shared
            and (_stat([Path(p) for p, _, _ in cached["files"]]) == cached["files"])
        ):
            row = Listed(**{**cached["row"], "cautions": tuple(cached["row"]["cautions"])})
            fresh[key] = cached
            rows.append(row)
            continue
        try:
            row, included = _row(entry, memo, config)
        except VoiceguideError as exc:
            from voiceguide.script.config import ConfigError

            if isinstance(exc, ConfigError):
                raise  # not this routine's fault: one line, not one a routine
            # A script error already begins with the file's path:line:column.
            problems.append(str(exc).splitlines()[0])
            continue
        rows.append(row)
        fresh[key] = {
            "origin": entry.origin,
            "shared": shared,
            "files": _stat([entry.path, *included]),
            "row": asdict(row),
        }
    if fresh != old:
        try:
            index = {"version": _VERSION, "routines": fresh}
            write_text_atomic(index_path, json.dumps(index, ensure_ascii=False))
        except VoiceguideError:
            pass  # an index that cannot be written costs time, not correctness
    return rows, problems
