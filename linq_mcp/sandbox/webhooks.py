"""Signed delivery of the world's events to webhook subscriptions, with retries.

``install(sandbox)`` hooks :class:`WebhookDispatcher` into ``world.event_hooks``. An event
never blocks the request that caused it: the hook only puts a timer on the world's
scheduler; when it fires, one POST per matching subscription runs as a background task
in ``sandbox.task_group`` (present while a lifespan or ``Sandbox.running()`` is active).
Without a task group (a bare in-process app) the POSTs run inline in the scheduler tick,
which keeps tests deterministic: ``await world.scheduler.run_due()`` delivers.

Each delivery carries both signature schemes:

- Standard Webhooks: ``webhook-id`` (= the envelope's ``event_id``), ``webhook-timestamp``,
  ``webhook-signature: v1,<base64 HMAC-SHA256("{id}.{ts}.{body}")>`` keyed with the
  base64-decoded secret after ``whsec_``;
- legacy ``X-Webhook-*``: ``X-Webhook-Signature`` is the **hex** HMAC-SHA256 over
  ``"{ts}.{body}"`` keyed with the **full secret string** (``whsec_…``) as UTF-8. No source
  says which key the real API uses since secrets became ``whsec_`` (catalog G.2); we pick
  the literal string because that is what the older docs' examples did.

The signature timestamp is the host's wall time (not the virtual clock), so receivers'
±5 minute replay windows accept deliveries even when the world's clock was advanced.
Retries follow ``config.webhooks.retry_schedule`` in virtual time: entry *i* is the delay
before attempt *i+1*; 5xx, 429, timeouts and connection errors retry, other non-2xx do not;
after the last attempt the event is dropped for that subscription. Every attempt is
recorded in ``world.webhook_attempts`` (see :func:`delivery_log`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import anyio
import httpx

from .errors import invalid
from .router import Ctx, Reply, Router
from .state import Event, World

if TYPE_CHECKING:
    from .app import Sandbox

log = logging.getLogger("linq_mcp.sandbox.webhooks")

# SDK 0.65 ``WebhookEventType``: what a subscription may subscribe to.
EVENT_TYPES: tuple[str, ...] = (
    "message.sent", "message.received", "message.read", "message.delivered", "message.failed",
    "message.edited", "reaction.added", "reaction.removed", "poll.received", "poll.failed", "poll.sent",
    "poll.delivered", "poll.read", "poll.updated", "poll.vote.added", "poll.vote.removed",
    "poll.reaction.added", "participant.added", "participant.removed", "chat.created",
    "chat.group_name_updated", "chat.group_icon_updated", "chat.group_name_update_failed",
    "chat.group_icon_update_failed", "chat.background_updated", "chat.background_update_failed",
    "chat.typing_indicator.started", "chat.typing_indicator.stopped", "phone_number.status_updated",
    "phone_number.assigned", "phone_number.released", "contact_card.received", "call.initiated",
    "call.ringing", "call.answered", "call.ended", "call.failed", "call.declined", "call.no_answer",
    "location.sharing.started", "location.sharing.stopped", "payment.succeeded", "payment.canceled",
    "payment.expired", "payment.declined", "payment.authorized", "connection.created",
    "connection.revoked", "zero_day_retention.updated", "phone_number.forwarding_updated",
    "environment.line_moved", "contact_card.created", "contact_card.updated", "contact_card.deleted",
    "api_token.created", "api_token.renamed", "api_token.expiry_scheduled", "api_token.expired",
    "api_token.activated", "api_token.deleted", "environment.created", "environment.renamed",
    "environment.deleted", "webhook_subscription.created", "webhook_subscription.deleted",
    "webhook_subscription.target_url_changed", "webhook_subscription.enabled",
    "webhook_subscription.disabled", "webhook_subscription.events.updated",
    "webhook_subscription.phone_numbers.updated", "webhook_subscription.routing_headers_set",
    "webhook_subscription.routing_headers_cleared", "team_member.added", "team_member.signed_in",
    "team_member.signed_out",
)  # fmt: skip

EVENTS_DOC_URL = "https://docs.linqapp.com/channel/imessage/guides/webhooks/events"
V2025 = "2025-01-01"
V2026 = "2026-02-03"
VERSIONS = (V2025, V2026)  # oldest first
V2026_ONLY = frozenset({"message.edited"})
DEFAULT_ROUTING_ID_HEADER = "Linq-Chat-Id"


# versions ----------------------------------------------------------------------------
def requested_version(target_url: str) -> str | None:
    """The ``?version=`` of a target URL, or None. ValueError for a value we cannot serve.

    A date between two payload versions selects the newest version released on or before
    it (what a subscription created on that date would have got).
    """
    values = parse_qs(urlsplit(target_url).query).get("version")
    if not values:
        return None
    raw = values[-1]
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date().isoformat()
    except ValueError:
        raise ValueError(f"version must be a date like {V2026}, got {raw!r}") from None
    chosen = [v for v in VERSIONS if v <= day]
    if not chosen:
        raise ValueError(f"no webhook payload version exists on or before {raw} (oldest: {V2025})")
    return chosen[-1]


def default_version(created_at: str) -> str:
    """Without ``?version``: the newest version at the subscription's creation date."""
    day = created_at[:10]
    return [v for v in VERSIONS if v <= day][-1] if day >= V2025 else V2025


