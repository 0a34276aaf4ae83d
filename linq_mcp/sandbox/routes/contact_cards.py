"""Sandbox routes: the contact card (name and photo) of each line.

``world.contact_cards`` is keyed by the line's phone number. Create refuses to
overwrite an active card (409/2014); PATCH merges the fields given. POST and PATCH share
a per-number budget (``limits.contact_card_calls`` per ``limits.contact_card_window``
seconds, 3 per 10 minutes like Linq) → 429/1007 with Retry-After.
"""

from __future__ import annotations

from typing import Any

from .. import armed
from ..errors import LinqError, bad_phone, missing, not_found
from ..router import Ctx, Reply, Router
from ..state import World, public
from ..webhooks import emit_account_event
from .params import check_window, get_str, https_url, is_e164, own_line

router = Router()

NAME_MAX = 100


def _limit(world: World, number: str) -> None:
    limits = world.config.limits
    check_window(world, f"contact_card:{number}", limits.contact_card_calls, limits.contact_card_window, "Contact card")


def _fields(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    first = get_str(body, "first_name", required=creating, max_len=NAME_MAX)
    if first is not None:
        fields["first_name"] = first
    if "last_name" in body:
        fields["last_name"] = get_str(body, "last_name", max_len=NAME_MAX, allow_empty=True) or None
    if "image_url" in body:
        url = get_str(body, "image_url", allow_empty=True)
        fields["image_url"] = https_url(url, "image_url") if url else None
    return fields


def _card_object(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": card["_id"],
        "first_name": card["first_name"],
        "last_name": card.get("last_name"),
        "image_url": card.get("image_url"),
    }


@router.post("/v3/contact_card", "create_contact_card")
async def create_contact_card(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    number = get_str(body, "phone_number", required=True)
    assert number is not None
    line = own_line(world, number)
    fields = _fields(body, creating=True)
    _limit(world, number)
    existing = world.contact_cards.get(number)
    if existing is not None and existing.get("is_active"):
        raise LinqError(409, 2014, "Contact card already exists for this number; use PATCH /v3/contact_card")
    armed.refuse_if_armed(world, "contact_card")  # writing it to the line's device can fail (2022, 4004)
    card: dict[str, Any] = {
        "phone_number": line["phone_number"],
        "first_name": fields["first_name"],
        "last_name": fields.get("last_name"),
        "image_url": fields.get("image_url"),
        "is_active": True,
        "_id": world.new_id(),
    }
    world.contact_cards[number] = card
    await emit_account_event(
        world,
        "contact_card.created",
        "Contact card created",
        trace_id=ctx.trace_id,
        phone_number=number,
        contact_card=_card_object(card),
    )
    return Reply(200, public(card))


@router.get("/v3/contact_card", "get_contact_cards")
async def get_contact_cards(ctx: Ctx) -> Reply:
    world = ctx.world
    number = ctx.query.get("phone_number")
    if number is None or number == "":
        cards = [public(c) for c in world.contact_cards.values() if c.get("is_active")]
        return Reply(200, {"contact_cards": cards})
    if not is_e164(number):
        raise bad_phone("phone_number", number)
    card = world.contact_cards.get(number)
    if card is None or not card.get("is_active"):
        raise not_found(2012, "Contact card", number)
    return Reply(200, {"contact_cards": [public(card)]})


@router.patch("/v3/contact_card", "update_contact_card")
async def update_contact_card(ctx: Ctx) -> Reply:
    world = ctx.world
    number = ctx.query.get("phone_number")
    if not number:
        raise missing("phone_number")
    if not is_e164(number):
        raise bad_phone("phone_number", number)
    fields = _fields(ctx.body(required=False), creating=False)
    card = world.contact_cards.get(number)
    if card is None:
        raise not_found(2012, "Contact card", number)
    _limit(world, number)
    armed.refuse_if_armed(world, "contact_card")
    change = {key: {"from": card.get(key), "to": value} for key, value in fields.items() if card.get(key) != value}
    card.update(fields)
    card["is_active"] = True
    if change:
        await emit_account_event(
            world,
            "contact_card.updated",
            "Contact card updated",
            trace_id=ctx.trace_id,
            phone_number=number,
            contact_card=_card_object(card),
            change=change,
        )
    return Reply(200, public(card))
