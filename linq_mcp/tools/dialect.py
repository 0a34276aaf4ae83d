"""The portable schema dialect: what every listed tool's ``inputSchema`` is written in.

Hosted agents hand MCP tools to a model provider through a framework's converter, and
each accepts a different subset of JSON Schema: google-genai's ``mcp_to_gemini_tool``
crashes on any boolean ``additionalProperties`` and silently drops ``const``,
``minLength``/``maxLength``, ``minItems``/``maxItems``, ``uniqueItems`` and the
description next to a ``$ref``; openai-agents' strict conversion refuses an object
that declares no properties and is not closed; anthropic's ``transform_schema``
refuses a schema node without a ``type`` (``anyOf`` branches of bare ``required``).
The dialect is their intersection, without changing what an argument means:

- every object declares its properties; none says ``additionalProperties`` (the strict
  converters close every object themselves; local validation still refuses unknown
  fields); the API's free-form maps (:data:`FREE_FORM`) are listed as ``[{key, value}]`` pairs;
- no ``$ref``/``$defs`` (inlined, so no description is lost), no ``dependentRequired``,
  no ``anyOf`` branch without a ``type``: such rules are said in the description and
  enforced by validation against the full schema;
- every ``format``, length, item-count and ``const`` constraint is also said in words.

``portable()`` rewrites a listed schema into the dialect; ``dialect_problems()`` is the
checker the tests run over every tool of ``--toolsets all``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

from linq_mcp.api.errors import ERROR_FIELDS

# The free-form maps the API really has (keys chosen by the caller: payments' metadata, an
# experience's params). No strict dialect can declare a map, so they are listed as [{key, value}]
# pairs; the runner turns pairs back into the map before validation (a map is accepted too).
FREE_FORM: frozenset[str] = frozenset({"metadata", "params"})
_PAIR_VALUE: dict[str, Any] = {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}

# A tool without arguments still lists one optional property: openai-agents' strict conversion
# refuses an object with no properties unless it says ``additionalProperties: false``, which
# google-genai's converter cannot read. Validation ignores it; nothing is sent.
NO_ARGUMENTS = "unused"
NO_ARGUMENTS_SCHEMA: dict[str, Any] = {"type": "boolean", "description": "This tool takes no arguments; omit."}

FORMAT_WORDS: dict[str, str] = {
    "uuid": "UUID",
    "date-time": "ISO 8601 date-time",
    "date": "ISO 8601 date",
    "uri": "URL",
    "email": "email",
}

_SAID_KEYWORDS = ("minLength", "maxLength", "minItems", "maxItems", "maxProperties")


def portable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a listed input schema in the portable dialect (same arguments, same meaning)."""
    root = copy.deepcopy(dict(schema))
    defs = root.pop("$defs", {})
    out: dict[str, Any] = _rewrite(root, defs, depth=0)
    if not out.get("properties"):
        out["properties"] = {NO_ARGUMENTS: dict(NO_ARGUMENTS_SCHEMA)}
    return out


def _rewrite(node: Any, defs: Mapping[str, Any], depth: int, name: str = "") -> Any:
    if isinstance(node, list):
        return [_rewrite(v, defs, depth + 1) for v in node]
    if not isinstance(node, dict):
        return node
    if depth > 40:
        raise ValueError("schema nests too deeply to inline")
    if "$ref" in node:
        target = copy.deepcopy(defs[str(node["$ref"]).rsplit("/", 1)[-1]])
        extra = {k: v for k, v in node.items() if k != "$ref"}
        said, own = extra.get("description"), target.get("description")
        node = {**target, **extra}
        if said and own and own not in said:
            node["description"] = f"{said.rstrip('.')}. {own}"
    if name in FREE_FORM and node.get("type") == "object" and not node.get("properties"):
        node = _as_pairs(node)
    out: dict[str, Any] = {}
    words: list[str] = []
    for key, value in node.items():
        if key == "additionalProperties" and value is False:
            continue  # closed anyway by strict converters; validation refuses unknown fields
        if key == "dependentRequired":
            for field, needs in value.items():
                words.append(f"{field} needs {' and '.join(needs)}.")
            continue
        if key in ("anyOf", "oneOf") and all(isinstance(b, dict) and "type" not in b for b in value):
            words.append(_typeless_rule(value))
            continue
        if key == "properties":
            out[key] = {k: _rewrite(v, defs, depth + 1, k) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = _rewrite(value, defs, depth + 1)
        else:
            out[key] = copy.deepcopy(value)
    words.extend(_constraint_words(out))
    if words:
        desc = str(out.get("description", "")).strip()
        add = " ".join(w for w in words if w and w.lower() not in desc.lower())
        if add:
            out["description"] = f"{desc.rstrip('.')}. {add}".lstrip(". ") if desc else add
    return out


def _as_pairs(node: Mapping[str, Any]) -> dict[str, Any]:
    values = node.get("additionalProperties")
    value = dict(values) if isinstance(values, dict) and values.get("type") else dict(_PAIR_VALUE)
    pairs: dict[str, Any] = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"key": {"type": "string"}, "value": value},
            "required": ["key", "value"],
        },
    }
    said = str(node.get("description", "")).strip().rstrip(".…")
    pairs["description"] = f"{said}; as [{{key, value}}] pairs." if said else "A map, as [{key, value}] pairs."
    if "maxProperties" in node:
        pairs["maxItems"] = node["maxProperties"]
    return pairs


def _typeless_rule(branches: list[Any]) -> str:
    fields = [r for b in branches for r in b.get("required", [])]
    if fields and all(set(b) == {"required"} for b in branches):
        return f"Give at least one of {', '.join(fields)}."
    return ""


