"""Sandbox routes: chats — create (find-or-create), list, read, rename, leave, participants,
typing, read receipts, voice memos, contact-card shares, and sending into a chat."""

from __future__ import annotations

import re
from functools import partial

from .. import armed, failures, idempotency, messaging, people, typing_bubble, web
from ..errors import LinqError, bad_phone, invalid, missing, rate_limited
from ..messaging import Doc
from ..router import Ctx, Reply, Router
from ..state import World
from . import params

router = Router()

LOOSE_PHONE = re.compile(r"\A\+?[1-9][0-9]{1,14}\Z")
ICON_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".heic", ".webp")
# Voice memo formats (catalog B.3): mp3, m4a, aac, caf, wav, aiff, amr; at most 10 MB (413/5001).
VOICE_MEMO_EXTENSIONS = {"mp3", "m4a", "aac", "caf", "wav", "aiff", "amr"}
VOICE_MEMO_MAX_BYTES = 10 * 1024 * 1024
AUDIO_TYPES = {
    "audio/mpeg", "audio/x-m4a", "audio/mp4", "audio/aac", "audio/x-caf", "audio/wav", "audio/x-wav",
    "audio/aiff", "audio/x-aiff", "audio/amr",
}  # fmt: skip
SHARE_CARD_WINDOW = 300.0


def _active_chat(ctx: Ctx) -> Doc:
    chat = messaging.get_chat(ctx.world, ctx.path_params["chat_id"])
    messaging.require_active(chat)
    messaging.require_created(ctx.world, chat)
    return chat


def _line_of(world: World, chat: Doc) -> Doc:
    return messaging.line_for(world, chat["_line"])


def _accepted(ctx: Ctx, text: str, status: int = 202) -> Reply:
    return Reply(status, {"status": "accepted", "message": text, "trace_id": ctx.trace_id})


