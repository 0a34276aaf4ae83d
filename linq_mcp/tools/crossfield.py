"""Refusals for rules that span several fields, worded as the fix.

jsonschema reports a violated ``not``/``oneOf``/``dependentRequired`` rule against the
object that holds the fields, with the whole object in the message ("{...} should not
be valid under {'required': [...]}"): no field named, the arguments echoed back. Here
each such rule is read for what it means — these fields exclude each other, give exactly
one of these, this field needs that one, this holds only when ``mode`` is ``subscription``
— and reported against the fields involved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from linq_mcp.tools.schemas import example_for, expected, field_path, resolve

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

__all__ = ["chosen_alternative", "condition_of", "cross_field_problem", "with_condition"]


def _path(prefix: Sequence[Any], name: str) -> str:
    return field_path([*prefix, name]) if name else field_path(prefix)


def _names(fields: Sequence[str]) -> str:
    quoted = list(fields)
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _either(fields: Sequence[str]) -> str:
    quoted = list(fields)
    if len(quoted) <= 2:
        return " or ".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _required_names(schema: Any) -> list[str]:
    """The field names a ``required``-based rule is about (through anyOf/oneOf/allOf)."""
    if not isinstance(schema, Mapping):
        return []
    names = [str(n) for n in schema.get("required", [])]
    for combo in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(combo, []):
            names.extend(n for n in _required_names(sub) if n not in names)
    return names


def _alternatives(error: ValidationError) -> list[list[str]] | None:
    """For ``oneOf`` branches that each require their own fields (disjoint): those fields."""
    if error.validator != "oneOf" or not isinstance(error.validator_value, list):
        return None
    sets = []
    for branch in error.validator_value:
        required = [str(n) for n in branch.get("required", [])] if isinstance(branch, Mapping) else []
        if not required:
            return None
        sets.append(required)
    flat = [n for s in sets for n in s]
    return sets if len(flat) == len(set(flat)) else None


def _at_least_one(error: ValidationError) -> list[str] | None:
    """For ``anyOf`` branches that each only require fields: those fields (give one or more)."""
    if error.validator != "anyOf" or not isinstance(error.validator_value, list):
        return None
    names: list[str] = []
    for branch in error.validator_value:
        if not isinstance(branch, Mapping) or set(branch) != {"required"}:
            return None
        names.extend(str(n) for n in branch["required"])
    return names


def _given(error: ValidationError, names: Sequence[str]) -> list[str]:
    instance = error.instance
    return [n for n in names if isinstance(instance, Mapping) and n in instance]


def chosen_alternative(error: ValidationError) -> ValidationError | None:
    """For an alternatives ``oneOf``: ``error`` itself when 0 or 2+ alternatives are given,
    else the first error from inside the one alternative given. None for other errors."""
    if _at_least_one(error) is not None:
        return error
    sets = _alternatives(error)
    if sets is None:
        return None
    picked = [i for i, names in enumerate(sets) if _given(error, names)]
    if len(picked) != 1:
        return error
    inside = [e for e in error.context or [] if e.relative_schema_path and e.relative_schema_path[0] == picked[0]]
    inside = [e for e in inside if e.validator != "not"] or inside
    return max(inside, key=lambda e: len(e.absolute_path)) if inside else error


def condition_of(error: ValidationError, root: Mapping[str, Any]) -> str | None:
    """ "when mode is 'subscription'" for an error inside an if/then (or "unless" for else)."""
    path = list(error.absolute_schema_path)
    branch = max((i for i, part in enumerate(path) if part in ("then", "else")), default=None)
    if branch is None:
        return None
    node: Any = root
    for part in path[:branch]:
        if isinstance(node, Mapping) and "$ref" in node and part not in node:
            node = resolve(node, root)  # the schema path steps through references unannounced
        if part == "$ref" and isinstance(node, Mapping):
            node = resolve({"$ref": node.get("$ref")}, root)
        elif isinstance(node, Mapping):
            node = node.get(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
    test = node.get("if") if isinstance(node, Mapping) else None
    if not isinstance(test, Mapping):
        return None
    bits = []
    for name, sub in (test.get("properties") or {}).items():
        if isinstance(sub, Mapping) and "const" in sub:
            bits.append(f"{name} is {sub['const']!r}")
        elif isinstance(sub, Mapping) and "enum" in sub:
            bits.append(f"{name} is one of {', '.join(repr(v) for v in sub['enum'])}")
    if not bits:
        return None
    return ("when " if path[branch] == "then" else "unless ") + " and ".join(bits)


def _property_schema(root: Mapping[str, Any], parts: Sequence[Any]) -> Mapping[str, Any]:
    """The schema of the field at ``parts`` (names and indexes), from the top-level properties."""
    node: Mapping[str, Any] = root
    for part in parts:
        if isinstance(part, int):
            node = resolve(node.get("items", {}), root)
        else:
            node = resolve(node.get("properties", {}).get(part, {}), root)
    return node


def with_condition(item: dict[str, Any], error: ValidationError, root: Mapping[str, Any]) -> dict[str, Any]:
    """``item`` with the rule's condition added to its problem, if it has one.

    A field required only under a condition is described from its own property schema
    (the ``then`` branch that requires it says nothing about its type).
    """
    condition = condition_of(error, root)
    if not condition or condition in item["problem"]:
        return item
    item = {**item, "problem": f"{item['problem']} ({condition})"}
    if error.validator == "required" and item.get("expected") == "a valid value":
        name = item["path"].rsplit(".", 1)[-1]
        field = _property_schema(root, [*error.absolute_path, name])
        if field:
            item["expected"] = expected(field)
            item["example"] = example_for(field, root)
    return item


def cross_field_problem(error: ValidationError, root: Mapping[str, Any]) -> dict[str, Any] | None:
    """The problem for a rule across fields, or None when ``error`` is about one field."""
    prefix = list(error.absolute_path)
    kind = error.validator
    if kind == "not":
        names = _required_names(error.validator_value)
        given = _given(error, names) or names
        if not given:
            return None
        rule = error.validator_value if isinstance(error.validator_value, Mapping) else {}
        if rule.get("required") and not any(k in rule for k in ("anyOf", "oneOf")):
            return {
                "path": _path(prefix, given[-1]),
                "problem": f"{_names(given)} cannot be given together",
                "expected": f"only one of {_either(given)}: remove the other",
            }
        return {
            "path": _path(prefix, given[0]),
            "problem": f"{_names(given)} cannot be given here",
            "expected": f"leave out {_names(given)}",
        }
    if kind == "oneOf":
        sets = _alternatives(error)
        if sets is None:
            if error.context:
                return None  # a union of shapes: the most specific branch error says more
            return {
                "path": _path(prefix, ""),
                "problem": "matches more than one of the documented shapes",
                "expected": "exactly one of the documented shapes",
            }
        options = [" + ".join(s) for s in sets]
        given = [n for s in sets for n in _given(error, s)]
        if given and len([s for s in sets if _given(error, s)]) > 1:
            return {
                "path": _path(prefix, given[-1]),
                "problem": f"{_names(given)} cannot be given together",
                "expected": f"exactly one of {_either(options)}: remove the "
                + ("other" if len(given) == 2 else "others"),
            }
        return {
            "path": _path(prefix, sets[0][0]),
            "problem": f"one of {_either(options)} is required",
            "expected": f"exactly one of {_either(options)}",
        }
    wanted = _at_least_one(error) if kind == "anyOf" else None
    if wanted is not None:
        return {
            "path": _path(prefix, wanted[0]),
            "problem": f"at least one of {_either(wanted)} is required",
            "expected": f"one or more of {_either(wanted)}",
        }
    if kind == "dependentRequired" and isinstance(error.validator_value, Mapping):
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        for field, needs in error.validator_value.items():
            missing = [n for n in needs if field in instance and n not in instance]
            if missing:
                return {
                    "path": _path(prefix, missing[0]),
                    "problem": f"{_names(missing)} is required when {field} is given",
                    "expected": f"{_names(missing)} as well, or no {field}",
                }
        return None
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = sorted(schema.get("properties", {}))
        extra = [k for k in error.instance if k not in schema.get("properties", {})]
        if not extra or all(extra):
            return None  # plain names: the usual wording is right
        shown = ", ".join(repr(k) if k else "'' (an empty name)" for k in extra)
        return {
            "path": _path(prefix, next((k for k in extra if k), "")),
            "problem": f"unknown field{'s' if len(extra) > 1 else ''} {shown}",
            "expected": f"one of: {', '.join(known)}" if known else "no extra fields",
        }
    return None
