"""The files one export writes, checked before any work, and the folders made for them."""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from pathlib import Path

from voiceguide.atomic import check_target
from voiceguide.errors import ExportError, UsageError
from voiceguide.output.audio import require_encoder
from voiceguide.output.formats import CAPTION_FORMATS, CUE_FORMATS, CaptionFormat, Format, choose


@dataclass(frozen=True)
class Outputs:
    """The files one export writes: the audio, and beside it captions and cues if asked."""

    audio: Path
    format: Format
    captions: Path | None = None
    caption_format: CaptionFormat | None = None
    cues: Path | None = None

    @classmethod
    def plan(
        cls,
        audio: Path,
        fmt: Format,
        captions: str | None = None,
        cues: str | None = None,
    ) -> Outputs:
        """Name the sidecar files after ``audio`` (same folder, same stem)."""
        caption_format = choose("captions", captions, CAPTION_FORMATS)
        cue_format = choose("cues", cues, CUE_FORMATS)
        outputs = cls(
            audio=audio,
            format=fmt,
            captions=audio.with_suffix(f".{caption_format}") if caption_format else None,
            caption_format=caption_format,  # type: ignore[arg-type]  # checked by choose
            cues=audio.with_suffix(f".{cue_format}") if cue_format else None,
        )
        if len(set(outputs.paths())) != len(outputs.paths()):
            raise UsageError(f"{audio}: the audio and its sidecar file would have the same name")
        return outputs

    def paths(self) -> list[Path]:
        """Every file this export writes, the audio first."""
        return [p for p in (self.audio, self.captions, self.cues) if p is not None]

    def check(self) -> None:
        """Refuse early, before any work, what cannot be written.

        That is a target that is not a regular file (a folder, a device), a folder that
        cannot be written in, a missing folder that cannot be created, or a format whose
        encoder is not installed.
        """
        folder = self.audio.parent
        existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        if not existing.is_dir():
            raise ExportError(f"{self.audio}: {existing} is not a folder")
        if not os.access(existing, os.W_OK):
            if existing == folder:
                raise ExportError(f"{self.audio}: cannot write in the folder {folder}")
            raise ExportError(f"{self.audio}: cannot create the folder {folder} in {existing}")
        for path in self.paths():
            check_target(path)
        require_encoder(self.format)


def make_folders(folder: Path) -> list[Path]:
    """Create ``folder`` and any missing folders above it; return those created, outermost first.

    Raises :class:`ExportError` if one cannot be created, after removing those it made.
    """
    missing = list(itertools.takewhile(lambda p: not p.is_dir(), (folder, *folder.parents)))
    created: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if path.is_dir():
                continue  # made by someone else meanwhile: not ours to remove
            remove_empty_folders(created)
            raise ExportError(f"{path}: is not a folder; nothing was written") from None
        except OSError as exc:
            remove_empty_folders(created)
            reason = exc.strerror or exc
            raise ExportError(
                f"{path}: cannot create the folder ({reason}); nothing was written"
            ) from None
        created.append(path)
    return created


def remove_empty_folders(created: list[Path]) -> None:
    """Remove the folders :func:`make_folders` created, innermost first, while they are empty."""
    for path in reversed(created):
        try:
            path.rmdir()
        except OSError:
            return  # not empty (or gone): the folders above it are not empty either
