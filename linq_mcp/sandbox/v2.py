"""The legacy V2 API's view of the simulated world (``/api/partner/v2``).

A V2 chat *is* a V3 chat, seen through V2's shapes: integer ids instead of UUIDs,
``chat_handles`` instead of ``handles``, one ``text`` instead of parts. The world keeps
one stable mapping per kind (``world.v2_ids``: ``"chat:<uuid>" -> 101``, and back in
``world.v2_refs``), handed out on first sight, so the same chat always has the same V2
id and both APIs act on the same records. Contacts and V2 webhook subscriptions exist
only in V2 and are stored as V2 shapes (``world.v2_contacts``, ``world.v2_subscriptions``).

Errors: most V2 endpoints answer ``{errors:[{status, code, title, detail}]}`` with a
snake_case ``code``; Contacts and Webhook Subscriptions answer
``{status, error_code, message, errors:[str]}`` (catalog E). Every failure is raised as
a :class:`LinqError` (V3's messaging rules are reused as they are) and rendered here.

Webhooks: :func:`event_for` turns a world event into the V2 event a V2 subscription
gets (``reaction.added`` from someone else is ``reaction.received``, typing is
``typing_indicator.*``); the envelope is ``{api_version:"v2", created_at, data,
event_id, event_type}`` and the signature ``X-Webhook-Signature: sha256=<hex
HMAC-SHA256(secret, raw body)>``, sent only when the subscription has a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import TYPE_CHECKING, Any

from . import messaging
from .errors import MESSAGES, LinqError

if TYPE_CHECKING:
    from .state import Event, World

Doc = dict[str, Any]

PREFIX = "/v2/"
# Distinct first ids per kind, so an id of one kind used as another's fails loudly in tests.
FIRST_ID: dict[str, int] = {
    "chat": 101,
    "message": 5001,
    "handle": 901,
    "reaction": 7001,
    "line": 91,
    "contact": 301,
    "subscription": 41,
    "call": 801,
}
V2_EVENT_TYPES: tuple[str, ...] = (
    "message.sent", "message.received", "message.read", "call.completed", "reaction.sent",
    "reaction.received", "typing_indicator.received", "typing_indicator.removed", "contact.created",
    "contact.updated", "contact.deleted", "participant.added", "participant.removed", "chat.created",
)  # fmt: skip
REACTIONS = ("love", "like", "dislike", "laugh", "emphasize", "question")
FLAT_ERRORS = ("/v2/contacts", "/v2/webhook_subscriptions")  # the areas with the other error format
TEN_DIGITS = re.compile(r"\A[2-9][0-9]{9}\Z")
LOOSE_E164 = re.compile(r"\A\+[1-9][0-9]{9,14}\Z")


# ids ----------------------------------------------------------------------------------
def v2_id(world: World, kind: str, ref: str) -> int:
    """The V2 integer id of a world record (assigned on first sight, then stable)."""
    key = f"{kind}:{ref}"
    found = world.v2_ids.get(key)
    if found is not None:
        return found
    number = world.v2_next.get(kind, FIRST_ID[kind])
    world.v2_next[kind] = number + 1
    world.v2_ids[key] = number
    world.v2_refs[f"{kind}:{number}"] = ref
    return number


def new_v2_id(world: World, kind: str) -> int:
    """A fresh id for a V2-only record (contacts, subscriptions)."""
    number = world.v2_next.get(kind, FIRST_ID[kind])
    world.v2_next[kind] = number + 1
    return number


def ref_of(world: World, kind: str, raw: object) -> str | None:
    """The world id behind a V2 id given in a URL or body (None when unknown or not an integer)."""
    text = str(raw).strip()
    if not text.isdigit():
        return None
    return world.v2_refs.get(f"{kind}:{int(text)}")


# errors -------------------------------------------------------------------------------
class V2Error(LinqError):
    """A failure with V2's own snake_case code (``chat_not_found``, ``invalid_phone_number``, …)."""

    def __init__(self, status: int, v2_code: str, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(status, 1005 if status < 500 else 3006, detail, retry_after=retry_after)
        self.v2_code = v2_code


def snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "error"


def error_body(exc: LinqError, path: str) -> Doc:
    """``exc`` in the V2 format of the area ``path`` belongs to."""
    code = exc.v2_code if isinstance(exc, V2Error) else snake(MESSAGES.get(exc.code, "error"))
    title = code.replace("_", " ").capitalize()
    if path.startswith(FLAT_ERRORS):
        return {"status": exc.status, "error_code": code, "message": exc.message, "errors": [exc.message]}
    return {"errors": [{"status": exc.status, "code": code, "title": title, "detail": exc.message}]}


def not_found(kind: str, raw: object) -> V2Error:
    return V2Error(404, f"{kind}_not_found", f"{kind.replace('_', ' ').capitalize()} {raw} not found")


def invalid(field: str, why: str) -> V2Error:
    return V2Error(422, "invalid_parameter", f"{field}: {why}")


def missing(field: str) -> V2Error:
    return V2Error(400, "parameter_missing", f"param is missing or the value is empty: {field}")


def phone(field: str, value: object) -> str:
    """A V2 phone number: E.164, or 10 digits with +1 assumed (catalog E)."""
    if value is None or value == "":
        raise missing(field)
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if TEN_DIGITS.match(text):
        return "+1" + text
    if LOOSE_E164.match(text):
        return text
    if text.isdigit() and LOOSE_E164.match("+" + text):
        return "+" + text
    raise V2Error(422, "invalid_phone_number", f"{field} must be E.164 (+12223334444) or 10 digits, got {value!r}")


def page_args(query: Any) -> tuple[int, int]:
    """``page`` (from 1) and ``per_page`` (1-100, default 25)."""
    out = []
    for name, default, top in (("page", 1, None), ("per_page", 25, 100)):
        raw = query.get(name)
        if raw in (None, ""):
            out.append(default)
            continue
        if not str(raw).isdigit() or int(raw) < 1:
            raise invalid(name, "must be a positive integer")
        out.append(min(int(raw), top) if top else int(raw))
    return out[0], out[1]


def paged(items: list[Any], page: int, per_page: int) -> tuple[list[Any], Doc]:
    total = len(items)
    pages = max(1, -(-total // per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    return chunk, {"page": page, "total_pages": pages, "total_count": total, "per_page": per_page}


# views --------------------------------------------------------------------------------
def chat_of(world: World, raw: object) -> Doc:
    ref = ref_of(world, "chat", raw)
    chat = world.chats.get(ref) if ref else None
    if chat is None:
        raise not_found("chat", raw)
    return chat


def message_of(world: World, chat: Doc, raw: object) -> Doc:
    ref = ref_of(world, "message", raw)
    message = world.messages.get(ref) if ref else None
    if message is None or message["chat_id"] != chat["id"] or message.get("_deleted"):
        raise not_found("chat_message", raw)
    return message


def handle_view(world: World, handle: Doc) -> Doc:
    return {
        "id": v2_id(world, "handle", handle["id"]),
        "phone_number": handle["handle"],
        "service": handle["service"],
        "joined_at": handle.get("joined_at"),
    }


def chat_view(world: World, chat: Doc) -> Doc:
    """``Chat``: the other participants only (our line is the chat's, not a participant)."""
    return {
        "id": v2_id(world, "chat", chat["id"]),
        "display_name": chat.get("display_name"),
        "service": chat["service"],
        "group": chat["is_group"],
        "message_count": len([m for m in chat["_message_ids"] if m in world.messages]),
        "chat_handles": [handle_view(world, h) for h in messaging.others(chat) if h.get("status") == "active"],
    }


def text_of(message: Doc) -> str | None:
    texts = [p["value"] for p in message.get("parts") or [] if p.get("type") == "text" and p.get("value")]
    return "\n".join(texts) if texts else None


def _status(message: Doc) -> str:
    status = message.get("delivery_status")
    if status in ("delivered", "read", "received", "sent"):
        return "delivered" if status != "sent" else "pending"
    if status == "failed":
        return "service_unavailable"
    return "pending"


def reaction_view(world: World, message: Doc, reaction: Doc) -> Doc:
    at = reaction.get("_at") or message.get("updated_at")
    return {
        "id": v2_id(world, "reaction", reaction["id"]),
        "chat_message_id": v2_id(world, "message", message["id"]),
        "reaction": reaction["type"],
        "is_from_me": bool(reaction.get("is_me")),
        "from_phone": (reaction.get("handle") or {}).get("handle"),
        "sent_at": at,
        "created_at": at,
        "updated_at": at,
    }


def message_view(world: World, message: Doc) -> Doc:
    """``ChatMessage``: one text, attachments by URL, the reactions of every part."""
    chat = world.chats[message["chat_id"]]
    sender = next(
        (h for h in messaging.others(chat) if h["handle"].lower() == str(message["from"]).lower()),
        None,
    )
    attachments = [
        {
            "id": part.get("id"),
            "url": part.get("url"),
            "filename": part.get("filename"),
            "mime_type": part.get("mime_type"),
            "file_size": part.get("size_bytes"),
        }
        for part in message.get("parts") or []
        if part.get("type") == "media"
    ]
    reactions = [
        reaction_view(world, message, r)
        for part in message.get("parts") or []
        for r in part.get("reactions") or []
        if r.get("type") in REACTIONS
    ]
    return {
        "id": v2_id(world, "message", message["id"]),
        "text": text_of(message),
        "sent_at": message.get("sent_at") or message.get("created_at"),
        "delivered_at": message.get("delivered_at"),
        "delivery_status": _status(message),
        "edited_at": message.get("_edited_at"),
        "is_read": bool(message.get("is_read")),
        "sent_from": message["from"],
        "chat_handle_id": v2_id(world, "handle", sender["id"]) if sender else None,
        "attachments": attachments,
        "reactions": reactions,
    }


def line_view(world: World, line: Doc) -> Doc:
    """``PhoneNumber``; ``response_rate``: the share of inbound messages we answered, in percent."""
    chats = [c for c in world.chats.values() if c["_line"] == line["phone_number"]]
    inbound = answered = 0
    for chat in chats:
        messages = [world.messages[m] for m in chat["_message_ids"] if m in world.messages]
        for i, message in enumerate(messages):
            if not message["is_from_me"]:
                inbound += 1
                answered += any(m["is_from_me"] for m in messages[i + 1 :])
    return {
        "id": v2_id(world, "line", line["id"]),
        "phone_number": line["phone_number"],
        "forwarding_number": line.get("forwarding_number"),
        "response_rate": round(100 * answered / inbound) if inbound else None,
        "user": {"id": 1, "name": "Sandbox Owner", "email": "owner@sandbox.linqapp.com"},
    }


# webhooks -----------------------------------------------------------------------------
def sign(secret: str, body: bytes) -> str:
    """``X-Webhook-Signature`` of V2: ``sha256=`` + hex HMAC-SHA256 over the raw body."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def envelope(event: Event, event_type: str, data: Doc) -> Doc:
    return {
        "api_version": "v2",
        "created_at": event.created_at,
        "data": data,
        "event_id": event.event_id,
        "event_type": event_type,
    }


def _chat_summary(world: World, chat: Doc) -> Doc:
    view = chat_view(world, chat)
    return {k: view[k] for k in ("id", "display_name", "service", "group")}


def event_for(world: World, event: Event) -> tuple[str, Doc] | None:
    """The V2 event a V2 subscription receives for a world event, or None when V2 has none."""
    kind, data = event.event_type, event.data
    if kind in ("contact.created", "contact.updated", "contact.deleted", "call.completed"):
        return kind, dict(data)  # produced by the V2 API itself, already in V2 shape
    if kind in ("message.sent", "message.received", "message.read"):
        message = world.messages.get(str(data.get("id")))
        if message is None:
            return None
        in_chat = world.chats[message["chat_id"]]
        body = {**message_view(world, message), "chat_id": v2_id(world, "chat", in_chat["id"])}
        return kind, {"chat": _chat_summary(world, in_chat), "message": body}
    chat = world.chats.get(str(data.get("chat_id") or (data.get("chat") or {}).get("id") or data.get("id")))
    if chat is None:
        return None
    chat_id = v2_id(world, "chat", chat["id"])
    if kind in ("reaction.added", "reaction.removed"):
        message = world.messages.get(str(data.get("message_id")))
        if message is None or data.get("reaction_type") not in REACTIONS:
            return None
        reaction = {
            "id": data.get("reaction_id") or event.event_id,
            "is_me": data.get("is_from_me"),
            "handle": data.get("from_handle") or {"handle": data.get("from")},
            "type": data["reaction_type"],
            "_at": data.get("reacted_at"),
        }
        view = reaction_view(world, message, reaction)
        operation = "add" if kind == "reaction.added" else "remove"
        v2_kind = "reaction.sent" if data.get("is_from_me") else "reaction.received"
        return v2_kind, {**view, "operation": operation, "chat_id": chat_id}
    if kind.startswith("chat.typing_indicator."):
        actor = (data.get("actor_handle") or {}).get("handle")
        v2_kind = "typing_indicator.received" if kind.endswith("started") else "typing_indicator.removed"
        return v2_kind, {"chat_id": chat_id, "phone_number": actor}
    if kind in ("participant.added", "participant.removed"):
        return kind, {"chat_id": chat_id, "phone_number": data.get("handle")}
    if kind == "chat.created":
        return kind, {"chat": chat_view(world, chat)}
    return None
