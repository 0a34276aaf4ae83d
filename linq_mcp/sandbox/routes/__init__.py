"""Every route the sandbox serves, registered here and nowhere else.

``API_ROUTERS`` serve under ``/api/partner`` (paths like ``/v3/chats``), one module per
area; ``ADMIN_ROUTERS`` serve the admin API under ``/_sandbox``. ``create_sandbox``
compiles exactly these lists.
"""

from __future__ import annotations

from .. import admin, webhooks
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

__all__ = ["ADMIN_ROUTERS", "API_ROUTERS"]

API_ROUTERS: list[Router] = [
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

ADMIN_ROUTERS: list[Router] = [admin.router, webhooks.admin_router]
