"""Build the typed routine from checked values: points, settings, steps, includes, sounds.

The checker has said what is wrong with the file's shape; this says what is wrong with
what it means: a point that does not exist, a prompt after its hold ends, an include
that leads back to itself, a block that would make the session too long. It builds as
much as it can, so that one mistake does not hide or cause others.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from voiceguide.errors import NotFoundError, Position, Problem, VoiceguideError
from voiceguide.prefs import VoicePrefs
from voiceguide.script import extent, places, spec
from voiceguide.script.checked import At, CheckedStep, Fields
from voiceguide.script.durations import format_ms
from voiceguide.script.model import (
    Activity,
    Bounds,
    Include,
    Pause,
    Point,
    Press,
    Prompt,
    Repeat,
    Routine,
    Say,
    Settings,
    Sides,
    Sound,
    Step,
)
from voiceguide.script.source import Source, display_path
from voiceguide.script.values import (
    bounds_of,
    brief_of,
    build_points,
    fields_of,
    is_file_of,
    items_of,
    number_of,
    or_default,
    pressure_of,
    text_of,
)
from voiceguide.script.yamltext import quoted, suggest

__all__ = ["Builder", "Resolver", "Session", "build_points"]

T = TypeVar("T")

Resolver = Callable[[str, Path], Path]
"""Find an included routine: ``(name, including_file) -> path``; raises NotFoundError."""


@dataclass
class Session:
    """State shared by every file read for one top-level load."""

    resolve: Resolver
    load: Callable[[Session, Path, str], Routine | None]
    """Load an included file (the loader's own function, passed in)."""
    shared_points: Mapping[str, Point]
    allow_outside: bool = False
    problems: list[Problem] = field(default_factory=list)
    stack: list[Path] = field(default_factory=list)
    cache: dict[Path, Routine | None] = field(default_factory=dict)
    extents: extent.Memo = field(default_factory=dict)
    oversized: set[Path] = field(default_factory=set)
    """Files already reported for lasting too long: an include of them says nothing more."""


class Builder:
    """Build one file's routine from its checked fields."""

    def __init__(self, session: Session, source: Source) -> None:
        self.session = session
        self.source = source
        self.points: dict[str, Point] = dict(session.shared_points)
        self.broken: set[str] = set()
        """Points this file defines but that are not valid: a press of one says no more."""
        self.unknown_points = False
        """The file's ``points`` could not be read at all: any point might have been there."""

    def problem(self, where: Position, message: str) -> None:
        self.session.problems.append(Problem(where, message))

    def routine(self, fields: Fields) -> Routine | None:
        settings = self.settings(fields.fields("settings"))
        own, broken = build_points(fields.entries("points"))
        self.points.update(own)
        self.broken = broken
        self.unknown_points = "points" in fields.invalid
        steps = self.steps(fields.steps("steps"), settings, top=True)
        title = fields.text("title")
        if title is None or not fields.given("steps"):
            return None
        return Routine(
            name=self.source.path.stem,
            title=title,
            source=str(self.source.path),
            steps=steps,
            summary=fields.text("summary"),
            posture=fields.text("posture"),
            cautions=fields.texts("cautions"),
            settings=settings,
            points=self.points,
        )

    def settings(self, fields: Fields | None) -> Settings:
        if fields is None:
            return Settings()
        tones = fields.flag("tones")
        return Settings(
            prefs=VoicePrefs(
                engine=fields.text("engine"),
                voice=fields.text("voice"),
                rate_wpm=fields.number("rate"),
                pitch=fields.number("pitch"),
                volume_pct=fields.number("volume"),
            ),
            find_ms=or_default(fields.number("find"), Settings.find_ms),
            rest_ms=or_default(fields.number("rest"), Settings.rest_ms),
            lead_in_ms=or_default(fields.number("lead_in"), Settings.lead_in_ms),
            tones=tones,
            bed=self.bed(fields),
            positions={key: fields.at(key) for key in fields.values},
        )

    def bed(self, fields: Fields) -> str | None:
        """``settings.bed``: a built-in bed, ``none``, or a file relative to this script."""
        name = fields.text("bed")
        if name is None:
            return None
        where = fields.at("bed")
        if name in spec.BED_NAMES or name.lower() in spec.NO_BED:
            return name
        if "/" in name or "." in name:
            return self.sound_file(name, where, "bed")
        self.problem(
            where,
            f"bed: expected one of {', '.join((*spec.BED_NAMES, 'none'))} or a sound file, "
            f"got {quoted(name)}{suggest(name, spec.BED_NAMES)}",
        )
        return None

    # -- steps ----------------------------------------------------------

    def steps(
        self, checked: tuple[CheckedStep, ...], settings: Settings, *, top: bool = False
    ) -> tuple[Step, ...]:
        built: list[Step] = []
        total = extent.Extent()
        for item in checked:
            step = self.step(item, settings)
            if step is None:
                continue
            if top and self.source.path not in self.session.oversized:
                total += extent.of_step(step, self.session.extents)
                if self.too_big(item, total, "up to this step"):
                    self.session.oversized.add(self.source.path)
            built.append(step)
        return tuple(built)

    def too_big(self, item: CheckedStep, size: extent.Extent, where: str) -> bool:
        """Report (at ``item``) a size past a session's bounds; whether it was."""
        if size.timed_ms > spec.MAX_SESSION_MS:
            self.problem(
                item.position,
                f"{item.kind}: at least {format_ms(size.timed_ms)} of pauses, holds and rests "
                f"{where}; a session lasts at most {format_ms(spec.MAX_SESSION_MS)}",
            )
            return True
        if size.cues > spec.MAX_CUES:
            self.problem(
                item.position,
                f"{item.kind}: up to {size.cues:,} sounds and silences {where}; "
                f"a session holds at most {spec.MAX_CUES:,}",
            )
            return True
        return False

    def step(self, item: CheckedStep, settings: Settings) -> Step | None:
        title = item.siblings.text("title")
        pos, path, value = item.position, item.path, item.value
        if item.kind in ("sides", "repeat"):
            inner = self.steps(item.siblings.steps("steps"), settings)
            if value is None or not inner:
                return None
            block: Sides | Repeat
            if item.kind == "sides":
                sides = tuple(i.value for i in items_of(value) if isinstance(i.value, str))
                block = Sides(sides, inner, pos, path, title)
            else:
                block = Repeat(number_of(value), inner, pos, path, title)
            size = extent.of_step(block, self.session.extents)
            return None if self.too_big(item, size, "inside this block") else block
        if item.kind == "press":
            return self.press(value, pos, path, settings)
        if value is None:
            return None
        match item.kind:
            case "say":
                return Say(text_of(value), pos, path, title, brief=brief_of(value))
            case "pause":
                return Pause(number_of(value), pos, path, title, bounds=bounds_of(value))
            case "sound":
                return self.sound(value, pos, path, title)
            case "include":
                return self.include(item, value, title)
            case "activity":
                return self.activity(fields_of(value), pos, path)
        raise AssertionError(item.kind)  # pragma: no cover - every step kind is handled above

    def point(self, fields: Fields) -> Point | None:
        """The point a press names; a problem if it names none (unless that would cascade)."""
        key = fields.text("point")
        if key is None:
            return None
        point = self.points.get(key)
        if point is None and key not in self.broken and not self.unknown_points:
            hint = suggest(key, self.points)
            self.problem(fields.at("point"), f"point: no point named {key!r}{hint}")
        return point

    def press(
        self, value: At[object] | None, pos: Position, path: str, settings: Settings
    ) -> Press | None:
        if value is None:
            return None
        fields = fields_of(value)
        point = self.point(fields)
        hold_ms = fields.number("hold")
        if point is None or hold_ms is None or not fields.complete:
            return None
        reps = or_default(fields.number("reps"), 1)
        return Press(
            point=point,
            hold_ms=hold_ms,
            position=pos,
            path=path,
            reps=reps,
            rest_ms=or_default(fields.number("rest"), settings.rest_ms),
            find_ms=or_default(fields.number("find"), settings.find_ms),
            pressure=pressure_of(fields.text("pressure")) or point.pressure or "firm",
            say=fields.text("say"),
            prompts=self.prompts(fields, hold_ms, "hold"),
            countdown=self.countdown(fields, hold_ms, "hold"),
            halfway=bool(fields.flag("halfway")),
            title=fields.text("title"),
            say_brief=fields.brief("say"),
            hold_bounds=Bounds(*fields.bounds("hold")),
            rest_bounds=Bounds(*fields.bounds("rest")),
            reps_bounds=Bounds(*fields.bounds("reps")),
        )

    def activity(self, fields: Fields, pos: Position, path: str) -> Activity | None:
        say, duration_ms = fields.text("say"), fields.number("for")
        if say is None or duration_ms is None or not fields.complete:
            return None
        return Activity(
            say=say,
            duration_ms=duration_ms,
            position=pos,
            path=path,
            done=or_default(fields.text("done"), Activity.done),
            prompts=self.prompts(fields, duration_ms, "activity"),
            countdown=self.countdown(fields, duration_ms, "activity"),
            halfway=bool(fields.flag("halfway")),
            title=fields.text("title"),
            say_brief=fields.brief("say"),
            done_brief=fields.brief("done"),
            bounds=Bounds(*fields.bounds("for")),
        )

    def prompts(self, fields: Fields, phase_ms: int, phase: str) -> tuple[Prompt, ...]:
        built = []
        for prompt in fields.mappings("prompts"):
            at, say = prompt.offset("at"), prompt.text("say")
            if at is None or say is None:
                continue
            if at.ms is not None and at.ms >= phase_ms:
                self.problem(
                    prompt.at("at"),
                    f"at: expected a time inside the {format_ms(phase_ms)} {phase}, "
                    f"got {format_ms(at.ms)}",
                )
                continue
            built.append(Prompt(at, say, prompt.position, prompt.brief("say")))
        return tuple(built)

    def countdown(self, fields: Fields, phase_ms: int, phase: str) -> int:
        count = or_default(fields.number("countdown"), 0)
        if count * 1000 >= phase_ms:
            self.problem(
                fields.at("countdown"),
                f"countdown: expected fewer ticks than the {format_ms(phase_ms)} {phase} "
                f"has seconds, got {count}",
            )
        return count

    def sound(self, value: At[object], pos: Position, path: str, title: str | None) -> Sound | None:
        name = text_of(value)
        if name in spec.SOUND_NAMES:
            return Sound(name, pos, path, title)
        if "/" in name or "." in name:
            file = self.sound_file(name, value.position, "sound")
            return Sound(file, pos, path, title) if file is not None else None
        hint = suggest(name, spec.SOUND_NAMES)
        self.problem(
            value.position,
            f"sound: expected one of {', '.join(spec.SOUND_NAMES)} or a sound file, "
            f"got {quoted(name)}{hint}",
        )
        return None

    def sound_file(self, name: str, where: Position, key: str) -> str | None:
        """The sound file ``name`` relative to this script, or ``None`` (reported under ``key``)."""
        refused = places.refusal(name, self.source.path, self.session.allow_outside)
        if refused:
            self.problem(where, f"{key}: {refused}")
            return None
        file = (self.source.path.parent / Path(name).expanduser()).resolve()
        if is_file_of(file):
            return str(file)
        self.problem(where, f"{key}: no sound file at {quoted(name)} (relative to this script)")
        return None

    def include(self, item: CheckedStep, value: At[object], title: str | None) -> Include | None:
        session = self.session
        name = text_of(value)
        try:
            target = session.resolve(name, self.source.path).resolve()
        except (VoiceguideError, OSError, RuntimeError) as exc:
            self.problem(value.position, f"include: {exc}")
            return None
        if target in session.stack:
            chain = [p.stem for p in session.stack[session.stack.index(target) :]] + [target.stem]
            self.problem(value.position, f"include: {' → '.join(chain)} includes itself")
            return None
        if len(session.stack) >= spec.MAX_INCLUDE_DEPTH:
            most = spec.MAX_INCLUDE_DEPTH
            self.problem(value.position, f"include: expected at most {most} levels")
            return None
        try:
            routine = session.load(session, target, display_path(target))
        except NotFoundError as exc:
            self.problem(value.position, f"include: {exc}")
            return None
        if routine is None or target in session.oversized:
            return None
        step = Include(routine, item.position, item.path, title)
        size = extent.of_step(step, session.extents)
        return None if self.too_big(item, size, "in the included routine") else step
