"""Load routine scripts and point libraries: YAML in, typed :mod:`voiceguide.script.model` out.

The pipeline of one file: :mod:`~voiceguide.script.source` reads it (a regular file,
bounded, screened), :mod:`~voiceguide.script.checker` checks it against the spec,
:mod:`~voiceguide.script.builder` builds the routine and loads what it includes. Every
problem is collected with its ``path:line:column`` and all are raised together in one
:class:`~voiceguide.errors.ScriptError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import NoReturn

import yaml

from voiceguide.errors import NotFoundError, Position, Problem, ScriptError
from voiceguide.script import spec
from voiceguide.script.builder import Builder, Resolver, Session, build_points
from voiceguide.script.checked import Fields
from voiceguide.script.checker import Checker
from voiceguide.script.kinds import ObjectSpec
from voiceguide.script.model import Point, Routine
from voiceguide.script.source import Source, display_path, not_shown, read_source
from voiceguide.script.yamltext import describe

__all__ = ["Resolver", "load_points", "load_routine"]


def _top(checker: Checker, source: Source, object_spec: ObjectSpec, label: str) -> Fields | None:
    """Check the top mapping; a file that is not one is never quoted (it may be anything)."""
    assert source.root is not None
    if not isinstance(source.root, yaml.MappingNode):
        got = describe(source.root, quotable=False)
        checker.problem(source.root, f"{label}: expected {object_spec.title} keys, got {got}")
        return None
    return checker.mapping(source.root, object_spec, label)


def _load_file(session: Session, path: Path, shown: str) -> Routine | None:
    if path in session.cache:
        return session.cache[path]
    session.cache[path] = None  # while it loads: an include of it is caught as a cycle first
    try:
        source = read_source(path, shown, limit=spec.MAX_SCRIPT_BYTES, what="routine script")
    except ScriptError as exc:
        session.problems.extend(exc.problems)
        return None
    if source.root is None:
        session.problems.append(
            Problem(
                Position(shown, 1, 1),
                "expected a routine with 'title' and 'steps', got an empty file",
            )
        )
        return None
    checker = Checker(source)
    fields = _top(checker, source, spec.ROUTINE, "routine")
    before = len(session.problems)
    routine = None
    if fields is not None:
        session.stack.append(path)
        try:
            routine = Builder(session, source).routine(fields)
        finally:
            session.stack.pop()
    problems = checker.problems + session.problems[before:]
    if problems and not source.quotable:
        del session.problems[before:]
        session.problems.append(not_shown(source.display, "routine script"))
        return None
    session.problems[before:] = problems
    session.cache[path] = routine
    return routine


def load_routine(
    path: Path,
    *,
    resolve: Resolver,
    shared_points: Mapping[str, Point] | None = None,
    display: str | None = None,
    memo: dict[Path, Routine] | None = None,
    allow_outside: bool = False,
) -> Routine:
    """Load and check the routine at ``path`` with everything it includes.

    ``memo`` keeps routines already loaded (by resolved path) across calls, so that
    loading many routines that include the same parts reads each part once.
    ``allow_outside`` lets includes and sounds name files anywhere (see
    :mod:`voiceguide.script.places`). Raises :class:`ScriptError` listing every problem
    found, in every file read.
    """
    session = Session(
        resolve=resolve,
        load=_load_file,
        shared_points=shared_points or {},
        allow_outside=allow_outside,
    )
    if memo:
        session.cache.update(memo)
    shown = display or display_path(path)
    routine = _load_file(session, path.resolve(), shown)
    if session.problems or routine is None:
        _raise(session.problems)
    if memo is not None:
        memo.update({p: r for p, r in session.cache.items() if r is not None})
    return routine


def load_points(path: Path, display: str | None = None) -> dict[str, Point]:
    """Load a point library file (``points:`` mapping of point keys)."""
    shown = display or display_path(path)
    source = read_source(path, shown, limit=spec.MAX_SCRIPT_BYTES, what="point library")
    if source.root is None:
        return {}
    checker = Checker(source)
    fields = _top(checker, source, spec.POINT_LIBRARY, "point library")
    points = build_points(fields.entries("points"))[0] if fields else {}
    if checker.problems:
        _raise(
            checker.problems if source.quotable else [not_shown(source.display, "point library")]
        )
    return points


def _raise(problems: list[Problem]) -> NoReturn:
    if not problems:
        raise NotFoundError("the routine could not be loaded")  # pragma: no cover
    raise ScriptError(list(dict.fromkeys(problems)))
