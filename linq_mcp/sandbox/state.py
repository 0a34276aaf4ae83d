"""The simulated world: every resource the sandbox holds, and the few verbs on it.

Resources are stored as plain dicts in the API's own shape, so a handler returns
them with :func:`public`, which drops the private ``_``-prefixed bookkeeping keys.
Every id and random choice comes from one ``random.Random(seed)``, so a seeded world
replays identically.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from .clock import Clock, Scheduler
from .config import SandboxConfig

# The partner whose API key made the current request (``app._authenticate``); resources a
# partner owns (attachments) answer 404 to any other partner, as Linq's do.
CURRENT_PARTNER: ContextVar[str | None] = ContextVar("sandbox_partner", default=None)

EventHook = Callable[["Event"], Awaitable[None] | None]


@dataclass
class Event:
    """A webhook event the world produced; delivered by ``sandbox/webhooks.py``."""

    event_id: str
    event_type: str
    created_at: str
    trace_id: str
    data: dict[str, Any]  # the 2026-02-03 shaped ``data``
    data_v2025: dict[str, Any] | None = None  # a different 2025-01-01 ``data``, where the shapes differ
    phone_number: str | None = None  # the line it concerns, for subscription filters


@dataclass
class World:
    config: SandboxConfig
    clock: Clock = field(default_factory=Clock)
    rng: random.Random = field(init=False)
    _trace_rng: random.Random = field(init=False, repr=False)
    scheduler: Scheduler = field(init=False)

    lines: dict[str, dict[str, Any]] = field(default_factory=dict)  # by line id
    chats: dict[str, dict[str, Any]] = field(default_factory=dict)  # by chat id; "_message_ids": [...]
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # by message id
    attachments: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, bytes] = field(default_factory=dict)  # attachment id -> bytes PUT to upload_url
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    contact_cards: dict[str, dict[str, Any]] = field(default_factory=dict)  # by line phone number
    blocked: dict[str, dict[str, Any]] = field(default_factory=dict)  # by handle
    opted_out: set[str] = field(default_factory=set)  # handles that texted STOP
    idempotency: dict[str, tuple[int, Any]] = field(default_factory=dict)  # scope:key -> (status, body)
    idempotency_meta: dict[str, tuple[float, str]] = field(default_factory=dict)  # scope:key -> (at, request hash)
    audits: dict[str, dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)  # handle -> sharing state
    payment_requests: dict[str, dict[str, Any]] = field(default_factory=dict)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_handles: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What simulated people's devices received: {"to", "from", "chat_id", "message_id", "parts", "at"}
    deliveries: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)  # every event produced, oldest first
    counters: dict[str, list[float]] = field(default_factory=dict)  # rate-limit windows
    stats: dict[str, int] = field(default_factory=dict)  # requests, faults by kind, ...
    event_hooks: list[EventHook] = field(default_factory=list)
    # One record per webhook POST attempt (sandbox/webhooks.py), oldest first.
    webhook_attempts: list[dict[str, Any]] = field(default_factory=list)
    # Asynchronous failures armed through the admin API (sandbox/failures.py), oldest first.
    armed_failures: list[dict[str, Any]] = field(default_factory=list)
    # The simulated web (sandbox/web.py): url -> {size_bytes?, content_type?, reachable?}.
    web: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The legacy V2 API (sandbox/v2.py): integer ids for world records ("chat:<uuid>" -> 101 and
    # back), the next id per kind, and the records only V2 has (keyed by str(id)).
    v2_ids: dict[str, int] = field(default_factory=dict)
    v2_refs: dict[str, str] = field(default_factory=dict)
    v2_next: dict[str, int] = field(default_factory=dict)
    v2_contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    v2_subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)
        # Trace ids come from their own stream, so reads never shift the ids of resources.
        self._trace_rng = random.Random(self.config.seed ^ 0x7ACE)
        self.scheduler = Scheduler(self.clock)
        self.web = {str(e["url"]): dict(e) for e in self.config.web if isinstance(e, dict) and e.get("url")}

    # ids and time -------------------------------------------------------------------
    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_token(self, nbytes: int = 16) -> str:
        return self.rng.getrandbits(nbytes * 8).to_bytes(nbytes, "big").hex()

    def trace_id(self) -> str:
        return self._trace_rng.getrandbits(128).to_bytes(16, "big").hex()

    def now(self) -> float:
        return self.clock.now()

    def iso(self, ts: float | None = None) -> str:
        return self.clock.iso(ts)

    def count(self, stat: str, by: int = 1) -> None:
        self.stats[stat] = self.stats.get(stat, 0) + by

    # lines and people ---------------------------------------------------------------
    def line_by_number(self, phone_number: str) -> dict[str, Any] | None:
        for line in self.lines.values():
            if line["phone_number"] == phone_number:
                return line
        return None

    def person(self, handle: str) -> Any:
        """The PersonConfig for a handle, or None for someone outside the cast."""
        for person in self.config.people:
            if person.handle.lower() == handle.lower():
                return person
        return None

    # events -------------------------------------------------------------------------
    async def emit(
        self,
        event_type: str,
        data: dict[str, Any],
        *,
        trace_id: str | None = None,
        data_v2025: dict[str, Any] | None = None,
        phone_number: str | None = None,
    ) -> Event:
        event = Event(
            event_id=self.new_id(),
            event_type=event_type,
            created_at=self.iso(),
            trace_id=trace_id or self.trace_id(),
            data=copy.deepcopy(data),
            data_v2025=copy.deepcopy(data_v2025) if data_v2025 is not None else None,
            phone_number=phone_number,
        )
        self.events.append(event)
        for hook in list(self.event_hooks):
            result = hook(event)
            if result is not None:
                await result
        return event


def owned_by_caller(world: World, resource: dict[str, Any]) -> bool:
    """Whether the partner making this request owns ``resource`` (another's is a 404)."""
    owner = str(resource.get("_partner", world.config.partner_id))
    return owner == (CURRENT_PARTNER.get() or world.config.partner_id)


def public(resource: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of a stored resource without the private ``_`` keys."""
    return {k: copy.deepcopy(v) for k, v in resource.items() if not k.startswith("_")}
