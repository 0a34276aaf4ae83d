"""Seed 001 ("Your First Message", a V2 quickstart) replayed through linq-mcp's V2 tools:
send a first message, list the lines, subscribe a webhook with your own secret, and
receive the reply as a resource — the same inbox, conversations and event tools as V3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anyio
import httpx
from e2e_helpers import AVA, LINE, connected, data
from events_helpers import read_json, settings_for
from mcp import Client

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport
from linq_mcp.webhooks import EventStore

SECRET = "quickstart-secret-0123456789"
SUBSCRIPTION = {
    "webhook_url": "https://your-app.example/webhooks/linq",
    "events": ["message.received", "message.sent"],
    "version": 2,
    "active": True,
    "secret": SECRET,
}


async def inbox_with_reply(client: Client, chat_id: int) -> dict[str, Any]:
    with anyio.fail_after(5):
        while True:
            inbox = await read_json(client, "linq://inbox")
            if any(m.get("chat_id") == str(chat_id) for m in inbox["messages"]):
                return dict(inbox)
            await anyio.sleep(0.05)


async def test_the_v2_quickstart_ends_with_the_reply_in_the_inbox(sandbox: Sandbox, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    async with connected(sandbox, settings_for(db, toolsets=("v2",))) as (client, _):
        # Step 2 first: which line may we send from?
        lines = data(await client.call_tool("v2_list_phone_numbers", {}))["phone_numbers"]
        assert LINE in [n["phone_number"] for n in lines]
        # Step 3: subscribe with our own secret (linq-mcp's receiver takes it as well).
        data(await client.call_tool("v2_create_webhook_subscription", {"webhook_subscription": SUBSCRIPTION}))
        # Step 1: the first message.
        first = {"send_from": LINE, "chat": {"phone_numbers": [AVA]}, "message": {"text": "Hello! My first message."}}
        chat = data(await client.call_tool("v2_create_chat", first))["data"]
        inbox = await inbox_with_reply(client, chat["id"])
        conversation = await read_json(client, f"linq://chats/{chat['id']}/conversation")
    [reply] = [m for m in inbox["messages"] if m["chat_id"] == str(chat["id"])]
    assert reply["from"] == AVA
    assert reply["untrusted_content"]["untrusted_text"]  # their words, fenced as V3's are
    ours = [m for m in conversation["messages"] if m.get("text") == "Hello! My first message."]
    assert ours, conversation
    async with EventStore(db) as store:
        stored = (await store.list(chat_id=str(chat["id"]))).events
    assert stored and {e.webhook_version for e in stored} == {"v2"}


async def test_v2_users_wait_for_the_reply_with_the_event_tools(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", toolsets=("events", "v2"))) as (client, _):
        data(await client.call_tool("v2_create_webhook_subscription", {"webhook_subscription": SUBSCRIPTION}))
        first = {"send_from": LINE, "chat": {"phone_numbers": [AVA]}, "message": {"text": "Are you free?"}}
        chat = data(await client.call_tool("v2_create_chat", first))["data"]
        args = {"chat_id": str(chat["id"]), "types": ["message.received"], "since": "0", "timeout": 5}
        waited = data(await client.call_tool("wait_for_event", args))
        listed = data(await client.call_tool("list_events", {"chat_id": str(chat["id"])}))
    assert waited["event"]["from"] == AVA and waited["event"]["chat_id"] == str(chat["id"])
    assert any(e["type"] == "message.received" for e in listed["events"])


async def test_a_v2_delivery_signed_with_an_unknown_secret_stores_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """A subscription made elsewhere, with a secret linq-mcp was never given: its deliveries are refused."""
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local/api/partner/v2",
        headers={"X-LINQ-INTEGRATION-TOKEN": sandbox.api_key},
    ) as elsewhere:
        sub = {**SUBSCRIPTION, "secret": "a-secret-linq-mcp-never-saw"}
        assert (await elsewhere.post("/webhook_subscriptions", json={"webhook_subscription": sub})).status_code == 201
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", toolsets=("v2",))) as (client, runtime):
        first = {"send_from": LINE, "chat": {"phone_numbers": [AVA]}, "message": {"text": "Anyone there?"}}
        data(await client.call_tool("v2_create_chat", first))
        await anyio.sleep(0.5)
        inbox = await read_json(client, "linq://inbox")
    assert inbox["messages"] == []
    attempts = sandbox.world.webhook_attempts
    assert attempts and all(a["status"] != 200 for a in attempts)  # the receiver refused every one
