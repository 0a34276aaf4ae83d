"""The embedded Linq simulator: a world (lines, people, clock, faults) behind Linq"s V3 API.

Every route it serves is registered in ``routes/__init__.py``; ``create_sandbox`` builds
one, ``SandboxTransport`` lets an httpx client talk to it without a socket.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.sandbox.admin import advance_clock
    from linq_mcp.sandbox.app import Sandbox, create_sandbox
    from linq_mcp.sandbox.config import SandboxConfig
    from linq_mcp.sandbox.serve import run
    from linq_mcp.sandbox.transport import SandboxTransport

__all__ = ["Sandbox", "SandboxConfig", "SandboxTransport", "advance_clock", "create_sandbox", "run"]

__getattr__ = lazy(
    __name__,
    {
        "advance_clock": "admin",
        "Sandbox": "app",
        "create_sandbox": "app",
        "SandboxConfig": "config",
        "run": "serve",
        "SandboxTransport": "transport",
    },
)
