"""MCP resources over the event store, with subscriptions and completion.

``linq://events`` and ``linq://inbox`` are listed; ``linq://events/{event_id}``,
``linq://chats/{chat_id}/events`` and ``linq://chats/{chat_id}/conversation`` are
templates. Documents are compact JSON; other people's words are fenced (``present``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import mcp.types as types
from mcp.server import ServerRequestContext
from mcp.server.subscriptions import ListenHandler
from mcp.shared.exceptions import MCPError

from .notify import EVENTS_URI, INBOX_URI
from .present import present_conversation, present_event, present_inbox_item

if TYPE_CHECKING:
    from linq_mcp.server.runtime import Runtime

    from .hub import EventHub

__all__ = ["handler_factories", "read_document"]

JSON = "application/json"
PAGE = 50
_CHAT = re.compile(r"^linq://chats/([^/?#]+)/(events|conversation)$")
_EVENT = re.compile(r"^linq://events/([^/?#]+)$")

FIXED = [
    types.Resource(
        uri=EVENTS_URI,
        name="events",
        title="Recent Linq events",
        description="Webhook/polled events, newest first: messages, delivery, reads, reactions, chat changes.",
        mime_type=JSON,
    ),
    types.Resource(
        uri=INBOX_URI,
        name="inbox",
        title="Unread inbound messages",
        description="Inbound messages across chats not yet answered (a reply in the chat clears them).",
        mime_type=JSON,
    ),
]
TEMPLATES = [
    types.ResourceTemplate(uri_template="linq://events/{event_id}", name="event", title="One event", mime_type=JSON),
    types.ResourceTemplate(
        uri_template="linq://chats/{chat_id}/events",
        name="chat-events",
        title="A chat's events",
        description="The chat's events, newest first.",
        mime_type=JSON,
    ),
    types.ResourceTemplate(
        uri_template="linq://chats/{chat_id}/conversation",
        name="conversation",
        title="A chat as a thread",
        description="Who said what and when, delivery/read state and reactions, oldest first.",
        mime_type=JSON,
    ),
]


def _not_found() -> MCPError:
    return MCPError(code=types.INVALID_PARAMS, message="Resource not found")


async def read_document(hub: EventHub, uri: str) -> dict[str, Any]:
    """The JSON document behind ``uri``; MCPError INVALID_PARAMS for an unknown one."""
    store, policy = hub.store, hub.policy
    if uri == EVENTS_URI:
        page = await store.list(limit=PAGE)
        return {
            "events": [present_event(e, policy) for e in page.events],
            "cursor": str(page.latest_seq or 0),
            "more": page.cursor is not None,
            "hint": "list_events pages further; wait_for_event waits for the next one.",
        }
    if uri == INBOX_URI:
        items = await store.inbox(limit=PAGE)
        unread = len(items) if len(items) < PAGE else await store.unread_count()  # one snapshot when it fits
        return {"unread": unread, "messages": [present_inbox_item(e, policy) for e in items]}
    match = _EVENT.match(uri)
    if match:
        event = await store.get(match.group(1))
        if event is None:
            raise _not_found()
        return present_event(event, policy)
    match = _CHAT.match(uri)
    if match:
        chat_id, kind = match.groups()
        if kind == "events":
            page = await store.list(chat_id=chat_id, limit=PAGE)
            return {
                "chat_id": chat_id,
                "events": [present_event(e, policy) for e in page.events],
                "cursor": str(page.latest_seq or 0),
                "more": page.cursor is not None,
            }
        conversation = await store.conversation(chat_id, limit=PAGE)
        return present_conversation(conversation, policy)
    raise _not_found()


async def _completions(hub: EventHub, name: str, prefix: str) -> list[str]:
    """Known chat ids / event ids starting with ``prefix``, most recent first."""
    page = await hub.store.list(limit=1000)
    seen: dict[str, None] = {}
    for event in page.events:
        value = event.chat_id if name == "chat_id" else event.event_id if name == "event_id" else None
        if value and value.startswith(prefix):
            seen[value] = None
    return list(seen)


def handler_factories(hub: EventHub) -> dict[str, Callable[[Runtime], Any]]:
    """Low-level ``Server`` kwargs -> factories, for ``Runtime.handler_factories``."""

    async def list_resources(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=FIXED)

    async def list_templates(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        document = await read_document(hub, uri)
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text=text, mime_type=JSON)])

    async def subscribe(ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams) -> types.EmptyResult:
        hub.notifier.subscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    async def unsubscribe(ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams) -> types.EmptyResult:
        hub.notifier.unsubscribe(str(params.uri), ctx.session)
        return types.EmptyResult()

    async def complete(ctx: ServerRequestContext[Any], params: types.CompleteRequestParams) -> types.CompleteResult:
        values: list[str] = []
        if isinstance(params.ref, types.ResourceTemplateReference) and params.ref.uri.startswith("linq://"):
            values = await _completions(hub, params.argument.name, params.argument.value)
        return types.CompleteResult(
            completion=types.Completion(values=values[:100], total=len(values), has_more=len(values) > 100)
        )

    return {
        "on_list_resources": lambda rt: list_resources,
        "on_list_resource_templates": lambda rt: list_templates,
        "on_read_resource": lambda rt: read_resource,
        "on_subscribe_resource": lambda rt: subscribe,
        "on_unsubscribe_resource": lambda rt: unsubscribe,
        "on_subscriptions_listen": lambda rt: ListenHandler(hub.notifier.bus),
        "on_completion": lambda rt: complete,
    }
