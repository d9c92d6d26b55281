"""Phrases heard in 16 kHz mono PCM, offline, with pocketsphinx and its packaged US English model.

Two steps, because keyword spotting alone (pocketsphinx's ``kws`` search) proved unreliable for
a set of phrases that share their first word: every "guide …" fired on the first "guide"
(tools/bench_listen.py, docs/listen.md). So:

1. **Find an utterance.** A voice-activity detector marks 30 ms frames as speech or not; an
   utterance starts when three of five frames are speech (with :data:`PRE_ROLL_MS` kept from
   before, so its first consonant is not lost) and ends after :data:`HANGOVER_MS` of
   non-speech. Anything longer than :data:`MAX_UTTERANCE_MS` is talk, not a command: dropped.
2. **Decide what it was.** A grammar search that can only hear one of the phrases says which
   fits best; a free phone loop says how well *any* speech would fit. A phrase counts only if
   its score per frame comes within :data:`THRESHOLD` of the phone loop's: words that are not
   a command fit the phone loop much better than any phrase.

Audio that the gate closes (see :mod:`voiceguide.listen.gate`) is never looked at: an
utterance the gate cuts into is dropped whole.
"""

from __future__ import annotations

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
HANGOVER_MS = 270
"""Non-speech that ends an utterance: the larger part of the time from a phrase's end to its
detection (see the latency in docs/listen.md)."""
TAIL_MS = 150
"""Of the hangover, kept at the end of the utterance (a final consonant fades into it)."""
MIN_SPEECH_MS = 300
MAX_UTTERANCE_MS = 4000
THRESHOLD = -12.0
"""Lowest score per frame, against the free phone loop, that counts as a phrase (measured)."""

_PRE_FRAMES = PRE_ROLL_MS // 30
_HANG_FRAMES = HANGOVER_MS // 30
_TAIL_FRAMES = TAIL_MS // 30
_MIN_FRAMES = MIN_SPEECH_MS // 30
_MAX_FRAMES = MAX_UTTERANCE_MS // 30
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
            decoder = pocketsphinx.Decoder(hmm=hmm, dict=dictionary, lm=None, loglevel="FATAL")
            missing = [w for p in phrases for w in p.words.split() if not decoder.lookup_word(w)]
            if missing:
                raise ValueError(f"not in the recogniser's dictionary: {', '.join(missing)}")
            decoder.add_jsgf_string("commands", grammar(phrases))
            decoder.add_allphone_file("phones", None)
            self._vad = pocketsphinx.Vad(pocketsphinx.Vad.MEDIUM_LOOSE, RATE_HZ, 0.03)
        except RuntimeError as error:
            raise ListenUnavailable(f"the speech recogniser would not start: {error}") from error
        self._decoder = decoder
        self._logmath = decoder.get_logmath()
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
        """Forget everything fed: the next sample fed is sample 0 of a new stream."""
        self._reset()
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

    def _step(self, frame: bytes, gate_open: bool) -> Heard | None:
        index = self._frame
        self._frame += 1
        if not gate_open:
            self._reset()  # a phrase the gate cuts into is not acted on
            return None
        speech = bool(self._vad.is_speech(frame))
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
            return None
        self._utterance.append(frame)
        self._quiet = 0 if speech else self._quiet + 1
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
        kept = frames[: len(frames) - max(0, quiet - _TAIL_FRAMES)]
        words, score = self._decide(b"".join(kept))
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

    def score(self, pcm: bytes) -> tuple[str | None, float]:
        """The phrase that fits a whole utterance best, and its score (for tests and the bench)."""
        return self._decide(pcm)

    def _decide(self, pcm: bytes) -> tuple[str | None, float]:
        words, fitted = self._search("commands", pcm)
        if words not in self.phrases or fitted is None:
            return None, float("-inf")  # nothing, or only the start of a phrase, fitted
        _, free = self._search("phones", pcm)
        if free is None:
            return None, float("-inf")
        return words, (fitted - free) / max(1, len(pcm) // (2 * RATE_HZ // 100))

    def _search(self, name: str, pcm: bytes) -> tuple[str | None, float | None]:
        decoder = self._decoder
        decoder.activate_search(name)
        decoder.start_utt()
        decoder.process_raw(pcm, False, True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is None or hypothesis.score <= 0:
            return None, None
        # The binding hands the score back through exp(); its log is the decoder's own.
        return str(hypothesis.hypstr), float(self._logmath.log(hypothesis.score))
