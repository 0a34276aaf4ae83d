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

from linq_mcp.policy import SafetyConfig
from linq_mcp.settings import Settings


def settings_for(db: Path, safety: SafetyConfig = PERMISSIVE, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"sandbox": True, "toolsets": ("all",), "safety": safety, "db_path": str(db)}
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
