"""The ``events`` toolset: ``list_events`` and ``wait_for_event``.

For clients without resource subscriptions, ``wait_for_event`` is how an assistant
hears a reply. Cursors are the store's ``seq`` (strictly increasing, never reused), so
passing a result's ``cursor`` back as ``since`` never misses or repeats an event.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import anyio

from linq_mcp.server.runtime import ExtraTool
from linq_mcp.tools.runner import ToolResult

from ..webhooks import Event
from .present import present_event
from .specs import DEFAULT_WAIT, LIST_INPUT, MAX_WAIT, TOOL_SPECS, WAIT_INPUT

if TYPE_CHECKING:
    from .hub import EventHub

__all__ = ["event_tools", "matcher"]

PROGRESS_EVERY = 5.0
log = logging.getLogger("linq_mcp.events")
Handler = Callable[[dict[str, Any], Any], Awaitable[ToolResult]]


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


MAX_CURSOR = 2**63 - 1  # the store's seq is a SQLite INTEGER
_CURSOR = re.compile(r"[0-9]{1,19}")
MAX_TYPES = 50
MAX_TEXT = 200


def _problem(path: str, problem: str, expected: str, example: Any) -> dict[str, Any]:
    return {"path": path, "problem": problem, "expected": expected, "example": example}


def _invalid(problems: list[dict[str, Any]]) -> ToolResult:
    names = ", ".join(p["path"] for p in problems)
    return ToolResult(
        {
            "error": "invalid_arguments",
            "message": f"invalid {names}: " + "; ".join(f"{p['path']} {p['problem']}" for p in problems),
            "fix": "Correct the arguments listed in problems and call the tool again.",
            "retryable": False,
            "problems": problems,
        },
        is_error=True,
    )


def _check_cursor(since: Any) -> dict[str, Any] | None:
    ok = isinstance(since, str) and _CURSOR.fullmatch(since) is not None and int(since) <= MAX_CURSOR
    if ok:
        return None
    return _problem(
        "since",
        "is not a cursor from an earlier result",
        f"a string of ASCII digits no larger than {MAX_CURSOR} (the cursor or next_cursor of an earlier result)",
        "0",
    )


def _check_name(path: str, value: Any) -> dict[str, Any] | None:
    if isinstance(value, str) and 0 < len(value) <= MAX_TEXT and value.isprintable():
        return None
    return _problem(
        path,
        "is not a valid value",
        f"a non-empty string of at most {MAX_TEXT} printable characters",
        "message.received" if path.startswith("types") else "chat_id from list_chats",
    )


def _parse(args: dict[str, Any], allowed: dict[str, Any]) -> list[dict[str, Any]]:
    """Every problem with the shared arguments, each naming its field (nothing is read until all pass)."""
    problems = [
        _problem(
            name or "(empty name)", "is not an argument of this tool", ", ".join(sorted(allowed["properties"])), None
        )
        for name in sorted(set(args) - set(allowed["properties"]))
    ]
    if args.get("since") is not None and (p := _check_cursor(args["since"])):
        problems.append(p)
    types = args.get("types")
    if types is not None:
        if not isinstance(types, list) or len(types) > MAX_TYPES:
            problems.append(
                _problem(
                    "types",
                    "is not a list of event types",
                    f"a list of at most {MAX_TYPES} event type strings",
                    ["message.received", "reaction.*"],
                )
            )
        else:
            problems.extend(p for i, t in enumerate(types) if (p := _check_name(f"types[{i}]", t)))
    if args.get("chat_id") is not None and (p := _check_name("chat_id", args["chat_id"])):
        problems.append(p)
    return problems


def _local_failure(tool: str, exc: Exception) -> ToolResult:
    """An unexpected failure of a purely local read: never worded as a Linq outcome."""
    log.exception("%s failed", tool)
    return ToolResult(
        {
            "error": "internal_error",
            "message": f"{tool} failed reading linq-mcp's event store ({type(exc).__name__}). "
            "This tool only reads local data: nothing was sent to Linq and nothing changed.",
            "fix": "Try again; if it keeps failing, tell the user the server's event store needs attention.",
            "retryable": True,
        },
        is_error=True,
    )


def event_tools(hub: EventHub) -> list[ExtraTool]:
    async def list_events(args: dict[str, Any], ctx: Any) -> ToolResult:
        problems = _parse(args, LIST_INPUT)
        limit = args.get("limit", 20)
        if limit is None:
            limit = 20
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
            problems.append(_problem("limit", "is out of range", "an integer from 1 to 100", 20))
        if problems:
            return _invalid(problems)
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
        problems = _parse(args, WAIT_INPUT)
        timeout = args.get("timeout", DEFAULT_WAIT)
        if timeout is None:
            timeout = DEFAULT_WAIT
        if not isinstance(timeout, int | float) or isinstance(timeout, bool) or not 0 <= timeout <= MAX_WAIT:
            problems.append(_problem("timeout", "is out of range", f"a number of seconds from 0 to {MAX_WAIT:g}", 60))
        if problems:
            return _invalid(problems)
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

    def local(name: str, handler: Handler) -> Handler:
        async def guarded(args: dict[str, Any], ctx: Any) -> ToolResult:
            try:
                return await handler(args, ctx)
            except Exception as exc:  # a local read: say so, never "whether it reached Linq is unknown"
                return _local_failure(name, exc)

        return guarded

    handlers = {
        "list_events": local("list_events", list_events),
        "wait_for_event": local("wait_for_event", wait_for_event),
    }
    return [
        ExtraTool(**{**spec, "annotations": dict(spec["annotations"])}, handler=handlers[spec["name"]])
        for spec in TOOL_SPECS
    ]
