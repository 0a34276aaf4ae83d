"""The ``events`` toolset: ``list_events`` and ``wait_for_event``.

For clients without resource subscriptions, ``wait_for_event`` is how an assistant
hears a reply. Cursors are the store's ``seq`` (strictly increasing, never reused), so
passing a result's ``cursor`` back as ``since`` never misses or repeats an event.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from ..runner import ToolResult
from ..runtime import ExtraTool
from ..webhooks import Event
from .present import present_event
from .specs import DEFAULT_WAIT, LIST_INPUT, MAX_WAIT, TOOL_SPECS, WAIT_INPUT

if TYPE_CHECKING:
    from .hub import EventHub

__all__ = ["event_tools", "matcher"]

PROGRESS_EVERY = 5.0


def _type_matches(event_type: str, wanted: Sequence[str]) -> bool:
    return any(event_type == t or (t.endswith(".*") and event_type.startswith(t[:-1])) for t in wanted)


def matcher(chat_id: str | None, types: Sequence[str] | None) -> Callable[[Event], bool]:
    """The predicate for ``wait_for_event``: by default, an inbound message (in the chat)."""

    def match(event: Event) -> bool:
        if chat_id is not None and event.chat_id != chat_id:
            return False
        if types:
            return _type_matches(event.event_type, types)
        return event.is_inbound_message

    return match


def _invalid(message: str) -> ToolResult:
    return ToolResult({"error": "invalid_arguments", "message": message, "retryable": False}, is_error=True)


def _parse(args: dict[str, Any], allowed: dict[str, Any]) -> str | None:
    unknown = sorted(set(args) - set(allowed["properties"]))
    if unknown:
        return f"unknown argument(s): {', '.join(unknown)}"
    since = args.get("since")
    if since is not None and (not isinstance(since, str) or not since.isdigit()):
        return "since must be a cursor string of digits from an earlier result"
    types = args.get("types")
    if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
        return "types must be a list of event type strings"
    chat_id = args.get("chat_id")
    if chat_id is not None and not isinstance(chat_id, str):
        return "chat_id must be a string"
    return None


def event_tools(hub: EventHub) -> list[ExtraTool]:
    async def list_events(args: dict[str, Any], ctx: Any) -> ToolResult:
        problem = _parse(args, LIST_INPUT)
        limit = args.get("limit", 20)
        if problem is None and (not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100):
            problem = "limit must be an integer from 1 to 100"
        if problem:
            return _invalid(problem)
        since = args.get("since")
        store, policy = hub.store, hub.policy
        if since is None:
            page = await store.list(args.get("chat_id"), args.get("types"), limit=limit)
            events = list(reversed(page.events))
            next_cursor = None
        else:
            page = await store.list(
                args.get("chat_id"), args.get("types"), after_seq=int(since), limit=limit, newest_first=False
            )
            events = page.events
            next_cursor = str(page.cursor) if page.cursor is not None else None
        cursor = next_cursor or str(max(page.latest_seq or 0, int(since or 0)))
        return ToolResult(
            {"events": [present_event(e, policy) for e in events], "next_cursor": next_cursor, "cursor": cursor}
        )

    async def wait_for_event(args: dict[str, Any], ctx: Any) -> ToolResult:
        problem = _parse(args, WAIT_INPUT)
        timeout = args.get("timeout", DEFAULT_WAIT)
        if problem is None and (
            not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 <= timeout <= MAX_WAIT
        ):
            problem = f"timeout must be a number of seconds from 0 to {MAX_WAIT:g}"
        if problem:
            return _invalid(problem)
        store = hub.store
        match = matcher(args.get("chat_id"), args.get("types"))
        since = args.get("since")
        start = int(since) if since is not None else (await store.latest_seq() or 0)
        found: Event | None = None
        position = start
        started = time.monotonic()

        async def progress() -> None:
            session = getattr(ctx, "session", None)
            if session is None:
                return
            while True:
                await anyio.sleep(PROGRESS_EVERY)
                elapsed = time.monotonic() - started
                try:
                    await session.report_progress(min(elapsed, float(timeout)), float(timeout), "waiting for an event")
                except Exception:
                    return

        async with anyio.create_task_group() as tg:
            tg.start_soon(progress)
            with anyio.move_on_after(float(timeout)):
                async with store.subscribe(after_seq=start) as sub:
                    async for events in sub:
                        for event in events:
                            if match(event):
                                found = event
                                break
                        position = (found.seq if found is not None else sub.cursor) or position
                        if found is not None:
                            break
            tg.cancel_scope.cancel()
        if found is None:
            return ToolResult({"timed_out": True, "cursor": str(position)})
        return ToolResult({"timed_out": False, "event": present_event(found, hub.policy), "cursor": str(found.seq)})

    handlers = {"list_events": list_events, "wait_for_event": wait_for_event}
    return [
        ExtraTool(**{**spec, "annotations": dict(spec["annotations"])}, handler=handlers[spec["name"]])
        for spec in TOOL_SPECS
    ]
