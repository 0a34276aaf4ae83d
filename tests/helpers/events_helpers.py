"""Helpers for the events tests: settings, a conversation starter, and update watching."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
from e2e_helpers import AVA, LINE, PERMISSIVE, data
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig

# The shared store's URL for the test in progress (None: the SQLite file ``db``); see ``on_each_store``.
STORE_URL: str | None = None


def settings_for(db: Path, safety: SafetyConfig = PERMISSIVE, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sandbox": True,
        "toolsets": ("all",),
        "safety": safety,
        "db_path": str(db),
        "store_url": STORE_URL,
    }
    return Settings(**{**values, **overrides})


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


async def start_chat(client: Client, value: str = "Dinner on Friday?", to: str = AVA) -> str:
    created = data(await client.call_tool("create_chat", {"from": LINE, "to": [to], "message": text(value)}))
    return str(created["chat"]["id"])


async def read_json(client: Client, uri: str) -> dict[str, Any]:
    result = await client.read_resource(uri)
    content = result.contents[0]
    assert isinstance(content, types.TextResourceContents)
    return dict(json.loads(content.text))


class Updates:
    """``resources/updated`` arrivals (uri, wall time), from either era's path."""

    def __init__(self) -> None:
        self.send, self.recv = anyio.create_memory_object_stream[tuple[str, float]](1000)

    async def handler(self, message: Any) -> None:
        note = getattr(message, "root", message)
        if isinstance(note, types.ResourceUpdatedNotification):
            self.send.send_nowait((str(note.params.uri), time.time()))

    async def next(self, uri: str, timeout: float = 3.0) -> float:
        """Wall time at which the next update for ``uri`` arrived."""
        with anyio.fail_after(timeout):
            async for got, at in self.recv:
                if got == uri:
                    return at
        raise AssertionError("update stream closed")


@asynccontextmanager
async def subscribed(client: Client, era: str, updates: Updates, *uris: str) -> AsyncIterator[None]:
    """Subscribe the way the connection's era allows: resources/subscribe or subscriptions/listen."""
    if era == "legacy":
        for uri in uris:
            await client.subscribe_resource(uri)
        yield
        return
    async with anyio.create_task_group() as tg:
        ready = anyio.Event()

        async def listen() -> None:
            async with client.listen(resource_subscriptions=list(uris)) as sub:
                ready.set()
                async for event in sub:
                    updates.send.send_nowait((str(getattr(event, "uri", "")), time.time()))

        tg.start_soon(listen)
        with anyio.fail_after(5):
            await ready.wait()
        yield
        tg.cancel_scope.cancel()


SECRET = "whsec_" + __import__("base64").b64encode(b"linq-mcp events test secret 32b!").decode()


def signed_delivery(
    chat_id: str, value: str, sender: str = AVA, *, secret: str = SECRET
) -> tuple[bytes, dict[str, str], str]:
    """A Linq-style signed ``message.received`` (2026-02-03) delivery: body, headers, event id."""
    import uuid

    from linq_mcp.webhooks import sign_standard

    event_id = str(uuid.uuid4())
    payload = {
        "api_version": "v3",
        "webhook_version": "2026-02-03",
        "event_type": "message.received",
        "event_id": event_id,
        "created_at": "2026-02-03T10:00:00Z",
        "trace_id": "0" * 32,
        "partner_id": "partner_test",
        "data": {
            "id": str(uuid.uuid4()),
            "chat": {"id": chat_id, "is_group": False, "owner_handle": {"handle": LINE, "is_me": True}},
            "direction": "inbound",
            "sender_handle": {"handle": sender, "is_me": False},
            "parts": [{"type": "text", "value": value}],
            "sent_at": "2026-02-03T10:00:00Z",
            "service": "iMessage",
        },
    }
    body = json.dumps(payload).encode()
    ts = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_standard(secret, event_id, ts, body),
    }
    return body, headers, event_id


async def wait_until_listening(url: str, timeout: float = 20.0) -> None:
    import httpx

    with anyio.fail_after(timeout):
        while True:
            try:
                async with httpx.AsyncClient(trust_env=False) as http:
                    if (await http.get(url)).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
            await anyio.sleep(0.1)
