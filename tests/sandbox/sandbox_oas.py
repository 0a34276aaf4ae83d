"""The shipped OpenAPI document as a JSON-Schema oracle for sandbox payloads.

OpenAPI 3.0-style ``nullable: true`` is turned into ``anyOf [null, ...]``, so a ``null``
where the document types an object (or a string) fails validation: that is how the
audit tests catch a sandbox that sends ``null`` where Linq sends an object or nothing.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

import jsonschema

from linq_mcp.sandbox.state import Event
from linq_mcp.sandbox.webhooks import envelope


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k not in ("nullable", "example", "examples", "discriminator")}
    if node.get("nullable") is True:
        return {"anyOf": [{"type": "null"}, out]}
    return out


@cache
def document() -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(files("linq_mcp.spec").joinpath("linq-v3.openapi.json").read_text())
    return raw


@cache
def _components() -> dict[str, Any]:
    converted: dict[str, Any] = _nullable(document()["components"])
    return converted


def schema_errors(schema_name: str, instance: Any) -> list[str]:
    """Every way ``instance`` breaks ``components.schemas[schema_name]`` (empty: it conforms)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": _components()}
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(instance)]


def webhook_schema(event_type: str, version: str) -> str | None:
    """The component schema the document gives a webhook of this type and payload version."""
    key = f"{event_type}.v{version[:4]}"
    entry = document()["webhooks"].get(key)
    if entry is None:
        return None
    ref: str = entry["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    return ref.rsplit("/", 1)[-1]


def event_errors(event: Event, version: str) -> list[str]:
    """How the delivered body of ``event`` in ``version`` breaks the document's webhook schema."""
    name = webhook_schema(event.event_type, version)
    if name is None:
        return []
    body = json.loads(json.dumps(envelope(event, version, "partner_sandbox")))
    return schema_errors(name, body)
