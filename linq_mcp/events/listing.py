"""The resources the events layer serves, as listed: answered before the runtime opens."""

from __future__ import annotations

from typing import Any

import mcp.types as types

from .specs import EVENTS_URI, INBOX_URI

JSON = "application/json"

__all__ = ["FIXED", "JSON", "TEMPLATES", "list_resources", "list_templates"]

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


async def list_resources(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=FIXED)


async def list_templates(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
    return types.ListResourceTemplatesResult(resource_templates=TEMPLATES)
