"""Sandbox routes: the legacy V2 API (``/api/partner/v2``), over the same world as V3.

Sends go through V3's own rules (``messaging.preflight``, ``people.send``): a V2
message is a V3 message with one text part and media parts for ``attachment_urls``, so
people reply, receipts arrive and webhooks fire exactly as for V3. V2's additions live
here: find-or-create with ``send_from``, ``chats/find``, the Contacts API, forwarding,
the iMessage availability check (1 per 10 s), and subscriptions with your own secret.

Seed 001 (an older quickstart) shows older request shapes the API still takes: a chat
created with ``{phone_numbers, message, phone_number}``, a message sent as JSON
``{text, attachment_urls}``, and a flat webhook subscription body. They are accepted too.
"""

from __future__ import annotations

import hashlib
import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from .. import idempotency, messaging, people, typing_bubble, v2
from ..errors import LinqError
from ..messaging import Doc
from ..router import Ctx, Reply, Router
from ..state import World
from ..v2 import V2Error, invalid, missing
from .chats import SHARE_CARD_WINDOW
from .params import check_window, https_url

router = Router()

AVAILABILITY_WINDOW = 10.0  # V2: one availability check per 10 seconds
IDEMPOTENCY_KEY = re.compile(r"\A[A-Za-z0-9_-]{1,255}\Z")
EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\.[^@\s]+\Z")
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone_number", "company", "title", "location")
OWNER = {"id": 1, "email": "owner@sandbox.linqapp.com", "first_name": "Sandbox", "last_name": "Owner"}


# request bodies -----------------------------------------------------------------------
def _form(ctx: Ctx) -> dict[str, Any]:
    """A multipart/form-data body as nested fields: ``message[text]`` → ``{"message": {"text": …}}``,
    ``message[attachment_urls][]`` → a list. Uploaded files are not simulated (400)."""
    content_type = ctx.headers.get("content-type", "")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    parsed = BytesParser(policy=HTTP).parsebytes(head + ctx.raw_body)
    if not parsed.is_multipart():
        raise V2Error(400, "invalid_request", "expected multipart/form-data")
    out: dict[str, Any] = {}
    for part in parsed.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        if part.get_filename():
            raise V2Error(400, "invalid_request", "file uploads are not simulated; use message[attachment_urls][]")
        payload = part.get_payload(decode=True)
        value = payload.decode("utf-8") if isinstance(payload, bytes) else ""
        keys = re.findall(r"\[([^\]]*)\]", name)
        root = name.split("[", 1)[0]
        path = [root, *keys]
        target: Any = out
        for i, key in enumerate(path):
            last = i == len(path) - 1
            if last:
                if key == "":
                    continue
                target[key] = value
            elif path[i + 1] == "" and i + 1 == len(path) - 1:
                target.setdefault(key, []).append(value)
                break
            else:
                target = target.setdefault(key, {})
    return out


def _body(ctx: Ctx) -> dict[str, Any]:
    if ctx.headers.get("content-type", "").startswith("multipart/form-data"):
        return _form(ctx)
    try:
        return ctx.body()
    except LinqError as exc:
        raise V2Error(400, "invalid_request", exc.message) from None


def _message_content(raw: object, where: str = "message") -> messaging.Content:
    """V2's ``message`` ({text, idempotency_key, attachment_urls}) as V3 content."""
    if not isinstance(raw, dict):
        raise missing(where)
    text = raw.get("text")
    if not isinstance(text, str) or not text.strip():
        raise missing(f"{where}[text]")
    key = raw.get("idempotency_key")
    if key is not None and (not isinstance(key, str) or not IDEMPOTENCY_KEY.match(key)):
        raise invalid(f"{where}[idempotency_key]", "may contain only letters, digits, '-' and '_'")
    urls = raw.get("attachment_urls") or []
    if isinstance(urls, str):
        urls = [urls]
    if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
        raise invalid(f"{where}[attachment_urls]", "must be a list of URLs")
    if raw.get("attachments"):
        raise V2Error(400, "invalid_request", "file uploads are not simulated; use attachment_urls")
    parts: list[Doc] = [{"type": "text", "value": text}]
    parts += [{"type": "media", "url": https_url(u, f"{where}[attachment_urls]")} for u in urls]
    content = messaging.validate_content({"parts": parts, **({"idempotency_key": key} if key else {})}, where)
    return content


