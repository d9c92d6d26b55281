"""Writing routines: check one as a player would meet it, start a new one from a template.

What ``voiceguide check`` and ``voiceguide new`` do, callable alone.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from voiceguide.errors import UsageError

if TYPE_CHECKING:
    from voiceguide.compile.options import Detail
    from voiceguide.script.config import UserConfig
    from voiceguide.script.model import Routine

STARTER = """\
# yaml-language-server: $schema={schema}
# A voiceguide routine. Check it:  voiceguide check {name}
# Hear it:  voiceguide play {name}        The format: docs/format.md
title: {title}
summary: What this routine is for, in a sentence or two.
posture: sitting upright on a chair        # completes "Get comfortable, ..."
cautions:
  - Check with your doctor or an acupressure therapist before you start.
settings:          # rate, voice and the rest come from your config.yaml unless set here
  find: 8s         # quiet time to find a point before the first press

points:            # your own points; the built-in library (scripts/points.yaml) works too
  my-point:
    name: the point in the web between your thumb and index finger
    where: in the fleshy web between the thumb and the index finger
    find: squeeze thumb and finger together; the point is at the top of the mound
    pressure: firm

steps:
  - say: Sit comfortably and let your shoulders drop.
  - pause: 3s
  - sides: [right, left]             # runs once per side; {{side}} is filled in
    steps:
      - say: Bring your {{side}} hand in front of you.
      - press:
          point: my-point
          hold: 30s                  # press sound to release sound, exactly
          reps: 3
          rest: 10s                  # release sound to the next press sound
          countdown: 3               # soft ticks on the last three seconds
          prompts:
            # quote text that has a comma inside {{ }}: say: "Slowly, gently."
            - {{at: 50%, say: Breathe out slowly.}}
  - say: That is the end. Rest for a moment before you get up.
"""
"""The routine ``new`` writes: every common key once, commented."""


def check(
    name: str,
    *,
    estimate: bool = False,
    config: UserConfig | None = None,
    allow_outside: bool = False,
) -> str:
    """Check the routine or point library ``name`` whole; return what it holds, in brief.

    A routine is synthesized (cached) and compiled, so that what is said inside a hold
    or a rest is checked against its real length, with full and with brief instructions
    when it has brief forms; with ``estimate``, lengths are estimated at the rate a
    session would speak at. The summary is a length (``~`` when estimated; the brief
    session's too) or a count of points.
    """
    from voiceguide.app.session import SessionRequest, open_session
    from voiceguide.app.session import estimate as estimated
    from voiceguide.compile.compiler import CompileOptions
    from voiceguide.errors import Problem, ScriptError
    from voiceguide.script import library
    from voiceguide.script.durations import format_ms
    from voiceguide.script.loader import load_points

    path = library.find(name).path
    if library.is_point_library(path):
        return f"{len(load_points(path))} points"
    routine = library.load_path(path, allow_outside=allow_outside)
    problems: list[Problem] = []
    totals = []
    # Both versions of every text: what is said inside a hold must fit, brief or full.
    details: tuple[Detail, ...] = ("full", "brief") if _has_briefs(routine) else ("full",)
    for detail in details:
        request = SessionRequest(routine, CompileOptions(detail=detail))
        try:
            if estimate:
                totals.append("~" + format_ms(estimated(request, config=config).total_ms))
            else:
                totals.append(format_ms(open_session(request, config=config).timeline.total_ms))
        except ScriptError as error:
            problems += error.problems
    if problems:
        raise ScriptError(list(dict.fromkeys(problems)))
    return totals[0] if len(totals) == 1 else f"{totals[0]}, brief {totals[1]}"


def _has_briefs(routine: Routine) -> bool:
    """Whether anything the routine says has a brief form."""
    from voiceguide.compile.compiler import CompileOptions, phrases_of
    from voiceguide.compile.estimate import EstimatedLengths

    lengths = EstimatedLengths(150)
    full = phrases_of(routine, lengths, CompileOptions())
    return full != phrases_of(routine, lengths, CompileOptions(detail="brief"))


def starter_path(name: str, output: Path | None = None) -> Path:
    """Where ``new`` writes the routine ``name``: ``output``, or in the user's routines folder.

    ``name`` must be one a routine can be called by.
    """
    from voiceguide import paths
    from voiceguide.script import spec

    if not re.fullmatch(spec.Name().pattern, name):
        raise UsageError(f"name: expected lowercase letters, digits and dashes, got {name!r}")
    return output or paths.user_scripts_dir() / f"{name}.yaml"


def write_starter(name: str, target: Path, named: str | None = None) -> None:
    """Write the starter routine ``name`` to ``target``, with the schema it names beside it.

    ``named`` is how the starter's comments tell ``check`` and ``play`` to find it
    (default: by its name).
    """
    from voiceguide import paths
    from voiceguide.atomic import write_text_atomic
    from voiceguide.script.schema import routine_schema

    schema_path = paths.user_data_dir() / "routine.schema.json"
    write_text_atomic(schema_path, json.dumps(routine_schema(), indent=2) + "\n")
    title = name.replace("-", " ").capitalize()
    text = STARTER.format(schema=schema_path, name=named or name, title=title)
    write_text_atomic(target, text)
