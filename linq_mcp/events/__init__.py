"""Webhook events in the product: MCP resources, subscriptions, the ``events`` tools, polling.

``wire(runtime, db_path)`` (called from ``app.assembled``) opens the event store and
registers everything; see ``wiring.py`` for how events arrive.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .hub import EventHub
    from .wiring import SANDBOX_TARGET, USEFUL_EVENTS, configured_secrets, wire

__all__ = ["SANDBOX_TARGET", "USEFUL_EVENTS", "EventHub", "configured_secrets", "wire"]

# Loaded on first use, so that ``linq_mcp.events.specs`` (what the tools look like) is cheap
# to import before the store and receiver are needed.
_WHERE = {"EventHub": "hub", "SANDBOX_TARGET": "wiring", "USEFUL_EVENTS": "wiring",
          "configured_secrets": "wiring", "wire": "wiring"}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
