"""Events over the real transports: the HTTP route, stdio with --webhooks-port, HTTP subscriptions."""

from __future__ import annotations

from pathlib import Path

import httpx
from e2e_helpers import AVA, free_port, http_server, stdio_params
from events_helpers import SECRET, Updates, read_json, settings_for, signed_delivery, start_chat, subscribed, text
from events_helpers import wait_until_listening as listening
from mcp import Client

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.server.app import assembled


async def test_http_subscriber_hears_the_reply_and_reads_it(sandbox: Sandbox, era: str, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "db.sqlite3", transport="http")
    updates = Updates()
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with Client(f"{base}/mcp", mode=era, message_handler=updates.handler) as client:
            chat_id = await start_chat(client)
            uri = f"linq://chats/{chat_id}/conversation"
            async with subscribed(client, era, updates, uri):
                # Ava may have answered before the subscription began (a loaded machine): a message
                # sent now is an event the subscription must hear, whenever her first reply landed.
                await client.call_tool("send_message", {"chat_id": chat_id, "message": text("See you at 7?")})
                await updates.next(uri, timeout=10)
                got = await client.call_tool("wait_for_event", {"chat_id": chat_id, "since": "0", "timeout": 10})
                conversation = await read_json(client, uri)
    assert not got.is_error
    assert any(m["from"] == AVA and "untrusted_content" in m for m in conversation["messages"])


async def test_http_route_accepts_signed_webhooks_and_rejects_unsigned(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "db.sqlite3", transport="http", webhook_secrets=(SECRET,))
    body, headers, event_id = signed_delivery("chat-from-linq", "are you open today?")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient(trust_env=False) as http:
            unsigned = await http.post(
                f"{base}/webhooks/linq", content=body, headers={"content-type": "application/json"}
            )
            accepted = await http.post(f"{base}/webhooks/linq", content=body, headers=headers)
        async with Client(f"{base}/mcp") as client:
            got = await client.call_tool("wait_for_event", {"chat_id": "chat-from-linq", "since": "0", "timeout": 2})
    assert unsigned.status_code == 401
    assert accepted.status_code == 200
    event = got.structured_content["event"]
    assert event["event_id"] == event_id and event["untrusted_content"]["untrusted_text"] == "are you open today?"


async def test_stdio_with_webhooks_port_receives_on_loopback(tmp_path: Path, era: str) -> None:
    port = free_port()
    db = tmp_path / "db.sqlite3"
    params = stdio_params(
        "--sandbox", "--webhooks-port", str(port), "--db-path", str(db), env={"LINQ_WEBHOOK_SECRET": SECRET}
    )
    body, headers, event_id = signed_delivery("chat-on-port", "hello from the port")
    async with Client(params, mode=era) as client:
        await listening(f"http://127.0.0.1:{port}/webhooks/linq/health")
        async with httpx.AsyncClient(trust_env=False) as http:
            posted = await http.post(f"http://127.0.0.1:{port}/webhooks/linq", content=body, headers=headers)
        got = await client.call_tool("wait_for_event", {"chat_id": "chat-on-port", "since": "0", "timeout": 5})
    assert posted.status_code == 200
    assert got.structured_content["event"]["event_id"] == event_id
