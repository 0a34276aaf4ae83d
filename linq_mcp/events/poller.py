"""Polling fallback: watch recent chats through the API and store what changed as events.

For people who cannot expose a public webhook URL. Each round reads the first page of
``list_chats`` and then ``list_messages`` only for chats that changed (new, a newer
``updated_at``) or are still "hot" (something changed recently, or one of our messages
is not yet read), so a quiet account costs one request per round.

What changed becomes the same normalised events as webhooks: a 2026-02-03 envelope is
built from the API objects and goes through ``webhooks.normalise``. Event ids are
``uuid5`` of (type, object id), so a re-poll, or a second process polling the same
account, never stores a duplicate. The first round only learns the current state:
history is not replayed as new events — except what is newer than the high-water mark a
previous poller left in the same store (the newest API timestamp it had processed), so a
reply that arrived while the server was closed still reaches the inbox after a restart.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import anyio

from linq_mcp.api.client import ApiRequest, LinqClient
from linq_mcp.api.errors import LinqMCPError, RateLimitError
from linq_mcp.store.base import EventLog

from ..webhooks import normalise

__all__ = ["Poller", "polled_event_id"]

log = logging.getLogger("linq_mcp.events.poller")

NAMESPACE = uuid.UUID("6b3c1f0e-4f7a-5d2e-9a57-1f3b2c8d9e10")
VERSION = "2026-02-03"
CHATS_PAGE = 20
MESSAGES_PAGE = 30
HOT_SECONDS = 120.0
PENDING_SECONDS = 600.0
MAX_BACKOFF = 300.0
HIGH_WATER = "poller.high_water"  # the store marker: newest API timestamp processed (epoch seconds)


def polled_event_id(event_type: str, object_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{event_type}:{object_id}"))


@dataclass
class _Seen:
    delivered: bool = False
    read: bool = False
    first: float = field(default_factory=time.monotonic)
    reactions: dict[str, dict[str, Any]] = field(default_factory=dict)


def _epoch(value: Any) -> float | None:
    """An API timestamp (ISO 8601) as epoch seconds; None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _owner(chat: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((h for h in chat.get("handles") or [] if isinstance(h, Mapping) and h.get("is_me")), None)


def _envelope(event_type: str, object_id: str, at: str | None, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "api_version": "v3",
        "webhook_version": VERSION,
        "event_type": event_type,
        "event_id": polled_event_id(event_type, object_id),
        "created_at": at,
        "trace_id": None,
        "partner_id": None,
        "data": data,
    }


def _message_data(m: Mapping[str, Any], chat: Mapping[str, Any], stage: str) -> dict[str, Any]:
    """The 2026-02-03 message event ``data`` for ``m`` as it stood at ``stage``."""
    parts = [{k: v for k, v in p.items() if k != "reactions"} for p in m.get("parts") or [] if isinstance(p, Mapping)]
    return {
        "id": m.get("id"),
        "chat": {"id": chat.get("id"), "is_group": chat.get("is_group"), "owner_handle": _owner(chat)},
        "direction": "outbound" if m.get("is_from_me") else "inbound",
        "sender_handle": m.get("from_handle"),
        "parts": parts,
        "effect": m.get("effect"),
        "reply_to": m.get("reply_to"),
        "sent_at": m.get("sent_at"),
        "delivered_at": m.get("delivered_at") if stage in ("delivered", "read") else None,
        "read_at": m.get("read_at") if stage == "read" else None,
        "service": m.get("service"),
        "preferred_service": m.get("preferred_service"),
        "idempotency_key": m.get("idempotency_key"),
    }


def _reactions(m: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for index, part in enumerate(m.get("parts") or []):
        if not isinstance(part, Mapping):
            continue
        for r in part.get("reactions") or []:
            if isinstance(r, Mapping) and r.get("id"):
                out[str(r["id"])] = {**r, "part_index": index}
    return out


def _reaction_data(r: Mapping[str, Any], m: Mapping[str, Any], chat_id: str) -> dict[str, Any]:
    handle = r.get("handle") if isinstance(r.get("handle"), Mapping) else None
    return {
        "reaction_type": r.get("type"),
        "is_from_me": bool(r.get("is_me")),
        "chat_id": chat_id,
        "from": handle.get("handle") if handle else None,
        "from_handle": handle,
        "message_id": m.get("id"),
        "part_index": r.get("part_index"),
        "custom_emoji": r.get("custom_emoji"),
        "service": m.get("service"),
        "reacted_at": None,
        "reaction_id": r.get("id"),
        "sticker": r.get("sticker"),
    }


class Poller:
    """One polling loop over one account; ``run`` forever, or ``poll_once`` for a round."""

    def __init__(self, client: LinqClient, store: EventLog, interval: float) -> None:
        self.client = client
        self.store = store
        self.interval = max(0.05, float(interval))
        self.rounds = 0
        self.requests = 0
        self._chats: dict[str, str | None] = {}
        self._hot: dict[str, float] = {}
        self._messages: dict[str, _Seen] = {}
        self._baseline = True
        self._resume_from: float | None = None  # a previous poller's high-water mark, if any
        self._high: float | None = None  # the newest API timestamp processed so far
        self._saved: float | None = None

    async def _get(self, path: str, query: list[tuple[str, str]]) -> Any:
        self.requests += 1
        response = await self.client.send(ApiRequest("GET", path, query, replay_safe=True))
        return response.body if isinstance(response.body, Mapping) else {}

    async def run(self) -> None:
        delay = self.interval
        while True:
            try:
                await self.poll_once()
                delay = self.interval
            except RateLimitError as exc:
                delay = min(MAX_BACKOFF, max(float(exc.retry_after or 0), delay * 2))
                log.warning("polling: rate limited; next round in %.0f s", delay)
            except LinqMCPError as exc:
                delay = min(MAX_BACKOFF, delay * 2)
                log.warning("polling failed (%s); next round in %.1f s", type(exc).__name__, delay)
            except Exception:
                delay = min(MAX_BACKOFF, delay * 2)
                log.exception("polling round crashed; next round in %.1f s", delay)
            await anyio.sleep(delay)

    def _newer(self, at: float | None) -> bool:
        """In the first round: whether this happened at or after where a previous poller stopped."""
        return self._baseline and self._resume_from is not None and at is not None and at >= self._resume_from

    def _saw(self, *moments: float | None) -> None:
        for at in moments:
            if at is not None and (self._high is None or at > self._high):
                self._high = at

    async def poll_once(self) -> int:
        """One round; returns how many new events were stored."""
        if self._baseline and self._resume_from is None:
            mark = await self.store.marker(HIGH_WATER)
            self._resume_from = float(mark) if mark else None
        page = await self._get("/v3/chats", [("limit", str(CHATS_PAGE))])
        now = time.monotonic()
        stored = 0
        for chat in page.get("chats") or []:
            if not isinstance(chat, Mapping) or not chat.get("id"):
                continue
            chat_id = str(chat["id"])
            known = chat_id in self._chats
            changed = not known or self._chats[chat_id] != chat.get("updated_at")
            self._chats[chat_id] = chat.get("updated_at")
            created = _epoch(chat.get("created_at"))
            if not known and (not self._baseline or self._newer(created)):
                stored += await self._store(_envelope("chat.created", chat_id, chat.get("created_at"), dict(chat)))
            self._saw(created)
            if changed:
                self._hot[chat_id] = now
            if changed or now - self._hot.get(chat_id, -HOT_SECONDS) < HOT_SECONDS:
                stored += await self._poll_chat(chat)
        for chat_id, since in list(self._hot.items()):
            if now - since >= HOT_SECONDS:
                del self._hot[chat_id]
        self._baseline = False
        self.rounds += 1
        if self._high is not None and self._high != self._saved:
            await self.store.set_marker(HIGH_WATER, repr(self._high))
            self._saved = self._high
        return stored

    async def _poll_chat(self, chat: Mapping[str, Any]) -> int:
        chat_id = str(chat["id"])
        body = await self._get(f"/v3/chats/{chat_id}/messages", [("limit", str(MESSAGES_PAGE))])
        messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping) and m.get("id")]
        stored = 0
        for m in reversed(messages):  # oldest first, as they happened
            stored += await self._message(m, chat, chat_id)
        return stored

    async def _message(self, m: Mapping[str, Any], chat: Mapping[str, Any], chat_id: str) -> int:
        message_id = str(m["id"])
        outbound = bool(m.get("is_from_me"))
        seen = self._messages.get(message_id)
        stored = 0
        sent, delivered, read = (_epoch(m.get(k)) for k in ("sent_at", "delivered_at", "read_at"))
        self._saw(sent, delivered, read)
        if seen is None:
            seen = self._messages[message_id] = _Seen()
            if self._baseline:  # learn the state; report only what happened since a previous poller stopped
                seen.delivered = bool(m.get("delivered_at")) and not self._newer(delivered)
                seen.read = bool(m.get("read_at")) and not self._newer(read)
                seen.reactions = _reactions(m)
                if not (self._newer(sent) or self._newer(delivered) or self._newer(read)):
                    return 0
            if not self._baseline or self._newer(sent):
                kind = "message.sent" if outbound else "message.received"
                data = _message_data(m, chat, "sent")
                stored = await self._store(_envelope(kind, message_id, m.get("sent_at"), data))
        if outbound and m.get("delivered_at") and not seen.delivered:
            seen.delivered = True
            data = _message_data(m, chat, "delivered")
            stored += await self._store(_envelope("message.delivered", message_id, m.get("delivered_at"), data))
        if outbound and m.get("read_at") and not seen.read:
            seen.read = True
            data = _message_data(m, chat, "read")
            stored += await self._store(_envelope("message.read", message_id, m.get("read_at"), data))
        if outbound and not seen.read and time.monotonic() - seen.first < PENDING_SECONDS:
            self._hot[chat_id] = time.monotonic()  # keep watching for its receipt a while
        current = _reactions(m)
        for rid, r in current.items():
            if rid not in seen.reactions:
                stored += await self._store(_envelope("reaction.added", rid, None, _reaction_data(r, m, chat_id)))
        for rid, r in seen.reactions.items():
            if rid not in current:
                stored += await self._store(_envelope("reaction.removed", rid, None, _reaction_data(r, m, chat_id)))
        seen.reactions = current
        return stored

    async def _store(self, envelope: dict[str, Any]) -> int:
        return int(await self.store.add(normalise(envelope), "polled"))
