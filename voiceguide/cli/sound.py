"""Commands about the sound side: voices and the phrase cache."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from voiceguide.cli.app import AsJson, app, table
from voiceguide.cli.options import Engine, RangedHelp, VoiceModel

if TYPE_CHECKING:
    from voiceguide.sound.engines.base import Voice

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

    The voice a session speaks with is marked *; espeak-ng's voices are grouped by
    language, English first.

    Example: voiceguide voices --engine espeak
    """
    from voiceguide.app.session import engine_voices
    from voiceguide.prefs import VoicePrefs

    found, chosen = engine_voices(VoicePrefs(engine=engine, voice_model=voice_model))
    _show_voices(sorted(found, key=_language_order), chosen, as_json=as_json)


def _show_voices(found: list[Voice], chosen: str, *, as_json: bool) -> None:
    if as_json:
        rows = [
            {
                "id": v.id, "name": v.name, "languages": list(v.languages), "gender": v.gender,
                "default": v.id == chosen,
            }
            for v in found
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    groups: dict[str, list[Voice]] = {}
    for voice in found:
        groups.setdefault(_language_group(voice), []).append(voice)
    for number, (group, members) in enumerate(groups.items()):
        typer.echo(("\n" if number else "") + group)
        table(
            ["", "ID", "LANGUAGES", "NAME"],
            [["*" if v.id == chosen else "", v.id, ",".join(v.languages), v.name] for v in members],
        )
    typer.echo("\n* the voice used unless --voice (or settings.voice) names another")


def _english(voice: Voice) -> bool:
    return bool(voice.languages) and voice.languages[0].startswith("en")


def _language_group(voice: Voice) -> str:
    """The heading a voice is listed under: English, or the other languages."""
    return "English" if _english(voice) else "Other languages"


def _language_order(voice: Voice) -> tuple[bool, str, str]:
    """English first, then by language, then by name."""
    language = voice.languages[0] if voice.languages else "~"
    return (not _english(voice), language, voice.name.lower())


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
    from voiceguide.app import caches

    removed = caches.clear()
    typer.echo(f"removed {removed} cached phrase{'s' if removed != 1 else ''}")