# create / list / get ----------------------------------------------------------------------------
@router.post("/v3/chats", "create_chat")
async def create_chat(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    sender = messaging.require_phone("from", body.get("from"))
    to = params.recipients(body)
    content = messaging.validate_content(body.get("message"))
    override = params.override_optout(body)
    scopes = (
        [idempotency.scope_key(ctx.operation, "message", content.idempotency_key)] if content.idempotency_key else []
    )
    replayed = idempotency.replay(world, scopes, idempotency.fingerprint(ctx))
    if replayed is not None:
        return replayed
    line = messaging.line_for(world, sender)
    if sender in to:
        raise invalid("to", "cannot include the sending line itself")
    chat = messaging.find_chat(world, sender, to)
    if chat is None:
        messaging.first_message_rules(content)
    service = messaging.preflight(
        world, line, to, is_group=len(to) > 1, content=content, override_optout=override, chat=chat
    )
    parts = messaging.build_parts(world, content)
    if chat is None:
        chat = messaging.new_chat(world, line, to, service)
        await messaging.announce_chat(world, chat, ctx.trace_id)
    message = await people.send(world, chat, content, service=service, trace_id=ctx.trace_id, parts=parts)
    view = messaging.chat_view(chat)
    reply = Reply(
        201,
        {
            "chat": {
                "id": chat["id"],
                "display_name": view["display_name"],
                "service": view["service"],
                "is_group": view["is_group"],
                "handles": view["handles"],
                "health_status": view["health_status"],
                "message": messaging.sent_view(ctx.world, message),
            }
        },
    )
    idempotency.remember(world, scopes, reply, idempotency.fingerprint(ctx))
    return reply


@router.get("/v3/chats", "list_chats")
async def list_chats(ctx: Ctx) -> Reply:
    world = ctx.world
    sender = ctx.query.get("from")
    if sender:
        if not LOOSE_PHONE.match(sender):
            raise bad_phone("from", sender)
        sender = sender if sender.startswith("+") else "+" + sender
        messaging.line_for(world, sender)
    to = ctx.query.get("to")
    chats = [
        c
        for c in reversed(list(world.chats.values()))
        if (not sender or c["_line"] == sender)
        and (not to or to.lower() in {h["handle"].lower() for h in c["handles"] if not h.get("is_me")})
    ]
    page, next_cursor = messaging.paginate(chats, ctx.query, 20)
    return Reply(200, {"chats": [messaging.chat_view(c) for c in page], "next_cursor": next_cursor})


@router.get("/v3/chats/{chat_id}", "get_chat")
async def get_chat(ctx: Ctx) -> Reply:
    return Reply(200, messaging.chat_view(messaging.get_chat(ctx.world, ctx.path_params["chat_id"])))


# group management -------------------------------------------------------------------------------
@router.put("/v3/chats/{chat_id}", "update_chat")
async def update_chat(ctx: Ctx) -> Reply:
    """Rename / re-icon a group; accepted as pending, the outcome comes as a webhook."""
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    body = ctx.body()
    has_name, has_icon = "display_name" in body, "group_chat_icon" in body
    if not has_name and not has_icon:
        raise missing("display_name or group_chat_icon")
    if not chat["is_group"]:
        raise LinqError(409, 1006, "Cannot update direct message chats: only group chats have a name and icon")
    messaging.require_active(chat)
    messaging.require_created(world, chat)
    messaging.require_eligible(_line_of(world, chat))
    name, icon = body.get("display_name"), body.get("group_chat_icon")
    if has_name and name is not None and (not isinstance(name, str) or len(name) > 255):
        raise invalid("display_name", "must be a string of at most 255 characters")
    if has_icon and icon not in (None, ""):
        messaging.require_https("group_chat_icon", icon)
    if has_name:
        world.scheduler.call_later(
            world.config.timing.sent, partial(_apply_name, world, chat, name or None, ctx.trace_id)
        )
    if has_icon:
        world.scheduler.call_later(
            world.config.timing.sent, partial(_apply_icon, world, chat, icon or None, ctx.trace_id)
        )
    return Reply(202, {"chat_id": chat["id"], "status": "pending"})


async def _apply_name(world: World, chat: Doc, name: str | None, trace_id: str) -> None:
    failure = armed.take(world, "group_name", chat["id"])
    if failure is not None:
        await failures.group_update_failed(world, chat, "group_name", failure["code"], trace_id)
        return
    old = chat["display_name"] if chat.get("_named") else None
    chat["display_name"] = name if name is not None else ", ".join(messaging.other_handles(chat))
    chat["_named"] = name is not None
    chat["updated_at"] = world.iso()
    await world.emit(
        "chat.group_name_updated",
        {
            "chat_id": chat["id"],
            "updated_at": world.iso(),
            "old_value": old,
            "new_value": name,
            "changed_by_handle": dict(messaging.me(chat)),
        },
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


async def _apply_icon(world: World, chat: Doc, icon: str | None, trace_id: str) -> None:
    failure = armed.take(world, "group_icon", chat["id"])
    if failure is not None:
        await failures.group_update_failed(world, chat, "group_icon", failure["code"], trace_id)
        return
    if icon is not None and not icon.lower().split("?", 1)[0].endswith(ICON_EXTENSIONS):
        await world.emit(
            "chat.group_icon_update_failed",
            {"chat_id": chat["id"], "error_code": 4001, "failed_at": world.iso()},
            trace_id=trace_id,
            phone_number=chat["_line"],
        )
        return
    old = chat.get("group_chat_icon")
    chat["group_chat_icon"] = icon
    chat["updated_at"] = world.iso()
    await world.emit(
        "chat.group_icon_updated",
        {
            "chat_id": chat["id"],
            "updated_at": world.iso(),
            "old_value": old,
            "new_value": icon,
            "changed_by_handle": dict(messaging.me(chat)),
        },
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


@router.post("/v3/chats/{chat_id}/leave", "leave_chat")
async def leave_chat(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = _active_chat(ctx)
    if not chat["is_group"]:
        raise LinqError(409, 2015, "Cannot leave a direct chat; only iMessage group chats can be left")
    if chat["service"] != "iMessage" or len(messaging.others(chat)) + 1 < 4:
        raise LinqError(409, 2015, "Leaving needs an iMessage group with at least 4 active participants including you")
    mine = messaging.me(chat)
    mine.update(status="left", left_at=world.iso())
    chat["_left"] = True
    await _participant_changed(ctx, chat, "participant.removed", mine, mine["handle"])
    return _accepted(ctx, "Leaving the chat")


@router.post("/v3/chats/{chat_id}/participants", "add_participant")
async def add_participant(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    handle = messaging.require_handle("handle", ctx.body().get("handle"))
    messaging.require_active(chat)
    messaging.require_created(world, chat)
    messaging.require_eligible(_line_of(world, chat))
    if not chat["is_group"] or len(messaging.others(chat)) + 1 < 3:
        raise LinqError(409, 2016, "Participants can only be added to group chats with 3 or more participants")
    if handle.lower() in {h.lower() for h in messaging.other_handles(chat)}:
        raise LinqError(409, 2015, f"{handle} is already a participant")
    limits = world.config.limits
    size = len(messaging.others(chat)) + 2  # the others, you, and the new one
    cap = limits.sms_group_max if chat["service"] == "SMS" and limits.sms_group_max is not None else None
    cap = min(cap, limits.group_max) if cap is not None else limits.group_max
    if size > cap:
        raise LinqError(409, 2015, f"This group is full: a {chat['service']} group holds at most {cap} participants")
    if chat["service"] not in messaging.person_services(world, handle):
        raise LinqError(
            409, 2017, f"{handle} cannot join a {chat['service']} group (cross-service adds are not allowed)"
        )
    existing = next((h for h in chat["handles"] if h["handle"].lower() == handle.lower()), None)
    if existing is not None:
        existing.update(status="active", left_at=None, joined_at=world.iso())
        added = existing
    else:
        added = messaging.make_handle(world, handle, chat["service"])
        chat["handles"].append(added)
    chat["_participants_changed"] = True
    await _participant_changed(ctx, chat, "participant.added", added, handle)
    return _accepted(ctx, f"Adding {handle} to the chat")


@router.delete("/v3/chats/{chat_id}/participants", "remove_participant")
async def remove_participant(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    handle = messaging.require_handle("handle", ctx.body().get("handle"))
    messaging.require_active(chat)
    if not chat["is_group"]:
        raise LinqError(409, 2016, "Participants can only be removed from group chats")
    target = next((h for h in messaging.others(chat) if h["handle"].lower() == handle.lower()), None)
    if target is None:
        raise invalid("handle", f"{handle} is not a participant of this chat")
    messaging.require_created(world, chat)
    if len(messaging.others(chat)) < 3:  # you + the others, less the one removed
        raise LinqError(409, 2015, "A group must keep at least 3 participants after a removal")
    target.update(status="removed", left_at=world.iso())
    chat["_participants_changed"] = True
    await _participant_changed(ctx, chat, "participant.removed", target, handle)
    return _accepted(ctx, f"Removing {handle} from the chat")


async def _participant_changed(ctx: Ctx, chat: Doc, event_type: str, participant: Doc, handle: str) -> None:
    """Touch the chat and emit ``participant.added`` / ``participant.removed`` for one handle
    (``handle`` as the request spelled it)."""
    world = ctx.world
    chat["updated_at"] = world.iso()
    at_key = "added_at" if event_type == "participant.added" else "removed_at"
    await world.emit(
        event_type,
        {"handle": handle, "participant": dict(participant), "chat_id": chat["id"], at_key: world.iso()},
        trace_id=ctx.trace_id,
        phone_number=chat["_line"],
    )


# typing / read ------------------------------------------------------------------------------
def _no_typing_in_groups(chat: Doc) -> None:
    """The catalog (G.3) disagrees: OAS "not supported", a docs page "403", SDK 0.65 "works".
    We take the stricter reading: 403/2011."""
    if chat["is_group"]:
        raise LinqError(403, 2011, "Feature not available: typing indicators are not supported in group chats")


@router.post("/v3/chats/{chat_id}/typing", "start_typing")
async def start_typing(ctx: Ctx) -> Reply:
    chat = _active_chat(ctx)
    messaging.require_eligible(_line_of(ctx.world, chat))
    _no_typing_in_groups(chat)
    typing_bubble.start(ctx.world, chat)  # RCS/SMS: accepted, nothing shown; lasts 85 s
    return Reply(204)


@router.delete("/v3/chats/{chat_id}/typing", "stop_typing")
async def stop_typing(ctx: Ctx) -> Reply:
    chat = _active_chat(ctx)
    messaging.require_eligible(_line_of(ctx.world, chat))
    _no_typing_in_groups(chat)
    typing_bubble.stop(chat)
    return Reply(204)


@router.post("/v3/chats/{chat_id}/read", "mark_chat_read")
async def mark_chat_read(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = _active_chat(ctx)
    messaging.require_eligible(_line_of(world, chat))  # read receipts are visible activity
    for message_id in chat["_message_ids"]:
        message = world.messages.get(message_id)
        if message is not None and not message["is_from_me"] and not message["is_read"]:
            message.update(is_read=True, read_at=world.iso(), updated_at=world.iso(), delivery_status="read")
    return Reply(204)


# sends ----------------------------------------------------------------------------------------
@router.post("/v3/chats/{chat_id}/messages", "send_message")
async def send_message(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    body = ctx.body()
    content = messaging.validate_content(body.get("message"))
    override = params.override_optout(body)
    scopes = (
        [idempotency.scope_key(ctx.operation, "message", content.idempotency_key)] if content.idempotency_key else []
    )
    replayed = idempotency.replay(world, scopes, idempotency.fingerprint(ctx))
    if replayed is not None:
        return replayed
    service = messaging.preflight_in_chat(world, chat, content, override_optout=override)
    parts = messaging.build_parts(world, content)
    message = await people.send(world, chat, content, service=service, trace_id=ctx.trace_id, parts=parts)
    reply = Reply(202, {"chat_id": chat["id"], "message": messaging.sent_view(ctx.world, message)})
    idempotency.remember(world, scopes, reply, idempotency.fingerprint(ctx))
    return reply


@router.get("/v3/chats/{chat_id}/messages", "list_messages")
async def list_messages(ctx: Ctx) -> Reply:
    """Newest first, like a conversation view scrolled back with ``cursor``."""
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    items = [world.messages[m] for m in reversed(chat["_message_ids"]) if m in world.messages]
    page, next_cursor = messaging.paginate(items, ctx.query, 50)
    return Reply(200, {"messages": [messaging.message_view(ctx.world, m) for m in page], "next_cursor": next_cursor})


@router.post("/v3/chats/{chat_id}/voicememo", "send_voice_memo")
async def send_voice_memo(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = messaging.get_chat(world, ctx.path_params["chat_id"])
    body = ctx.body()
    url, attachment_id = body.get("voice_memo_url"), body.get("attachment_id")
    if url is None and attachment_id is None:
        raise missing("voice_memo_url or attachment_id")
    if url is not None and attachment_id is not None:
        raise invalid("voice_memo_url", "give either voice_memo_url or attachment_id, not both")
    override = params.override_optout(body)
    service = messaging.preflight_in_chat(world, chat, None, override_optout=override)
    if url is not None:
        url = messaging.require_https("voice_memo_url", url)
        name = url.split("?", 1)[0].rsplit("/", 1)[-1] or "voice-memo"
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in VOICE_MEMO_EXTENSIONS:
            raise LinqError(
                400,
                5004,
                f"Invalid file type for a voice memo: {name!r}; use one of {', '.join(sorted(VOICE_MEMO_EXTENSIONS))}",
            )
        armed.refuse_if_armed(world, "media_download")  # Linq downloads the memo itself
        found = web.resource(world, url)
        if not found["reachable"]:
            raise LinqError(400, 5007, f"Failed to download the file from URL (voice_memo_url): {url}")
        if int(found["size_bytes"]) > VOICE_MEMO_MAX_BYTES:
            raise LinqError(413, 5001, "File upload failed: a voice memo may be at most 10 MB")
        memo: Doc = {
            "id": world.new_id(),
            "url": url,
            "filename": name,
            "mime_type": web.MIME_BY_EXT[ext],
            "size_bytes": int(found["size_bytes"]) if url in world.web else 48000,
        }
    else:
        found = messaging.attachment(world, attachment_id)
        if found.get("content_type") not in AUDIO_TYPES:
            raise LinqError(400, 5004, f"Invalid file type for a voice memo: {found.get('content_type')}")
        if int(found.get("size_bytes", 0)) > VOICE_MEMO_MAX_BYTES:
            raise LinqError(413, 5001, "File upload failed: a voice memo may be at most 10 MB")
        memo = {
            "id": found["id"],
            "url": found.get("download_url") or f"{world.config.public_base_url}/attachments/{found['id']}",
            "filename": found.get("filename", "voice-memo"),
            "mime_type": found["content_type"],
            "size_bytes": int(found.get("size_bytes", 0)),
        }
    if memo["mime_type"] not in AUDIO_TYPES:
        raise LinqError(400, 5004, f"Invalid file type for a voice memo: {memo['mime_type']}")
    memo["duration_ms"] = max(1000, memo["size_bytes"] // 16)
    part = {"type": "media", **{k: memo[k] for k in ("id", "url", "filename", "mime_type", "size_bytes")}}
    part["reactions"] = []
    message = await people.send(
        world, chat, None, service=service, trace_id=ctx.trace_id, parts=[part], kind="voice_memo"
    )
    return Reply(
        202,
        {
            "voice_memo": {
                "id": message["id"],
                "from": chat["_line"],
                "to": messaging.other_handles(chat),
                "status": message["delivery_status"],
                "service": service,
                "voice_memo": memo,
                "created_at": message["created_at"],
                "chat": {
                    "id": chat["id"],
                    "handles": messaging.chat_view(chat)["handles"],
                    "is_group": chat["is_group"],
                    "service": chat["service"],
                    "is_active": not chat["_left"],
                },
            }
        },
    )


@router.post("/v3/chats/{chat_id}/share_contact_card", "share_contact_card")
async def share_contact_card(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = _active_chat(ctx)
    messaging.require_eligible(_line_of(world, chat))
    card = world.contact_cards.get(chat["_line"])
    if card is None or not card.get("is_active"):
        raise LinqError(404, 2012, f"Contact card not found: line {chat['_line']} has no active contact card")
    last = chat.get("_card_shared_at")
    if last is not None and world.now() - last < SHARE_CARD_WINDOW:
        raise rate_limited(
            int(last + SHARE_CARD_WINDOW - world.now() + 0.999),
            "Contact card already shared with this chat recently",
        )
    chat["_card_shared_at"] = world.now()
    for handle in messaging.other_handles(chat):
        world.deliveries.append(
            {
                "to": handle,
                "from": chat["_line"],
                "chat_id": chat["id"],
                "message_id": None,
                "kind": "contact_card",
                "service": chat["service"],
                "parts": [{"type": "contact_card", **{k: v for k, v in card.items() if not k.startswith("_")}}],
                "at": world.iso(),
            }
        )
    return Reply(204)
