"""A request body's values must have the JSON types its schema declares.

Pydantic's lax mode would take `0` for a date, `"5"` for an integer or `1` for `true`; a
client written against the OpenAPI document must not come to rely on that, and a fuzzer rightly
calls it a contract violation. So every request model checks each value's JSON type against
its own JSON schema before pydantic converts it (then pydantic's own checks apply as before).
"""

from __future__ import annotations

from functools import cache
from typing import Any

JsonTypes = frozenset[str]


def json_type(value: Any) -> str:
    """The JSON type of a value decoded from JSON."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def accepts(types: JsonTypes, value: Any) -> bool:
    found = json_type(value)
    return found in types or (found == "integer" and "number" in types)


@cache
def field_types(model: type[Any]) -> dict[str, JsonTypes | None]:
    """For each field of a request model, the JSON types its schema allows (None: any)."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    return {name: _types(prop, definitions) for name, prop in schema.get("properties", {}).items()}


def _types(schema: dict[str, Any], definitions: dict[str, Any]) -> JsonTypes | None:
    if "$ref" in schema:
        return _types(definitions.get(schema["$ref"].rsplit("/", 1)[-1], {}), definitions)
    for combined in ("anyOf", "oneOf"):
        if combined in schema:
            parts = [_types(part, definitions) for part in schema[combined]]
            if any(p is None for p in parts):
                return None
            return frozenset().union(*(p for p in parts if p is not None))
    if "type" in schema:
        declared = schema["type"]
        return frozenset(declared if isinstance(declared, list) else [declared])
    if "const" in schema:
        return frozenset({json_type(schema["const"])})
    if "enum" in schema:
        return frozenset(json_type(v) for v in schema["enum"])
    return None
