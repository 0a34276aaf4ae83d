"""Every kind of failure comes back as a tool error an assistant can act on."""

from __future__ import annotations

from typing import Any

from e2e_helpers import AVA, LINE, connected, text_of

from linq_mcp.sandbox.app import Sandbox


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def error(result: Any) -> dict[str, Any]:
    assert result.is_error, "expected an error result"
    return dict(result.structured_content or {})


async def test_invalid_arguments_name_each_field_and_send_nothing(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        before = sandbox.world.stats.get("requests", 0)
        result = await client.call_tool("create_chat", {"from": "555 0100", "to": [], "message": text("hi")})
        payload = error(result)
        assert payload["error"] == "invalid_arguments"
        paths = {p["path"] for p in payload["problems"]}
        assert {"from", "to"} <= paths
        assert all("expected" in p for p in payload["problems"])
        assert "from" in text_of(result)
        assert sandbox.world.stats.get("requests", 0) == before


async def test_missing_nested_field_is_named_by_its_path(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        payload = error(
            await client.call_tool(
                "send_message",
                {"chat_id": "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10", "message": {"parts": [{"type": "text"}]}},
            )
        )
        assert any(p["path"] == "message.parts[0].value" for p in payload["problems"])


async def test_unknown_argument_is_refused_with_the_known_ones(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        payload = error(await client.call_tool("list_chats", {"limt": 5}))
        problem = payload["problems"][0]
        assert problem["path"] == "limt" and "limit" in problem["expected"]


async def test_not_found_carries_code_meaning_fix_and_trace(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        payload = error(await client.call_tool("get_chat", {"chat_id": "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"}))
        assert payload["error"] == "linq_api_error"
        assert payload["http_status"] == 404 and payload["code"] == 2001
        assert payload["meaning"] and payload["fix"] and len(payload["trace_id"]) == 32


async def test_renaming_a_direct_chat_is_a_conflict(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        created = await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")})
        chat_id = (created.structured_content or {})["chat"]["id"]
        payload = error(await client.call_tool("update_chat", {"chat_id": chat_id, "display_name": "Pals"}))
        assert (payload["http_status"], payload["code"]) == (409, 1006)


async def test_rate_limit_with_short_retry_after_is_waited_out(sandbox: Sandbox) -> None:
    sandbox.world.config.faults.retry_after = 1
    async with connected(sandbox) as (client, _):
        sandbox.faults.queued.append("429")
        result = await client.call_tool("list_chats", {})
        assert not result.is_error
        assert sandbox.world.stats.get("fault.429") == 1


async def test_server_error_on_a_read_is_retried_transparently(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        sandbox.faults.queued.append("503")
        result = await client.call_tool("list_phone_numbers", {})
        assert not result.is_error


async def test_rate_limit_beyond_the_cap_is_reported_with_retry_after(sandbox: Sandbox) -> None:
    sandbox.world.config.faults.retry_after = 120
    async with connected(sandbox) as (client, _):
        sandbox.faults.queued.append("429")
        payload = error(await client.call_tool("list_chats", {}))
        assert payload["error"] == "rate_limited" and payload["retry_after"] == 120
