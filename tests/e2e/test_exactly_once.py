"""Sends happen exactly once, whatever the network does."""

from __future__ import annotations

from typing import Any

import anyio
from e2e_helpers import AVA, LINE, connected, data

from linq_mcp.sandbox.app import Sandbox


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


async def delivered_to(sandbox: Sandbox, handle: str, value: str) -> int:
    """How many times the person's device got that text (after the world's send delay)."""
    await anyio.sleep(0.3)
    count = 0
    for d in sandbox.world.deliveries:
        parts = d.get("parts") or []
        if d.get("to") == handle and any(p.get("value") == value for p in parts):
            count += 1
    return count


async def new_chat(client: Any) -> str:
    created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hello")}))
    return str(created["chat"]["id"])


async def test_the_same_idempotency_key_twice_sends_once(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        chat_id = await new_chat(client)
        args = {"chat_id": chat_id, "message": text("only once"), "idempotency_key": "k-1"}
        first = data(await client.call_tool("send_message", args))
        second = data(await client.call_tool("send_message", args))
        assert first["message"]["id"] == second["message"]["id"]
        assert await delivered_to(sandbox, AVA, "only once") == 1


async def test_a_generated_key_is_returned_with_every_send(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        chat_id = await new_chat(client)
        sent = data(await client.call_tool("send_message", {"chat_id": chat_id, "message": text("hey")}))
        assert sent["idempotency_key"].startswith("lmcp_")


async def test_lost_response_then_retry_with_the_returned_key_sends_exactly_once(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        chat_id = await new_chat(client)
        sandbox.faults.queued.append("commit_then_lose")
        args = {"chat_id": chat_id, "message": text("exactly once")}
        lost = await client.call_tool("send_message", args)
        if lost.is_error:  # the client may already have retried it safely with the key
            payload = lost.structured_content or {}
            assert payload["error"] == "outcome_unknown"
            assert "same idempotency_key" in payload["message"]
            retried = data(
                await client.call_tool("send_message", {**args, "idempotency_key": payload["idempotency_key"]})
            )
            assert retried["message"]["id"]
        assert await delivered_to(sandbox, AVA, "exactly once") == 1
        assert sandbox.world.stats.get("fault.commit_then_lose") == 1


async def test_a_key_reused_for_a_different_message_is_refused(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        chat_id = await new_chat(client)
        data(await client.call_tool("send_message", {"chat_id": chat_id, "message": text("a"), "idempotency_key": "k"}))
        refused = await client.call_tool(
            "send_message", {"chat_id": chat_id, "message": text("b"), "idempotency_key": "k"}
        )
        assert refused.is_error
        assert refused.structured_content["problems"][0]["path"] == "idempotency_key"
        assert await delivered_to(sandbox, AVA, "b") == 0
