"""Resource-updated notifications for both protocol eras, fed by the event store.

2025-11-25 clients subscribe per URI (``resources/subscribe``) and are told through
their own session; 2026-07-28 clients hold a ``subscriptions/listen`` stream fed by
the subscription bus. Every change is published to both paths (a session helper is a
no-op on a 2026 connection, the bus never reaches a 2025 one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import anyio
from anyio.abc import TaskStatus
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourceUpdated

from ..store.base import EventLog
from ..webhooks import Event

__all__ = ["EVENTS_URI", "INBOX_URI", "Notifier", "affected_uris", "chat_uris"]

log = logging.getLogger("linq_mcp.events")

EVENTS_URI = "linq://events"
INBOX_URI = "linq://inbox"
SEND_TIMEOUT = 5.0


def chat_uris(chat_id: str) -> list[str]:
    return [f"linq://chats/{chat_id}/events", f"linq://chats/{chat_id}/conversation"]


def affected_uris(events: Iterable[Event]) -> list[str]:
    """Every resource whose document changes when ``events`` are stored (ordered, unique)."""
    uris: dict[str, None] = {EVENTS_URI: None}
    for event in events:
        uris[f"linq://events/{event.event_id}"] = None
        if event.chat_id:
            for uri in chat_uris(event.chat_id):
                uris[uri] = None
        if event.is_inbound_message:
            uris[INBOX_URI] = None
    return list(uris)


class Notifier:
    """Remembers 2025 subscribers and publishes updates to them and to the 2026 bus."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._sessions: dict[str, dict[int, Any]] = {}
        self.published = 0

    def subscribe(self, uri: str, session: Any) -> None:
        self._sessions.setdefault(uri, {})[id(session)] = session

    def unsubscribe(self, uri: str, session: Any) -> None:
        subscribers = self._sessions.get(uri)
        if subscribers is not None:
            subscribers.pop(id(session), None)
            if not subscribers:
                del self._sessions[uri]

    def subscriber_count(self, uri: str) -> int:
        return len(self._sessions.get(uri, {}))

    async def publish(self, uris: Iterable[str]) -> None:
        for uri in uris:
            self.published += 1
            await self.bus.publish(ResourceUpdated(uri=uri))
            for key, session in list(self._sessions.get(uri, {}).items()):
                try:
                    with anyio.fail_after(SEND_TIMEOUT):
                        await session.send_resource_updated(uri)
                except Exception:  # a closed or stuck session: forget it quietly
                    log.debug("dropping a resource subscriber that cannot be reached")
                    subscribers = self._sessions.get(uri)
                    if subscribers is not None:
                        subscribers.pop(key, None)

    async def follow(self, store: EventLog, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Publish the URIs each batch of newly stored events affects (also other processes' writes)."""
        after: int | None = None
        started = False
        while True:  # a failing read of the local store is logged and retried, never fatal to the server
            try:
                async with store.subscribe(after_seq=after) as sub:
                    if not started:
                        task_status.started()
                        started = True
                    async for events in sub:
                        after = sub.cursor
                        try:
                            await self.publish(affected_uris(events))
                        except Exception:  # never let one bad batch stop notifications
                            log.exception("publishing resource updates failed")
                return
            except Exception as exc:
                if not started:
                    raise
                log.warning("resource updates: reading the event store failed (%s); retrying", type(exc).__name__)
                await anyio.sleep(1.0)
