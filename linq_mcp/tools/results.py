"""Tool results: the one place outcomes and errors become what a tool call returns.

A successful API answer becomes its JSON object (a list is wrapped as ``items``, an empty
answer is ``{"status": "ok"}``); every exception becomes the payload ``tool_error``
builds. A keyed call's result always names its idempotency key. Nothing here knows
about MCP wire types; ``server/handlers.py`` wraps the result.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from linq_mcp.api.tool_errors import render_tool_error, tool_error

__all__ = ["ToolResult", "error_result", "stopped_result", "structured_of", "success_result"]


@dataclass
class ToolResult:
    structured: dict[str, Any]
    is_error: bool = False
    note: str = ""  # a hand-written text block, instead of the rendering of ``structured``

    @property
    def text(self) -> str:
        if self.note:
            return self.note
        if self.is_error:
            return render_tool_error(self.structured)
        return json.dumps(self.structured, ensure_ascii=False, separators=(",", ":"))


def structured_of(body: Any) -> dict[str, Any]:
    """A 2xx answer as an object: a list is wrapped as ``items``, an empty answer is ``{"status": "ok"}``."""
    if isinstance(body, list):
        return {"items": body}
    return dict(body) if isinstance(body, dict) else {"status": "ok"}


def success_result(body: Any, *, key: str | None = None) -> ToolResult:
    """What a 2xx answer returns (already through the safety layer's fence): its object, with the
    key the call carried."""
    structured = structured_of(body)
    if key is not None:
        structured["idempotency_key"] = key
    return ToolResult(structured)


def stopped_result(result: ToolResult, *, key: str | None = None) -> ToolResult:
    """What a call the safety layer stopped returns (refused, previewed, declined…), with its key."""
    if key is not None and "idempotency_key" not in result.structured:
        result.structured["idempotency_key"] = key
    return result


def error_result(exc: BaseException, *, key: str | None = None, deduplicated: bool = True) -> ToolResult:
    """What a failure returns. ``deduplicated``: Linq honours ``key``, so retrying with it is safe."""
    return ToolResult(tool_error(exc, idempotency_key=key, deduplicated=deduplicated), is_error=True)
