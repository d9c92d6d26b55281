"""The user's cache folder as a whole: the phrase cache and the files derived beside it.

Everything here is made again when needed: synthesized phrases and finished sounds, the
list index, the digests of voice model files, the voices espeak-ng resolved.
"""

from __future__ import annotations


def clear() -> int:
    """Delete every cached phrase and the other derived files; return how many phrases went."""
    import shutil

    from voiceguide import paths
    from voiceguide.app.listing import INDEX_NAME
    from voiceguide.errors import VoiceguideError
    from voiceguide.sound.cache import PhraseCache
    from voiceguide.sound.engines.digests import MEMO_NAME

    try:
        removed = PhraseCache().clear()
        cache = paths.user_cache_dir()
        for name in (INDEX_NAME, MEMO_NAME):
            (cache / name).unlink(missing_ok=True)
        shutil.rmtree(cache / "espeak-voices", ignore_errors=True)
    except OSError as exc:
        raise VoiceguideError(f"cannot clear the cache: {exc.filename}: {exc.strerror}") from exc
    return removed
