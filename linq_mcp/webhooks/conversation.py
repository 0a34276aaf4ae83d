"""Merge a chat's message events into one entry per message with its latest state.

A message shows up as several events (sent, delivered, read, failed, edited, reactions,
and possibly again from polling). Readers want one line per message: its text, who sent
it, how far it got, and the reactions currently on it. This module is pure: the store
feeds it events in commit order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .events import Event, Failure

__all__ = ["Conversation", "ConversationMessage", "ReactionState", "merge_conversation", "parse_time"]

MessageStatus = Literal["received", "sent", "delivered", "read", "failed", "unknown"]

_FRACTION = re.compile(r"(\.\d+)")


def parse_time(value: str | None) -> float | None:
    """Unix seconds for Linq's ISO timestamps (``Z``, up to nanosecond fractions), else None."""
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = _FRACTION.sub(lambda m: m.group(1)[:7], text, count=1)
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=None).timestamp()
    return dt.timestamp()


@dataclass(frozen=True, slots=True)
class ReactionState:
    type: str
    sender: str | None
    direction: str | None
    custom_emoji: str | None = None
    part_index: int | None = None
    reacted_at: str | None = None


@dataclass(frozen=True, slots=True)
class ConversationMessage:
    message_id: str
    direction: str | None
    sender: str | None
    text: str | None = field(repr=False)
    parts: tuple[Mapping[str, Any], ...] = field(repr=False)
    service: str | None
    status: MessageStatus
    sent_at: str | None
    delivered_at: str | None
    read_at: str | None
    edited_at: str | None
    failure: Failure | None
    reactions: tuple[ReactionState, ...]
    reply_to: Mapping[str, Any] | None
    first_seq: int
    last_seq: int
    event_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conversation:
    chat_id: str
    our_line: str | None
    messages: tuple[ConversationMessage, ...]
    last_seq: int | None


@dataclass(slots=True)
class _Acc:
    message_id: str
    first_seq: int
    order_key: float
    direction: str | None = None
    sender: str | None = None
    parts: list[Mapping[str, Any]] = field(default_factory=list)
    text: str | None = None
    service: str | None = None
    sent_at: str | None = None
    delivered_at: str | None = None
    read_at: str | None = None
    edited_at: str | None = None
    failure: Failure | None = None
    reply_to: Mapping[str, Any] | None = None
    reactions: dict[tuple[Any, ...], ReactionState] = field(default_factory=dict)
    last_seq: int = 0
    event_ids: list[str] = field(default_factory=list)
    has_content: bool = False


def _later(a: str | None, b: str | None) -> str | None:
    if a is None:
        return b
    if b is None:
        return a
    ta, tb = parse_time(a), parse_time(b)
    if ta is None or tb is None:
        return b
    return b if tb >= ta else a


def _status(acc: _Acc) -> MessageStatus:
    if acc.read_at:
        return "read"
    if acc.delivered_at:
        return "delivered"
    if acc.failure is not None:
        return "failed"
    if acc.direction == "inbound":
        return "received"
    if acc.direction == "outbound":
        return "sent"
    return "unknown"


def _text_of(parts: list[Mapping[str, Any]]) -> str | None:
    texts = [p["value"] for p in parts if p.get("type") == "text" and isinstance(p.get("value"), str)]
    return "\n".join(texts) if texts else None


def _apply(acc: _Acc, e: Event) -> None:
    seq = e.seq or 0
    acc.last_seq = max(acc.last_seq, seq)
    acc.event_ids.append(e.event_id)
    if e.event_type.startswith("reaction.") and e.reaction is not None:
        r = e.reaction
        key = (e.sender, e.direction, r.type, r.custom_emoji, r.part_index)
        if e.event_type == "reaction.added":
            acc.reactions[key] = ReactionState(
                r.type, e.sender, e.direction, r.custom_emoji, r.part_index, r.reacted_at
            )
        else:
            acc.reactions.pop(key, None)
        return
    acc.direction = acc.direction or e.direction
    acc.service = e.service or acc.service
    acc.reply_to = acc.reply_to or e.reply_to
    if e.event_type != "message.failed":
        acc.sender = acc.sender or e.sender
    if e.event_type == "message.edited":
        acc.edited_at = _later(acc.edited_at, e.edited_at)
        index = e.parts[0].get("index") if e.parts else None
        if isinstance(index, int) and 0 <= index < len(acc.parts) and acc.parts[index].get("type") == "text":
            acc.parts[index] = {**acc.parts[index], "value": e.text or ""}
            acc.text = _text_of(acc.parts)
        else:
            acc.text = e.text
        return
    if e.event_type == "message.failed":
        acc.failure = e.failure
        return
    if not acc.has_content and (e.parts or e.text is not None):
        acc.parts = list(e.parts)
        acc.text = e.text
        acc.has_content = True
    acc.sent_at = acc.sent_at or e.sent_at
    acc.delivered_at = _later(acc.delivered_at, e.delivered_at)
    acc.read_at = _later(acc.read_at, e.read_at)


def merge_conversation(chat_id: str, events: Iterable[Event], *, limit: int | None = None) -> Conversation:
    """One ``ConversationMessage`` per message id, oldest first (by sent time, then arrival)."""
    accs: dict[str, _Acc] = {}
    our_line: str | None = None
    last_seq: int | None = None
    for e in events:
        if e.seq is not None:
            last_seq = e.seq if last_seq is None else max(last_seq, e.seq)
        our_line = e.our_line or our_line
        if not e.message_id or not (e.is_message or e.event_type.startswith("reaction.")):
            continue
        acc = accs.get(e.message_id)
        if acc is None:
            order = parse_time(e.sent_at) or parse_time(e.created_at) or (e.received_at or 0.0)
            acc = accs[e.message_id] = _Acc(e.message_id, e.seq or 0, order)
        elif e.sent_at and e.is_message:
            t = parse_time(e.sent_at)
            if t is not None and acc.sent_at is None:
                acc.order_key = t
        _apply(acc, e)
    ordered = sorted(accs.values(), key=lambda a: (a.order_key, a.first_seq))
    if limit is not None:
        ordered = ordered[-limit:] if limit > 0 else []
    messages = tuple(
        ConversationMessage(
            message_id=a.message_id,
            direction=a.direction,
            sender=a.sender,
            text=a.text,
            parts=tuple(a.parts),
            service=a.service,
            status=_status(a),
            sent_at=a.sent_at,
            delivered_at=a.delivered_at,
            read_at=a.read_at,
            edited_at=a.edited_at,
            failure=a.failure,
            reactions=tuple(a.reactions.values()),
            reply_to=a.reply_to,
            first_seq=a.first_seq,
            last_seq=a.last_seq,
            event_ids=tuple(a.event_ids),
        )
        for a in ordered
    )
    return Conversation(chat_id=chat_id, our_line=our_line, messages=messages, last_seq=last_seq)
