"""The polling fallback: the same events as webhooks, never duplicated, no history replay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
from e2e_helpers import LINE, SAM, connected, data
from events_helpers import settings_for, start_chat
from mcp import Client

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

COMPARABLE = {"chat.created", "message.sent", "message.received", "message.delivered", "message.read", "reaction.added"}


async def events_by_source(client: Client) -> dict[str, set[tuple[Any, ...]]]:
    page = data(await client.call_tool("list_events", {"since": "0", "limit": 100}))
    out: dict[str, set[tuple[Any, ...]]] = {"webhook": set(), "polled": set()}
    for e in page["events"]:
        if e["type"] in COMPARABLE:
            words = e.get("text") or e.get("untrusted_content", {}).get("untrusted_text")
            out[e["source"]].add((e["type"], e["chat_id"], e.get("message_id"), words, e.get("direction")))
    return out


async def test_polling_yields_the_same_events_as_webhooks(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", poll_interval=0.05)) as (client, _):
        await anyio.sleep(0.2)  # the poller's first round learns the (empty) world
        chat_id = await start_chat(client, "Dinner on Friday?")
        polled = data(
            await client.call_tool(
                "wait_for_event", {"chat_id": chat_id, "since": "0", "types": ["message.received"], "timeout": 5}
            )
        )
        with anyio.fail_after(5):
            while True:
                seen = await events_by_source(client)
                if seen["webhook"] and seen["webhook"] == seen["polled"]:
                    break
                await anyio.sleep(0.1)
    types = {t[0] for t in seen["polled"]}
    assert types == COMPARABLE
    assert polled["event"]["chat_id"] == chat_id


async def test_re_polling_stores_nothing_twice(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", poll_interval=0.05)) as (client, _):
        await anyio.sleep(0.2)
        chat_id = await start_chat(client, "Dinner on Friday?")
        args = {"chat_id": chat_id, "since": "0", "types": ["message.received"], "timeout": 5}
        data(await client.call_tool("wait_for_event", args))
        await anyio.sleep(0.5)
        first = data(await client.call_tool("list_events", {"since": "0", "limit": 100}))["events"]
        await anyio.sleep(0.5)  # ten more rounds
        second = data(await client.call_tool("list_events", {"since": "0", "limit": 100}))["events"]
    polled = [e["event_id"] for e in second if e["source"] == "polled"]
    assert polled and len(polled) == len(set(polled))
    assert [e["event_id"] for e in first] == [e["event_id"] for e in second]


async def test_first_round_does_not_replay_history(sandbox: Sandbox, tmp_path: Path) -> None:
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as http:
        old = await http.post("/_sandbox/inbound", json={"from": SAM, "to": LINE, "text": "before you started"})
        old.raise_for_status()
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", poll_interval=0.05)) as (client, _):
        await anyio.sleep(0.5)
        page = data(await client.call_tool("list_events", {"since": "0"}))
    assert [e for e in page["events"] if e["source"] == "polled"] == []


async def received_texts(store: Any) -> list[str | None]:
    page = await store.list(types=["message.received"], limit=100)
    return sorted(e.text or "" for e in page.events)


async def test_a_restarted_poller_reports_what_arrived_while_it_was_down(sandbox: Sandbox, tmp_path: Path) -> None:
    from linq_mcp.api.client import LinqClient, make_http_client
    from linq_mcp.events.poller import Poller
    from linq_mcp.server.runtime import SANDBOX_BASE_URL
    from linq_mcp.webhooks import EventStore

    db_path = tmp_path / "db.sqlite3"
    http = make_http_client(SANDBOX_BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox.app))
    async with (
        LinqClient(http) as client,
        httpx.AsyncClient(
            transport=SandboxTransport(sandbox.app),
            base_url="http://sandbox.local",
            headers={"Authorization": f"Bearer {sandbox.api_key}"},
        ) as admin,
    ):

        async def text_from_sam(words: str) -> None:
            (await admin.post("/_sandbox/inbound", json={"from": SAM, "to": LINE, "text": words})).raise_for_status()
            await anyio.sleep(0.01)  # distinct API timestamps

        await text_from_sam("history from before linq-mcp")
        async with EventStore(db_path) as store:
            first = Poller(client, store, 1.0)
            await first.poll_once()  # the first poller ever: learns, reports nothing
            await text_from_sam("while the server ran")
            await first.poll_once()
            assert await received_texts(store) == ["while the server ran"]

        await text_from_sam("while the server was closed")

        async with EventStore(db_path) as store:
            await Poller(client, store, 1.0).poll_once()
            assert await received_texts(store) == ["while the server ran", "while the server was closed"]
            await Poller(client, store, 1.0).poll_once()  # and a third start adds nothing twice
            assert await received_texts(store) == ["while the server ran", "while the server was closed"]
