"""Commands about the sound side: voices and the phrase cache."""

from __future__ import annotations

import json

import typer

from voiceguide.cli.app import AsJson, Engine, VoiceModel, app, table

cache_app = typer.Typer(
    help="Look at or empty the cache of synthesized phrases.\n\nExample: voiceguide cache info",
    no_args_is_help=True,
)
app.add_typer(cache_app, name="cache")


@app.command()
def voices(engine: Engine = None, voice_model: VoiceModel = None, as_json: AsJson = False) -> None:
    """List the voices the speech engine offers (use one with --voice or settings.voice).

    With --engine piper: the packaged natural voice, and the model given with
    --voice-model (or voice_model in your config.yaml).

    Example: voiceguide voices --engine piper
    """
    from voiceguide.script.config import load_user_config
    from voiceguide.session import VoiceChoice, resolve_engine
    from voiceguide.sound.engines import make_engine

    choice = VoiceChoice(engine=engine, voice_model=voice_model)
    name, model = resolve_engine(choice, load_user_config())
    found = make_engine(name, voice_model=model).voices()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {"id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender}
                    for v in found
                ],
                indent=2,
            )
        )
        return
    table(
        ["ID", "LANGUAGES", "NAME"],
        [[v.id, ",".join(v.languages), v.name] for v in found],
    )


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
    import shutil

    from voiceguide import paths
    from voiceguide.errors import VoiceguideError
    from voiceguide.listing import INDEX_NAME
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines.digests import MEMO_NAME

    try:
        removed = PhraseCache().clear()
        # The small derived files beside the phrases: made again when needed.
        cache = paths.user_cache_dir()
        for name in (INDEX_NAME, MEMO_NAME):
            (cache / name).unlink(missing_ok=True)
        shutil.rmtree(cache / "espeak-voices", ignore_errors=True)
    except OSError as exc:
        raise VoiceguideError(f"cannot clear the cache: {exc.filename}: {exc.strerror}") from exc
    typer.echo(f"removed {removed} cached phrase{'s' if removed != 1 else ''}")
