"""Plug the events layer into a runtime: store, resources, tools, notifier, and the ways in.

Events reach the store by one or more of:

- sandbox mode: a webhook subscription is created through the API at start; the sandbox
  signs its deliveries and POSTs them (in process) to the real receiver;
- HTTP transport: ``POST /webhooks/linq`` on the MCP server (``runtime.http_routes``);
- stdio with ``--webhooks-port N``: the receiver alone on 127.0.0.1:N;
- ``--poll-interval S``: the polling fallback;
- another process (``linq-mcp webhooks serve``, or another replica) writing the same store;
  its events wake this one's subscribers too (``linq_mcp.store``).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import httpx
from starlette.applications import Starlette

from linq_mcp.api.client import ApiRequest, LinqClient
from linq_mcp.api.errors import LinqMCPError
from linq_mcp.config.redact import register_secret
from linq_mcp.store.base import Store

from ..webhooks import WebhookReceiver
from .hub import EventHub
from .notify import INBOX_URI
from .poller import Poller
from .resources import handler_factories
from .secrets import read_secrets, secrets_file
from .tools import event_tools

if TYPE_CHECKING:
    from linq_mcp.server.runtime import Runtime

__all__ = ["SANDBOX_TARGET", "USEFUL_EVENTS", "configured_secrets", "wire"]

RETRY = 1.0  # seconds between attempts of a background reader whose store read failed

log = logging.getLogger("linq_mcp.events")

PAYLOAD_VERSION = "2026-02-03"
SANDBOX_TARGET = f"https://linq-mcp.local/webhooks/linq?version={PAYLOAD_VERSION}"
USEFUL_EVENTS: tuple[str, ...] = (
    "message.sent", "message.received", "message.delivered", "message.read", "message.failed",
    "message.edited", "reaction.added", "reaction.removed", "participant.added", "participant.removed",
    "chat.created", "chat.group_name_updated", "chat.group_icon_updated", "chat.group_name_update_failed",
    "chat.group_icon_update_failed", "chat.typing_indicator.started", "chat.typing_indicator.stopped",
    "phone_number.status_updated", "poll.received", "poll.sent", "poll.delivered", "poll.read", "poll.updated",
    "poll.failed", "poll.vote.added", "poll.vote.removed", "poll.reaction.added", "location.sharing.started",
    "location.sharing.stopped", "contact_card.received", "chat.background_updated", "chat.background_update_failed",
)  # fmt: skip


def configured_secrets(settings: Any, db_path: Path) -> list[str]:
    """``LINQ_WEBHOOK_SECRET`` (comma-separated) first, then the file ``webhooks setup`` wrote."""
    secrets = [*settings.webhook_secrets, *read_secrets(secrets_file(db_path))]
    for secret in secrets:
        register_secret(secret)
    return list(dict.fromkeys(secrets))


async def _sandbox_subscription(client: LinqClient) -> tuple[str, str]:
    """A fresh subscription for the in-process receiver; returns (id, signing secret)."""
    listed = await client.send(ApiRequest("GET", "/v3/webhook-subscriptions", replay_safe=True))
    for sub in (listed.body or {}).get("subscriptions") or []:
        if sub.get("target_url") == SANDBOX_TARGET:  # left by an earlier run of a persisted sandbox
            await client.send(ApiRequest("DELETE", f"/v3/webhook-subscriptions/{sub['id']}", replay_safe=True))
    created = await client.send(
        ApiRequest(
            "POST",
            "/v3/webhook-subscriptions",
            json={"target_url": SANDBOX_TARGET, "subscribed_events": list(USEFUL_EVENTS)},
        )
    )
    register_secret(str(created.body["signing_secret"]))
    return str(created.body["id"]), str(created.body["signing_secret"])


class _EmbeddedUvicorn:
    """uvicorn inside our task group: no signal capture (the MCP server owns Ctrl-C)."""

    def __init__(self, app: Starlette, port: int, log_level: str) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield

        from linq_mcp.server.transports import http_protocol

        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level=log_level,
            access_log=False,
            lifespan="off",
            http=http_protocol(),
        )
        self.server = Server(config)

    async def serve(self) -> None:
        try:
            await self.server.serve()
        except SystemExit:  # uvicorn exits when the port is taken; keep serving MCP
            log.error("webhook receiver could not start on 127.0.0.1:%s", self.server.config.port)


async def _clear_answered(hub: EventHub) -> None:
    """An outbound message in a chat marks its earlier inbound messages read in the inbox."""
    after: int | None = None
    while True:  # a failing read of the local store is logged and retried, never fatal to the server
        try:
            async with hub.store.subscribe(after_seq=after) as sub:
                async for events in sub:
                    after = sub.cursor
                    for event in events:
                        if event.event_type == "message.sent" and event.direction == "outbound" and event.chat_id:
                            try:
                                changed = await hub.store.mark_read(chat_id=event.chat_id, up_to_seq=event.seq)
                                if changed:
                                    await hub.notifier.publish([INBOX_URI])
                            except Exception:
                                log.exception("clearing answered inbox items failed")
            return
        except Exception as exc:
            log.warning(
                "inbox upkeep: reading the event store failed (%s); retrying in %g s", type(exc).__name__, RETRY
            )
            await anyio.sleep(RETRY)


def _inbox_follows_mark_chat_read(hub: EventHub) -> Any:
    """mark_chat_read tells the person we read their messages; the inbox agrees."""

    async def observe(tool: str, args: dict[str, Any], result: dict[str, Any]) -> None:
        if tool == "mark_chat_read" and isinstance(args.get("chat_id"), str):
            if await hub.store.mark_read(chat_id=args["chat_id"]):
                await hub.notifier.publish([INBOX_URI])

    return observe


@contextlib.asynccontextmanager
async def wire(runtime: Runtime, shared: Store, db_path: Path) -> AsyncIterator[EventHub]:
    """Register everything on the opened store; background work lives while the context does.

    ``db_path`` locates the webhook secrets file (beside the SQLite file, whichever store is used).
    """
    settings = runtime.settings
    store = shared.events
    hub = EventHub(runtime=runtime, store=store, shared=shared)
    runtime.handler_factories.update(handler_factories(hub))
    for tool in event_tools(hub):
        runtime.add_tool(tool)
    secrets = configured_secrets(settings, db_path)
    receiver = hub.receiver = WebhookReceiver(store, secrets)
    runtime.http_routes.extend(receiver.routes())
    runtime.runner.observers.append(_inbox_follows_mark_chat_read(hub))
    sandbox = runtime.sandbox
    try:
        async with anyio.create_task_group() as tg:
            await tg.start(hub.notifier.follow, store)
            tg.start_soon(_clear_answered, hub)
            if sandbox is not None:
                try:
                    sub_id, secret = await _sandbox_subscription(runtime.client)
                except LinqMCPError as exc:  # e.g. injected faults: serve anyway, without events
                    log.warning("sandbox webhook subscription failed (%s); no sandbox events", type(exc).__name__)
                else:
                    hub.sandbox_subscription_id = sub_id
                    receiver.set_secrets([*secrets, secret])
                    sandbox.webhook_transport = httpx.ASGITransport(app=Starlette(routes=receiver.routes()))
            if settings.webhooks_port and settings.transport != "http":
                server = _EmbeddedUvicorn(Starlette(routes=receiver.routes()), settings.webhooks_port, "warning")
                tg.start_soon(server.serve)
                hub.info["webhooks_port"] = settings.webhooks_port
            if settings.poll_interval:
                poller = Poller(runtime.client, store, settings.poll_interval)
                hub.info["poller"] = poller
                tg.start_soon(shared.lead, "poller", poller.run)  # one poller across the store's processes
            yield hub
            tg.cancel_scope.cancel()
    finally:
        if sandbox is not None:
            sandbox.webhook_transport = None
