"""The config command: where your config file is, and the settings a session would have."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from voiceguide.cli.app import AsJson, app, complete_routine, table
from voiceguide.cli.options import FLAGS, RangedHelp, session_options

if TYPE_CHECKING:
    from voiceguide.app.session import SessionRequest
    from voiceguide.app.settling import Explained
    from voiceguide.script.model import Routine

config_app = typer.Typer(
    help="Your config file: where it is, and the settings a session would have.\n\n"
    "Example: voiceguide config show",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


@config_app.command("path")
def path() -> None:
    """Print where your config file is (whether or not it exists yet).

    Example: voiceguide config path
    """
    from voiceguide.script.config import config_path

    typer.echo(str(config_path()))


@config_app.command("show", cls=RangedHelp)
@session_options
def show(
    routine: Annotated[
        str | None,
        typer.Argument(
            metavar="ROUTINE",
            help="Also take this routine's settings into account.",
            autocompletion=complete_routine,
        ),
    ] = None,
    as_json: AsJson = False,
    *,
    request: SessionRequest,  # the session options go here
) -> None:
    """Show every setting a session would have, and where each came from.

    Each value comes from the first of: the command line (the options given here),
    the routine's settings (with a ROUTINE), your config file, the default. A config
    file with a mistake is reported, line by line, as every command reports it.
    With a ROUTINE, it also says what 'auto' would choose for 'play' now.

    Example: voiceguide config show back-pain --rate 140
    """
    from voiceguide.app.settling import explain
    from voiceguide.script.config import load_user_config

    config = load_user_config()
    loaded = _routine(request) if routine is not None else None
    rows = explain(request, loaded, config)
    choices = _auto(loaded) if loaded is not None else []
    if as_json:
        typer.echo(json.dumps(_as_json(rows, choices, config.path), indent=2))
        return
    file = str(config.path) if config.path is not None else "(none yet)"
    typer.echo(f"Config file: {file}")
    table(["KEY", "VALUE", "FROM"], [[r.key, r.value, _origin(r)] for r in rows])
    if choices:
        typer.echo(f"\nWith auto, play would give now: {', '.join(choices)}.")


def _routine(request: SessionRequest) -> Routine:
    from voiceguide.app.session import load_routine

    return load_routine(request.routine, allow_outside=request.allow_outside)


def _auto(routine: Routine) -> list[str]:
    """What ``auto`` would choose for ``play`` now, from the history (read only)."""
    from voiceguide.app import adapting

    return adapting.describe(adapting.from_history()(routine, True, True))


def _origin(row: Explained) -> str:
    origin = row.origin
    if origin.layer == "command line":
        return f"command line ({FLAGS.get(row.field, row.field)})"
    return str(origin)


def _as_json(rows: list[Explained], choices: list[str], config: object) -> dict[str, object]:
    return {
        "config_file": str(config) if config is not None else None,
        "settings": [
            {
                "key": r.key,
                "value": r.value,
                "from": r.origin.layer,
                "file": r.origin.at.path if r.origin.at is not None else None,
                "line": r.origin.at.line if r.origin.at is not None else None,
            }
            for r in rows
        ],
        "auto": choices,
    }