def _line(world: World, raw: object, field: str) -> Doc:
    number = v2.phone(field, raw)
    line = world.line_by_number(number)
    if line is None:
        raise V2Error(
            403, "phone_number_not_in_organization", f"{field} {number} is not one of your organization's lines"
        )
    return line


def _numbers(raw: object, field: str) -> list[str]:
    if raw is None or raw == [] or raw == "":
        raise missing(field)
    values = raw if isinstance(raw, list) else [raw]
    out: list[str] = []
    for i, value in enumerate(values):
        number = v2.phone(f"{field}[{i}]", value)
        if number not in out:
            out.append(number)
    return out


async def _send(ctx: Ctx, chat: Doc, content: messaging.Content) -> Doc:
    world = ctx.world
    service = messaging.preflight_in_chat(world, chat, content)
    parts = messaging.build_parts(world, content)
    return await people.send(world, chat, content, service=service, trace_id=ctx.trace_id, parts=parts)


def _fingerprint(ctx: Ctx, body: dict[str, Any]) -> str:
    """The request's path and parsed fields: a multipart body's boundary differs on every retry."""
    return hashlib.sha256(f"{ctx.path}\n{json.dumps(body, sort_keys=True)}".encode()).hexdigest()


def _scopes(ctx: Ctx, content: messaging.Content) -> list[str]:
    key = content.idempotency_key
    return [idempotency.scope_key(ctx.operation, "message", key)] if key else []


# chats --------------------------------------------------------------------------------
@router.get("/v2/chats", "v2_list_chats")
async def list_chats(ctx: Ctx) -> Reply:
    world = ctx.world
    line = _line(world, ctx.query.get("phone_number"), "phone_number")
    page, per_page = v2.page_args(ctx.query)
    chats = [c for c in reversed(list(world.chats.values())) if c["_line"] == line["phone_number"]]
    chunk, meta = v2.paged(chats, page, per_page)
    return Reply(200, {"data": [v2.chat_view(world, c) for c in chunk], "meta": meta})


@router.post("/v2/chats", "v2_create_chat")
async def create_chat(ctx: Ctx) -> Reply:
    """Find-or-create, then send the message. Seed 001's older body is accepted too."""
    world = ctx.world
    body = _body(ctx)
    older = "send_from" not in body and "chat" not in body
    chat_body = {"phone_numbers": body.get("phone_numbers")} if older else body.get("chat")
    if not isinstance(chat_body, dict):
        raise missing("chat")
    line = _line(world, body.get("phone_number") if older else body.get("send_from"), "send_from")
    to = _numbers(chat_body.get("phone_numbers"), "chat[phone_numbers]")
    if line["phone_number"] in to:
        raise invalid("chat[phone_numbers]", "cannot include the sending line itself")
    content = _message_content(body.get("message"))
    scopes = _scopes(ctx, content)
    replayed = idempotency.replay(world, scopes, _fingerprint(ctx, body))
    if replayed is not None:
        return replayed
    chat = messaging.find_chat(world, line["phone_number"], to)
    if chat is None:
        messaging.first_message_rules(content)
    service = messaging.preflight(
        world, line, to, is_group=len(to) > 1, content=content, override_optout=False, chat=chat
    )
    parts = messaging.build_parts(world, content)
    if chat is None:
        chat = messaging.new_chat(world, line, to, service)
        display = chat_body.get("display_name")
        if isinstance(display, str) and display.strip():
            chat["display_name"] = display
        await messaging.announce_chat(world, chat, ctx.trace_id)
    message = await people.send(world, chat, content, service=service, trace_id=ctx.trace_id, parts=parts)
    view = v2.chat_view(world, chat)
    sent = v2.message_view(world, message)
    if older:  # seed 001's response: {data:{chat, message}}
        data: Doc = {"chat": {k: view[k] for k in ("id", "display_name", "service", "group", "message_count")}}
        data["message"] = {k: sent[k] for k in ("id", "text", "sent_at", "delivery_status")}
    else:
        data = {k: view[k] for k in ("id", "display_name", "service", "group", "chat_handles")}
        data["chat_messages"] = {
            k: sent[k] for k in ("id", "text", "sent_at", "delivered_at", "delivery_status", "is_read", "attachments")
        }
    reply = Reply(200, {"data": data})
    idempotency.remember(world, scopes, reply, _fingerprint(ctx, body))
    return reply


