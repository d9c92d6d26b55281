"""The JSON Schema of routine scripts, generated from :mod:`voiceguide.script.spec`.

Editors that speak the YAML language server use it to complete and check
scripts: put ``# yaml-language-server: $schema=<path or URL>`` on the first line.
"""

from __future__ import annotations

from typing import Any

from voiceguide.script import spec
from voiceguide.script.durations import EXAMPLES as DURATION_EXAMPLES

SCHEMA_ID = "https://voiceguide.invalid/schema/routine.json"
DURATION_PATTERN = (
    r"^\s*-?(?:\d+(?:\.\d+)?\s*(?:h|ms|m|s)\s*)+$|^\s*\d+(?:\.\d+)?\s*$"
    r"|^\s*(?:\d+:)?\d+:\d{2}(?:\.\d{1,3})?\s*$"
)
MOMENT_PATTERN = r"^\s*\d{1,2}\s*%\s*$"


def _kind(kind: spec.Kind, defs: dict[str, Any]) -> dict[str, Any]:
    if isinstance(kind, spec.Text):
        return {"type": "string", "minLength": 1, "maxLength": kind.max_chars}
    if isinstance(kind, spec.Name):
        return {"type": "string", "pattern": kind.pattern}
    if isinstance(kind, spec.Duration):
        return {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": kind.min_ms / 1000, "maximum": kind.max_ms / 1000},
            ],
            "description": f"A duration like {DURATION_EXAMPLES}; a bare number is seconds.",
        }
    if isinstance(kind, spec.Integer):
        return {"type": "integer", "minimum": kind.minimum, "maximum": kind.maximum}
    if isinstance(kind, spec.Boolean):
        return {"type": "boolean"}
    if isinstance(kind, spec.Choice):
        return {"enum": list(kind.values)}
    if isinstance(kind, spec.Moment):
        return {
            "anyOf": [
                {"type": "string", "pattern": MOMENT_PATTERN},
                {"type": "string", "pattern": DURATION_PATTERN},
                {"type": "number", "minimum": 0},
            ]
        }
    if isinstance(kind, spec.ListOf):
        return {
            "type": "array",
            "items": _kind(kind.item, defs),
            "minItems": kind.min_items,
            "maxItems": kind.max_items,
        }
    if isinstance(kind, spec.Object):
        return _ref(kind.spec, defs)
    if isinstance(kind, spec.MapOf):
        return {
            "type": "object",
            "propertyNames": {"pattern": spec.Name().pattern},
            "additionalProperties": _ref(kind.value, defs),
            "maxProperties": kind.max_items,
        }
    if isinstance(kind, spec.Steps):
        return {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1}
    raise TypeError(kind)  # pragma: no cover


def _object(object_spec: spec.ObjectSpec, defs: dict[str, Any]) -> dict[str, Any]:
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


def _ref(object_spec: spec.ObjectSpec, defs: dict[str, Any]) -> dict[str, Any]:
    name = object_spec.title.replace(" ", "_")
    if name not in defs:
        defs[name] = {}  # reserve the name first: specs may refer to themselves
        defs[name] = _object(object_spec, defs)
    return {"$ref": f"#/$defs/{name}"}


def _step(step_spec: spec.StepSpec, defs: dict[str, Any]) -> dict[str, Any]:
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
