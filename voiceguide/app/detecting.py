"""Find the voice commands in a recording: the listening stage run alone, over a WAV file.

With a timeline, the recording is taken as what the microphone heard while that session
played from its start, and the same gate applies as in a live session: only what was
captured while the session was silent is acted on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from voiceguide.listen.gate import SilenceGate
from voiceguide.listen.recognizer import FRAME_SAMPLES, RATE_HZ, Heard, Recognizer
from voiceguide.listen.recording import blocks, open_recording

if TYPE_CHECKING:
    from pathlib import Path

    from voiceguide.app.session import SessionRequest
    from voiceguide.compile.timeline import Timeline


@dataclass(frozen=True)
class Detection:
    """A phrase heard in a recording, with its times from the recording's start."""

    heard: Heard

    @property
    def start_ms(self) -> int:
        """Where the phrase starts."""
        return self.heard.start * 1000 // RATE_HZ

    @property
    def end_ms(self) -> int:
        """Where the phrase ends."""
        return self.heard.end * 1000 // RATE_HZ

    @property
    def detected_ms(self) -> int:
        """Where it was decided: the recogniser's own delay after the end."""
        return self.heard.detected * 1000 // RATE_HZ

    def to_json(self) -> dict[str, object]:
        """A plain-data form for ``--json``."""
        return {
            "phrase": self.heard.phrase.words,
            "intent": self.heard.phrase.intent.value,
            "start_ms": self.start_ms,
            "end_ms": self.end_ms,
            "detected_ms": self.detected_ms,
            "score": round(self.heard.score, 2),
        }


def detect_pcm(
    chunks: Iterable[bytes], recognizer: Recognizer, gate: SilenceGate | None = None
) -> list[Detection]:
    """Run ``recognizer`` over 16 kHz PCM ``chunks`` (an iterable of bytes), gated by ``gate``."""
    recognizer.new_stream()
    found: list[Heard] = []
    for chunk in chunks:
        if gate is None:
            found += recognizer.feed(chunk)
            continue
        # Frame by frame: each frame of capture maps onto the session's own samples.
        for offset in range(0, len(chunk), FRAME_SAMPLES * 2):
            frame = chunk[offset : offset + FRAME_SAMPLES * 2]
            start = recognizer.position
            end = start + len(frame) // 2
            is_open = gate.is_open(_session(start, gate), _session(end, gate))
            found += recognizer.feed(frame, gate_open=is_open)
    found += recognizer.flush()
    return [Detection(h) for h in found]


def _session(sample: int, gate: SilenceGate) -> int:
    """The session sample heard at capture sample ``sample`` (both from the start)."""
    return sample * gate.sample_rate // RATE_HZ


def detect(
    path: Path, *, timeline: Timeline | None = None, recognizer: Recognizer | None = None
) -> list[Detection]:
    """The commands heard in the WAV file at ``path``, gated by ``timeline`` when given."""
    recording = open_recording(path)
    recognizer = recognizer or Recognizer()
    gate = SilenceGate(timeline) if timeline is not None else None
    return detect_pcm(blocks(recording), recognizer, gate)


def vocabulary(routine: str | None = None) -> list[dict[str, str]]:
    """What can be said, as rows (``phrase``, ``intent``, ``does``) for people and programs."""
    from voiceguide.errors import UsageError
    from voiceguide.listen.vocabulary import DOES, PHRASES

    if routine is not None:
        raise UsageError("--routine: only with --detect FILE.wav")
    return [{"phrase": p.words, "intent": p.intent.value, "does": DOES[p.intent]} for p in PHRASES]


def detect_for(path: Path, request: SessionRequest | None) -> list[Detection]:
    """The commands heard in the recording at ``path``, gated by the requested session if any.

    A bad recording is refused before the session is synthesized.
    """
    from voiceguide.app.session import open_session

    open_recording(path)
    recognizer = Recognizer()
    timeline = open_session(request).timeline if request is not None else None
    return detect(path, timeline=timeline, recognizer=recognizer)
