"""Sandbox routes: webhook event types and subscriptions (delivery is ``sandbox/webhooks.py``).

The signing secret is generated from the world's rng and shown only in the 201 create
response; it is stored under the private ``_signing_secret`` key. Changes to a
subscription emit the matching ``webhook_subscription.*`` account events, so a
subscription to them hears about itself (as the SDK documents).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import LinqError, conflict, invalid, missing, not_found
from ..router import Ctx, Reply, Router
from ..state import CURRENT_PARTNER, World, owned_by_caller, public
from ..webhooks import (
    DEFAULT_ROUTING_ID_HEADER,
    EVENT_TYPES,
    EVENTS_DOC_URL,
    emit_account_event,
    new_signing_secret,
    public_url,
    requested_version,
)
from .params import get_bool, get_str, https_url, phone_list

router = Router()

_KNOWN_EVENTS = frozenset(EVENT_TYPES)
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$")
_RESERVED_HEADERS = {
    "content-type",
    "content-length",
    "host",
    "user-agent",
    "webhook-id",
    "webhook-timestamp",
}


def _target_url(world: World, value: str, *, exclude_id: str | None = None) -> str:
    url = https_url(value, "target_url", http_hosts=world.config.http_webhook_hosts)
    try:
        requested_version(url)
    except ValueError as exc:
        raise invalid("target_url", str(exc)) from None
    for sub in world.subscriptions.values():
        if sub["target_url"] == url and sub["id"] != exclude_id and owned_by_caller(world, sub):
            raise conflict(2015, f"target_url is already used by webhook subscription {sub['id']}")
    return url


def _events(value: object) -> list[str]:
    if value is None:
        raise missing("subscribed_events")
    if not isinstance(value, list) or not value:
        raise invalid("subscribed_events", "must be a non-empty array of event types")
    for item in value:
        if not isinstance(item, str) or item not in _KNOWN_EVENTS:
            raise invalid("subscribed_events", f"unknown event type {item!r} (see GET /v3/webhook-events)")
    return list(dict.fromkeys(value))


def _header(body: dict[str, Any], key: str) -> str | None:
    value = get_str(body, key, allow_empty=True)
    if not value:
        return None
    if (
        _HEADER_NAME.match(value) is None
        or value.lower() in _RESERVED_HEADERS
        or value.lower().startswith("x-webhook-")
    ):
        raise invalid(key, "must be a valid HTTP header name not used by webhook delivery")
    return value


def _get(world: World, subscription_id: str) -> dict[str, Any]:
    sub = world.subscriptions.get(subscription_id)
    if sub is None:
        raise not_found(2010, "Webhook subscription", subscription_id)
    if not owned_by_caller(world, sub):  # the catalog's 403 on retrieve: another partner's
        raise LinqError(403, 2005, f"Access denied: webhook subscription {subscription_id} is not yours")
    return sub


def _summary_object(sub: dict[str, Any], *, with_events: bool = False) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": sub["id"], "target_url": public_url(sub["target_url"])}
    if with_events:
        obj["events"] = list(sub["subscribed_events"])
    return obj


@router.get("/v3/webhook-events", "list_webhook_event_types")
async def list_event_types(ctx: Ctx) -> Reply:
    return Reply(200, {"events": list(EVENT_TYPES), "doc_url": EVENTS_DOC_URL})


@router.post("/v3/webhook-subscriptions", "create_webhook_subscription")
async def create(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    target = get_str(body, "target_url", required=True)
    assert target is not None
    events = _events(body.get("subscribed_events"))
    url = _target_url(world, target)
    numbers = phone_list(body.get("phone_numbers"), "phone_numbers")
    key_header = _header(body, "routing_key_header")
    id_header = _header(body, "routing_id_header")
    now = world.iso()
    partner = CURRENT_PARTNER.get() or world.config.partner_id
    sub_id = world.new_id()
    sub: dict[str, Any] = {
        "id": sub_id,
        "target_url": url,
        "subscribed_events": events,
        "phone_numbers": numbers or None,
        "is_active": True,
        "routing_key_header": key_header,
        "routing_id_header": (id_header or DEFAULT_ROUTING_ID_HEADER) if key_header else None,
        "created_at": now,
        "updated_at": now,
        "_signing_secret": new_signing_secret(world),
        "_partner": partner,
        "_foreign": partner != world.config.partner_id,  # hears nothing of this account's lines
    }
    world.subscriptions[sub_id] = sub
    await emit_account_event(
        world,
        "webhook_subscription.created",
        "Webhook subscription created",
        trace_id=ctx.trace_id,
        webhook_subscription=_summary_object(sub, with_events=True),
    )
    return Reply(201, {**public(sub), "signing_secret": sub["_signing_secret"]})


@router.get("/v3/webhook-subscriptions", "list_webhook_subscriptions")
async def list_subscriptions(ctx: Ctx) -> Reply:
    subs = sorted(
        (s for s in ctx.world.subscriptions.values() if owned_by_caller(ctx.world, s)), key=lambda s: s["created_at"]
    )
    return Reply(200, {"subscriptions": [public(s) for s in subs]})


@router.get("/v3/webhook-subscriptions/{subscription_id}", "get_webhook_subscription")
async def get_subscription(ctx: Ctx) -> Reply:
    return Reply(200, public(_get(ctx.world, ctx.path_params["subscription_id"])))


@router.put("/v3/webhook-subscriptions/{subscription_id}", "update_webhook_subscription")
async def update(ctx: Ctx) -> Reply:
    """A partial update: only the fields present change; the secret never does."""
    world = ctx.world
    sub = _get(world, ctx.path_params["subscription_id"])
    body = ctx.body(required=False)
    changes: dict[str, Any] = {}
    if "target_url" in body:
        target = get_str(body, "target_url", required=True)
        assert target is not None
        changes["target_url"] = _target_url(world, target, exclude_id=sub["id"])
    if "subscribed_events" in body:
        changes["subscribed_events"] = _events(body["subscribed_events"])
    if "is_active" in body:
        active = get_bool(body, "is_active")
        if active is None:
            raise invalid("is_active", "must be a boolean")
        changes["is_active"] = active
    if "phone_numbers" in body:
        changes["phone_numbers"] = phone_list(body["phone_numbers"], "phone_numbers") or None
    key_header = sub.get("routing_key_header")
    id_header = sub.get("routing_id_header")
    if "routing_key_header" in body:
        key_header = _header(body, "routing_key_header")
    if "routing_id_header" in body:
        id_header = _header(body, "routing_id_header")
    if key_header:
        changes["routing_key_header"] = key_header
        changes["routing_id_header"] = id_header or DEFAULT_ROUTING_ID_HEADER
    elif "routing_key_header" in body or "routing_id_header" in body:
        changes["routing_key_header"] = None
        changes["routing_id_header"] = None
        sub.pop("_routing_tokens", None)

    before = dict(sub)
    sub.update(changes)
    sub["updated_at"] = world.iso()
    await _emit_changes(ctx, before, sub)
    return Reply(200, public(sub))


async def _emit_changes(ctx: Ctx, before: dict[str, Any], after: dict[str, Any]) -> None:
    world, obj = ctx.world, _summary_object(after)

    async def emit(event_type: str, summary: str, change: dict[str, Any] | None = None) -> None:
        await emit_account_event(
            world, event_type, summary, trace_id=ctx.trace_id, webhook_subscription=obj, change=change
        )

    if before["target_url"] != after["target_url"]:
        change: dict[str, Any] = {"from": public_url(before["target_url"]), "to": public_url(after["target_url"])}
        await emit("webhook_subscription.target_url_changed", "Webhook URL changed", change)
    if before["is_active"] != after["is_active"]:
        if after["is_active"]:
            await emit("webhook_subscription.enabled", "Webhook subscription enabled")
        else:
            await emit("webhook_subscription.disabled", "Webhook subscription disabled")
    if before["subscribed_events"] != after["subscribed_events"]:
        change = {"from": before["subscribed_events"], "to": after["subscribed_events"]}
        await emit("webhook_subscription.events.updated", "Webhook events updated", change)
    if before["phone_numbers"] != after["phone_numbers"]:
        change = {"from": before["phone_numbers"], "to": after["phone_numbers"]}
        await emit("webhook_subscription.phone_numbers.updated", "Webhook phone numbers updated", change)
    old_headers = (before["routing_key_header"], before["routing_id_header"])
    new_headers = (after["routing_key_header"], after["routing_id_header"])
    if old_headers != new_headers:
        change = {
            "from": _headers_obj(old_headers),
            "to": _headers_obj(new_headers),
        }
        if new_headers[0]:
            await emit("webhook_subscription.routing_headers_set", "Webhook routing headers set", change)
        else:
            await emit("webhook_subscription.routing_headers_cleared", "Webhook routing headers cleared", change)


def _headers_obj(headers: tuple[str | None, str | None]) -> dict[str, Any] | None:
    if not headers[0]:
        return None
    return {"routing_key_header": headers[0], "routing_id_header": headers[1]}


@router.delete("/v3/webhook-subscriptions/{subscription_id}", "delete_webhook_subscription")
async def delete(ctx: Ctx) -> Reply:
    world = ctx.world
    sub = _get(world, ctx.path_params["subscription_id"])
    del world.subscriptions[sub["id"]]
    await emit_account_event(
        world,
        "webhook_subscription.deleted",
        "Webhook subscription deleted",
        trace_id=ctx.trace_id,
        webhook_subscription=_summary_object(sub),
    )
    return Reply(204)
