"""The chapters an exported file carries: named for what happens, none too short to jump to.

The timeline labels every cue with the chapter it belongs to (what the live view shows);
this module turns those labels into the chapter list a podcast player shows. It is a pure
function of the timeline:

- a part of a block says its block, its side and its round: "Elbow point — right side",
  "Hand point — left side, round 2 of 3";
- the routine's own steps between its titled parts never repeat the routine's title: the
  ones before the first part join the introduction, the ones after the last are the
  closing, and the ones in between are named by their first sentence;
- no chapter is shorter than :data:`MIN_CHAPTER_MS`: a short one joins the neighbour it
  has most in common with (the same block and side, then the same block), else the
  shorter one;
- a title that comes back later (a second round of the whole routine) is numbered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from voiceguide.compile.phrases import side_title
from voiceguide.compile.timeline import Chapter

if TYPE_CHECKING:
    from voiceguide.compile.timeline import Cue, Timeline

MIN_CHAPTER_MS = 15_000
"""A chapter shorter than this is too short to find by skipping: it joins a neighbour."""
TITLE_CHARS = 48
"""The longest title taken from a sentence (cut at a word, with an ellipsis)."""
INTRODUCTION = "Introduction"
CLOSING = "Closing"
GETTING_READY = "Getting ready"


@dataclass(frozen=True)
class _Part:
    """A run of cues and what it is made of, before it gets its title."""

    start: int
    end: int
    kind: Literal["intro", "body", "closing"]
    base: str | None
    """The titled step or included routine it belongs to; ``None`` for the routine's own."""
    side: str | None
    """The side's own title ("Right side"), inside a ``sides`` block."""
    rounds: tuple[int, int, int] | None = None
    """First and last round it holds, and how many rounds there are."""
    said: str = ""
    """The first thing said in it, to name a part that has no title."""

    @property
    def title(self) -> str:
        words = [self.base] if self.base else []
        if self.side:
            words.append(_lower_first(self.side) if self.base else self.side)
        title = " — ".join(words)
        if self.rounds is None:
            return title
        first, last, of = self.rounds
        held = f"round {first} of {of}" if first == last else f"rounds {first}–{last} of {of}"
        return f"{title}, {held}" if title else held[0].upper() + held[1:]


def chapters(timeline: Timeline, min_ms: int = MIN_CHAPTER_MS) -> list[Chapter]:
    """Return the chapters to write into an exported file of ``timeline``, in order."""
    parts = _name_untitled(_parts(timeline), timeline.title)
    parts = _join_same_titles(parts)
    min_samples = min_ms * timeline.sample_rate // 1000
    while len(parts) > 1:
        shortest = min(range(len(parts)), key=lambda i: parts[i].end - parts[i].start)
        if parts[shortest].end - parts[shortest].start >= min_samples:
            break
        parts = _join_same_titles(_merge_into_neighbour(parts, shortest))
    return _numbered([Chapter(p.start, p.end, p.title) for p in parts])


def _parts(timeline: Timeline) -> list[_Part]:
    """Cut the timeline into runs of cues with the same chapter label and round."""
    runs: list[list[Cue]] = []
    for cue in timeline.cues:
        if runs and (runs[-1][0].chapter, runs[-1][0].round) == (cue.chapter, cue.round):
            runs[-1].append(cue)
        else:
            runs.append([cue])
    parts: list[_Part] = []
    for run in runs:
        first = run[0]
        base, side = _block_and_side(first, timeline.title)
        kind: Literal["intro", "body", "closing"] = "body"
        if first.phase == "intro" and first.chapter == INTRODUCTION:
            kind, base = "intro", INTRODUCTION
        elif first.phase == "closing" and first.chapter == CLOSING:
            kind, base = "closing", CLOSING
        said = next((c.text for c in run if c.kind == "speech"), "")
        rounds = (first.round, first.round, first.round) if first.round is not None else None
        parts.append(_Part(first.start, run[-1].end, kind, base, side, rounds, said))
    return _count_rounds(parts)


def _block_and_side(cue: Cue, routine_title: str) -> tuple[str | None, str | None]:
    """Split a cue's chapter label into its block's title and its side's, as compiled."""
    if cue.side is not None:
        own = side_title(cue.side)
        if cue.chapter == own:
            return None, own
        suffix = f": {own.lower()}"
        if cue.chapter.endswith(suffix):
            block = cue.chapter[: -len(suffix)]
            # "Introduction: introduction side" would say one thing twice.
            twice = block.casefold() in (own.casefold(), cue.side.casefold())
            return (None if twice else block), own
    return (None if cue.chapter == routine_title else cue.chapter), None


