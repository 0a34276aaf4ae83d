"""What the events layer shares: the store, the notifier and the policy for fencing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..store.base import EventLog, Store
from ..webhooks import WebhookReceiver
from .notify import Notifier

if TYPE_CHECKING:
    from linq_mcp.server.runtime import Runtime

    from ..policy import Policy


@dataclass
class EventHub:
    runtime: Runtime
    store: EventLog
    shared: Store | None = None  # the whole store (leadership, health), when served
    notifier: Notifier = field(default_factory=Notifier)
    receiver: WebhookReceiver | None = None
    sandbox_subscription_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def policy(self) -> Policy | None:
        """The safety policy in force (read late: the guard is wired before serving)."""
        guard = self.runtime.runner.guard
        return getattr(guard, "policy", None)
