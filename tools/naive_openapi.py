"""A naive OpenAPI → MCP conversion, the yardstick for linq-mcp's tool-list size.

What a generic converter produces from ``linq_mcp/spec/linq-v3.openapi.json``: one tool
per operation, named by its operationId; the description = summary + full description;
the input schema = every path/query/header parameter (with its description) plus every
property of the JSON request body, all ``$ref`` inlined; the output schema = the full
success response schema, inlined (wrapped in an object when it is not one, as MCP
requires). Cycles are cut at the second visit of a reference.

    .venv/bin/python tools/naive_openapi.py [--no-output-schema] > naive-tools.json
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

SPEC = Path(__file__).resolve().parents[1] / "linq_mcp" / "spec" / "linq-v3.openapi.json"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def resolve(spec: dict[str, Any], ref: str) -> Any:
    node: Any = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def inline(spec: dict[str, Any], node: Any, seen: tuple[str, ...] = ()) -> Any:
    """``node`` with every local ``$ref`` replaced by (a copy of) its target."""
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str):
            ref = node["$ref"]
            if ref in seen:
                return {"type": "object", "description": f"(recursive {ref.rsplit('/', 1)[-1]})"}
            target = inline(spec, copy.deepcopy(resolve(spec, ref)), (*seen, ref))
            siblings = {k: inline(spec, v, seen) for k, v in node.items() if k != "$ref"}
            return {**target, **siblings} if isinstance(target, dict) else target
        return {k: inline(spec, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [inline(spec, v, seen) for v in node]
    return node


def success_schema(spec: dict[str, Any], op: dict[str, Any]) -> Any | None:
    for status in sorted(op.get("responses", {})):
        if status.startswith("2"):
            resp = inline(spec, op["responses"][status])
            content = resp.get("content") or {}
            media = content.get("application/json") or next(iter(content.values()), None)
            return (media or {}).get("schema")
    return None


def naive_tools(spec: dict[str, Any] | None = None, *, output_schema: bool = True) -> list[dict[str, Any]]:
    spec = spec or json.loads(SPEC.read_text())
    tools: list[dict[str, Any]] = []
    for path, item in spec["paths"].items():
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            properties: dict[str, Any] = {}
            required: list[str] = []
            for param in inline(spec, [*shared, *op.get("parameters", [])]):
                schema = dict(param.get("schema") or {})
                if param.get("description"):
                    schema["description"] = param["description"]
                properties[param["name"]] = schema
                if param.get("required"):
                    required.append(param["name"])
            body = inline(spec, op.get("requestBody") or {})
            body_schema = ((body.get("content") or {}).get("application/json") or {}).get("schema")
            if body_schema:
                if body_schema.get("type") == "object" or "properties" in body_schema:
                    properties.update(body_schema.get("properties") or {})
                    required += [r for r in body_schema.get("required", []) if r not in required]
                else:  # a non-object body (oneOf, array ...) becomes one argument
                    properties["body"] = body_schema
                    if body.get("required"):
                        required.append("body")
            input_schema: dict[str, Any] = {"type": "object", "properties": properties}
            if required:
                input_schema["required"] = required
            description = "\n\n".join(p for p in (op.get("summary"), op.get("description")) if p)
            tool: dict[str, Any] = {"name": op["operationId"], "description": description, "inputSchema": input_schema}
            out = success_schema(spec, op) if output_schema else None
            if out:
                if out.get("type") != "object":
                    out = {"type": "object", "properties": {"result": out}, "required": ["result"]}
                tool["outputSchema"] = out
            tools.append(tool)
    return tools


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-output-schema", action="store_true")
    args = parser.parse_args()
    json.dump({"tools": naive_tools(output_schema=not args.no_output_schema)}, sys.stdout, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
