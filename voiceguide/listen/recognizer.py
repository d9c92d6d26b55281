"""Phrases heard in 16 kHz mono PCM, offline, with pocketsphinx and its packaged US English model.

Two steps, because keyword spotting alone (pocketsphinx's ``kws`` search) proved unreliable for
a set of phrases that share their first word: every "guide …" fired on the first "guide"
(tools/bench_listen.py, docs/listen.md). So:

1. **Find an utterance.** A 30 ms frame is speech when pocketsphinx's voice-activity
   detector says so and it stands :data:`SPEECH_OVER_FLOOR_DB` above the room's noise floor.
   An utterance starts when three of five frames are speech (with :data:`PRE_ROLL_MS` kept
   from before, so its first consonant is not lost) and ends after :data:`HANGOVER_MS` of
   non-speech. Anything longer than :data:`MAX_UTTERANCE_MS` is talk, not a command: dropped.
2. **Decide what it was.** A grammar search that can only hear one of the phrases says which
   fits best; a free phone loop says how well *any* speech would fit. A phrase counts only if
   its score per frame comes within :data:`THRESHOLD` of the phone loop's: words that are not
   a command fit the phone loop much better than any phrase. Both searches run while the
   utterance is being spoken, so little is left to do when it ends.

Audio that the gate closes (see :mod:`voiceguide.listen.gate`) is never looked at: an
utterance the gate cuts into, at its end or at its start, is dropped whole.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from voiceguide.listen.errors import ListenUnavailable
from voiceguide.listen.vocabulary import PHRASES, Phrase

RATE_HZ = 16_000
"""The rate the acoustic model was trained at; capture and recordings are brought to it."""
FRAME_SAMPLES = 480
"""30 ms: the voice-activity detector's frame."""
FRAME_BYTES = FRAME_SAMPLES * 2
PRE_ROLL_MS = 300
HANGOVER_MS = 450
"""Non-speech that ends an utterance: the larger part of the time from a phrase's end to its
detection (see the latency in docs/listen.md)."""
TAIL_MS = 150
"""Of the hangover, kept at the end of the utterance (a final consonant fades into it)."""
MIN_SPEECH_MS = 300
QUIET_BEFORE_MS = 150
"""Quiet heard (with the gate open) before an utterance may start: a phrase already under
way when the gate opens is not taken up halfway ("…ause now" is not "guide pause now")."""
MAX_UTTERANCE_MS = 4000
THRESHOLD = -14.0
"""Lowest score per frame, against the free phone loop, that counts as a phrase (measured)."""

_PRE_FRAMES = PRE_ROLL_MS // 30
_HANG_FRAMES = HANGOVER_MS // 30
_TAIL_FRAMES = TAIL_MS // 30
_MIN_FRAMES = MIN_SPEECH_MS // 30
_MAX_FRAMES = MAX_UTTERANCE_MS // 30
_ARM_FRAMES = QUIET_BEFORE_MS // 30
SPEECH_OVER_FLOOR_DB = 4.0
"""A frame is speech only if it is also this much louder than the room's noise floor."""
FLOOR_RISE_DB = 0.05
"""How fast the noise floor follows a room growing louder, per frame (1.7 dB a second)."""
_ONSET_WINDOW = 5
_ONSET_FRAMES = 3


@dataclass(frozen=True)
class Heard:
    """A phrase heard in the stream."""

    phrase: Phrase
    start: int
    """First sample of the utterance (16 kHz, counted from the start of the stream)."""
    end: int
    """The sample just after its last speech frame."""
    detected: int
    """The sample at which it was decided (the end plus the hangover)."""
    score: float
    """Score per frame against the free phone loop (0 is as good as any speech; see THRESHOLD)."""


def load_pocketsphinx() -> Any:
    """Import pocketsphinx, or raise :class:`ListenUnavailable` saying how to get it."""
    try:
        import pocketsphinx
    except ImportError as error:
        raise ListenUnavailable(
            f"voice commands need pocketsphinx, which is not installed ({error}); "
            "install it with: pip install pocketsphinx"
        ) from error
    return pocketsphinx


def model_paths() -> tuple[str, str]:
    """The acoustic model folder and the dictionary that the pocketsphinx package ships."""
    pocketsphinx = load_pocketsphinx()
    root = pocketsphinx.get_model_path()
    hmm = os.path.join(root, "en-us", "en-us")
    dictionary = os.path.join(root, "en-us", "cmudict-en-us.dict")
    for path in (os.path.join(hmm, "mdef"), dictionary):
        if not os.path.isfile(path):
            raise ListenUnavailable(f"the speech model for voice commands is missing: {path}")
    return hmm, dictionary


