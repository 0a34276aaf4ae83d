"""Sandbox routes: messages — send by recipients alone, read, edit, delete, react, threads."""

from __future__ import annotations

from typing import Any

from .. import idempotency, messaging, people
from ..errors import LinqError, bad_phone, invalid, missing
from ..messaging import Content, Doc
from ..router import Ctx, Reply, Router
from ..state import World
from . import params

router = Router()

REACTION_TYPES = ("love", "like", "dislike", "laugh", "emphasize", "question", "custom", "sticker")
EDIT_LIMIT = 5
EDIT_WINDOW = 15 * 60.0
SERVICE_RANK = {"iMessage": 0, "RCS": 1, "SMS": 2}


# send to handles ----------------------------------------------------------------------------
def _matching_chats(world: World, to: list[str]) -> list[Doc]:
    """Chats with exactly these recipients that can still be sent into, most recently active first."""
    wanted = {h.lower() for h in to}
    found = [
        c
        for c in world.chats.values()
        if not c.get("_left")
        and not c.get("_participants_changed")
        and {h.lower() for h in messaging.other_handles(c)} == wanted
    ]
    return sorted(found, key=lambda c: -float(c.get("_last_activity", 0.0)))


def _best_line(world: World, to: list[str], excluded: set[str], preferred: str | None) -> Doc:
    lines = [ln for ln in world.lines.values() if ln["status"] == "ACTIVE"]
    if not lines:
        raise LinqError(409, 2027, "No line on your account is eligible to send")
    allowed = [ln for ln in lines if ln["phone_number"] not in excluded]
    if not allowed:
        raise invalid("exclude_from", "every available line is excluded")
    ranked: list[tuple[int, int, Doc]] = []
    for order, line in enumerate(allowed):
        try:
            service = messaging.pick_service(world, line, to, preferred)
        except LinqError:
            continue
        ranked.append((SERVICE_RANK[service], order, line))
    if not ranked:
        return allowed[0]  # preflight reports why nothing can reach them
    return min(ranked, key=lambda r: (r[0], r[1]))[2]


