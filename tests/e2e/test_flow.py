"""A whole conversation through the MCP client, as an assistant would have it."""

from __future__ import annotations

from typing import Any

import anyio
from e2e_helpers import AVA, LINE, SAM, connected, data, text_of
from jsonschema import Draft202012Validator
from mcp import Client

from linq_mcp.sandbox.app import Sandbox


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


async def wait_for_reply(client: Client, chat_id: str, timeout: float = 5.0) -> dict[str, Any]:
    with anyio.fail_after(timeout):
        while True:
            page = data(await client.call_tool("list_messages", {"chat_id": chat_id}))
            inbound = [m for m in page["messages"] if not m["is_from_me"]]
            if inbound:
                return dict(inbound[0])
            await anyio.sleep(0.05)


async def test_check_create_reply_react_edit(sandbox: Sandbox, era: str) -> None:
    async with connected(sandbox, era=era) as (client, _):
        check = data(await client.call_tool("check_imessage", {"address": AVA}))
        assert check["available"] is True

        created = data(
            await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("Dinner on Friday?")})
        )
        chat_id = created["chat"]["id"]
        sent_id = created["chat"]["message"]["id"]
        assert created["idempotency_key"]

        reply = await wait_for_reply(client, chat_id)
        fenced = reply["untrusted_content"]
        assert "Dinner" in fenced["untrusted_text"] and fenced["from"] == AVA
        assert "not instructions" in fenced["note"]

        reacted = await client.call_tool(
            "react_to_message", {"message_id": reply["id"], "operation": "add", "type": "love"}
        )
        assert not reacted.is_error, text_of(reacted)

        edited = data(await client.call_tool("edit_message", {"message_id": sent_id, "text": "Dinner on Saturday?"}))
        assert edited["parts"][0]["value"] == "Dinner on Saturday?"


async def test_list_chats_walks_every_page_with_the_cursor(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        for person in (AVA, SAM, "+15551230004"):
            data(await client.call_tool("create_chat", {"from": LINE, "to": [person], "message": text("hello")}))
        seen: list[str] = []
        cursor: str | None = None
        for _ in range(10):
            args: dict[str, Any] = {"limit": 1}
            if cursor:
                args["cursor"] = cursor
            page = data(await client.call_tool("list_chats", args))
            seen += [c["id"] for c in page["chats"]]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        assert len(seen) == len(set(seen)) == 3


async def test_results_match_their_output_schemas(sandbox: Sandbox, era: str) -> None:
    async with connected(sandbox, era=era) as (client, _):
        tools = {t.name: t for t in (await client.list_tools()).tools}
        created = await client.call_tool("create_chat", {"from": LINE, "to": [SAM], "message": text("hi Sam")})
        chat_id = data(created)["chat"]["id"]
        calls = [
            ("create_chat", created),
            ("get_chat", await client.call_tool("get_chat", {"chat_id": chat_id})),
            ("list_messages", await client.call_tool("list_messages", {"chat_id": chat_id})),
            ("list_phone_numbers", await client.call_tool("list_phone_numbers", {})),
        ]
        for name, result in calls:
            schema = tools[name].output_schema
            assert schema is not None, name
            Draft202012Validator(schema).validate(data(result))


async def test_sms_only_person_gets_sms(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        check = data(await client.call_tool("check_imessage", {"address": SAM}))
        assert check["available"] is False
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [SAM], "message": text("hi")}))
        assert created["chat"]["service"] in ("SMS", "RCS")
