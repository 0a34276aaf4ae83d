"""One normalised event model for both Linq webhook payload versions.

Linq delivers message events in two shapes (``2025-01-01``: ``is_from_me``, nested
``message``; ``2026-02-03``: ``direction``, flat message fields, nested ``chat``). Every
consumer (resources, inbox, ``wait``) reads the same ``Event`` instead, built by
``normalise``. Polls, location sharing, contact cards, chat backgrounds and line
assignment have no record of their own: ``facts`` reads their key facts from ``raw`` when
they are shown. Unknown event types keep the envelope fields and the untouched ``raw``
payload, so nothing Linq adds later is lost.

The legacy V2 API's deliveries (``api_version: "v2"``: integer ids, ``{chat, message}``
data, one ``text``) become the same events: V2's ``reaction.sent``/``reaction.received``
are stored as ``reaction.added``/``reaction.removed`` and ``typing_indicator.*`` as
``chat.typing_indicator.*``, so every reader works unchanged; ``webhook_version`` is
``"v2"`` and ``raw`` keeps the V2 payload. V2-only events (``call.completed``,
``contact.*``) keep their names and show their facts (``facts``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = [
    "MESSAGE_EVENT_TYPES",
    "Direction",
    "Event",
    "EventSource",
    "InvalidEventError",
    "Failure",
    "Reaction",
    "Participant",
    "ChatChange",
    "LineStatus",
    "event_from_json",
    "facts",
    "normalise",
]

Direction = Literal["inbound", "outbound"]
EventSource = Literal["webhook", "polled"]

MESSAGE_EVENT_TYPES = frozenset(
    {
        "message.sent",
        "message.received",
        "message.delivered",
        "message.read",
        "message.failed",
        "message.edited",
    }
)
_ENVELOPE_KEYS = ("event_id", "event_type", "data")


class InvalidEventError(ValueError):
    """The payload is not a Linq webhook envelope (missing ``event_id``/``event_type``/``data``)."""


@dataclass(frozen=True, slots=True)
class Failure:
    code: int | None
    reason: str | None = None
    failed_at: str | None = None
    detail_code: str | None = None


@dataclass(frozen=True, slots=True)
class Reaction:
    type: str  # love, like, dislike, laugh, emphasize, question, custom, sticker
    custom_emoji: str | None = None
    part_index: int | None = None
    reacted_at: str | None = None
    reaction_id: str | None = None
    sticker_url: str | None = None


@dataclass(frozen=True, slots=True)
class Participant:
    handle: str | None
    status: str | None = None
    at: str | None = None  # added_at / removed_at


@dataclass(frozen=True, slots=True)
class ChatChange:
    """A group name/icon change (or its failure: see ``Event.failure``)."""

    field: Literal["group_name", "group_icon"]
    old_value: str | None = None
    new_value: str | None = None
    changed_by: str | None = None
    at: str | None = None


@dataclass(frozen=True, slots=True)
class LineStatus:
    phone_number: str | None
    previous_status: str | None = None
    new_status: str | None = None
    previous_reputation: str | None = None
    new_reputation: str | None = None
    changed_at: str | None = None


@dataclass(frozen=True, slots=True)
class Event:
    """A webhook (or polled) event, the same for both payload versions.

    ``seq``, ``received_at`` and ``source`` are filled in by the event store; ``raw`` is the
    untouched payload (treat as read-only).
    """

    event_id: str
    event_type: str
    webhook_version: str | None
    created_at: str | None
    trace_id: str | None
    partner_id: str | None
    raw: Mapping[str, Any] = field(repr=False)
    chat_id: str | None = None
    message_id: str | None = None
    direction: Direction | None = None
    sender: str | None = None  # handle (E.164 or email) of whoever acted
    our_line: str | None = None  # our phone number in this chat, when the payload says
    service: str | None = None
    is_group: bool | None = None
    text: str | None = field(default=None, repr=False)  # text parts joined with "\n"; None if none
    parts: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)  # repr hides message content
    reply_to: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    sent_at: str | None = None
    delivered_at: str | None = None
    read_at: str | None = None
    edited_at: str | None = None
    failure: Failure | None = None
    reaction: Reaction | None = None
    participant: Participant | None = None
    chat_change: ChatChange | None = None
    line_status: LineStatus | None = None
    seq: int | None = None
    received_at: float | None = None
    source: EventSource | None = None

    @property
    def is_message(self) -> bool:
        return self.event_type in MESSAGE_EVENT_TYPES

    @property
    def is_inbound_message(self) -> bool:
        return self.event_type == "message.received" or (
            self.event_type == "message.sent" and self.direction == "inbound"
        )

    def with_store_fields(self, seq: int, received_at: float, source: EventSource) -> Event:
        return replace(self, seq=seq, received_at=received_at, source=source)

    def to_dict(self, *, include_raw: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (nested records as dicts; ``None`` fields kept for a stable shape)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _PLAIN_FIELDS}
        out["parts"] = [dict(p) for p in self.parts]
        out["reply_to"] = dict(self.reply_to) if self.reply_to is not None else None
        for name in _NESTED:
            value = getattr(self, name)
            out[name] = None if value is None else {f: getattr(value, f) for f in value.__slots__}
        if include_raw:
            out["raw"] = dict(self.raw)
        return out

    def to_json(self, *, include_raw: bool = True) -> str:
        return json.dumps(self.to_dict(include_raw=include_raw), separators=(",", ":"), ensure_ascii=False)


_FIELD_NAMES = tuple(Event.__slots__)
_NESTED: dict[str, type[Any]] = {
    "failure": Failure,
    "reaction": Reaction,
    "participant": Participant,
    "chat_change": ChatChange,
    "line_status": LineStatus,
}
_PLAIN_FIELDS = tuple(n for n in _FIELD_NAMES if n not in _NESTED and n not in ("raw", "parts", "reply_to"))


def event_from_json(text: str | Mapping[str, Any], *, raw: Mapping[str, Any] | None = None) -> Event:
    """Rebuild an ``Event`` from ``Event.to_json`` output (optionally with ``raw`` supplied apart)."""
    d = dict(json.loads(text) if isinstance(text, str) else text)
    if raw is not None:
        d["raw"] = raw
    d.setdefault("raw", {})
    for name, cls in _NESTED.items():
        if d.get(name) is not None:
            d[name] = cls(**d[name])
    d["parts"] = tuple(d.get("parts") or ())
    known = {k: v for k, v in d.items() if k in _FIELD_NAMES}
    return Event(**known)


# --- helpers -------------------------------------------------------------------------


def _s(value: Any) -> str | None:
    """A string field, or None (tolerates ints and absent values)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def _handle(value: Any, fallback: Any = None) -> str | None:
    """The handle string of a ChatHandle object, else a deprecated plain-string field."""
    if isinstance(value, Mapping):
        h = _s(value.get("handle"))
        if h:
            return h
    if isinstance(value, str) and value:
        return value
    return _s(fallback)