@router.post("/v3/messages", "send_message_to_handles")
async def send_message_to_handles(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    to = params.recipients(body)
    content = messaging.validate_content(body.get("message"))
    override = params.override_optout(body)
    excluded_raw = body.get("exclude_from") or []
    if not isinstance(excluded_raw, list):
        raise invalid("exclude_from", "must be a list of E.164 numbers")
    excluded = set()
    for i, number in enumerate(excluded_raw):
        if not isinstance(number, str) or not messaging.E164.match(number):
            raise bad_phone(f"exclude_from[{i}]", number)
        excluded.add(number)
    continuation = body.get("continuation_message")
    if continuation is not None and (not isinstance(continuation, dict) or not continuation.get("text")):
        raise missing("continuation_message.text")
    scopes = []
    header = idempotency.header_key(ctx)
    if header:
        scopes.append(idempotency.scope_key(ctx.operation, "header", header))
    if content.idempotency_key:
        scopes.append(idempotency.scope_key(ctx.operation, "message", content.idempotency_key))
    replayed = idempotency.replay(world, scopes, idempotency.fingerprint(ctx))
    if replayed is not None:
        return replayed

    matches = _matching_chats(world, to)
    live = [c for c in matches if messaging.line_for(world, c["_line"])["status"] == "ACTIVE"]
    previous_chat_id: str | None = None
    chat: Doc | None
    if live:
        chat = next((c for c in live if c["_line"] not in excluded), live[0])
        line = messaging.line_for(world, chat["_line"])
        reason = "reused_active_chat"
    else:
        chat = None
        line = _best_line(world, to, excluded, content.preferred_service)
        reason = "new_best_number"
        if matches:
            reason = "failover_flagged"
            previous_chat_id = matches[0]["id"]
            if continuation is not None:
                content = Content(
                    parts=[{"type": "text", "value": str(continuation["text"])}],
                    idempotency_key=content.idempotency_key,
                )
    service = messaging.preflight(
        world, line, to, is_group=len(to) > 1, content=content, override_optout=override, chat=chat
    )
    parts = messaging.build_parts(world, content)
    created = chat is None
    if chat is None:
        chat = messaging.new_chat(world, line, to, service)
        await messaging.announce_chat(world, chat, ctx.trace_id)
    message = await people.send(world, chat, content, service=service, trace_id=ctx.trace_id, parts=parts)
    reply = Reply(
        202,
        {
            "chat_id": chat["id"],
            "created_new_chat": created,
            "from": chat["_line"],
            "from_selection": {"reason": reason, "reused_existing_chat": not created},
            "handles": messaging.chat_view(chat)["handles"],
            "is_group": chat["is_group"],
            "message": messaging.sent_view(ctx.world, message),
            "service": chat["service"],
            "previous_chat_id": previous_chat_id,
        },
    )
    idempotency.remember(world, scopes, reply, idempotency.fingerprint(ctx))
    return reply


# read / edit / delete -----------------------------------------------------------------------
@router.get("/v3/messages/{message_id}", "get_message")
async def get_message(ctx: Ctx) -> Reply:
    return Reply(
        200, messaging.message_view(ctx.world, messaging.get_message(ctx.world, ctx.path_params["message_id"]))
    )


@router.patch("/v3/messages/{message_id}", "edit_message")
async def edit_message(ctx: Ctx) -> Reply:
    """Edit a text part of a message you sent: at most 5 times, within 15 minutes."""
    world = ctx.world
    message = messaging.get_message(world, ctx.path_params["message_id"])
    body = ctx.body()
    text = body.get("text")
    if text is None or text == "":
        raise missing("text")
    if not isinstance(text, str) or len(text) > 10000:
        raise invalid("text", "must be a string of 1-10000 characters")
    index = body.get("part_index", 0)
    if index is None:
        index = 0
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise invalid("part_index", "must be an integer >= 0")
    chat = messaging.get_chat(world, message["chat_id"])
    messaging.require_active(chat)
    if not message["is_from_me"]:
        raise invalid("message_id", "only messages you sent can be edited")
    parts = message.get("parts") or []
    if index >= len(parts):
        raise invalid("part_index", f"the message has {len(parts)} part(s)")
    if parts[index].get("type") != "text":
        raise invalid("part_index", "only text parts can be edited")
    if message["service"] != "iMessage":
        raise LinqError(409, 2017, f"Editing is an iMessage feature; this message went over {message['service']}")
    if message["_edits"] >= EDIT_LIMIT:
        raise LinqError(409, 2015, f"A message can be edited at most {EDIT_LIMIT} times")
    if world.now() - float(message.get("_sent_ts") or message["_created_ts"]) > EDIT_WINDOW:
        raise LinqError(409, 2015, "A message can only be edited within 15 minutes of sending")
    parts[index]["value"] = text
    message["_edits"] += 1
    message["updated_at"] = world.iso()
    zero_retention = bool(messaging.line_for(world, chat["_line"]).get("_zero_retention"))
    await world.emit(
        "message.edited",
        {
            "id": message["id"],
            "chat": {**messaging.chat_ref(chat), "health_status": dict(chat["health_status"])},
            "direction": "outbound",
            "sender_handle": dict(message["from_handle"]),
            "edited_at": world.iso(),
            # a zero-retention line keeps no text: an outbound edit's part.text is empty
            "part": {"index": index, "text": "" if zero_retention else text},
            "zero_retention": zero_retention,
        },
        trace_id=ctx.trace_id,
        phone_number=chat["_line"],
    )
    return Reply(200, messaging.message_view(ctx.world, message))


@router.delete("/v3/messages/{message_id}", "delete_message")
async def delete_message(ctx: Ctx) -> Reply:
    """Forget Linq's record of a message (recipients keep it)."""
    world = ctx.world
    message = messaging.get_message(world, ctx.path_params["message_id"])
    del world.messages[message["id"]]
    chat = world.chats.get(message["chat_id"])
    if chat is not None and message["id"] in chat["_message_ids"]:
        chat["_message_ids"].remove(message["id"])
    return Reply(204)


# reactions ----------------------------------------------------------------------------------
def _sticker(world: World, body: dict[str, Any]) -> Doc:
    sources = [k for k in ("emoji", "url", "attachment_id") if body.get(k) is not None]
    if len(sources) != 1:
        raise invalid("type", "a sticker needs exactly one of emoji, url or attachment_id")
    placement = body.get("placement")
    if placement is not None:
        params.placement(placement)
    source = sources[0]
    if source == "attachment_id":
        found = messaging.attachment(world, body["attachment_id"])
        return {
            "url": found.get("download_url"),
            "mime_type": found.get("content_type"),
            "width": 300,
            "height": 300,
            "file_name": found.get("filename"),
        }
    if source == "url":
        url = messaging.require_https("url", body["url"])
        return {"url": url, "mime_type": "image/png", "width": 300, "height": 300, "file_name": url.rsplit("/", 1)[-1]}
    return {"url": None, "mime_type": "image/png", "width": 160, "height": 160, "file_name": f"{body['emoji']}.png"}


@router.post("/v3/messages/{message_id}/reactions", "react_to_message")
async def react_to_message(ctx: Ctx) -> Reply:
    world = ctx.world
    message = messaging.get_message(world, ctx.path_params["message_id"])
    body = ctx.body()
    operation, kind = body.get("operation"), body.get("type")
    if operation is None:
        raise missing("operation")
    if operation not in ("add", "remove"):
        raise invalid("operation", "must be add or remove")
    if kind is None:
        raise missing("type")
    if kind not in REACTION_TYPES:
        raise invalid("type", f"must be one of {', '.join(REACTION_TYPES)}")
    emoji = body.get("custom_emoji")
    if kind == "custom" and not emoji:
        raise missing("custom_emoji")
    if kind != "sticker" and any(body.get(k) is not None for k in ("emoji", "url", "attachment_id", "placement")):
        raise invalid("type", "emoji, url, attachment_id and placement are only valid for stickers")
    if kind == "sticker" and operation == "remove":
        raise invalid("operation", "stickers cannot be removed")
    index = body.get("part_index", 0)
    if index is None:
        index = 0
    parts = message.get("parts") or []
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < max(1, len(parts)) or not parts:
        raise invalid("part_index", f"the message has {len(parts)} part(s)")
    chat = messaging.get_chat(world, message["chat_id"])
    messaging.require_active(chat)
    messaging.require_eligible(messaging.line_for(world, chat["_line"]))
    if kind == "sticker" and message["service"] != "iMessage":
        raise LinqError(409, 2017, "Stickers are iMessage-only")
    mine = messaging.me(chat)
    reactions: list[Doc] = parts[index].setdefault("reactions", [])
    if operation == "add":
        reaction: Doc = {
            "id": world.new_id(),
            "is_me": True,
            "handle": dict(mine),
            "type": kind,
            "custom_emoji": emoji if kind == "custom" else None,
            "sticker": _sticker(world, body) if kind == "sticker" else None,
        }
        if kind == "sticker":
            reaction["_placement"] = params.placement(body.get("placement") or {})
        else:
            reactions[:] = [r for r in reactions if not (r["is_me"] and r["type"] != "sticker")]
        reactions.append(reaction)
        event, text = "reaction.added", "Reaction added"
    else:
        reaction = next(
            (
                r
                for r in reactions
                if r["is_me"] and r["type"] == kind and (kind != "custom" or r.get("custom_emoji") == emoji)
            ),
            {},
        )
        if reaction:
            reactions.remove(reaction)
        event, text = "reaction.removed", "Reaction removed"
    if reaction:
        data = people.reaction_event(world, chat, message, reaction, index)
        await world.emit(event, data, trace_id=ctx.trace_id, phone_number=chat["_line"])
    return Reply(202, {"status": "accepted", "message": text, "trace_id": ctx.trace_id})


# threads ------------------------------------------------------------------------------------
def _root(world: World, message: Doc) -> Doc:
    seen = {message["id"]}
    while message.get("reply_to"):
        parent = world.messages.get(message["reply_to"]["message_id"])
        if parent is None or parent["id"] in seen:
            break
        seen.add(parent["id"])
        message = parent
    return message


@router.get("/v3/messages/{message_id}/thread", "list_thread_messages")
async def list_thread_messages(ctx: Ctx) -> Reply:
    world = ctx.world
    message = messaging.get_message(world, ctx.path_params["message_id"])
    order = ctx.query.get("order") or "asc"
    if order not in ("asc", "desc"):
        raise invalid("order", "must be asc or desc")
    root = _root(world, message)
    chat = messaging.get_chat(world, message["chat_id"])
    thread = [
        world.messages[m]
        for m in chat["_message_ids"]
        if m in world.messages and _root(world, world.messages[m])["id"] == root["id"]
    ]
    if order == "desc":
        thread.reverse()
    page, next_cursor = messaging.paginate(thread, ctx.query, 50)
    return Reply(200, {"messages": [messaging.message_view(ctx.world, m) for m in page], "next_cursor": next_cursor})
