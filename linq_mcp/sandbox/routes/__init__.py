"""The V3 operations, one module per area, and the legacy V2 API (``v2``). Each module exposes ``router``."""

from __future__ import annotations

from ..router import Router
from . import (
    attachments,
    blocklist,
    capability,
    chats,
    contact_cards,
    experiences,
    lines,
    messages,
    payments,
    rich,
    v2,
    webhook_subscriptions,
)

ALL_ROUTERS: list[Router] = [
    chats.router,
    messages.router,
    rich.router,
    attachments.router,
    lines.router,
    capability.router,
    contact_cards.router,
    webhook_subscriptions.router,
    blocklist.router,
    experiences.router,
    payments.router,
    v2.router,
]