def _direction_from_is_from_me(value: Any) -> Direction | None:
    if value is True:
        return "outbound"
    if value is False:
        return "inbound"
    return None


def _parts(value: Any) -> tuple[tuple[Mapping[str, Any], ...], str | None]:
    if not isinstance(value, list):
        return (), None
    parts = tuple(p for p in value if isinstance(p, Mapping))
    texts = [p["value"] for p in parts if p.get("type") == "text" and isinstance(p.get("value"), str)]
    return parts, ("\n".join(texts) if texts else None)


def _is_group(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


# --- per-family normalisers ------------------------------------------------------------


def _message_2026(data: Mapping[str, Any]) -> dict[str, Any]:
    chat = _d(data.get("chat"))
    parts, text = _parts(data.get("parts"))
    direction = data.get("direction")
    return {
        "chat_id": _s(chat.get("id")) or _s(data.get("chat_id")),
        "message_id": _s(data.get("id")) or _s(data.get("message_id")),
        "direction": direction if direction in ("inbound", "outbound") else None,
        "sender": _handle(data.get("sender_handle")),
        "our_line": _handle(chat.get("owner_handle")),
        "service": _s(data.get("service")),
        "is_group": _is_group(chat.get("is_group")),
        "parts": parts,
        "text": text,
        "reply_to": data.get("reply_to") if isinstance(data.get("reply_to"), Mapping) else None,
        "idempotency_key": _s(data.get("idempotency_key")),
        "sent_at": _s(data.get("sent_at")),
        "delivered_at": _s(data.get("delivered_at")),
        "read_at": _s(data.get("read_at")),
    }


def _message_2025(data: Mapping[str, Any]) -> dict[str, Any]:
    msg = _d(data.get("message"))
    parts, text = _parts(msg.get("parts"))
    direction = _direction_from_is_from_me(data.get("is_from_me"))
    sender = _handle(data.get("from_handle"), data.get("from"))
    our_line = _handle(data.get("recipient_handle"), data.get("recipient_phone"))
    if our_line is None and direction == "outbound":
        our_line = sender  # on our own sends the sender is our line
    return {
        "chat_id": _s(data.get("chat_id")),
        "message_id": _s(msg.get("id")) or _s(data.get("message_id")),
        "direction": direction,
        "sender": sender,
        "our_line": our_line,
        "service": _s(data.get("service")),
        "is_group": _is_group(data.get("is_group")),
        "parts": parts,
        "text": text,
        "reply_to": msg.get("reply_to") if isinstance(msg.get("reply_to"), Mapping) else None,
        "idempotency_key": _s(data.get("idempotency_key")),
        "sent_at": _s(msg.get("sent_at")),
        "delivered_at": _s(data.get("delivered_at")) or _s(msg.get("delivered_at")),
        "read_at": _s(data.get("read_at")) or _s(msg.get("read_at")),
    }


def _message(data: Mapping[str, Any], version: str | None) -> dict[str, Any]:
    # Decide by shape, not only by the declared version: a mislabelled payload still normalises.
    if "direction" in data or "sender_handle" in data or isinstance(data.get("chat"), Mapping):
        fields = _message_2026(data)
    elif "message" in data or "is_from_me" in data or version == "2025-01-01":
        fields = _message_2025(data)
    else:
        fields = _message_2026(data)
    if fields["our_line"] is None and fields["direction"] == "outbound":
        fields["our_line"] = fields["sender"]
    return fields


def _message_edited(data: Mapping[str, Any]) -> dict[str, Any]:
    fields = _message_2026(data)
    part = _d(data.get("part"))
    text = _s(part.get("text"))
    fields["text"] = text
    fields["parts"] = ({"type": "text", "value": text, "index": part.get("index")},) if text is not None else ()
    fields["edited_at"] = _s(data.get("edited_at"))
    return fields


def _message_failed(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "chat_id": _s(data.get("chat_id")),
        "message_id": _s(data.get("message_id")),
        "direction": "outbound",  # only our own sends can fail
        "service": _s(data.get("service")),
        "failure": Failure(
            code=_int(data.get("code")),
            reason=_s(data.get("reason")),
            failed_at=_s(data.get("failed_at")),
            detail_code=_s(data.get("detail_code")),
        ),
    }


def _reaction(data: Mapping[str, Any]) -> dict[str, Any]:
    sticker = _d(data.get("sticker"))
    return {
        "chat_id": _s(data.get("chat_id")),
        "message_id": _s(data.get("message_id")),
        "direction": _direction_from_is_from_me(data.get("is_from_me")),
        "sender": _handle(data.get("from_handle"), data.get("from")),
        "service": _s(data.get("service")),
        "reaction": Reaction(
            type=_s(data.get("reaction_type")) or "unknown",
            custom_emoji=_s(data.get("custom_emoji")),
            part_index=_int(data.get("part_index")),
            reacted_at=_s(data.get("reacted_at")),
            reaction_id=_s(data.get("reaction_id")),
            sticker_url=_s(sticker.get("url")),
        ),
    }


def _participant(data: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    p = _d(data.get("participant"))
    at = data.get("added_at") if event_type.endswith(".added") else data.get("removed_at")
    return {
        "chat_id": _s(data.get("chat_id")),
        "is_group": True,
        "participant": Participant(handle=_handle(p, data.get("handle")), status=_s(p.get("status")), at=_s(at)),
    }


def _chat_change(data: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    field: Literal["group_name", "group_icon"] = "group_icon" if "icon" in event_type else "group_name"
    fields: dict[str, Any] = {"chat_id": _s(data.get("chat_id")), "is_group": True}
    if event_type.endswith("_failed"):
        fields["failure"] = Failure(code=_int(data.get("error_code")), failed_at=_s(data.get("failed_at")))
        fields["chat_change"] = ChatChange(field=field, at=_s(data.get("failed_at")))
    else:
        changed_by = _handle(data.get("changed_by_handle"))
        fields["sender"] = changed_by
        fields["chat_change"] = ChatChange(
            field=field,
            old_value=_s(data.get("old_value")),
            new_value=_s(data.get("new_value")),
            changed_by=changed_by,
            at=_s(data.get("updated_at")),
        )
    return fields


def _chat_created(data: Mapping[str, Any]) -> dict[str, Any]:
    handles = [h for h in data.get("handles") or [] if isinstance(h, Mapping)]
    ours = next((h for h in handles if h.get("is_me") is True), None)
    return {
        "chat_id": _s(data.get("id")) or _s(data.get("chat_id")),
        "our_line": _handle(ours) if ours else None,
        "service": _s(data.get("service")),
        "is_group": _is_group(data.get("is_group")),
    }


def _typing(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"chat_id": _s(data.get("chat_id")), "sender": _handle(data.get("actor_handle"))}


def _phone_number(data: Mapping[str, Any]) -> dict[str, Any]:
    line = _s(data.get("phone_number"))
    return {
        "our_line": line,
        "line_status": LineStatus(
            phone_number=line,
            previous_status=_s(data.get("previous_status")),
            new_status=_s(data.get("new_status")),
            previous_reputation=_s(data.get("previous_reputation")),
            new_reputation=_s(data.get("new_reputation")),
            changed_at=_s(data.get("changed_at")),
        ),
    }


def _poll(data: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    fields = _generic(data)
    fields["is_group"] = _is_group(_d(data.get("chat")).get("is_group"))
    if event_type == "poll.failed":  # only our own polls can fail, like message.failed
        error = _d(data.get("error"))
        fields["failure"] = Failure(
            code=_int(error.get("code")), reason=_s(error.get("message")), failed_at=_s(data.get("failed_at"))
        )
    return fields


def _location(data: Mapping[str, Any]) -> dict[str, Any]:
    """Someone shares their location with our line (``shared_by`` is theirs, ``shared_with`` ours)."""
    return {
        "chat_id": _s(data.get("chat_id")),
        "direction": "inbound",
        "sender": _s(data.get("shared_by")),
        "our_line": _s(data.get("shared_with")),
    }


def _contact_card(data: Mapping[str, Any]) -> dict[str, Any]:
    """Someone shared their contact card with our line (handles are plain strings here)."""
    return {
        "direction": "inbound",
        "sender": _handle(data.get("sender_handle")),
        "our_line": _handle(data.get("owner_handle")),
    }


def _background(data: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    chat = _d(data.get("chat"))
    fields: dict[str, Any] = {"chat_id": _s(chat.get("id")) or _s(data.get("chat_id"))}
    if event_type.endswith("_failed"):
        fields["failure"] = Failure(code=_int(data.get("error_code")), failed_at=_s(data.get("failed_at")))
        return fields
    actor = data.get("actor_handle")
    fields.update(
        sender=_handle(actor),
        our_line=_handle(chat.get("owner_handle")),
        is_group=_is_group(chat.get("is_group")),
        direction=_direction_from_is_from_me(actor.get("is_me") if isinstance(actor, Mapping) else None),
    )
    return fields


def _generic(data: Mapping[str, Any]) -> dict[str, Any]:
    """Best-effort common fields for event types this module does not know."""
    chat = _d(data.get("chat"))
    return {
        "chat_id": _s(data.get("chat_id")) or _s(chat.get("id")),
        "message_id": _s(data.get("message_id")),
        "direction": data.get("direction")
        if data.get("direction") in ("inbound", "outbound")
        else _direction_from_is_from_me(data.get("is_from_me")),
        "sender": _handle(data.get("sender_handle")) or _handle(data.get("from_handle"), data.get("from")),
        "our_line": _handle(chat.get("owner_handle")) or _s(data.get("phone_number")),
        "service": _s(data.get("service")),
    }


# --- the legacy V2 API ------------------------------------------------------------------

V2_EVENT_NAMES: Mapping[str, str] = {
    "typing_indicator.received": "chat.typing_indicator.started",
    "typing_indicator.removed": "chat.typing_indicator.stopped",
}


def _v2_parts(message: Mapping[str, Any]) -> tuple[tuple[Mapping[str, Any], ...], str | None]:
    text = _s(message.get("text"))
    parts: list[Mapping[str, Any]] = [{"type": "text", "value": text}] if text else []
    for item in message.get("attachments") or []:
        if isinstance(item, Mapping):
            media = {"type": "media", **{k: item.get(k) for k in ("url", "filename", "mime_type") if item.get(k)}}
            parts.append(media)
    return tuple(parts), text


def _v2_message(data: Mapping[str, Any], event_type: str) -> dict[str, Any]:
    chat, message = _d(data.get("chat")), _d(data.get("message"))
    parts, text = _v2_parts(message)
    direction: Direction = "inbound" if event_type == "message.received" else "outbound"
    sender = _s(message.get("sent_from"))
    return {
        "chat_id": _s(chat.get("id")) or _s(message.get("chat_id")),
        "message_id": _s(message.get("id")),
        "direction": direction,
        "sender": sender,
        "our_line": sender if direction == "outbound" else None,
        "service": _s(chat.get("service")),
        "is_group": _is_group(chat.get("group")),
        "parts": parts,
        "text": text,
        "idempotency_key": _s(message.get("idempotency_key")),
        "sent_at": _s(message.get("sent_at")),
        "delivered_at": _s(message.get("delivered_at")),
        "read_at": _s(message.get("read_at")),
        "edited_at": _s(message.get("edited_at")),
    }


def _normalise_v2(payload: Mapping[str, Any], event_id: str, event_type: str) -> Event:
    data = _d(payload.get("data"))
    stored_type = V2_EVENT_NAMES.get(event_type, event_type)
    fields: dict[str, Any]
    if event_type in ("message.sent", "message.received", "message.read"):
        fields = _v2_message(data, event_type)
    elif event_type in ("reaction.sent", "reaction.received"):
        stored_type = "reaction.removed" if data.get("operation") == "remove" else "reaction.added"
        fields = {
            "chat_id": _s(data.get("chat_id")),
            "message_id": _s(data.get("chat_message_id")),
            "direction": _direction_from_is_from_me(data.get("is_from_me")),
            "sender": _s(data.get("from_phone")),
            "reaction": Reaction(
                type=_s(data.get("reaction")) or "unknown",
                reacted_at=_s(data.get("sent_at")),
                reaction_id=_s(data.get("id")),
            ),
        }
    elif event_type.startswith("typing_indicator."):
        fields = {"chat_id": _s(data.get("chat_id")), "sender": _s(data.get("phone_number"))}
    elif event_type in ("participant.added", "participant.removed"):
        fields = {
            "chat_id": _s(data.get("chat_id")),
            "is_group": True,
            "participant": Participant(handle=_s(data.get("phone_number")), at=_s(payload.get("created_at"))),
        }
    elif event_type == "chat.created":
        chat = _d(data.get("chat")) or data
        fields = {
            "chat_id": _s(chat.get("id")),
            "service": _s(chat.get("service")),
            "is_group": _is_group(chat.get("group")),
        }
    elif event_type == "call.completed":
        call = _d(data.get("call")) or data
        fields = {"sender": _s(call.get("from")), "our_line": _s(call.get("to")) or _s(call.get("phone_number"))}
    else:  # contact.* and anything V2 adds later: the facts are read from raw when shown
        fields = {"chat_id": _s(data.get("chat_id"))}
    return Event(
        event_id=event_id,
        event_type=stored_type,
        webhook_version="v2",
        created_at=_s(payload.get("created_at")),
        trace_id=None,
        partner_id=None,
        raw=payload,
        **fields,
    )


def _v2_facts(event: Event) -> dict[str, Any]:
    """What a V2-only event (``contact.*``, ``call.completed``) says, in a readable shape."""
    data = _d(event.raw.get("data"))
    if event.event_type.startswith("contact."):
        contact = _d(data.get("contact")) or data
        keys = ("id", "first_name", "last_name", "full_name", "email", "phone_number", "company", "title", "location")
        return {"contact": {k: contact.get(k) for k in keys if contact.get(k) is not None}}
    if event.event_type == "call.completed":
        call = _d(data.get("call")) or data
        keys = ("id", "from", "to", "phone_number", "direction", "status", "duration", "started_at", "ended_at")
        return {"call": {k: call.get(k) for k in keys if call.get(k) is not None}}
    return {}


def normalise(payload: Mapping[str, Any]) -> Event:
    """Build the ``Event`` for a webhook envelope of either payload version.

    Raises ``InvalidEventError`` when ``payload`` is not an envelope at all.
    """
    if not isinstance(payload, Mapping) or any(k not in payload for k in _ENVELOPE_KEYS):
        raise InvalidEventError("not a Linq webhook envelope")
    event_id, event_type = payload.get("event_id"), payload.get("event_type")
    if not isinstance(event_id, str) or not event_id or not isinstance(event_type, str) or not event_type:
        raise InvalidEventError("envelope needs string event_id and event_type")
    if payload.get("api_version") == "v2":
        return _normalise_v2(payload, event_id, event_type)
    data = _d(payload.get("data"))
    version = _s(payload.get("webhook_version"))

    fields: dict[str, Any]
    if event_type in ("message.sent", "message.received", "message.delivered", "message.read"):
        fields = _message(data, version)
    elif event_type == "message.edited":
        fields = _message_edited(data)
    elif event_type == "message.failed":
        fields = _message_failed(data)
    elif event_type in ("reaction.added", "reaction.removed", "poll.reaction.added"):
        fields = _reaction(data)
    elif event_type in ("participant.added", "participant.removed"):
        fields = _participant(data, event_type)
    elif event_type.startswith("chat.group_"):
        fields = _chat_change(data, event_type)
    elif event_type == "chat.created":
        fields = _chat_created(data)
    elif event_type.startswith("chat.typing_indicator."):
        fields = _typing(data)
    elif event_type == "phone_number.status_updated":
        fields = _phone_number(data)
    elif event_type.startswith("poll."):
        fields = _poll(data, event_type)
    elif event_type.startswith("location.sharing."):
        fields = _location(data)
    elif event_type == "contact_card.received":
        fields = _contact_card(data)
    elif event_type.startswith("chat.background_"):
        fields = _background(data, event_type)
    elif event_type in ("phone_number.assigned", "phone_number.released"):
        fields = {"our_line": _s(data.get("phone_number"))}
    else:
        fields = _generic(data)

    return Event(
        event_id=event_id,
        event_type=event_type,
        webhook_version=version,
        created_at=_s(payload.get("created_at")),
        trace_id=_s(payload.get("trace_id")),
        partner_id=_s(payload.get("partner_id")),
        raw=payload,
        **fields,
    )


# --- facts: what happened, for families with no record of their own in Event ------------------


def facts(event: Event) -> dict[str, Any]:
    """The key facts of a poll, location-sharing, contact-card, chat-background or line event.

    Read from ``raw`` when shown (not stored in ``Event``), so events stored before this
    existed show them too. Nothing here is fenced: the caller passes the record through
    ``fence.fence_record``. Each poll option keeps a ``creator_handle`` that says whether it
    is ours, so an option another person added is fenced under their name even in our poll
    (one whose author is unknown is not taken as ours).
    """
    if event.webhook_version == "v2":
        return _v2_facts(event)
    data = _d(event.raw.get("data"))
    kind = event.event_type
    if kind.startswith("poll.vote."):
        return {"vote": {"option_id": _s(data.get("option_id"))}}
    if kind == "poll.updated":
        return {"poll": {"added_options": _options(data.get("added_options"))}}
    if kind.startswith("poll.") and kind != "poll.reaction.added":
        poll = _d(data.get("poll"))
        return {"poll": {"options": _options(poll.get("options")), "total_voters": _int(poll.get("total_voters"))}}
    if kind.startswith("location.sharing."):
        sharing = {"status": kind.rsplit(".", 1)[1], "shared_by": _s(data.get("shared_by"))}
        sharing["shared_with"] = _s(data.get("shared_with"))
        for key in ("began_at", "ends_at", "ended_at"):
            sharing[key] = _s(data.get(key))
        return {"location_sharing": sharing}
    if kind == "contact_card.received":
        card = {key: data.get(key) for key in ("first_name", "last_name", "media_url")}
        return {"contact_card": card}
    if kind == "chat.background_updated":
        background = data.get("background")
        return {"background": dict(background)} if isinstance(background, Mapping) else {"background_removed": True}
    if kind in ("phone_number.assigned", "phone_number.released"):
        status = kind.rsplit(".", 1)[1]
        return {
            "line": {"phone_number": _s(data.get("phone_number")), "status": status, "at": _s(data.get("changed_at"))}
        }
    return {}


def _options(value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for option in value if isinstance(value, list) else []:
        if not isinstance(option, Mapping):
            continue
        creator = option.get("creator_handle")
        if not (isinstance(creator, Mapping) and isinstance(creator.get("is_me"), bool)):
            creator = {"is_me": False}  # unknown author: not ours
        voters = [{"handle": v.get("handle"), "voted_at": v.get("voted_at")} for v in option.get("voters") or []
                  if isinstance(v, Mapping)]  # fmt: skip
        item: dict[str, Any] = {"option_id": _s(option.get("option_id")), "creator_handle": dict(creator)}
        if option.get("text") not in (None, ""):  # empty on zero-retention lines and Linq's own reads
            item["text"] = option["text"]
        item["votes"] = len(voters)
        item["voters"] = voters
        out.append(item)
    return out