def subscription_version(sub: dict[str, Any]) -> str:
    try:
        version = requested_version(sub["target_url"])
    except ValueError:
        version = None
    return version or default_version(sub["created_at"])


# signatures ---------------------------------------------------------------------------
def new_signing_secret(world: World) -> str:
    """A secret from the OS, never from the seed: seeded ids are predictable, a secret must not be.

    The seeded stream still advances by the same bits, so every id drawn after it is unchanged.
    """
    world.rng.getrandbits(256)
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def standard_key(secret: str) -> bytes:
    raw = secret.removeprefix("whsec_")
    return base64.b64decode(raw + "=" * (-len(raw) % 4))


def sign_standard(secret: str, msg_id: str, timestamp: str, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(standard_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def sign_legacy(secret: str, timestamp: str, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def envelope(event: Event, version: str, partner_id: str) -> dict[str, Any]:
    data = event.data_v2025 if version == V2025 and event.data_v2025 is not None else event.data
    return {
        "api_version": "v3",
        "webhook_version": version,
        "event_type": event.event_type,
        "event_id": event.event_id,
        "created_at": event.created_at,
        "trace_id": event.trace_id,
        "partner_id": partner_id,
        "data": data,
    }


def public_url(url: str) -> str:
    """A target URL without credentials, query or fragment (as account events show it)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


async def emit_account_event(
    world: World,
    event_type: str,
    summary: str,
    *,
    trace_id: str | None = None,
    phone_number: str | None = None,
    **objects: Any,
) -> Event:
    """An account-change event (``webhook_subscription.*``, ``contact_card.*``, …) made through the API."""
    data: dict[str, Any] = {
        "summary": summary,
        "occurred_at": world.iso(),
        "actor": {"type": "api"},
        "origin": "api",
    }
    if phone_number is not None:
        data["phone_number"] = phone_number
    data.update({k: v for k, v in objects.items() if v is not None})
    return await world.emit(event_type, data, trace_id=trace_id, phone_number=phone_number)


# delivery -----------------------------------------------------------------------------
def matches(sub: dict[str, Any], event: Event) -> bool:
    if not sub.get("is_active") or event.event_type not in sub.get("subscribed_events", []):
        return False
    if sub.get("_foreign"):  # another partner's subscription: this account's events are not theirs
        return False
    if event.event_type in V2026_ONLY and subscription_version(sub) != V2026:
        return False
    numbers = sub.get("phone_numbers") or []
    # The filter narrows line events; events about no line (account, payments) always pass.
    return not numbers or event.phone_number is None or event.phone_number in numbers


@dataclass
class _Job:
    subscription_id: str
    event: Event
    attempts: int = 0
    v2: tuple[str, dict[str, Any]] | None = None  # a V2 subscription's (event_type, data)


def v2_jobs(world: World, event: Event) -> list[_Job]:
    """One job per active V2 subscription (sandbox/v2.py) that wants this event's V2 form."""
    from . import v2

    subs = [s for s in world.v2_subscriptions.values() if s.get("active")]
    if not subs:
        return []
    shaped = v2.event_for(world, event)
    if shaped is None:
        return []
    return [_Job(str(s["id"]), event, v2=shaped) for s in subs if shaped[0] in s.get("events", [])]


def _chat_id(data: dict[str, Any]) -> str | None:
    chat = data.get("chat")
    if isinstance(chat, dict) and isinstance(chat.get("id"), str):
        return str(chat["id"])
    value = data.get("chat_id")
    return value if isinstance(value, str) else None


class WebhookDispatcher:
    """Fans events out to subscriptions and POSTs them, retrying on the world's timers."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.world = sandbox.world
        self.wall_clock: Callable[[], float] = time.time
        self._inflight = 0
        self._idle = anyio.Event()
        self._idle.set()

    def on_event(self, event: Event) -> None:
        self.world.scheduler.call_later(0, lambda: self._fan_out(event))

    def _fan_out(self, event: Event) -> Awaitable[None] | None:
        jobs = [_Job(sub_id, event) for sub_id, sub in self.world.subscriptions.items() if matches(sub, event)]
        jobs += v2_jobs(self.world, event)
        inline = [aw for aw in (self._launch(job) for job in jobs) if aw is not None]
        if not inline:
            return None

        async def run_inline() -> None:
            for awaitable in inline:
                await awaitable

        return run_inline()

    def _launch(self, job: _Job) -> Awaitable[None] | None:
        tg = self.sandbox.task_group
        if tg is None:
            return self._attempt(job)
        tg.start_soon(self._attempt, job)
        return None

    async def wait_idle(self) -> None:
        """Wait until no POST is in flight (retries still pending on the scheduler are not waited for)."""
        await self._idle.wait()

    async def _attempt(self, job: _Job) -> None:
        self._inflight += 1
        if self._inflight == 1:
            self._idle = anyio.Event()
        try:
            await self._post(job)
        finally:
            self._inflight -= 1
            if self._inflight == 0:
                self._idle.set()

    async def _post_v2(self, job: _Job) -> None:
        """A V2 delivery: V2's envelope, ``sha256=`` signature only when the subscription has a secret."""
        from . import v2

        world = self.world
        sub = world.v2_subscriptions.get(job.subscription_id)
        if sub is None or not sub.get("active") or job.v2 is None:
            self._record(job, None, None, None, "canceled", "subscription deleted or paused")
            return
        job.attempts += 1
        sub["delivery_attempts"] = int(sub.get("delivery_attempts", 0)) + 1
        event_type, data = job.v2
        body = json.dumps(v2.envelope(job.event, event_type, data), ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "User-Agent": "Linq-Webhooks/sandbox"}
        if sub.get("_secret"):
            headers["X-Webhook-Signature"] = v2.sign(sub["_secret"], body)
        target = {"target_url": sub["webhook_url"]}
        status, error, _ = await self._send(sub["webhook_url"], body, headers)
        if status is not None and 200 <= status < 300:
            sub["last_delivered_at"] = world.iso()
        self._settle(job, target, "v2", status, error)

    async def _send(
        self, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int | None, str | None, httpx.Response | None]:
        """One POST: (status, error, response); never raises for the receiver's failures."""
        timeout = self.world.config.webhooks.timeout
        try:
            with anyio.fail_after(timeout):
                async with httpx.AsyncClient(
                    transport=self.sandbox.webhook_transport, timeout=timeout, trust_env=False
                ) as client:
                    response = await client.post(url, content=body, headers=headers)
            return response.status_code, None, response
        except (TimeoutError, httpx.TimeoutException):
            return None, f"timeout after {timeout:g} s", None
        except httpx.HTTPError as exc:
            return None, f"connection error: {type(exc).__name__}: {exc}", None
        except Exception as exc:  # a broken in-process receiver is a failed delivery, not a crash
            log.warning("webhook receiver raised %r", exc)
            return None, f"receiver error: {type(exc).__name__}: {exc}", None

    async def _post(self, job: _Job) -> None:
        if job.v2 is not None:
            await self._post_v2(job)
            return
        world = self.world
        sub = world.subscriptions.get(job.subscription_id)
        event = job.event
        if sub is None or not sub.get("is_active"):
            self._record(job, sub, None, None, "canceled", "subscription deleted or paused")
            return
        job.attempts += 1
        version = subscription_version(sub)
        body = json.dumps(envelope(event, version, world.config.partner_id), ensure_ascii=False).encode()
        timestamp = str(int(self.wall_clock()))
        secret = sub["_signing_secret"]
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Linq-Webhooks/sandbox",
            "webhook-id": event.event_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign_standard(secret, event.event_id, timestamp, body),
            "X-Webhook-Event": event.event_type,
            "X-Webhook-Subscription-ID": sub["id"],
            "X-Webhook-Timestamp": timestamp,
            "X-Webhook-Signature": sign_legacy(secret, timestamp, body),
        }
        chat_id = _chat_id(event.data)
        key_header = sub.get("routing_key_header")
        if key_header and chat_id:
            headers[sub.get("routing_id_header") or DEFAULT_ROUTING_ID_HEADER] = chat_id
            token = sub.setdefault("_routing_tokens", {}).get(chat_id)
            if token:
                headers[key_header] = token
        status, error, response = await self._send(sub["target_url"], body, headers)
        if status is not None and 200 <= status < 300 and key_header and chat_id and response is not None:
            if response.headers.get(key_header):
                sub.setdefault("_routing_tokens", {})[chat_id] = response.headers[key_header]
        self._settle(job, sub, version, status, error)

    def _settle(
        self, job: _Job, sub: dict[str, Any], version: str | None, status: int | None, error: str | None
    ) -> None:
        """Record the attempt; schedule a retry for 5xx, 429 and transport failures."""
        world = self.world
        if status is not None and 200 <= status < 300:
            self._record(job, sub, version, status, "delivered", None)
            world.count("webhook.delivered")
            return
        retryable = error is not None or status == 429 or (status is not None and status >= 500)
        schedule = world.config.webhooks.retry_schedule
        if not retryable:
            self._record(job, sub, version, status, "rejected", error)
            world.count("webhook.rejected")
            return
        if job.attempts >= max(1, len(schedule)):
            self._record(job, sub, version, status, "dropped", error)
            world.count("webhook.dropped")
            return
        delay = float(schedule[job.attempts])
        self._record(job, sub, version, status, "retry", error, next_in=delay)
        world.count("webhook.retries")
        world.scheduler.call_later(delay, lambda: self._launch(job))

    def _record(
        self,
        job: _Job,
        sub: dict[str, Any] | None,
        version: str | None,
        status: int | None,
        outcome: str,
        error: str | None,
        *,
        next_in: float | None = None,
    ) -> None:
        self.world.count("webhook.attempts" if outcome != "canceled" else "webhook.canceled")
        self.world.webhook_attempts.append(
            {
                "subscription_id": job.subscription_id,
                "event_id": job.event.event_id,
                "event_type": job.event.event_type,
                "attempt": job.attempts,
                "at": self.world.iso(),
                "target_url": sub["target_url"] if sub else None,
                "webhook_version": version,
                "status": status,
                "error": error,
                "outcome": outcome,
                "next_attempt_in": next_in,
            }
        )


def install(sandbox: Sandbox) -> WebhookDispatcher:
    """Deliver the world's events (the delivery log's route is in ``routes.ADMIN_ROUTERS``)."""
    dispatcher = WebhookDispatcher(sandbox)
    sandbox.world.event_hooks.append(dispatcher.on_event)
    return dispatcher


def dispatcher_of(world: World) -> WebhookDispatcher | None:
    for hook in world.event_hooks:
        owner = getattr(hook, "__self__", None)
        if isinstance(owner, WebhookDispatcher):
            return owner
    return None


def delivery_log(
    world: World, *, subscription_id: str | None = None, event_id: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    """The attempts so far (newest last) and the ``webhook.*`` counters, for the admin API."""
    attempts = [
        dict(a)
        for a in world.webhook_attempts
        if (subscription_id is None or a["subscription_id"] == subscription_id)
        and (event_id is None or a["event_id"] == event_id)
    ]
    if limit is not None:
        attempts = attempts[-limit:] if limit > 0 else []
    stats = {k.removeprefix("webhook."): v for k, v in world.stats.items() if k.startswith("webhook.")}
    return {"attempts": attempts, "stats": stats}


admin_router = Router()


@admin_router.get("/_sandbox/webhook-deliveries", "_admin_webhook_deliveries")
async def webhook_deliveries(ctx: Ctx) -> Reply:
    """``GET /_sandbox/webhook-deliveries[?subscription_id=&event_id=&limit=]``: every POST attempt."""
    raw_limit = ctx.query.get("limit")
    limit = None
    if raw_limit is not None:
        if not raw_limit.isdigit():
            raise invalid("limit", "must be a non-negative integer")
        limit = int(raw_limit)
    return Reply(
        200,
        delivery_log(
            ctx.world,
            subscription_id=ctx.query.get("subscription_id"),
            event_id=ctx.query.get("event_id"),
            limit=limit,
        ),
    )
