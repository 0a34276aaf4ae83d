"""The ``linq-mcp`` command (``cli.main:main``): serve, tools, demo, sandbox, webhooks, install, doctor.

Exported: the MCP clients ``install`` knows, and the tool table ``linq-mcp tools`` prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.cli.clients import CLIENTS
    from linq_mcp.cli.tooltable import rows

__all__ = ["CLIENTS", "rows"]

__getattr__ = lazy(__name__, {"CLIENTS": "clients", "rows": "tooltable"})
