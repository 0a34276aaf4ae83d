"""The one scenario every client in the compatibility matrix plays against linq-mcp.

Standard library only: the client drivers import it from whichever virtualenv their framework
lives in (LangChain's adapters need their own, see requirements-langchain.txt), and the tests
import it to know what to expect.

A driver connects its framework to ``linq-mcp --sandbox --toolsets all``, converts every tool
with the framework's own code (strict where the framework has a strict mode) and plays CALLS
through the framework's tool-call path, recording for each call the text the framework would
hand a model. Then, like a model, it looks for the confirm_token in the text it saw for the
first-contact send and repeats that send with the token.
"""

from __future__ import annotations

import json
import re
from typing import Any

LINE = "+15550100001"  # the sandbox's iMessage line
AVA = "+15551230001"  # an iMessage contact nobody has written to yet: a first contact
UNKNOWN_CHAT = "00000000-0000-4000-8000-000000000000"

FIRST_CONTACT_ARGS: dict[str, Any] = {
    "from": LINE,
    "to": [AVA],
    "message": {"parts": [{"type": "text", "value": "Hello from the compatibility matrix"}]},
}

# key -> (tool, arguments). Played in this order; "confirmed" follows, built from what the model saw.
CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "list_phone_numbers": ("list_phone_numbers", {}),
    "check_imessage": ("check_imessage", {"address": AVA}),
    "unknown_chat": ("get_chat", {"chat_id": UNKNOWN_CHAT}),
    "invalid_argument": ("check_imessage", {"address": "555"}),
    "first_contact": ("create_chat", FIRST_CONTACT_ARGS),
}

# A confirm_token as a model reads it from text: after the word, any of `"':= ` and then the token.
_TOKEN = re.compile(r"confirm_token\\*[\"'`]?\s*[:=]\s*\\*[\"'`]?([A-Za-z0-9_.~+/=-]{16,})")


def token_in(text: str) -> str | None:
    """The confirm_token a model would read from ``text``, if the text gives one."""
    found = _TOKEN.search(text)
    return found.group(1) if found else None


def nulls_for_absent(input_schema: dict[str, Any], required_args: dict[str, Any]) -> dict[str, Any]:
    """What a strict-mode model sends: every optional property present and null."""
    args = {name: None for name in input_schema.get("properties", {})}
    args.update(required_args)
    return args


# Keywords OpenAI's strict mode does not accept (https://platform.openai.com/docs/guides/structured-outputs).
_STRICT_UNSUPPORTED = (
    "allOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "dependentRequired",
    "dependentSchemas",
    "patternProperties",
    "unevaluatedProperties",
    "propertyNames",
)


def strict_problems(schema: Any, path: str = "$") -> list[str]:
    """Why ``schema`` is not an OpenAI strict-mode schema (empty when it is).

    Strict mode wants every object closed (``additionalProperties: false``) with every property
    listed in ``required``, and no object without declared properties.
    """
    problems: list[str] = []
    if isinstance(schema, list):
        for i, item in enumerate(schema):
            problems += strict_problems(item, f"{path}[{i}]")
        return problems
    if not isinstance(schema, dict):
        return problems
    for keyword in _STRICT_UNSUPPORTED:
        if keyword in schema:
            problems.append(f"{path}: uses {keyword}")
    is_object = schema.get("type") == "object" or (isinstance(schema.get("type"), list) and "object" in schema["type"])
    if is_object:
        props = schema.get("properties")
        if not props and "$ref" not in schema:
            problems.append(f"{path}: object with no declared properties")
        if schema.get("additionalProperties") is not False:
            problems.append(f"{path}: additionalProperties is not false")
        if props and sorted(schema.get("required", [])) != sorted(props):
            problems.append(f"{path}: not every property is required")
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            for name, sub in value.items():
                problems += strict_problems(sub, f"{path}.{key}.{name}")
        elif key in ("items", "anyOf", "prefixItems") or (key == "additionalProperties" and isinstance(value, dict)):
            problems += strict_problems(value, f"{path}.{key}")
    return problems


class Report:
    """What one client saw: printed as one JSON line for the tests to read."""

    def __init__(self, client: str, version: str, transport: str) -> None:
        self.data: dict[str, Any] = {
            "client": client,
            "version": version,
            "transport": transport,
            "tools": 0,
            "conversion_errors": {},
            "non_strict": {},
            "calls": {},
            "fatal": None,
        }

    def converted(self, count: int) -> None:
        self.data["tools"] = count

    def conversion_error(self, tool: str, error: BaseException | str) -> None:
        self.data["conversion_errors"][tool] = _describe(error)

    def non_strict(self, tool: str, reason: str) -> None:
        self.data["non_strict"][tool] = reason[:300]

    def saw(self, key: str, text: str) -> None:
        self.data["calls"][key] = text

    def fatal(self, error: BaseException) -> None:
        self.data["fatal"] = _describe(error)

    def dump(self) -> str:
        return json.dumps(self.data)


def _describe(error: BaseException | str) -> str:
    if isinstance(error, str):
        return error[:500]
    return f"{type(error).__name__}: {error}"[:500]


async def play(call: Any, report: Report, schemas: dict[str, dict[str, Any]]) -> None:
    """Play CALLS through ``call(tool, args) -> text the model sees``, then confirm like a model would."""
    for key, (tool, args) in CALLS.items():
        report.saw(key, await _safely(call, tool, args))
    token = token_in(report.data["calls"]["first_contact"])
    if token is not None:
        report.saw("confirmed", await _safely(call, "create_chat", {**FIRST_CONTACT_ARGS, "confirm_token": token}))
    schema = schemas.get("check_imessage", {})
    report.saw(
        "nulls_for_absent",
        await _safely(call, "check_imessage", nulls_for_absent(schema, {"address": AVA})),
    )


async def _safely(call: Any, tool: str, args: dict[str, Any]) -> str:
    """An exception is what the framework would surface instead of a result: record it as text."""
    try:
        return str(await call(tool, args))
    except Exception as exc:  # noqa: BLE001 - the exception is the observation
        return f"EXCEPTION {type(exc).__name__}: {exc}"
