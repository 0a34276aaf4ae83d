"""What the events layer shares: the store, the notifier and the policy for fencing."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..store.base import EventLog, Store
from ..webhooks import WebhookReceiver
from .notify import Notifier

if TYPE_CHECKING:
    from mcp.server.subscriptions import ListenHandler

    from ..policy import Policy


@dataclass(eq=False)
class EventHub:
    store: EventLog
    policy: Policy | None = None  # the safety policy in force: fences what others wrote
    shared: Store | None = None  # the whole store (leadership, health), when served
    notifier: Notifier = field(default_factory=Notifier)
    receiver: WebhookReceiver | None = None
    sandbox_subscription_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def listen(self) -> ListenHandler:
        """``subscriptions/listen`` (2026-07-28) over the notifier's bus."""
        from mcp.server.subscriptions import ListenHandler

        return ListenHandler(self.notifier.bus)
