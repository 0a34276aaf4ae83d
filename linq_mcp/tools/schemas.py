"""Reading a JSON Schema for error messages: references resolved, what a node asks for in words, an example.

Shared by argument validation (``validation.py``) and the rules across fields (``crossfield.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["E164_EXAMPLE", "EXAMPLES_BY_FORMAT", "example_for", "expected", "field_path", "resolve"]

EXAMPLES_BY_FORMAT = {
    "uuid": "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10",
    "email": "ava@example.com",
    "uri": "https://example.com/image.png",
    "date-time": "2026-11-23T12:00:00Z",
}
E164_EXAMPLE = "+14155550123"


def resolve(schema: Any, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """``schema`` with its local ``$ref`` chain followed (``{}`` when it leads nowhere)."""
    seen = 0
    while isinstance(schema, Mapping) and "$ref" in schema and seen < 20:
        ref = str(schema["$ref"])
        if not ref.startswith("#/"):
            break
        node: Any = root
        for part in ref[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, Mapping) else {}
        schema = node
        seen += 1
    return schema if isinstance(schema, Mapping) else {}


def expected(schema: Mapping[str, Any]) -> str:
    """What ``schema`` accepts, in a few words."""
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return f"exactly {schema['const']!r}"
    pattern = schema.get("pattern", "")
    if "\\+[1-9]" in pattern:
        return "an E.164 phone number: +, country code, number; no spaces"
    typ = schema.get("type")
    bits: list[str] = []
    if isinstance(typ, str):
        bits.append({"string": "text", "integer": "a whole number", "object": "an object"}.get(typ, typ))
    if schema.get("format"):
        bits.append(f"format {schema['format']}")
    if "minLength" in schema or "maxLength" in schema:
        bits.append(f"{schema.get('minLength', 0)}–{schema.get('maxLength', '∞')} characters")
    if "minimum" in schema or "maximum" in schema:
        bits.append(f"between {schema.get('minimum', '-∞')} and {schema.get('maximum', '∞')}")
    if "minItems" in schema or "maxItems" in schema:
        bits.append(f"{schema.get('minItems', 0)}–{schema.get('maxItems', '∞')} items")
    if "anyOf" in schema or "oneOf" in schema:
        bits.append("one of the documented shapes")
    return ", ".join(bits) or "a valid value"


def example_for(schema: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    """A small value that satisfies ``schema``, for error messages."""
    schema = resolve(schema, root)
    if depth > 4 or not schema:
        return None
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for combo in ("oneOf", "anyOf"):
        if combo in schema:
            for option in schema[combo]:
                value = example_for(option, root, depth + 1)
                if value is not None:
                    return value
    typ = schema.get("type")
    if "\\+[1-9]" in schema.get("pattern", ""):
        return E164_EXAMPLE
    if typ == "string":
        return EXAMPLES_BY_FORMAT.get(schema.get("format", ""), "text")
    if typ == "integer":
        return int(schema.get("minimum", 1))
    if typ == "number":
        return schema.get("minimum", 1)
    if typ == "boolean":
        return True
    if typ == "array":
        item = example_for(schema.get("items", {}), root, depth + 1)
        return [item] if item is not None else []
    if typ == "object" or "properties" in schema:
        out: dict[str, Any] = {}
        for name in schema.get("required", []):
            value = example_for(schema.get("properties", {}).get(name, {}), root, depth + 1)
            out[name] = value
        return out
    return None


def field_path(parts: Any) -> str:
    """Where an argument sits, as the model wrote it: ``message.parts[0].value``."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(arguments)"
