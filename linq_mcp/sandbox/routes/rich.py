"""Sandbox routes: iMessage extras — polls, app-card updates, stickers, location, backgrounds."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from .. import idempotency, messaging, people
from ..errors import LinqError, invalid, missing, not_found, rate_limited
from ..messaging import Content, Doc
from ..router import Ctx, Reply, Router
from ..state import World
from . import params

router = Router()

LOCATION_REQUEST_WINDOW = 60.0
COLOR_VARIANTS = {
    "mango", "ice", "plum", "deep_sea", "green_apple", "cherry", "bubblegum", "tangerine", "magenta", "lime",
    "silver", "carbon", "stone", "custom",
}  # fmt: skip
DYNAMIC_VARIANTS = {
    "sky": {"dusk", "haze", "sunset", "clear", "sunrise", "dawn"},
    "water": {"light", "dark"},
    "aurora": {"green", "purple", "pink"},
}
HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _imessage_chat(ctx: Ctx) -> Doc:
    chat = messaging.get_chat(ctx.world, ctx.path_params["chat_id"])
    messaging.require_active(chat)
    return chat


# polls --------------------------------------------------------------------------------------
def _options(raw: object, field_name: str, minimum: int) -> list[str]:
    if raw is None:
        raise missing(field_name)
    if not isinstance(raw, list) or len(raw) < minimum:
        raise invalid(field_name, f"needs at least {minimum} option(s)")
    texts: list[str] = []
    for i, option in enumerate(raw):
        text = option.get("text") if isinstance(option, dict) else None
        if text is None or text == "":
            raise missing(f"{field_name}[{i}].text")
        if not isinstance(text, str) or len(text) > 300:
            raise invalid(f"{field_name}[{i}].text", "must be a string of 1-300 characters")
        texts.append(text)
    return texts


def _option(world: World, chat: Doc, text: str) -> Doc:
    return {
        "option_id": world.new_token(8),
        "text": text,
        "can_be_edited": False,
        "creator_handle": dict(messaging.me(chat)),
        "voters": [],
    }


def _poll_message(world: World, message_id: str) -> Doc:
    message = messaging.get_message(world, message_id)
    if message.get("_kind") != "poll":
        raise not_found(2002, "Poll", message_id)
    return message


def envelope(message: Doc) -> Doc:
    poll = message["_poll"]
    return {
        "chat_id": message["chat_id"],
        "message_id": message["id"],
        "poll": {"options": messaging.scrub(poll["options"]), "total_voters": messaging.total_voters(poll)},
        "reactions": [],
        "created_at": message["created_at"],
        "updated_at": message["updated_at"],
    }


@router.post("/v3/chats/{chat_id}/polls", "create_poll")
async def create_poll(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    body = ctx.body()
    poll = body.get("poll")
    if poll is None:
        raise missing("poll")
    if not isinstance(poll, dict):
        raise invalid("poll", "must be an object")
    texts = _options(poll.get("options"), "poll.options", 2)
    key = idempotency.check_key("poll.idempotency_key", poll.get("idempotency_key"))
    scopes = [idempotency.scope_key(ctx.operation, "poll", key)] if key else []
    replayed = idempotency.replay(world, scopes, idempotency.fingerprint(ctx))
    if replayed is not None:
        return replayed
    messaging.require_active(chat)
    if chat["service"] != "iMessage":
        raise LinqError(409, 2017, "Polls are iMessage-only")
    if not chat["_message_ids"]:
        raise LinqError(409, 2015, "A poll cannot be the first message of a chat")
    content = Content(preferred_service="iMessage", idempotency_key=key)
    messaging.preflight_in_chat(world, chat, content)
    message = await people.send(world, chat, content, service="iMessage", trace_id=ctx.trace_id, parts=[], kind="poll")
    message["_poll"] = {"options": [_option(world, chat, t) for t in texts]}
    reply = Reply(202, envelope(message))
    idempotency.remember(world, scopes, reply, idempotency.fingerprint(ctx))
    return reply


@router.get("/v3/messages/{message_id}/poll", "get_poll")
async def get_poll(ctx: Ctx) -> Reply:
    return Reply(200, envelope(_poll_message(ctx.world, ctx.path_params["message_id"])))


@router.post("/v3/messages/{message_id}/poll/options", "add_poll_options")
async def add_poll_options(ctx: Ctx) -> Reply:
    world = ctx.world
    message = _poll_message(world, ctx.path_params["message_id"])
    texts = _options(ctx.body().get("options"), "options", 1)
    chat = messaging.get_chat(world, message["chat_id"])
    messaging.require_active(chat)
    added = [_option(world, chat, t) for t in texts]
    message["_poll"]["options"].extend(added)
    message["updated_at"] = world.iso()
    await world.emit(
        "poll.updated",
        {
            "added_options": messaging.scrub(added),
            "chat": messaging.chat_ref(chat),
            "direction": "outbound",
            "message_id": message["id"],
            "sender_handle": dict(messaging.me(chat)),
            "service": message["service"],
        },
        trace_id=ctx.trace_id,
        phone_number=chat["_line"],
    )
    return Reply(200, envelope(message))


@router.post("/v3/messages/{message_id}/poll/votes", "vote_in_poll")
async def vote_in_poll(ctx: Ctx) -> Reply:
    world = ctx.world
    message = _poll_message(world, ctx.path_params["message_id"])
    body = ctx.body()
    operation, option_id = body.get("operation"), body.get("option_id")
    if operation is None:
        raise missing("operation")
    if operation not in ("add", "remove"):
        raise invalid("operation", "must be add or remove")
    if option_id is None or option_id == "":
        raise missing("option_id")
    option = next((o for o in message["_poll"]["options"] if o["option_id"] == option_id), None)
    if option is None:
        raise invalid("option_id", f"{option_id!r} is not an option of this poll")
    chat = messaging.get_chat(world, message["chat_id"])
    messaging.require_active(chat)
    mine = messaging.me(chat)
    voted = any(v["handle"] == mine["handle"] for v in option["voters"])
    changed = False
    if operation == "add" and not voted:
        option["voters"].append({"handle": mine["handle"], "voted_at": world.iso()})
        changed = True
    elif operation == "remove" and voted:
        option["voters"][:] = [v for v in option["voters"] if v["handle"] != mine["handle"]]
        changed = True
    if changed:
        message["updated_at"] = world.iso()
        await world.emit(
            f"poll.vote.{'added' if operation == 'add' else 'removed'}",
            {
                "chat": messaging.chat_ref(chat),
                "direction": "outbound",
                "message_id": message["id"],
                "option_id": option_id,
                "sender_handle": dict(mine),
                "service": message["service"],
            },
            trace_id=ctx.trace_id,
            phone_number=chat["_line"],
        )
    return Reply(200, envelope(message))


# app cards and stickers ---------------------------------------------------------------------
@router.post("/v3/messages/{message_id}/update", "update_app_card")
async def update_app_card(ctx: Ctx) -> Reply:
    """Replace one of your ``imessage_app`` cards: delivered as a new message."""
    world = ctx.world
    original = messaging.get_message(world, ctx.path_params["message_id"])
    body = ctx.body()
    layout = body.get("layout")
    if layout is None:
        raise missing("layout")
    if not isinstance(layout, dict):
        raise invalid("layout", "must be an object")
    parts = original.get("parts") or []
    if not original["is_from_me"] or not parts or parts[0].get("type") != "imessage_app":
        raise invalid("message_id", "the message is not an imessage_app card you sent")
    card = parts[0]
    app = body.get("app")
    if app is not None and (
        not isinstance(app, dict)
        or {k: app.get(k) for k in ("bundle_id", "team_id")}
        != {k: card["app"].get(k) for k in ("bundle_id", "team_id")}
    ):
        raise LinqError(400, 1008, "Invalid iMessage app message: the app of a card cannot change")
    messaging.check_layout(layout, "layout")
    url = body.get("url")
    if url is not None:
        url = messaging.require_https("url", url)
    interactive = body.get("interactive", True)
    if not isinstance(interactive, bool):
        raise invalid("interactive", "must be a boolean")
    chat = messaging.get_chat(world, original["chat_id"])
    if original["delivery_status"] in ("pending", "queued"):
        raise LinqError(409, 2015, "The card has not been sent yet; retry after its message.sent webhook")
    new_part: Doc = {
        "type": "imessage_app",
        "app": dict(card["app"]),
        "layout": dict(layout),
        "url": url or card.get("url", ""),
        "fallback_text": body.get("fallback_text") or layout.get("caption") or card.get("fallback_text"),
        "reactions": [],
        "_interactive": interactive,
    }
    content = Content(parts=[{"type": "imessage_app", "app": card["app"], "layout": layout}])
    service = messaging.preflight_in_chat(world, chat, content)
    message = await people.send(world, chat, content, service=service, trace_id=ctx.trace_id, parts=[new_part])
    message["_replaces"] = original["id"]
    return Reply(202, {"chat_id": chat["id"], "message": messaging.sent_view(ctx.world, message)})


@router.patch("/v3/messages/{message_id}/reactions/{reaction_id}", "update_sticker_placement")
async def update_sticker_placement(ctx: Ctx) -> Reply:
    world = ctx.world
    message = messaging.get_message(world, ctx.path_params["message_id"])
    body = ctx.body()
    if body.get("placement") is None:
        raise missing("placement")
    placement = params.placement(body["placement"])
    reaction_id = ctx.path_params["reaction_id"]
    reaction = next(
        (r for p in message.get("parts") or [] for r in p.get("reactions") or [] if r.get("id") == reaction_id),
        None,
    )
    if reaction is None:
        raise not_found(2002, "Reaction", reaction_id)
    if reaction["type"] != "sticker":
        raise invalid("reaction_id", "only stickers can be moved; a tapback has no placement")
    chat = messaging.get_chat(world, message["chat_id"])
    messaging.require_active(chat)
    reaction.setdefault("_placement", {}).update(placement)
    return Reply(202, {"status": "accepted", "success": True, "trace_id": ctx.trace_id})


# location -----------------------------------------------------------------------------------
@router.post("/v3/chats/{chat_id}/location/request", "request_location")
async def request_location(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = _imessage_chat(ctx)
    if chat["is_group"]:
        raise LinqError(409, 2016, "Location requests only work in 1:1 chats (GroupChatNotSupported)")
    if chat["service"] != "iMessage":
        raise LinqError(409, 2017, "Location requests only work in iMessage chats (ChatServiceNotSupported)")
    messaging.require_eligible(messaging.line_for(world, chat["_line"]))
    handle = messaging.other_handles(chat)[0]
    if world.locations.get(handle, {}).get("active"):
        raise LinqError(409, 2015, f"{handle} is already sharing their location; read it with GET .../location")
    last = chat.get("_location_requested_at")
    if last is not None and world.now() - last < LOCATION_REQUEST_WINDOW:
        raise rate_limited(int(last + LOCATION_REQUEST_WINDOW - world.now() + 0.999), "Location request rate limited")
    chat["_location_requested_at"] = world.now()
    world.deliveries.append(
        {
            "to": handle,
            "from": chat["_line"],
            "chat_id": chat["id"],
            "message_id": None,
            "kind": "location_request",
            "service": "iMessage",
            "parts": [],
            "at": world.iso(),
        }
    )
    person = world.person(handle)
    if person is not None and person.location is not None:
        world.scheduler.call_later(
            world.config.timing.read, partial(_start_sharing, world, chat, handle, person.location, ctx.trace_id)
        )
    return Reply(200, {"success": True, "message": "Location request sent"})


async def _start_sharing(world: World, chat: Doc, handle: str, where: tuple[float, float], trace_id: str) -> None:
    now = world.iso()
    world.locations[handle] = {
        "handle": handle,
        "coordinates": [where[0], where[1]],
        "began_at": now,
        "updated_at": now,
        "active": True,
    }
    await world.emit(
        "location.sharing.started",
        {"shared_by": handle, "shared_with": chat["_line"], "chat_id": chat["id"], "began_at": now, "ends_at": None},
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


@router.get("/v3/chats/{chat_id}/location", "get_location")
async def get_location(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    features: list[Doc] = []
    for handle in messaging.other_handles(chat):
        share = world.locations.get(handle)
        if share and share.get("active"):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": list(share["coordinates"])},
                    "properties": {"handle": handle, "updated_at": share["updated_at"]},
                }
            )
    return Reply(200, {"success": True, "data": {"type": "FeatureCollection", "features": features}})


@router.delete("/v3/chats/{chat_id}/location", "stop_location_sharing")
async def stop_location_sharing(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    handle = messaging.require_handle("handle", ctx.body().get("handle"))
    share = world.locations.get(handle)
    if not share or not share.get("active"):
        raise LinqError(404, 2001, f"{handle} is not sharing their location with you")
    share["active"] = False
    world.scheduler.call_later(world.config.timing.sent, partial(_stopped, world, chat, handle, ctx.trace_id))
    return Reply(202, {"success": True, "message": "Location sharing stop requested"})


async def _stopped(world: World, chat: Doc, handle: str, trace_id: str) -> None:
    world.locations.pop(handle, None)
    await world.emit(
        "location.sharing.stopped",
        {"shared_by": handle, "shared_with": chat["_line"], "chat_id": chat["id"], "ended_at": world.iso()},
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


# backgrounds --------------------------------------------------------------------------------
def _background(body: dict[str, Any]) -> Doc:
    kind = body.get("type")
    if kind is None:
        raise missing("type")
    if kind not in ("color", "dynamic", "photo"):
        raise invalid("type", "must be color, dynamic or photo")
    variant, style, shades = body.get("variant"), body.get("style"), body.get("shades")
    background: Doc = {"type": kind, "image_url": None, "shades": None, "style": None, "variant": None}
    if kind == "color":
        variant = variant or "custom"
        if variant not in COLOR_VARIANTS:
            raise invalid("variant", f"unknown color variant {variant!r}")
        if variant == "custom":
            if (
                not isinstance(shades, list)
                or len(shades) != 2
                or not all(isinstance(s, str) and HEX.match(s) for s in shades)
            ):
                raise invalid("shades", "a custom color needs two hex colors, e.g. ['#F2C4E1', '#F5A623']")
            background["shades"] = list(shades)
        background["variant"] = variant
    elif kind == "dynamic":
        if style is None:
            raise missing("style")
        if style not in DYNAMIC_VARIANTS:
            raise invalid("style", "must be sky, water or aurora")
        if variant is None:
            raise missing("variant")
        if variant not in DYNAMIC_VARIANTS[style]:
            raise invalid("variant", f"must be one of {', '.join(sorted(DYNAMIC_VARIANTS[style]))}")
        background.update(style=style, variant=variant)
    else:
        url = messaging.require_https("image_url", body.get("image_url"))
        if not url.lower().split("?", 1)[0].endswith((".jpg", ".jpeg", ".png", ".heic", ".webp")):
            raise LinqError(400, 5006, "image_url does not point at an image (.jpg, .png, .heic, .webp)")
        background["image_url"] = url
    return background


async def _apply_background(world: World, chat: Doc, background: Doc | None, trace_id: str) -> None:
    chat["_background"] = background
    await world.emit(
        "chat.background_updated",
        {"chat": messaging.chat_ref(chat), "actor_handle": dict(messaging.me(chat)), "background": background},
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


@router.post("/v3/chats/{chat_id}/background", "set_chat_background")
async def set_chat_background(ctx: Ctx) -> Reply:
    """Accepted (202, no body); iMessage chats get a ``chat.background_updated`` event."""
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    background = _background(ctx.body())
    messaging.require_active(chat)
    if chat["service"] == "iMessage":
        world.scheduler.call_later(
            world.config.timing.sent, partial(_apply_background, world, chat, background, ctx.trace_id)
        )
    return Reply(202)


@router.delete("/v3/chats/{chat_id}/background", "remove_chat_background")
async def remove_chat_background(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = _imessage_chat(ctx)
    if chat["service"] == "iMessage":
        world.scheduler.call_later(
            world.config.timing.sent, partial(_apply_background, world, chat, None, ctx.trace_id)
        )
    return Reply(202)
