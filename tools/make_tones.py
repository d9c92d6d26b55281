"""Generate the built-in tone vocabulary into ``audio/``: ``python tools/make_tones.py``.

Every sound is a few struck notes, each a sum of sine partials that decay exponentially
(a bell, a bowl, a wood block). Each note starts with a raised-cosine attack of a few
milliseconds and the sound ends with a raised-cosine fade to exact zero, so nothing
clicks. There is no randomness: the same files come out every time.

What tells the sounds apart, by ear and with eyes closed:

========  ========  ======================================  ============================
name      length    notes                                   contour
========  ========  ======================================  ============================
press     0.6 s     G4 → C5, a soft bell                    rising fourth ("in")
release   0.6 s     C5 → G4, the same bell                  falling fourth ("out")
tick      80 ms     C6, a quiet wood-block tap              one dry, high blip
switch    1.0 s     E5 → B5 → E5, a brighter bell           up and back ("turn over")
start     2.5 s     C4 singing bowl, shimmering             one long, low, warm strike
end       3.0 s     G4 → E4 → C4 on the bowl                descending, settling home
heard     0.3 s     A5, A5: two quick, soft bell taps       a nod ("got it"), voice commands
========  ========  ======================================  ============================

Levels are set by :func:`voiceguide.sound.loudness.match_sound` with the offsets in
:data:`voiceguide.sound.tones.LEVEL_OFFSET_DB`, so the files play at the level voiceguide uses.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    Float64Array = npt.NDArray[np.float64]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Partial:
    """One sine component of a note, relative to the note's pitch and decay."""

    ratio: float
    """Frequency as a multiple of the note's ``freq_hz`` (inharmonic for a bell)."""
    amplitude: float
    """Amplitude relative to the fundamental."""
    decay: float
    """Decay time constant as a fraction of the note's ``decay_ms`` (upper partials die first)."""
    beat_hz: float = 0.0
    """Add a weaker twin this much sharper: the slow shimmer of a bowl."""


@dataclass(frozen=True)
class Note:
    """One strike."""

    onset_ms: int
    freq_hz: float
    decay_ms: int
    """Time constant of the fundamental's exponential decay."""
    amplitude: float = 1.0


@dataclass(frozen=True)
class Tone:
    """A sound of the vocabulary: notes struck on one instrument."""

    name: str
    duration_ms: int
    partials: tuple[Partial, ...]
    notes: tuple[Note, ...]
    attack_ms: int
    """Raised-cosine attack of each note (a soft mallet, no click)."""
    fade_ms: int
    """Raised-cosine fade at the very end, down to exact zero."""


BELL = (
    Partial(1.0, 1.0, 1.0),
    Partial(2.0, 0.22, 0.55),
    Partial(2.76, 0.12, 0.35),
    Partial(5.40, 0.04, 0.2),
)
"""A soft, clearly pitched bell: a strong fundamental, a few quiet inharmonic partials."""

BRIGHT_BELL = (
    Partial(1.0, 1.0, 1.0),
    Partial(2.76, 0.3, 0.45),
    Partial(5.40, 0.1, 0.25),
    Partial(8.93, 0.03, 0.15),
)
"""A glockenspiel-like bar: brighter than :data:`BELL`, so ``switch`` stands apart."""

BOWL = (
    Partial(1.0, 1.0, 1.0, beat_hz=0.8),
    Partial(2.71, 0.45, 0.6, beat_hz=1.3),
    Partial(5.15, 0.16, 0.35),
    Partial(8.23, 0.05, 0.2),
)
"""A singing bowl: inharmonic partials, the lower two beating slowly."""

WOOD = (
    Partial(1.0, 1.0, 1.0),
    Partial(2.57, 0.25, 0.6),
)
"""A small wood block: two partials and a very fast decay."""

G4, C5, E5, A5, B5, C6 = 392.00, 523.25, 659.26, 880.00, 987.77, 1046.50
C4, E4 = 261.63, 329.63