@router.get("/v2/chats/find", "v2_find_chat")
async def find_chat(ctx: Ctx) -> Reply:
    world = ctx.world
    line = _line(world, ctx.query.get("phone_number"), "phone_number")
    raw = ctx.query_lists.get("phone_numbers[]") or ctx.query_lists.get("phone_numbers")
    to = _numbers(raw, "phone_numbers")
    chat = messaging.find_chat(world, line["phone_number"], to)
    if chat is None:
        return Reply(200, {"data": {"chat": None, "messages": []}})
    return Reply(200, {"data": {"chat": v2.chat_view(world, chat)}})


@router.get("/v2/chats/{chat_id}", "v2_get_chat")
async def get_chat(ctx: Ctx) -> Reply:
    return Reply(200, {"data": v2.chat_view(ctx.world, v2.chat_of(ctx.world, ctx.path_params["chat_id"]))})


def _active(ctx: Ctx) -> Doc:
    chat = v2.chat_of(ctx.world, ctx.path_params["chat_id"])
    messaging.require_active(chat)
    messaging.require_eligible(messaging.line_for(ctx.world, chat["_line"]))
    return chat


@router.put("/v2/chats/{chat_id}/mark_as_read", "v2_mark_chat_read")
async def mark_as_read(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = _active(ctx)
    for message_id in chat["_message_ids"]:
        message = world.messages.get(message_id)
        if message is not None and not message["is_from_me"] and not message["is_read"]:
            message.update(is_read=True, read_at=world.iso(), updated_at=world.iso(), delivery_status="read")
    return Reply(204)


@router.post("/v2/chats/{chat_id}/start_typing", "v2_start_typing")
async def start_typing(ctx: Ctx) -> Reply:
    chat = _active(ctx)
    if chat["is_group"]:
        raise V2Error(422, "typing_not_supported", "typing indicators are not supported in group chats")
    typing_bubble.start(ctx.world, chat)
    return Reply(201)


@router.delete("/v2/chats/{chat_id}/stop_typing", "v2_stop_typing")
async def stop_typing(ctx: Ctx) -> Reply:
    chat = _active(ctx)
    typing_bubble.stop(chat)
    return Reply(204)


@router.post("/v2/chats/{chat_id}/share_contact", "v2_share_contact")
async def share_contact(ctx: Ctx) -> Reply:
    """The line's contact card, as V3's share_contact_card delivers it (same 5-minute limit)."""
    world = ctx.world
    chat = _active(ctx)
    card = world.contact_cards.get(chat["_line"])
    if card is None or not card.get("is_active"):
        raise V2Error(422, "contact_card_not_configured", f"line {chat['_line']} has no active contact card")
    last = chat.get("_card_shared_at")
    if last is not None and world.now() - last < SHARE_CARD_WINDOW:
        wait = int(last + SHARE_CARD_WINDOW - world.now() + 0.999)
        raise V2Error(
            429, "rate_limit_exceeded", "contact card already shared with this chat recently", retry_after=wait
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
    return Reply(201)


# chat messages ------------------------------------------------------------------------
@router.get("/v2/chats/{chat_id}/chat_messages", "v2_list_chat_messages")
async def list_chat_messages(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = v2.chat_of(world, ctx.path_params["chat_id"])
    page, per_page = v2.page_args(ctx.query)
    sort = ctx.query.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise invalid("sort", "must be asc or desc")
    messages = [world.messages[m] for m in chat["_message_ids"] if m in world.messages]
    before, after = ctx.query.get("before"), ctx.query.get("after")
    if before:
        messages = [m for m in messages if (m.get("sent_at") or m["created_at"]) < before]
    if after:
        messages = [m for m in messages if (m.get("sent_at") or m["created_at"]) > after]
    if sort == "desc":
        messages.reverse()
    chunk, meta = v2.paged(messages, page, per_page)
    return Reply(200, {"data": [v2.message_view(world, m) for m in chunk], "meta": meta})


@router.post("/v2/chats/{chat_id}/chat_messages", "v2_send_chat_message")
async def send_chat_message(ctx: Ctx) -> Reply:
    """multipart ``message[…]`` fields; seed 001's JSON ``{text, attachment_urls}`` too.
    A replay with the same idempotency key answers 200 with the message already sent."""
    world = ctx.world
    chat = v2.chat_of(world, ctx.path_params["chat_id"])
    body = _body(ctx)
    content = _message_content(body.get("message") if "message" in body else body)
    scopes = _scopes(ctx, content)
    replayed = idempotency.replay(world, scopes, _fingerprint(ctx, body))
    if replayed is not None:
        return Reply(200, replayed.body, replayed.headers)
    message = await _send(ctx, chat, content)
    reply = Reply(201, {"data": v2.message_view(world, message)})
    idempotency.remember(world, scopes, reply, _fingerprint(ctx, body))
    return reply


@router.get("/v2/chats/{chat_id}/chat_messages/{id}", "v2_get_chat_message")
async def get_chat_message(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = v2.chat_of(world, ctx.path_params["chat_id"])
    return Reply(200, {"data": v2.message_view(world, v2.message_of(world, chat, ctx.path_params["id"]))})


@router.delete("/v2/chats/{chat_id}/chat_messages/{id}", "v2_delete_chat_message")
async def delete_chat_message(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = v2.chat_of(world, ctx.path_params["chat_id"])
    message = v2.message_of(world, chat, ctx.path_params["id"])
    del world.messages[message["id"]]
    chat["_message_ids"].remove(message["id"])
    return Reply(200, {"message": "Chat message deleted"})


@router.post("/v2/chats/{chat_id}/chat_messages/{id}/edit", "v2_edit_chat_message")
async def edit_chat_message(ctx: Ctx) -> Reply:
    world = ctx.world
    chat = v2.chat_of(world, ctx.path_params["chat_id"])
    message = v2.message_of(world, chat, ctx.path_params["id"])
    text = _body(ctx).get("text")
    if not isinstance(text, str) or not text.strip():
        raise missing("text")
    if not message["is_from_me"]:
        raise V2Error(422, "not_editable", "only messages you sent can be edited")
    part = next((p for p in message.get("parts") or [] if p.get("type") == "text"), None)
    if part is None:
        raise V2Error(422, "not_editable", "the message has no text to edit")
    part["value"] = text
    message["_edits"] = message.get("_edits", 0) + 1
    message["_edited_at"] = message["updated_at"] = world.iso()
    await world.emit(
        "message.edited",
        {
            "id": message["id"],
            "chat": {**messaging.chat_ref(chat), "health_status": dict(chat["health_status"])},
            "direction": "outbound",
            "sender_handle": dict(message["from_handle"]),
            "edited_at": world.iso(),
            "part": {"index": (message.get("parts") or []).index(part), "text": text},
            "zero_retention": False,
        },
        trace_id=ctx.trace_id,
        phone_number=chat["_line"],
    )
    return Reply(
        200,
        {"message": "Chat message updated", "data": {"id": v2.v2_id(world, "message", message["id"]), "text": text}},
    )


@router.post("/v2/chat_messages/{chat_message_id}/reactions", "v2_react_to_chat_message")
async def react(ctx: Ctx) -> Reply:
    """A tapback from our line on part 0; ``remove`` takes ours of that type away."""
    world = ctx.world
    raw_id = ctx.path_params["chat_message_id"]
    ref = v2.ref_of(world, "message", raw_id)
    message = world.messages.get(ref) if ref else None
    if message is None:
        raise v2.not_found("chat_message", raw_id)
    body = _body(ctx)
    kind, operation = body.get("type"), body.get("operation", "add")
    if kind not in v2.REACTIONS:
        raise invalid("type", f"must be one of {', '.join(v2.REACTIONS)}")
    if operation not in ("add", "remove"):
        raise invalid("operation", "must be add or remove")
    chat = world.chats[message["chat_id"]]
    messaging.require_active(chat)
    messaging.require_eligible(messaging.line_for(world, chat["_line"]))
    reactions: list[Doc] = (message.get("parts") or [{}])[0].setdefault("reactions", [])
    if operation == "add":
        reactions[:] = [r for r in reactions if not r.get("is_me")]
        reaction: Doc = {
            "id": world.new_id(),
            "is_me": True,
            "handle": dict(messaging.me(chat)),
            "type": kind,
            "custom_emoji": None,
            "sticker": None,
            "_at": world.iso(),
        }
        reactions.append(reaction)
        event = "reaction.added"
    else:
        found = next((r for r in reactions if r.get("is_me") and r["type"] == kind), None)
        if found is None:
            raise v2.not_found("reaction", f"{kind} on message {raw_id}")
        reactions.remove(found)
        reaction, event = found, "reaction.removed"
    data = people.reaction_event(world, chat, message, reaction, 0)
    await world.emit(event, data, trace_id=ctx.trace_id, phone_number=chat["_line"])
    return Reply(201, {"data": v2.reaction_view(world, message, reaction)})


@router.get("/v2/chat_message_reactions/{reaction_id}", "v2_get_reaction")
async def get_reaction(ctx: Ctx) -> Reply:
    world = ctx.world
    raw_id = ctx.path_params["reaction_id"]
    ref = v2.ref_of(world, "reaction", raw_id)
    for message in world.messages.values():
        for part in message.get("parts") or []:
            for reaction in part.get("reactions") or []:
                if ref is not None and reaction.get("id") == ref:
                    return Reply(200, {"data": v2.reaction_view(world, message, reaction)})
    raise v2.not_found("reaction", raw_id)


# contacts -----------------------------------------------------------------------------
def _contact_fields(body: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    raw = body.get("contact")
    if not isinstance(raw, dict):
        raise missing("contact")
    unknown = sorted(set(raw) - set(CONTACT_FIELDS))
    if unknown:
        raise invalid("contact", f"unknown field(s): {', '.join(unknown)}")
    fields: dict[str, Any] = {}
    for key in CONTACT_FIELDS:
        if key not in raw:
            continue
        value = raw[key]
        if value is not None and not isinstance(value, str):
            raise invalid(f"contact[{key}]", "must be a string")
        if key == "email" and value and not EMAIL.match(value):
            raise invalid("contact[email]", "is not a valid email address")
        if key == "phone_number" and value:
            value = v2.phone("contact[phone_number]", value)
        fields[key] = value or None
    if creating and not any(fields.get(k) for k in ("first_name", "last_name", "email", "phone_number")):
        raise V2Error(422, "validation_failed", "give at least one of first_name, last_name, email or phone_number")
    return fields


def _contact_view(contact: Doc) -> Doc:
    names = [contact.get("first_name"), contact.get("last_name")]
    out = {"id": contact["id"], **{k: contact.get(k) for k in CONTACT_FIELDS}}
    out["full_name"] = " ".join(n for n in names if n) or None
    out.update(image_url=None, created_at=contact["created_at"], updated_at=contact["updated_at"])
    out["contact_owner"] = dict(contact["contact_owner"])
    return out


def _contact(ctx: Ctx) -> Doc:
    raw = ctx.path_params["id"]
    contact = ctx.world.v2_contacts.get(raw.strip()) if raw.strip().isdigit() else None
    if contact is None:
        raise v2.not_found("contact", raw)
    return contact


def _owner(body: dict[str, Any]) -> Doc:
    email = body.get("user_email")
    if email is None:
        return {**OWNER, "name": f"{OWNER['first_name']} {OWNER['last_name']}"}
    if not isinstance(email, str) or not EMAIL.match(email):
        raise invalid("user_email", "is not a valid email address")
    local = email.split("@", 1)[0]
    return {"id": 2, "email": email, "first_name": local, "last_name": "", "name": local}


@router.get("/v2/contacts", "v2_list_contacts")
async def list_contacts(ctx: Ctx) -> Reply:
    page, per_page = v2.page_args(ctx.query)
    contacts = list(ctx.world.v2_contacts.values())
    chunk, meta = v2.paged(contacts, page, per_page)
    pagination = {
        "current_page": meta["page"],
        "per_page": per_page,
        "total_pages": meta["total_pages"],
        "total_count": meta["total_count"],
    }
    return Reply(200, {"contacts": [_contact_view(c) for c in chunk], "pagination": pagination})


@router.post("/v2/contacts", "v2_create_contact")
async def create_contact(ctx: Ctx) -> Reply:
    world = ctx.world
    body = _body(ctx)
    fields = _contact_fields(body, creating=True)
    now = world.iso()
    contact_id = v2.new_v2_id(world, "contact")
    contact = {"id": contact_id, **fields, "created_at": now, "updated_at": now, "contact_owner": _owner(body)}
    world.v2_contacts[str(contact_id)] = contact
    await world.emit("contact.created", {"contact": _contact_view(contact)}, trace_id=ctx.trace_id)
    return Reply(201, {"data": _contact_view(contact)})


@router.get("/v2/contacts/find", "v2_find_contact")
async def find_contact(ctx: Ctx) -> Reply:
    email = ctx.query.get("email") or None
    raw_phone = ctx.query.get("phone_number") or None
    if email is None and raw_phone is None:
        raise V2Error(400, "parameter_missing", "give email or phone_number")
    number = v2.phone("phone_number", raw_phone) if raw_phone is not None else None
    for contact in ctx.world.v2_contacts.values():
        if (email and (contact.get("email") or "").lower() == email.lower()) or (
            number and contact.get("phone_number") == number
        ):
            return Reply(200, _contact_view(contact))
    return Reply(200, {"contact": None})


@router.get("/v2/contacts/{id}", "v2_get_contact")
async def get_contact(ctx: Ctx) -> Reply:
    return Reply(200, {"data": _contact_view(_contact(ctx))})


async def _update_contact(ctx: Ctx) -> Reply:
    world = ctx.world
    contact = _contact(ctx)
    fields = _contact_fields(_body(ctx), creating=False)
    contact.update(fields)
    contact["updated_at"] = world.iso()
    await world.emit("contact.updated", {"contact": _contact_view(contact)}, trace_id=ctx.trace_id)
    return Reply(200, {"data": _contact_view(contact)})


router.put("/v2/contacts/{id}", "v2_update_contact")(_update_contact)
router.patch("/v2/contacts/{id}", "v2_update_contact")(_update_contact)


@router.delete("/v2/contacts/{id}", "v2_delete_contact")
async def delete_contact(ctx: Ctx) -> Reply:
    world = ctx.world
    contact = _contact(ctx)
    del world.v2_contacts[str(contact["id"])]
    await world.emit("contact.deleted", {"contact": _contact_view(contact)}, trace_id=ctx.trace_id)
    return Reply(204)


# phone numbers ------------------------------------------------------------------------
@router.get("/v2/phone_numbers", "v2_list_phone_numbers")
async def list_phone_numbers(ctx: Ctx) -> Reply:
    world = ctx.world
    return Reply(200, {"phone_numbers": [v2.line_view(world, line) for line in world.lines.values()]})


@router.put("/v2/phone_numbers/{id}", "v2_update_phone_number")
async def update_phone_number(ctx: Ctx) -> Reply:
    world = ctx.world
    raw = ctx.path_params["id"]
    ref = v2.ref_of(world, "line", raw)
    line = world.lines.get(ref) if ref else None
    if line is None:
        raise V2Error(403, "forbidden", f"phone number {raw} is not one of your organization's lines")
    body = _body(ctx)
    if "forwarding_number" not in body:
        raise missing("forwarding_number")
    value = body["forwarding_number"]
    if value in (None, ""):
        line["forwarding_number"] = None
    else:
        number = v2.phone("forwarding_number", value)
        if number == line["phone_number"]:
            raise invalid("forwarding_number", "cannot forward a line to itself")
        line["forwarding_number"] = number
    return Reply(200, v2.line_view(world, line))


# webhook subscriptions ----------------------------------------------------------------
def _subscription_view(sub: Doc) -> Doc:
    return {k: v for k, v in sub.items() if not k.startswith("_")}


def _subscription_input(ctx: Ctx, *, creating: bool) -> dict[str, Any]:
    body = _body(ctx)
    raw = body.get("webhook_subscription")
    if raw is None and creating and "webhook_url" in body:  # seed 001's flat body
        raw = body
    if not isinstance(raw, dict):
        raise missing("webhook_subscription")
    out: dict[str, Any] = {}
    if "webhook_url" in raw or creating:
        url = raw.get("webhook_url")
        if not isinstance(url, str) or not url:
            raise missing("webhook_subscription[webhook_url]")
        out["webhook_url"] = https_url(url, "webhook_url", http_hosts=ctx.world.config.http_webhook_hosts)
    if "events" in raw or creating:
        events = raw.get("events")
        if not isinstance(events, list) or not events:
            raise missing("webhook_subscription[events]")
        unknown = [e for e in events if e not in v2.V2_EVENT_TYPES]
        if unknown:
            raise invalid("webhook_subscription[events]", f"unknown event(s): {', '.join(map(str, unknown))}")
        out["events"] = list(dict.fromkeys(events))
    if raw.get("version", 2) != 2:
        raise invalid("webhook_subscription[version]", "must be 2")
    if "active" in raw:
        if not isinstance(raw["active"], bool):
            raise invalid("webhook_subscription[active]", "must be true or false")
        out["active"] = raw["active"]
    if "secret" in raw:
        secret = raw["secret"]
        if secret is not None and (not isinstance(secret, str) or len(secret) < 16):
            raise invalid("webhook_subscription[secret]", "must be at least 16 characters")
        out["_secret"] = secret or None
    return out


def _subscription(ctx: Ctx) -> Doc:
    raw = ctx.path_params["webhook_subscription_id"]
    sub = ctx.world.v2_subscriptions.get(raw.strip()) if raw.strip().isdigit() else None
    if sub is None:
        raise v2.not_found("webhook_subscription", raw)
    return sub


@router.get("/v2/webhook_subscriptions", "v2_list_webhook_subscriptions")
async def list_subscriptions(ctx: Ctx) -> Reply:
    subs = [_subscription_view(s) for s in ctx.world.v2_subscriptions.values()]
    return Reply(200, {"webhook_subscriptions": subs})


@router.post("/v2/webhook_subscriptions", "v2_create_webhook_subscription")
async def create_subscription(ctx: Ctx) -> Reply:
    world = ctx.world
    fields = _subscription_input(ctx, creating=True)
    now = world.iso()
    sub_id = v2.new_v2_id(world, "subscription")
    secret = fields.pop("_secret", None)
    sub = {
        "id": sub_id,
        "webhook_url": fields["webhook_url"],
        "version": 2,
        "events": fields["events"],
        "active": fields.get("active", True),
        "secret_configured": secret is not None,
        "last_delivered_at": None,
        "delivery_attempts": 0,
        "created_at": now,
        "updated_at": now,
        "_secret": secret,
    }
    world.v2_subscriptions[str(sub_id)] = sub
    return Reply(201, {"webhook_subscription": _subscription_view(sub)})


@router.put("/v2/webhook_subscriptions/{webhook_subscription_id}", "v2_update_webhook_subscription")
async def update_subscription(ctx: Ctx) -> Reply:
    sub = _subscription(ctx)
    fields = _subscription_input(ctx, creating=False)
    if "_secret" in fields:
        sub["_secret"] = fields.pop("_secret")
        sub["secret_configured"] = sub["_secret"] is not None
    sub.update(fields)
    sub["updated_at"] = ctx.world.iso()
    return Reply(200, {"webhook_subscription": _subscription_view(sub)})


@router.delete("/v2/webhook_subscriptions/{webhook_subscription_id}", "v2_delete_webhook_subscription")
async def delete_subscription(ctx: Ctx) -> Reply:
    sub = _subscription(ctx)
    del ctx.world.v2_subscriptions[str(sub["id"])]
    return Reply(204)


# utilities ----------------------------------------------------------------------------
@router.post("/v2/i_message_availability/check", "v2_check_imessage_availability")
async def check_availability(ctx: Ctx) -> Reply:
    """1 request per 10 s for the whole token (V2DOC), else 429 with Retry-After."""
    from .capability import services_for

    world = ctx.world
    number = v2.phone("phone_number", _body(ctx).get("phone_number"))
    try:
        check_window(world, "v2:i_message_availability", 1, AVAILABILITY_WINDOW, "iMessage availability check")
    except LinqError as exc:
        raise V2Error(429, "rate_limit_exceeded", exc.message, retry_after=exc.retry_after) from None
    return Reply(200, {"available": "iMessage" in services_for(world, number), "phone_number": number})