def grammar(phrases: Sequence[Phrase]) -> str:
    """The JSGF grammar that hears exactly one of ``phrases``."""
    alternatives = " | ".join(dict.fromkeys(p.words for p in phrases))
    return f"#JSGF V1.0;\ngrammar commands;\npublic <command> = {alternatives};\n"


class Recognizer:
    """Feed it 16 kHz mono 16-bit PCM with the gate's verdict; it returns the phrases heard.

    Not thread-safe: one thread feeds it (the listener's, or ``--detect``'s loop).
    """

    def __init__(
        self, phrases: Sequence[Phrase] = PHRASES, *, threshold: float = THRESHOLD
    ) -> None:
        """Load the model and the grammar of ``phrases``; raise :class:`ListenUnavailable`."""
        pocketsphinx = load_pocketsphinx()
        hmm, dictionary = model_paths()
        self.phrases = {p.words: p for p in phrases}
        self.threshold = threshold
        try:
            # Two decoders, so both searches run while the utterance is still being spoken,
            # and only their last frames are left to do once it ends (see _finish).
            commands, phones = (
                pocketsphinx.Decoder(hmm=hmm, dict=dictionary, lm=None, loglevel="FATAL")
                for _ in range(2)
            )
            missing = [w for p in phrases for w in p.words.split() if not commands.lookup_word(w)]
            if missing:
                raise ValueError(f"not in the recogniser's dictionary: {', '.join(missing)}")
            commands.add_jsgf_string("commands", grammar(phrases))
            commands.activate_search("commands")
            phones.add_allphone_file("phones", None)
            phones.activate_search("phones")
            self._vad = pocketsphinx.Vad(pocketsphinx.Vad.MEDIUM_LOOSE, RATE_HZ, 0.03)
        except RuntimeError as error:
            raise ListenUnavailable(f"the speech recogniser would not start: {error}") from error
        self._decoders = (commands, phones)
        self._logmath = commands.get_logmath()
        self._unsent: deque[bytes] = deque()
        """Frames of the utterance not yet decoded: the last ones may be cut off at its end."""
        self._sent = 0
        self._decoding = False
        self._pending = b""
        self._frame = 0
        """Index of the next frame fed."""
        self._recent: deque[tuple[bytes, bool]] = deque(maxlen=max(_PRE_FRAMES, _ONSET_WINDOW))
        self._utterance: list[bytes] | None = None
        self._first = 0
        """Frame index where the utterance being gathered starts (its pre-roll included)."""
        self._onset = 0
        self._quiet = 0
        self._too_long = False
        self._armed = 0
        """Quiet frames heard in a row since the gate last shut (up to _ARM_FRAMES)."""
        self._was_speech = False
        self._floor_db: float | None = None
        """The room's noise floor: the quietest recent frame, rising slowly."""
        self._last_sample = 0.0

    @property
    def position(self) -> int:
        """Samples fed so far (whole frames and the part of one still pending)."""
        return self._frame * FRAME_SAMPLES + len(self._pending) // 2

    def feed(self, pcm: bytes, *, gate_open: bool = True) -> list[Heard]:
        """Take ``pcm`` (whole samples); return what was heard in it and before it."""
        data = self._pending + pcm
        whole = len(data) // FRAME_BYTES * FRAME_BYTES
        self._pending = data[whole:]
        heard: list[Heard] = []
        for offset in range(0, whole, FRAME_BYTES):
            found = self._step(data[offset : offset + FRAME_BYTES], gate_open)
            if found is not None:
                heard.append(found)
        return heard

    def new_stream(self) -> None:
        """Forget everything fed: the next sample fed is sample 0 of a new stream (a new room)."""
        self._reset()
        self._armed = 0
        self._floor_db = None
        self._was_speech = False
        self._pending = b""
        self._frame = 0

    def flush(self) -> list[Heard]:
        """The stream ended: decide on an utterance still being gathered."""
        self._pending = b""
        if self._utterance is None or self._too_long:
            self._reset()
            return []
        found = self._finish(quiet=self._quiet)
        self._reset()
        return [found] if found is not None else []

    def _reset(self) -> None:
        self._utterance = None
        self._recent.clear()
        self._quiet = 0
        self._too_long = False
        self._unsent.clear()
        if self._decoding:
            for decoder in self._decoders:
                decoder.end_utt()
            self._decoding = False

    def _start_decoding(self, frames: list[bytes]) -> None:
        for decoder in self._decoders:
            decoder.start_utt()
        self._decoding = True
        self._sent = 0
        self._unsent = deque()
        for frame in frames:
            self._queue(frame)

    def _queue(self, frame: bytes) -> None:
        """Decode all but the last few frames: those may be the silence cut off at the end."""
        self._unsent.append(frame)
        while len(self._unsent) > _HANG_FRAMES - _TAIL_FRAMES:
            self._send(self._unsent.popleft())

    def _send(self, frame: bytes) -> None:
        if self._too_long:
            return  # no longer worth decoding
        for decoder in self._decoders:
            decoder.process_raw(frame, False, False)
        self._sent += 1

    def _step(self, frame: bytes, gate_open: bool) -> Heard | None:
        index = self._frame
        self._frame += 1
        if not gate_open:
            self._reset()  # a phrase the gate cuts into is not acted on
            self._armed = 0
            return None
        speech = self._is_speech(frame)
        if self._armed < _ARM_FRAMES:
            self._armed = 0 if speech else self._armed + 1
            return None
        if self._utterance is None:
            self._recent.append((frame, speech))
            window = list(self._recent)[-_ONSET_WINDOW:]
            if sum(s for _, s in window) >= _ONSET_FRAMES:
                kept = list(self._recent)[-_PRE_FRAMES:]
                self._utterance = [f for f, _ in kept]
                self._first = index + 1 - len(kept)
                self._onset = index + 1 - len(window)
                self._quiet = 0
                self._recent.clear()
                self._start_decoding(self._utterance)
            return None
        self._utterance.append(frame)
        self._queue(frame)
        # One speech frame alone in the quiet is the room, not the voice going on.
        self._quiet = 0 if speech and self._was_speech else self._quiet + 1
        self._was_speech = speech
        if len(self._utterance) > _MAX_FRAMES:
            self._too_long = True  # talk, not a command: wait for it to end
        if self._quiet < _HANG_FRAMES:
            return None
        found = None if self._too_long else self._finish(quiet=self._quiet)
        self._reset()
        return found

    def _finish(self, *, quiet: int) -> Heard | None:
        assert self._utterance is not None
        frames = self._utterance
        speech_frames = len(frames) - quiet - (self._onset - self._first)
        if speech_frames < _MIN_FRAMES:
            return None
        # Decoded so far: all but the unsent frames; of those, keep what the tail allows.
        keep = len(frames) - max(0, quiet - _TAIL_FRAMES)
        while self._unsent and self._sent < keep:
            self._send(self._unsent.popleft())
        words, score = self._conclude()
        if words is None or score < self.threshold:
            # Decoding as it came, the normalisation of the sound (cepstral mean) is the one
            # learnt from earlier utterances; the first in a new room can fail on it alone.
            # Once more over the whole utterance, normalised on itself.
            words, score = self._decode_whole(b"".join(frames[:keep]))
        if words is None or score < self.threshold:
            return None
        end_frame = self._first + len(frames) - quiet
        return Heard(
            phrase=self.phrases[words],
            start=self._onset * FRAME_SAMPLES,
            end=end_frame * FRAME_SAMPLES,
            detected=(self._first + len(frames)) * FRAME_SAMPLES,
            score=score,
        )

    def _is_speech(self, frame: bytes) -> bool:
        """The voice-activity detector's verdict, if the frame also stands out of the noise.

        The detector alone takes low, steady room noise for speech at 10 dB SNR; the level
        test (of the pre-emphasised frame, so a hum counts for little) keeps it honest.
        """
        import numpy as np

        samples = np.frombuffer(frame, dtype="<i2").astype(np.float64)
        emphasised = np.diff(samples, prepend=self._last_sample)
        self._last_sample = float(samples[-1])
        level_db = 10 * math.log10(float(np.mean(emphasised**2)) + 1.0)
        floor = self._floor_db
        self._floor_db = level_db if floor is None or level_db < floor else floor + FLOOR_RISE_DB
        loud = floor is not None and level_db > floor + SPEECH_OVER_FLOOR_DB
        return loud and bool(self._vad.is_speech(frame))

    def _decode_whole(self, pcm: bytes) -> tuple[str | None, float]:
        for decoder in self._decoders:
            decoder.start_utt()
            decoder.process_raw(pcm, False, True)
        self._sent = len(pcm) // FRAME_BYTES
        return self._conclude()

    def _conclude(self) -> tuple[str | None, float]:
        """End both searches; the phrase that fits best and its score against the phone loop."""
        (words, fitted), (_, free) = (self._result(d) for d in self._decoders)
        self._decoding = False
        if words not in self.phrases or fitted is None or free is None:
            return None, float("-inf")  # nothing, or only the start of a phrase, fitted
        return words, (fitted - free) / max(1, self._sent * FRAME_SAMPLES // (RATE_HZ // 100))

    def _result(self, decoder: Any) -> tuple[str | None, float | None]:
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is None or hypothesis.score <= 0:
            return None, None
        # The binding hands the score back through exp(); its log is the decoder's own.
        return str(hypothesis.hypstr), float(self._logmath.log(hypothesis.score))
