"""Builders for the store tests: events, and two store instances on one database."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable

from linq_mcp.store import Store
from linq_mcp.webhooks import Event, normalise

NewStore = Callable[[], Store]


def inbound(chat_id: str = "chat-1", text: str = "hi", event_id: str | None = None) -> Event:
    """An inbound message event with fresh ids (or the given event id)."""
    return normalise(
        {
            "api_version": "v3",
            "webhook_version": "2026-02-03",
            "event_type": "message.received",
            "event_id": event_id or str(uuid.uuid4()),
            "created_at": "2026-02-05T19:31:13.736Z",
            "data": {
                "chat": {"id": chat_id, "is_group": False, "owner_handle": {"handle": "+12025551234", "is_me": True}},
                "id": str(uuid.uuid4()),
                "direction": "inbound",
                "sender_handle": {"handle": "+12025559876", "is_me": False},
                "parts": [{"type": "text", "value": text}],
                "sent_at": "2026-02-05T19:31:13.074Z",
                "service": "iMessage",
            },
        }
    )


@contextlib.asynccontextmanager
async def two(new_store: NewStore) -> AsyncIterator[tuple[Store, Store]]:
    """Two opened instances on the same database: what two replicas (or processes) see."""
    async with new_store() as first, new_store() as second:
        yield first, second
