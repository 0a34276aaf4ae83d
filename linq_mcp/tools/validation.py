"""Tool-argument validation that tells an assistant exactly what to fix.

jsonschema finds the errors; this module turns each into ``{path, problem, expected,
example}`` with the field named as the tool knows it (``message.parts[0].value``),
what the schema wanted and a value that would pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from linq_mcp.tools.crossfield import chosen_alternative, cross_field_problem, with_condition
from linq_mcp.tools.schemas import example_for, expected, field_path, resolve

if TYPE_CHECKING:  # jsonschema is imported on first validation: it costs start-up time
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


class ArgumentValidator:
    """Compiled once per tool, on first use (keeps start-up cheap)."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self._validator: Draft202012Validator | None = None

    @property
    def validator(self) -> Draft202012Validator:
        if self._validator is None:
            from jsonschema import Draft202012Validator

            self._validator = Draft202012Validator(
                dict(self.schema), format_checker=Draft202012Validator.FORMAT_CHECKER
            )
        return self._validator

    def problems(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        errors = sorted(self.validator.iter_errors(dict(args)), key=lambda e: list(e.absolute_path))
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        for error in errors:
            specific = _most_specific(error)
            item = with_condition(describe(specific, self.schema), specific, self.schema)
            if item["path"] + item["problem"] in seen:
                continue
            seen.add(item["path"] + item["problem"])
            out.append(item)
        return out


def _most_specific(error: ValidationError) -> ValidationError:
    """For anyOf/oneOf failures, the error from the branch the caller most likely meant.

    A branch whose discriminator (``type``) does not match the instance is not what the
    caller meant; among the others, the branch with the fewest errors wins.
    """
    chosen = chosen_alternative(error)  # "exactly one of these fields": its own wording
    if chosen is not None:
        return chosen if chosen is error else _most_specific(chosen)
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        return error
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context:
        branch = sub.relative_schema_path[0] if sub.relative_schema_path else None
        branches.setdefault(branch, []).append(sub)

    def mismatched(errs: list[ValidationError]) -> bool:
        return any(e.validator in ("const", "enum") and e.relative_path and e.relative_path[-1] == "type" for e in errs)

    candidates = [errs for errs in branches.values() if not mismatched(errs)] or list(branches.values())
    best = min(candidates, key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)))
    return _most_specific(max(best, key=lambda e: len(e.absolute_path)))


def describe(error: ValidationError, root: Mapping[str, Any]) -> dict[str, Any]:
    special = cross_field_problem(error, root)  # not / oneOf of fields / dependentRequired
    if special is not None:
        return special
    path = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator
    value = error.validator_value
    if kind == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        name = missing[0] if missing else "?"
        sub = _subschema(schema, name, root)
        return {
            "path": field_path([*path, name]),
            "problem": "missing required field",
            "expected": expected(sub),
            "example": example_for(sub, root),
        }
    if kind == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message)
        known = sorted(schema.get("properties", {}))
        return {
            "path": field_path([*path, extra[0]] if extra else path),
            "problem": f"unknown field{'s' if len(extra) > 1 else ''} {', '.join(extra)}",
            "expected": f"one of: {', '.join(known)}" if known else "no extra fields",
        }
    problem = error.message
    if kind == "pattern" and "\\+[1-9]" in str(value):
        problem = f"{error.instance!r} is not an E.164 phone number"
    elif kind == "enum":
        problem = f"{error.instance!r} is not one of the allowed values"
    item: dict[str, Any] = {
        "path": field_path(path),
        "problem": problem,
        "expected": expected(schema),
    }
    example = example_for(schema, root)
    if example is not None:
        item["example"] = example
    return item


def _subschema(schema: Mapping[str, Any], name: str, root: Mapping[str, Any]) -> Mapping[str, Any]:
    sub = schema.get("properties", {}).get(name, {})
    return resolve(sub, root)


