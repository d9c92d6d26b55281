"""Which version of a routine was played: hashes of the routine as loaded, and of its cautions.

**The script hash** is the SHA-256 of the routine *as loaded*, includes resolved: every step,
text, duration, point and setting, in a canonical form that leaves out where things stand in
the files (line numbers, file paths). So editing a routine, or a routine or point library it
draws on, makes a new version; a comment, a blank line or moving the file does not; and
neither does anything about how it was voiced. The compiled timeline is deliberately *not*
what is hashed: its lengths come from the speech engine, which differs by a few samples from
one synthesis to the next, so a phrase cache cleared and warmed again, another voice, or
``--pace`` would all look like edits.

**The cautions hash** is the SHA-256 of the cautions the full introduction reads (the
routine's own, its points' and its includes'), compared as sets of sentences with their
spacing normalised: reordering them is not a change, rewording one is.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from voiceguide.errors import Position

if TYPE_CHECKING:
    from voiceguide.script.model import Routine

_LEFT_OUT = frozenset({"source"})
"""Fields that say where a routine came from, not what it is (Routine.source: its file)."""


@dataclass(frozen=True)
class RoutineIdentity:
    """A routine as the history knows it: its name, and hashes of what it is."""

    name: str
    script_hash: str
    cautions_hash: str


def identify(routine: Routine) -> RoutineIdentity:
    """The identity of ``routine`` as loaded (see the module docstring)."""
    cautions = cautions_hash(routine.all_cautions())
    return RoutineIdentity(routine.name, script_hash(routine), cautions)


def script_hash(routine: Routine) -> str:
    """SHA-256 (hex) of ``routine``'s canonical form: what it says and does, not where."""
    return _sha256(_canonical(routine))


def cautions_hash(cautions: tuple[str, ...] | list[str]) -> str:
    """SHA-256 (hex) of a set of cautions, each with its spacing normalised."""
    return _sha256(sorted({" ".join(c.split()) for c in cautions}))


def _sha256(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    """Plain data for ``value``: dataclasses by type and field, positions and files left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain: dict[str, object] = {"": type(value).__name__}
        for field in dataclasses.fields(value):
            # Fields that take no part in equality (Routine.points: the whole library)
            # take no part in identity either; the points pressed are inside each step.
            if not field.compare or field.name in _LEFT_OUT:
                continue
            item = getattr(value, field.name)
            if not isinstance(item, Position):
                plain[field.name] = _canonical(item)
        return plain
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, PurePath):
        return value.as_posix()
    return repr(value)
