"""The values that flow through the call pipeline (``tools/pipeline.py``).

Each fact about a call is decided once and carried from stage to stage: the tool, the
validated arguments and the idempotency key in a :class:`Call`; the safety layer's
verdict as a :class:`Proceed` (with the arguments the request carries and what to settle
afterwards) or a :class:`Stop` (with the result to return instead).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from linq_mcp.api.request import Operation
from linq_mcp.tools.results import ToolResult
from linq_mcp.tools.tooldef import ToolDef

__all__ = ["Call", "Gate", "Observer", "Proceed", "Read", "Settlement", "Stop"]

# A read the safety layer may make before deciding (e.g. ``get_chat`` for its participants).
Read = Callable[[str, dict[str, Any]], Awaitable[Any]]
# Told about every successful API call (tool, request arguments, result); failures are only logged.
Observer = Callable[[str, dict[str, Any], dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Call:
    """One validated call of an API tool."""

    tool: ToolDef
    args: dict[str, Any]  # validated, nulls dropped; control arguments included
    key: str | None  # the idempotency key it carries: the caller's, or a new one for a send
    context: Any = None  # the MCP request context (who can be asked, protocol era)

    @property
    def operation(self) -> Operation:
        assert self.tool.operation is not None, f"{self.tool.name} is not an API tool"
        return self.tool.operation

    @property
    def deduplicated_key(self) -> str | None:
        """The key, when Linq de-duplicates it: a retry with it is the same send."""
        return self.key if self.operation.deduplicated else None

    @property
    def identity(self) -> dict[str, Any]:
        """The arguments with the key this call carries, generated or not: a retry with it is the same call."""
        if self.key is None or self.args.get("idempotency_key") == self.key:
            return self.args
        return {**self.args, "idempotency_key": self.key}


class Settlement(Protocol):
    """What the safety layer records once the outcome is known."""

    async def succeeded(self) -> None: ...
    async def failed(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Proceed:
    """Go ahead: send ``args`` (the handles spelled as the policy checked them), then settle."""

    args: dict[str, Any]
    settlement: Settlement | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """Do not send: return ``result`` (refused, confirmation needed, a dry-run preview, declined)."""

    result: ToolResult


class Gate(Protocol):
    """The safety layer: decides about each call, and sees every result."""

    async def decide(self, call: Call, read: Read) -> Proceed | Stop: ...

    async def inbound(self, tool: ToolDef, result: dict[str, Any], read: Read) -> dict[str, Any]: ...
