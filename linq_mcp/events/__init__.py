"""Webhook events in the product: MCP resources, subscriptions, the ``events`` tools, polling.

``wire(runtime, db_path)`` (called from ``app.assembled``) opens the event store and
registers everything; see ``wiring.py`` for how events arrive.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.events.hub import EventHub
    from linq_mcp.events.wiring import SANDBOX_TARGET, USEFUL_EVENTS, configured_secrets, wire

__all__ = ["SANDBOX_TARGET", "USEFUL_EVENTS", "EventHub", "configured_secrets", "wire"]

# Loaded on first use, so that ``linq_mcp.events.specs`` (what the tools look like) is cheap
# to import before the store and receiver are needed.
_WHERE: dict[str, str] = {"EventHub": "hub", "SANDBOX_TARGET": "wiring", "USEFUL_EVENTS": "wiring",
          "configured_secrets": "wiring", "wire": "wiring"}  # fmt: skip

__getattr__ = lazy(__name__, _WHERE)
