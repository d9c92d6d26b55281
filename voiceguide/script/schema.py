"""The JSON Schema of routine scripts, generated from :mod:`voiceguide.script.spec`.

Editors that speak the YAML language server use it to complete and check
scripts: put ``# yaml-language-server: $schema=<path or URL>`` on the first line.
Durations and percentages use the very patterns the loader parses with
(:mod:`voiceguide.script.durations`).
"""

from __future__ import annotations

from typing import Any, assert_never

from voiceguide.script import spec
from voiceguide.script.durations import DURATION_PATTERN, PERCENT_PATTERN
from voiceguide.script.durations import EXAMPLES as DURATION_EXAMPLES
from voiceguide.script.kinds import (
    Boolean,
    Choice,
    Duration,
    Integer,
    Kind,
    ListOf,
    MapOf,
    Moment,
    Name,
    Number,
    Object,
    ObjectSpec,
    Steps,
    StepSpec,
    Text,
    Words,
)

SCHEMA_ID = "https://voiceguide.invalid/schema/routine.json"


def _kind(kind: Kind, defs: dict[str, Any]) -> dict[str, Any]:
    match kind:
        case Text():
            return {"type": "string", "minLength": 1, "maxLength": kind.max_chars}
        case Words():
            return {"anyOf": [_kind(kind.text, defs), _object(kind.spec, defs)]}
        case Name():
            return {"type": "string", "pattern": kind.pattern}
        case Duration() if kind.flexible:
            plain = _kind(Duration(kind.min_ms, kind.max_ms), defs)
            return {"anyOf": [plain, _object(kind.spec, defs)]}
        case Integer() if kind.flexible:
            plain = _kind(Integer(kind.minimum, kind.maximum), defs)
            return {"anyOf": [plain, _object(kind.spec, defs)]}
        case Duration():
            return {
                "anyOf": [
                    {"type": "string", "pattern": DURATION_PATTERN},
                    {
                        "type": "number",
                        "minimum": kind.min_ms / 1000,
                        "maximum": kind.max_ms / 1000,
                    },
                ],
                "description": f"A duration like {DURATION_EXAMPLES}; a bare number is seconds.",
            }
        case Integer():
            return {"type": "integer", "minimum": kind.minimum, "maximum": kind.maximum}
        case Number():
            return {"type": "number", "minimum": kind.minimum, "maximum": kind.maximum}
        case Boolean():
            return {"type": "boolean"}
        case Choice():
            return {"enum": list(kind.values)}
        case Moment():
            return {
                "anyOf": [
                    {"type": "string", "pattern": PERCENT_PATTERN},
                    {"type": "string", "pattern": DURATION_PATTERN},
                    {"type": "number", "minimum": 0},
                ]
            }
        case ListOf():
            return {
                "type": "array",
                "items": _kind(kind.item, defs),
                "minItems": kind.min_items,
                "maxItems": kind.max_items,
            }
        case Object():
            return _ref(kind.spec, defs)
        case MapOf():
            return {
                "type": "object",
                "propertyNames": {"pattern": Name().pattern},
                "additionalProperties": _ref(kind.value, defs),
                "maxProperties": kind.max_items,
            }
        case Steps():
            return {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1}
        case _:
            assert_never(kind)


def _object(object_spec: ObjectSpec, defs: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for key in object_spec.keys:
        prop = _kind(key.kind, defs)
        description = key.doc + (f" Default: {key.default}." if key.default else "")
        prop["description"] = description
        properties[key.name] = prop
    schema: dict[str, Any] = {
        "type": "object",
        "description": object_spec.doc,
        "properties": properties,
        "additionalProperties": False,
    }
    required = [k.name for k in object_spec.keys if k.required]
    if required:
        schema["required"] = required
    return schema


def _ref(object_spec: ObjectSpec, defs: dict[str, Any]) -> dict[str, Any]:
    name = object_spec.title.replace(" ", "_")
    if name not in defs:
        defs[name] = {}  # reserve the name first: specs may refer to themselves
        defs[name] = _object(object_spec, defs)
    return {"$ref": f"#/$defs/{name}"}


def _step(step_spec: StepSpec, defs: dict[str, Any]) -> dict[str, Any]:
    value = _kind(step_spec.value, defs)
    value["description"] = step_spec.doc
    properties = {step_spec.key: value}
    for sibling in step_spec.siblings:
        prop = _kind(sibling.kind, defs)
        prop["description"] = sibling.doc
        properties[sibling.name] = prop
    return {
        "type": "object",
        "description": step_spec.doc,
        "properties": properties,
        "required": [step_spec.key] + [s.name for s in step_spec.siblings if s.required],
        "additionalProperties": False,
    }


def routine_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of a routine script."""
    defs: dict[str, Any] = {}
    defs["step"] = {"oneOf": [_step(s, defs) for s in spec.STEP_SPECS]}
    root = _object(spec.ROUTINE, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "voiceguide routine",
        **root,
        "$defs": defs,
    }
