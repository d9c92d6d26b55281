"""Where a routine may reach: the files an ``include`` or a ``sound`` step may name.

A routine may name built-in and user routines, and files in its own folder or below it.
An absolute path, a ``..`` that climbs out of that folder, or a symbolic link that points
out of it is refused, so that a routine shared with you cannot read your home folder,
unless you allow it (``allow_outside``, the ``--allow-outside`` option).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from voiceguide import paths
from voiceguide.script.yamltext import quoted

_HOW = "name a routine, or a file in this routine's folder or below (--allow-outside allows it)"


def _inside(target: Path, folder: Path) -> bool:
    return target == folder or folder in target.parents


def _folders(including: Path) -> list[Path]:
    """The folders a file's includes may reach into, as given and with links resolved."""
    found: list[Path] = []
    for folder in (including.parent, paths.builtin_scripts_dir(), paths.user_scripts_dir()):
        absolute = Path(os.path.abspath(folder))
        found.append(absolute)
        with contextlib.suppress(OSError, RuntimeError):
            found.append(absolute.resolve())
    return found


def is_absolute(name: str) -> bool:
    """Whether ``name`` is an absolute path (``~`` counts: it is the home folder)."""
    return name.startswith("~") or Path(name).is_absolute()


def refusal(name: str, including: Path, allow_outside: bool) -> str | None:
    """Why ``name``, written in ``including``, may not be reached; ``None`` if it may.

    Checked before the file is looked at (so nothing is learnt of files outside), then
    again with symbolic links resolved.
    """
    if allow_outside:
        return None
    if is_absolute(name):
        return f"{quoted(name)} is an absolute path; {_HOW}"
    folders = _folders(including)
    plain = Path(os.path.normpath(Path(os.path.abspath(including.parent)) / name))
    if not any(_inside(plain, folder) for folder in folders):
        return f"{quoted(name)} is outside this routine's folder; {_HOW}"
    try:
        real = plain.resolve()
    except (OSError, RuntimeError):
        return None  # a loop or an unreadable link: reading it will say so
    if not any(_inside(real, folder) for folder in folders):
        return f"{quoted(name)} is a link to a file outside this routine's folder; {_HOW}"
    return None
