"""The V3 operations, one module per area. Each module exposes ``router``."""

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
]