TONES = (
    Tone(
        "press",
        600,
        BELL,
        (Note(0, G4, 220, 0.8), Note(170, C5, 240)),
        attack_ms=6,
        fade_ms=60,
    ),
    Tone(
        "release",
        600,
        BELL,
        (Note(0, C5, 220), Note(170, G4, 240, 0.8)),
        attack_ms=6,
        fade_ms=60,
    ),
    Tone("tick", 80, WOOD, (Note(0, C6, 14),), attack_ms=2, fade_ms=12),
    Tone(
        "switch",
        1000,
        BRIGHT_BELL,
        (Note(0, E5, 200, 0.85), Note(160, B5, 200, 0.7), Note(320, E5, 260, 0.85)),
        attack_ms=5,
        fade_ms=120,
    ),
    Tone("start", 2500, BOWL, (Note(0, C4, 1000),), attack_ms=12, fade_ms=400),
    Tone(
        "end",
        3000,
        BOWL,
        (Note(0, G4, 600, 0.8), Note(400, E4, 650, 0.85), Note(800, C4, 1000)),
        attack_ms=12,
        fade_ms=500,
    ),
    # Not a routine's sound: the nod a voice command gets before its answer (docs/listen.md).
    Tone("heard", 300, BELL, (Note(0, A5, 45, 0.9), Note(110, A5, 60)), attack_ms=4, fade_ms=60),
)


def _raised_cosine(length: int) -> Float64Array:
    """Rise from exactly 0 to just under 1 over ``length`` samples."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(length) / max(length, 1))


def synthesize(tone: Tone, rate: int) -> Float64Array:
    """Render ``tone`` at ``rate``: float64, peak 0.5 (levels are set afterwards)."""
    total = rate * tone.duration_ms // 1000
    out = np.zeros(total)
    attack = _raised_cosine(rate * tone.attack_ms // 1000)
    for note in tone.notes:
        start = rate * note.onset_ms // 1000
        t = np.arange(total - start) / rate
        strike = np.zeros(total - start)
        for partial in tone.partials:
            freq_hz = note.freq_hz * partial.ratio
            if freq_hz >= rate / 2 * 0.9:
                continue  # keep well clear of Nyquist at low sample rates
            decay = np.exp(-t / (note.decay_ms / 1000 * partial.decay))
            wave = np.sin(2 * np.pi * freq_hz * t)
            if partial.beat_hz:
                # A weaker twin slightly sharp: the sum swells and ebbs by about 6 dB.
                wave = 0.75 * wave + 0.25 * np.sin(2 * np.pi * (freq_hz + partial.beat_hz) * t)
            strike += partial.amplitude * decay * wave
        strike[: len(attack)] *= attack
        out[start:] += note.amplitude * strike
    fade = _raised_cosine(rate * tone.fade_ms // 1000)[::-1]
    out[-len(fade) :] *= fade
    out[-1] = 0.0
    out -= _dc_correction(out)
    return out * (0.5 / float(np.max(np.abs(out))))


def _dc_correction(samples: Float64Array) -> Float64Array:
    """Return a smooth, zero-ended bump whose mean equals the mean of ``samples``."""
    bump = np.sin(np.pi * np.arange(len(samples)) / (len(samples) - 1)) ** 2
    return bump * (float(samples.mean()) / float(bump.mean()))


def render(tone: Tone, rate: int) -> npt.NDArray[np.int16]:
    """Render ``tone`` at its playback level as 16-bit PCM."""
    from voiceguide.sound.loudness import match_sound
    from voiceguide.sound.tones import LEVEL_OFFSET_DB

    leveled = match_sound(synthesize(tone, rate), rate, offset_db=LEVEL_OFFSET_DB.get(tone.name, 0))
    pcm: npt.NDArray[np.int16] = np.round(leveled.astype(np.float64) * 32767).astype(np.int16)
    return pcm


def main(argv: list[str] | None = None) -> int:
    """Write every tone as ``<name>.wav`` (16-bit mono) and print a line for each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "audio", help="folder to write to")
    args = parser.parse_args(argv)

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    import soundfile

    from voiceguide.pcm import SAMPLE_RATE
    from voiceguide.sound.meter import max_momentary_lufs, peak_dbfs

    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    for tone in TONES:
        pcm = render(tone, SAMPLE_RATE)
        path = out_dir / f"{tone.name}.wav"
        soundfile.write(path, pcm, SAMPLE_RATE, subtype="PCM_16")
        samples = pcm.astype(np.float64) / 32768
        print(
            f"{path}: {len(pcm) / SAMPLE_RATE:.3f} s, "
            f"peak {peak_dbfs(samples):.1f} dBFS, "
            f"loudest 400 ms {max_momentary_lufs(samples, SAMPLE_RATE):.1f} LUFS"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
