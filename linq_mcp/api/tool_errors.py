"""How a failure is shown to the model: an MCP error result's ``structuredContent`` and text.

``tool_error`` turns any exception into the ``structuredContent`` of an MCP error
result, and ``render_tool_error`` into its short text twin. Neither ever contains the
API key, request headers, message bodies or phone numbers: Linq's own messages are
scrubbed of handles (``errors.scrub``), and unexpected exceptions are reported by class
name only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from linq_mcp.api.codes import explain
from linq_mcp.api.errors import (
    CatalogError,
    EarlierOutcomeUnknown,
    LinqAPIError,
    LinqConnectionError,
    LinqTimeoutError,
    LocalToolFailed,
    NotConfirmed,
    OutcomeUnknownError,
    ServerUnavailable,
    ValidationFailed,
    scrub,
)

__all__ = ["ERROR_FIELDS", "render_tool_error", "tool_error"]

OUTCOME_UNKNOWN_KEYED = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "Retrying with the same idempotency_key is safe and will not send twice."
)
OUTCOME_UNKNOWN_IDEMPOTENT = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "Repeating exactly the same request is safe: it cannot act twice."
)
OUTCOME_UNKNOWN_UNKEYED = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "This operation has no idempotency key at Linq, so check whether it happened "
    "(for example with list_messages) before retrying."
)


def tool_error(exc: BaseException, *, idempotency_key: str | None = None, deduplicated: bool = True) -> dict[str, Any]:
    """The ``structuredContent`` of an MCP error result for ``exc`` (None values omitted).

    ``idempotency_key``: the key the call carried (every keyed call's result says it);
    ``deduplicated``: whether Linq itself honours it, so a retry with it cannot act twice.
    """
    payload: dict[str, Any]
    if isinstance(exc, LinqAPIError):
        info = explain(exc.status, exc.code)
        payload = {
            "error": "rate_limited" if exc.status == 429 else "linq_api_error",
            "code": exc.code,
            "http_status": exc.status,
            "message": exc.message,
            "retry_after": exc.retry_after,
            "trace_id": exc.trace_id,
            "doc_url": exc.doc_url,
            "idempotency_key": idempotency_key,
        }
        if info is not None:
            payload.update(meaning=info.meaning, fix=info.fix, retryable=info.retryable)
        else:
            payload["retryable"] = False
    elif isinstance(exc, OutcomeUnknownError):
        key = (idempotency_key or exc.idempotency_key) if deduplicated else None
        if key is not None:
            message = OUTCOME_UNKNOWN_KEYED
            fix = "Retry with the same idempotency_key."
        elif exc.keyed:
            message = OUTCOME_UNKNOWN_IDEMPOTENT
            fix = "Repeat the same request, or read the resource to see whether it changed."
        else:
            message = OUTCOME_UNKNOWN_UNKEYED
            fix = "Look for the result (e.g. list_messages on the chat) before deciding to send again."
        payload = {
            "error": "outcome_unknown",
            "message": message,
            "meaning": "The connection failed after the request may have been sent.",
            "fix": fix,
            "retryable": bool(key is not None or exc.keyed),
            "idempotency_key": idempotency_key or exc.idempotency_key,
        }
    elif isinstance(exc, LinqConnectionError):
        timeout = isinstance(exc, LinqTimeoutError)
        payload = {
            "error": "timeout" if timeout else "connection_error",
            "message": str(exc),
            "meaning": "Linq did not answer in time." if timeout else "linq-mcp could not reach Linq.",
            "fix": "Wait a few seconds and retry; if it persists, check the network or the base URL.",
            "retryable": True,
            "idempotency_key": idempotency_key,
        }
    elif isinstance(exc, ValidationFailed):
        payload = {
            "error": "invalid_arguments",
            "message": str(exc),
            "fix": "Correct the arguments listed in problems and call the tool again.",
            "retryable": False,
            "problems": exc.problems,
        }
    elif isinstance(exc, ServerUnavailable):
        payload = {
            "error": "server_unavailable",
            "message": str(exc),
            "fix": "Nothing was sent. Tell the user the server's settings (e.g. --db-path) need fixing and a restart.",
            "retryable": False,
        }
    elif isinstance(exc, CatalogError):
        payload = {
            "error": "internal_error",
            "message": f"linq-mcp's API description is inconsistent: {scrub(str(exc))}",
            "retryable": False,
        }
    elif isinstance(exc, EarlierOutcomeUnknown):
        payload = {
            "error": "outcome_unknown",
            "message": f"An earlier call with this idempotency_key has an {exc.state} outcome, and "
            f"{exc.tool} has no idempotency at Linq, so linq-mcp will not risk sending it twice.",
            "fix": "Check whether it arrived (e.g. list_messages on the chat). To send it anyway, "
            "call again with a new idempotency_key.",
            "retryable": False,
        }
    elif isinstance(exc, NotConfirmed):
        payload = _not_confirmed(exc)
    elif isinstance(exc, LocalToolFailed):
        payload = {
            "error": "internal_error",
            "message": f"{exc.tool} failed reading linq-mcp's local data ({exc.cause_name}). "
            "This tool only reads local data: nothing was sent to Linq and nothing changed.",
            "fix": "Try again; if it keeps failing, tell the user the server's local store needs attention.",
            "retryable": True,
        }
    else:
        payload = {
            "error": "internal_error",
            "message": f"linq-mcp failed unexpectedly ({type(exc).__name__}). "
            "Whether the request reached Linq is unknown.",
            "retryable": False,
        }
    if payload.get("idempotency_key") is None:
        payload["idempotency_key"] = idempotency_key
    return {k: v for k, v in payload.items() if v is not None}


def _not_confirmed(exc: NotConfirmed) -> dict[str, Any]:
    if exc.how == "unavailable":
        return {
            "error": "confirmation_unavailable",
            "message": "This send needs the person's confirmation, and asking them failed "
            f"({exc.reason}), so nothing was sent.",
            "fix": "Try again; if it keeps failing, the client's confirmation dialog is not working.",
            "retryable": True,
        }
    if exc.how == "dismissed":
        return {
            "error": "declined",
            "message": "The person dismissed the confirmation without answering, so nothing was sent.",
            "fix": "Ask the person in the conversation whether they want it sent before trying again.",
            "retryable": False,
        }
    return {
        "error": "declined",
        "message": "The person declined this send, so nothing was sent. This exact message stays declined "
        "for an hour; do not ask again unless they ask you to.",
        "fix": "Do not retry. If the person wants something different sent, they will say so; "
        "a changed message is asked about afresh.",
        "retryable": False,
    }


_HEADINGS = {
    "linq_api_error": "Linq API error",
    "rate_limited": "Rate limited by Linq",
    "connection_error": "Connection error",
    "timeout": "Timeout",
    "outcome_unknown": "Outcome unknown",
    "invalid_arguments": "Invalid arguments",
    "policy_refused": "Refused by policy",
    "internal_error": "Internal error",
    "server_unavailable": "Server unavailable",
}


# Fields render_tool_error writes in its own words; any other field is appended as "name: value".
# Output schemas never type these names, so an error result conforms to every tool's outputSchema.
ERROR_FIELDS = frozenset(
    {
        "error",
        "http_status",
        "code",
        "message",
        "rule",
        "problems",
        "meaning",
        "fix",
        "preview",
        "confirm_token",
        "retryable",
        "retry_after",
        "idempotency_key",
        "trace_id",
        "doc_url",
    }
)


def render_tool_error(payload: Mapping[str, Any]) -> str:
    """The ``content`` text of an error result: everything the model must act on.

    Many clients (openai-agents, langchain-mcp-adapters, the anthropic tool runner,
    fastmcp's client) pass only this text to the model, never ``structuredContent``: so
    the code, meaning, fix, retry_after, trace_id, idempotency_key, a confirmation's
    preview and confirm_token, and any other field of ``payload`` are all written here.
    """
    kind = str(payload.get("error", "error"))
    head = _HEADINGS.get(kind, kind.replace("_", " ").capitalize())
    if "http_status" in payload:
        head += f" (HTTP {payload['http_status']}"
        head += f", code {payload['code']})" if "code" in payload else ")"
    lines = [f"{head}: {payload.get('message', '')}".rstrip(": ")]
    if "rule" in payload:
        lines.append(f"Rule: {payload['rule']}")
    for problem in payload.get("problems", []):
        item = f"- {problem.get('path') or '(arguments)'}: {problem.get('problem', 'invalid')}"
        if problem.get("expected"):
            item += f"; expected {problem['expected']}"
        if problem.get("example") is not None:
            item += f"; e.g. {json.dumps(problem['example'], ensure_ascii=False)}"
        lines.append(item)
    if "meaning" in payload:
        lines.append(f"Meaning: {payload['meaning']}")
    if "fix" in payload:
        lines.append(f"Fix: {payload['fix']}")
    if "preview" in payload:
        lines.append(f"Preview: {_compact(payload['preview'])}")
    if "confirm_token" in payload:
        lines.append(f"confirm_token: {payload['confirm_token']}")
    for name, value in payload.items():
        if name not in ERROR_FIELDS and value is not None:
            lines.append(f"{name}: {value if isinstance(value, str) else _compact(value)}")
    tail = []
    if "retryable" in payload:
        tail.append(f"retryable: {'yes' if payload['retryable'] else 'no'}")
    if "retry_after" in payload:
        tail.append(f"retry_after: {payload['retry_after']}s")
    if "idempotency_key" in payload:
        tail.append(f"idempotency_key: {payload['idempotency_key']}")
    if "trace_id" in payload:
        tail.append(f"trace_id: {payload['trace_id']}")
    if tail:
        lines.append("; ".join(tail))
    if "doc_url" in payload:
        lines.append(f"Docs: {payload['doc_url']}")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
