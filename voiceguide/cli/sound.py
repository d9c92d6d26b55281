"""Commands about the sound side: voices and the phrase cache."""

from __future__ import annotations

import json

import typer

from voiceguide.cli.app import AsJson, app, table
from voiceguide.cli.options import Engine, RangedHelp, VoiceModel

cache_app = typer.Typer(
    help="Look at or empty the cache of synthesized phrases.\n\nExample: voiceguide cache info",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@app.command(cls=RangedHelp)
def voices(engine: Engine = None, voice_model: VoiceModel = None, as_json: AsJson = False) -> None:
    """List the voices the speech engine offers (use one with --voice or settings.voice).

    With --engine piper: the packaged natural voice, and the model given with
    --voice-model (or voice_model in your config.yaml).

    Example: voiceguide voices --engine piper
    """
    from voiceguide.prefs import VoicePrefs
    from voiceguide.session import engine_voices

    found = engine_voices(VoicePrefs(engine=engine, voice_model=voice_model))
    if as_json:
        rows = [
            {"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender}
            for v in found
        ]
        typer.echo(json.dumps(rows, indent=2))
    else:
        table(["ID", "LANGUAGES", "NAME"], [[v.id, ",".join(v.languages), v.name] for v in found])


@cache_app.command("info")
def cache_info(as_json: AsJson = False) -> None:
    """Show where the phrase cache is and how much it holds.

    Example: voiceguide cache info
    """
    from voiceguide.sound.cache import PhraseCache

    info = PhraseCache().info()
    if as_json:
        typer.echo(
            json.dumps({"path": str(info.path), "entries": info.entries, "bytes": info.bytes})
        )
        return
    typer.echo(f"path:    {info.path}")
    typer.echo(f"phrases: {info.entries}")
    typer.echo(f"size:    {info.bytes / 1_048_576:.1f} MiB")


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete every cached phrase and the other derived files (all are made again when needed).

    Example: voiceguide cache clear
    """
    from voiceguide import caches

    removed = caches.clear()
    typer.echo(f"removed {removed} cached phrase{'s' if removed != 1 else ''}")
