"""Linq webhooks: verify signed deliveries, normalise both payload versions, store them durably.

Public API (everything the MCP server needs):

Verification (``verify.py``)
    ``verify(body, headers, secrets, *, now=None, tolerance=300) -> VerifiedDelivery``
    ``WebhookVerifier(secrets)`` - the same, bound to secrets; ``WebhookVerificationError.reason``
    is one of ``missing_headers``, ``bad_signature``, ``stale_timestamp``, ``no_secret``.
    ``sign_standard`` / ``sign_legacy`` / ``sign_v2`` - produce Linq-style signatures (tests, tools,
    sandbox); V2 deliveries (``sha256=`` over the raw body, no timestamp) verify with the same call.

Events (``events.py``)
    ``normalise(payload) -> Event`` for 2025-01-01, 2026-02-03 and V2 payloads (unknown types kept
    with the generic fields). ``Event`` is frozen; ``Event.to_dict()`` is JSON-ready.

Store (``store.py``)
    ``EventStore(path=None)`` (default ``paths.default_db_path()``); ``async with`` it or
    ``await store.open()`` / ``await store.aclose()``.
    ``await add(event, source="webhook"|"polled") -> bool`` (True if new; durable on return),
    ``get``, ``list(...) -> EventPage`` (``cursor`` for paging), ``conversation(chat_id)``,
    ``inbox()``, ``mark_read(...)``, ``prune(max_age_days, max_events)``,
    ``wait(predicate, timeout) -> Event | None``, ``subscribe()`` (async iterator of new events,
    also fed by other processes writing the same file).

Receiver (``receiver.py``)
    ``create_receiver_app(store, secrets, path="/webhooks/linq")`` - a Starlette app (opens and
    closes the store in its lifespan); ``app.state.receiver`` is its ``WebhookReceiver``.
    ``WebhookReceiver(store, secrets)``: ``.routes(path)`` (POST delivery + GET ``{path}/health``)
    to mount in another Starlette app; ``.handle(request)`` is the plain route function (e.g. an
    MCP ``custom_route``); ``.deliver(headers, body) -> (status, body)`` the transport-free core;
    ``.stats`` counts accepted, duplicates and rejections by reason; ``.set_secrets`` rotates.
    Status codes: 413 oversize, 401 unsigned/bad/stale, 503 no secret configured, 400 bad JSON
    or not an envelope, 200 stored (or duplicate/replay: nothing new), only after the commit.
    ``python -m linq_mcp.webhooks serve [--port 8787] [--db PATH]`` runs it standalone; secrets
    come from ``LINQ_WEBHOOK_SECRETS`` (comma-separated) or ``LINQ_WEBHOOK_SECRET``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from linq_mcp._exports import lazy

if TYPE_CHECKING:
    from linq_mcp.webhooks.conversation import Conversation, ConversationMessage, ReactionState
    from linq_mcp.webhooks.events import (
        ChatChange,
        Event,
        EventSource,
        Failure,
        InvalidEventError,
        LineStatus,
        Participant,
        Reaction,
        event_from_json,
        normalise,
    )
    from linq_mcp.webhooks.receiver import DEFAULT_PATH, ReceiverStats, WebhookReceiver, create_receiver_app
    from linq_mcp.webhooks.store import EventPage, EventStore, Subscription
    from linq_mcp.webhooks.verify import (
        VerifiedDelivery,
        WebhookVerificationError,
        WebhookVerifier,
        sign_legacy,
        sign_standard,
        sign_v2,
    )

__all__ = [
    "DEFAULT_PATH",
    "ChatChange",
    "Conversation",
    "ConversationMessage",
    "Event",
    "EventPage",
    "EventSource",
    "EventStore",
    "Failure",
    "InvalidEventError",
    "LineStatus",
    "Participant",
    "Reaction",
    "ReactionState",
    "ReceiverStats",
    "Subscription",
    "VerifiedDelivery",
    "WebhookReceiver",
    "WebhookVerificationError",
    "WebhookVerifier",
    "create_receiver_app",
    "event_from_json",
    "normalise",
    "sign_legacy",
    "sign_standard",
    "sign_v2",
]

__getattr__ = lazy(
    __name__,
    {
        "Conversation": "conversation",
        "ConversationMessage": "conversation",
        "ReactionState": "conversation",
        "ChatChange": "events",
        "Event": "events",
        "EventSource": "events",
        "Failure": "events",
        "InvalidEventError": "events",
        "LineStatus": "events",
        "Participant": "events",
        "Reaction": "events",
        "event_from_json": "events",
        "normalise": "events",
        "DEFAULT_PATH": "receiver",
        "ReceiverStats": "receiver",
        "WebhookReceiver": "receiver",
        "create_receiver_app": "receiver",
        "EventPage": "store",
        "EventStore": "store",
        "Subscription": "store",
        "VerifiedDelivery": "verify",
        "WebhookVerificationError": "verify",
        "WebhookVerifier": "verify",
        "sign_legacy": "verify",
        "sign_standard": "verify",
        "sign_v2": "verify",
    },
)