def without_nulls(args: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` with every ``null`` that stands for "absent" left out.

    Strict function calling (OpenAI strict, LangChain strict, pydantic-ai on OpenAI) makes
    every property required, so a model sends ``null`` for what it would omit. Where the
    schema does not itself allow ``null`` (``forwarding_number: null`` clears forwarding),
    a ``null`` is dropped, at any depth, before validation; a required field that was
    ``null`` is then reported as missing. A strict model cannot send ``null`` where the
    listed type is a string or an object, so for an optional field two more placeholders
    mean "absent": ``""`` where the field cannot be empty (a format, a pattern, a minimum
    length) and an object left empty where the field needs members.
    """
    out = _drop_nulls(dict(args), schema, schema)
    return out if isinstance(out, dict) else dict(args)


def _drop_nulls(value: Any, schema: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    node = resolve(schema, root)
    if depth > 32:
        return value
    if isinstance(value, dict):
        props = _object_properties(node, root)
        required = set(node.get("required", []))
        out: dict[str, Any] = {}
        for key, item in value.items():
            sub = props.get(key)
            if item is None and not (sub is not None and _admits_null(sub, root)):
                continue
            if sub is not None:
                item = _drop_nulls(item, sub, root, depth + 1)
                if key not in required and _placeholder(item, resolve(sub, root), root):
                    continue
            out[key] = item
        return out
    if isinstance(value, list):
        items = node.get("items")
        if isinstance(items, Mapping):
            return [_drop_nulls(item, items, root, depth + 1) for item in value]
    return value


def _placeholder(value: Any, node: Mapping[str, Any], root: Mapping[str, Any]) -> bool:
    """An empty value the field could never take: what a strict model sends for "none"."""
    if value == "":
        if node.get("format") or node.get("minLength") or ("enum" in node and "" not in node["enum"]):
            return True
        pattern = node.get("pattern")
        try:
            return isinstance(pattern, str) and re.search(pattern, "") is None
        except re.error:
            return False
    if isinstance(value, dict) and node.get("required"):
        props = _object_properties(node, root)
        return all(k in props and _placeholder(v, resolve(props[k], root), root) for k, v in value.items())
    return False


def maps_from_pairs(args: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``args`` with each free-form map given as ``[{key, value}]`` pairs turned back into the map.

    The portable dialect lists a free-form map (payments' ``metadata``, an experience's
    ``params``) as pairs, since strict function calling cannot declare a map; the API and
    the full schema want the map. A map given as a map is left as it is.
    """
    out = _pairs_to_maps(dict(args), schema, schema)
    return out if isinstance(out, dict) else dict(args)


def _pairs_to_maps(value: Any, schema: Any, root: Mapping[str, Any], depth: int = 0) -> Any:
    node = resolve(schema, root)
    if depth > 32 or not node:
        return value
    if isinstance(value, list) and node.get("type") == "object" and not node.get("properties"):
        if all(isinstance(item, Mapping) and isinstance(item.get("key"), str) for item in value):
            return {item["key"]: item.get("value") for item in value}
        return value
    if isinstance(value, dict):
        props = _object_properties(node, root)
        return {k: _pairs_to_maps(v, props[k], root, depth + 1) if k in props else v for k, v in value.items()}
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        return [_pairs_to_maps(item, node["items"], root, depth + 1) for item in value]
    return value


def _object_properties(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """The properties an object may have, including those of its anyOf/oneOf/allOf branches."""
    props: dict[str, Any] = dict(node.get("properties", {}))
    for combo in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(combo, []):
            for key, sub in _object_properties(resolve(branch, root), root).items():
                props.setdefault(key, sub)
    return props


def _admits_null(schema: Any, root: Mapping[str, Any]) -> bool:
    node = resolve(schema, root)
    if not node:
        return isinstance(schema, Mapping) and "$ref" not in schema  # {} accepts anything
    typ = node.get("type")
    if typ == "null" or (isinstance(typ, list) and "null" in typ):
        return True
    if None in node.get("enum", ()) or ("const" in node and node["const"] is None):
        return True
    return any(_admits_null(branch, root) for combo in ("anyOf", "oneOf") for branch in node.get(combo, []))


__all__ = ["ArgumentValidator", "describe", "maps_from_pairs", "without_nulls"]
