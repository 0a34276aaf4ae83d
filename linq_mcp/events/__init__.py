"""Webhook events in the product: MCP resources, subscriptions, the ``events`` tools, polling.

``wire(runtime, db_path)`` (called from ``app.assembled``) opens the event store and
registers everything; see ``wiring.py`` for how events arrive.
"""

from __future__ import annotations

from .hub import EventHub
from .wiring import SANDBOX_TARGET, USEFUL_EVENTS, configured_secrets, wire

__all__ = ["SANDBOX_TARGET", "USEFUL_EVENTS", "EventHub", "configured_secrets", "wire"]
