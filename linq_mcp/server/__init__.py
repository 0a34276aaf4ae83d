"""The MCP server: handlers, transports (stdio, Streamable HTTP), prompts, and the runtime
that opens the client, the policy and the event store on the first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.server.app import run_server, surface
    from linq_mcp.server.runtime import MissingApiKey, Runtime
    from linq_mcp.server.transports import CannotListen, UnsafeBind

__all__ = ["CannotListen", "MissingApiKey", "Runtime", "UnsafeBind", "run_server", "surface"]

__getattr__ = lazy(
    __name__,
    {
        "run_server": "app",
        "surface": "app",
        "MissingApiKey": "runtime",
        "Runtime": "runtime",
        "CannotListen": "transports",
        "UnsafeBind": "transports",
    },
)