def _constraint_words(node: Mapping[str, Any]) -> list[str]:
    """The constraints google-genai drops, in words (only those the description does not already say)."""
    desc = str(node.get("description", ""))
    words: list[str] = []
    fmt = node.get("format")
    if isinstance(fmt, str) and FORMAT_WORDS.get(fmt, fmt).lower() not in desc.lower():
        words.append(FORMAT_WORDS.get(fmt, fmt))
    lo, hi = node.get("minLength"), node.get("maxLength")
    if (lo not in (None, 0, 1) or hi is not None) and not _says_numbers(desc, lo, hi):
        words.append(_range(lo, hi, "chars"))
    lo, hi = node.get("minItems"), node.get("maxItems")
    if (lo not in (None, 0) or hi is not None) and not _says_numbers(desc, lo, hi):
        words.append(_range(lo, hi, "items"))
    if node.get("uniqueItems") and "unique" not in desc.lower() and "duplicate" not in desc.lower():
        words.append("no duplicates")
    if node.get("maxProperties") is not None and not _says_numbers(desc, None, node["maxProperties"]):
        words.append(f"at most {node['maxProperties']} keys")
    if "const" in node and json.dumps(node["const"]) not in desc and str(node["const"]) not in desc:
        words.append(f"always {json.dumps(node['const'])}")
    if not words:
        return []
    return [", ".join(words)] if not desc else [f"({', '.join(words)})"]


def _range(lo: Any, hi: Any, unit: str) -> str:
    if hi is None and lo == 1:
        return "at least one"
    if hi is None:
        return f"at least {lo} {unit}"
    if lo in (None, 0):
        return f"at most {hi} {unit}"
    if lo == hi:
        return f"exactly {lo} {unit}"
    return f"{lo}-{hi} {unit}"


def _says_numbers(desc: str, lo: Any, hi: Any) -> bool:
    wanted = [str(n) for n in (lo, hi) if n not in (None, 0, 1)]
    return bool(wanted) and all(n in desc for n in wanted) or (not wanted and "non-empty" in desc.lower())


def admits_errors(output_schema: Mapping[str, Any]) -> dict[str, Any]:
    """An output schema an error result also conforms to: nothing required, no error field typed.

    The TypeScript SDK 1.x validates ``structuredContent`` against ``outputSchema`` even on
    ``isError`` results, and linq-mcp's error results carry the error as ``structuredContent``.
    """
    out = {k: copy.deepcopy(v) for k, v in output_schema.items() if k not in ("required", "anyOf", "oneOf", "allOf")}
    props = out.get("properties")
    if isinstance(props, dict):
        out["properties"] = {k: v for k, v in props.items() if k not in ERROR_FIELDS}
    if out.get("additionalProperties") is False:
        del out["additionalProperties"]
    return out


# ---------------------------------------------------------------------------------------
# the checker


def dialect_problems(schema: Mapping[str, Any]) -> list[str]:
    """Every way ``schema`` (a listed inputSchema) breaks the portable dialect; [] when it is portable."""
    problems: list[str] = []
    if schema.get("type") != "object":
        problems.append("(root): type must be object")
    if not schema.get("properties"):
        problems.append("(root): declares no properties (openai-agents strict refuses it)")
    for path, node in _nodes(schema, "(root)"):
        problems.extend(f"{path}: {p}" for p in _node_problems(node))
    return problems


def _nodes(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield from _nodes(sub, f"{path}.{name}")
            elif key in ("items", "additionalProperties"):
                yield from _nodes(value, f"{path}.{key}")
            elif key in ("anyOf", "oneOf", "allOf") and isinstance(value, list):
                for i, sub in enumerate(value):
                    yield from _nodes(sub, f"{path}.{key}[{i}]")


def _node_problems(node: Mapping[str, Any]) -> Iterator[str]:
    for banned in ("$ref", "$defs", "dependentRequired", "dependentSchemas", "if", "not", "patternProperties"):
        if banned in node:
            yield f"uses {banned}"
    typ = node.get("type")
    if typ is None and not any(k in node for k in ("anyOf", "oneOf", "enum", "const")):
        yield "has no type"
    if isinstance(typ, list):
        yield "type is a list (anthropic strict refuses it); use anyOf"
    if isinstance(node.get("additionalProperties"), bool):
        yield "boolean additionalProperties (google-genai crashes on it)"
    if typ == "object" and not node.get("properties"):
        yield "object without declared properties (a free-form map is listed as [{key, value}] pairs)"
    if "additionalProperties" in node:
        yield "additionalProperties (a free-form map is listed as [{key, value}] pairs)"
    for combo in ("anyOf", "oneOf"):
        for branch in node.get(combo, []):
            if isinstance(branch, dict) and "type" not in branch and "enum" not in branch and "const" not in branch:
                yield f"{combo} branch without a type"
    desc = str(node.get("description", "")).lower()
    fmt = node.get("format")
    if isinstance(fmt, str) and FORMAT_WORDS.get(fmt, fmt).lower() not in desc:
        yield f"format {fmt} not said in the description"
    for key in _SAID_KEYWORDS:
        value = node.get(key)
        if isinstance(value, int) and value > 1 and str(value) not in desc:
            yield f"{key} {value} not said in the description"
    if "const" in node and str(node["const"]).lower() not in desc and json.dumps(node["const"]) not in desc:
        yield "const not said in the description"
    if desc.endswith(("e.g.", "i.e.", "(e.g.", "(i.e.")):
        yield "description is cut short"


__all__ = ["FREE_FORM", "NO_ARGUMENTS", "admits_errors", "dialect_problems", "portable"]