def _count_rounds(parts: list[_Part]) -> list[_Part]:
    """Say how many rounds each round is of: the number of the last in its run of rounds."""
    counted = list(parts)
    start = 0
    for i in range(1, len(parts) + 1):
        if i < len(parts) and _next_round(parts[i - 1], parts[i]):
            continue
        last = parts[i - 1].rounds
        if last is not None:
            for k in range(start, i):
                number = parts[k].rounds
                if number is not None:
                    counted[k] = replace(parts[k], rounds=(number[0], number[0], last[0]))
        start = i
    return counted


def _next_round(a: _Part, b: _Part) -> bool:
    """Whether ``b`` is the round after ``a`` of the same repeat."""
    if a.rounds is None or b.rounds is None:
        return False
    return _same_place(a, b) and b.rounds[0] == a.rounds[0] + 1


def _same_place(a: _Part, b: _Part) -> bool:
    return (a.kind, a.base, a.side) == (b.kind, b.base, b.side)


def _name_untitled(parts: list[_Part], routine_title: str) -> list[_Part]:
    """Name the parts of the routine's own steps, which carry no title of their own."""
    titled = [i for i, p in enumerate(parts) if p.kind == "body" and (p.base or p.side)]
    named: list[_Part] = []
    for i, part in enumerate(parts):
        if part.kind != "body" or part.base or part.side:
            named.append(part)
        elif not titled:
            named.append(replace(part, base=routine_title))
        elif i < titled[0]:
            after_intro = bool(named) and named[-1].kind == "intro"
            named.append(replace(part, base=INTRODUCTION if after_intro else GETTING_READY))
        elif i > titled[-1]:
            named.append(replace(part, base=CLOSING))
        else:
            named.append(replace(part, base=_first_sentence(part.said) or "Pause"))
    return named


def _first_sentence(text: str) -> str:
    """The first sentence of ``text``, without its full stop, cut to :data:`TITLE_CHARS`."""
    flat = " ".join(text.split())
    sentence = re.split(r"(?<=[.!?])\s", flat, maxsplit=1)[0].rstrip(".!?")
    if len(sentence) <= TITLE_CHARS:
        return sentence
    return sentence[:TITLE_CHARS].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _join_same_titles(parts: list[_Part]) -> list[_Part]:
    """Join neighbours that would show the same title."""
    joined: list[_Part] = []
    for part in parts:
        if joined and joined[-1].title == part.title:
            joined[-1] = replace(joined[-1], end=part.end)
        else:
            joined.append(part)
    return joined


def _kinship(a: _Part, b: _Part) -> int:
    """How much two parts share: 2 the same block and side, 1 the same block, else 0."""
    if a.base is None or a.base != b.base:
        return 0
    return 2 if a.side == b.side else 1


def _merge_into_neighbour(parts: list[_Part], i: int) -> list[_Part]:
    """Join part ``i`` to the neighbour it has most in common with.

    On a tie, the shorter neighbour (so short rounds pair up rather than pile onto one),
    then the earlier.
    """
    short = parts[i]
    neighbours = [j for j in (i - 1, i + 1) if 0 <= j < len(parts)]
    into = max(
        neighbours,
        key=lambda j: (_kinship(short, parts[j]), parts[j].start - parts[j].end, j == i - 1),
    )
    target = parts[into]
    rounds = target.rounds
    if rounds and short.rounds and _kinship(short, target) == 2:
        rounds = (min(rounds[0], short.rounds[0]), max(rounds[1], short.rounds[1]), rounds[2])
    merged = replace(
        target, start=min(target.start, short.start), end=max(target.end, short.end), rounds=rounds
    )
    low, high = min(i, into), max(i, into)
    return [*parts[:low], merged, *parts[high + 1 :]]


def _numbered(found: list[Chapter]) -> list[Chapter]:
    """Number a title that comes back later: "Elbow point", …, "Elbow point (2)"."""
    seen: dict[str, int] = {}
    numbered: list[Chapter] = []
    for chapter in found:
        seen[chapter.title] = seen.get(chapter.title, 0) + 1
        count = seen[chapter.title]
        title = f"{chapter.title} ({count})" if count > 1 else chapter.title
        numbered.append(replace(chapter, title=title))
    return numbered


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]
