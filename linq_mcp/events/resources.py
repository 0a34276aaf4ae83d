"""MCP resources over the event store, with subscriptions and completion.

``linq://events`` and ``linq://inbox`` are listed; ``linq://events/{event_id}``,
``linq://chats/{chat_id}/events`` and ``linq://chats/{chat_id}/conversation`` are
templates. Documents are compact JSON; other people's words are fenced (``present``).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import mcp.types as types
from mcp.server import ServerRequestContext
from mcp.shared.exceptions import MCPError

from .present import present_conversation, present_event, present_inbox_item
from .specs import EVENTS_URI, INBOX_URI

if TYPE_CHECKING:
    from .hub import EventHub

__all__ = ["complete", "read_document", "read_resource", "subscribe", "unsubscribe"]

JSON = "application/json"
PAGE = 50
_CHAT = re.compile(r"^linq://chats/([^/?#]+)/(events|conversation)$")
_EVENT = re.compile(r"^linq://events/([^/?#]+)$")


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


# The resources handlers the server registers (``server/handlers.py``), given the events
# layer's hub once the runtime is open (the fixed lists are in ``specs``: nothing opened).


async def read_resource(hub: EventHub, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    uri = str(params.uri)
    document = await read_document(hub, uri)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return types.ReadResourceResult(contents=[types.TextResourceContents(uri=uri, text=text, mime_type=JSON)])


async def subscribe(hub: EventHub, ctx: ServerRequestContext[Any], params: types.SubscribeRequestParams) -> None:
    hub.notifier.subscribe(str(params.uri), ctx.session)


async def unsubscribe(hub: EventHub, ctx: ServerRequestContext[Any], params: types.UnsubscribeRequestParams) -> None:
    hub.notifier.unsubscribe(str(params.uri), ctx.session)


async def complete(hub: EventHub, params: types.CompleteRequestParams) -> types.CompleteResult:
    values: list[str] = []
    if isinstance(params.ref, types.ResourceTemplateReference) and params.ref.uri.startswith("linq://"):
        values = await _completions(hub, params.argument.name, params.argument.value)
    return types.CompleteResult(
        completion=types.Completion(values=values[:100], total=len(values), has_more=len(values) > 100)
    )
