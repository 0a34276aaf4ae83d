"""The operator's safety policy on the legacy V2 tools: the same allowlist, confirmation,
caps and dry run as V3, read from V2's argument names (``chat.phone_numbers``, integer ids)."""

from __future__ import annotations

from typing import Any

import anyio
from e2e_helpers import AVA, LINE, PERMISSIVE, SAM, connected, data, policy
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.sandbox.app import Sandbox


def v2_settings(config: SafetyConfig) -> Settings:
    return Settings(sandbox=True, toolsets=("v2",), safety=config)


def create_args(to: str, text: str = "Hello from V2") -> dict[str, Any]:
    return {"send_from": LINE, "chat": {"phone_numbers": [to]}, "message": {"text": text}}


def to_person(sandbox: Sandbox, handle: str) -> int:
    return sum(1 for d in sandbox.world.deliveries if d.get("to") == handle)


async def open_chat(sandbox: Sandbox, to: str) -> int:
    """A chat made under a permissive policy, for tests of what a careful one allows in it."""
    async with connected(sandbox, v2_settings(PERMISSIVE)) as (client, _):
        created = data(await client.call_tool("v2_create_chat", create_args(to, "opening")))
    return int(created["data"]["id"])


async def refusal(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    return dict(result.structured_content or {})


async def test_v2_create_chat_to_someone_not_allowed_is_refused_and_sends_nothing(sandbox: Sandbox) -> None:
    async with connected(sandbox, v2_settings(policy(confirm="never"))) as (client, _):
        refused = await refusal(client, "v2_create_chat", create_args(SAM))
    await anyio.sleep(0.1)
    assert refused["error"] == "policy_refused" and SAM in refused["message"]
    assert to_person(sandbox, SAM) == 0 and sandbox.world.chats == {}


async def test_v2_first_contact_needs_a_confirmation_then_sends(sandbox: Sandbox) -> None:
    async with connected(sandbox, v2_settings(policy())) as (client, _):
        hold = await refusal(client, "v2_create_chat", create_args(AVA, "Hello Ava"))
        assert hold["error"] == "confirmation_required" and "Hello Ava" in str(hold["preview"])
        assert to_person(sandbox, AVA) == 0
        sent = data(
            await client.call_tool(
                "v2_create_chat", {**create_args(AVA, "Hello Ava"), "confirm_token": hold["confirm_token"]}
            )
        )
    assert sent["data"]["chat_messages"]["text"] == "Hello Ava"
    assert to_person(sandbox, AVA) == 1


async def test_v2_dry_run_previews_the_text_and_sends_nothing(sandbox: Sandbox) -> None:
    async with connected(sandbox, v2_settings(policy(confirm="never"))) as (client, _):
        preview = data(await client.call_tool("v2_create_chat", {**create_args(AVA, "Just looking"), "dry_run": True}))
    assert preview["dry_run"] is True and preview["would_send"]["recipients"] == [AVA]
    assert 'text: "Just looking"' in preview["would_send"]["content"]
    assert to_person(sandbox, AVA) == 0 and sandbox.world.chats == {}


async def test_v2_sends_into_a_chat_count_toward_the_caps(sandbox: Sandbox) -> None:
    chat_id = await open_chat(sandbox, AVA)
    async with connected(sandbox, v2_settings(policy(confirm="never", max_sends_per_minute=1))) as (client, _):
        data(await client.call_tool("v2_send_chat_message", {"chat_id": chat_id, "message": {"text": "one"}}))
        capped = await refusal(client, "v2_send_chat_message", {"chat_id": chat_id, "message": {"text": "two"}})
    assert capped["error"] == "policy_refused"
    assert [m for m in sandbox.world.messages.values() if m["parts"][0].get("value") == "two"] == []


async def test_v2_typing_in_a_chat_with_someone_not_allowed_is_refused(sandbox: Sandbox) -> None:
    chat_id = await open_chat(sandbox, SAM)
    async with connected(sandbox, v2_settings(policy(confirm="never"))) as (client, _):
        refused = await refusal(client, "v2_start_typing", {"chat_id": chat_id})
    assert refused["error"] == "policy_refused" and SAM in refused["message"]


async def test_v2_reaction_naming_another_chat_than_the_messages_is_refused(sandbox: Sandbox) -> None:
    """V2 names a reaction's message without its chat: the chat given must hold the message."""
    sams = await open_chat(sandbox, SAM)
    avas = await open_chat(sandbox, AVA)
    async with connected(sandbox, v2_settings(policy(confirm="never"))) as (client, _):
        sam_message = data(await client.call_tool("v2_list_chat_messages", {"chat_id": sams}))["data"][-1]["id"]
        args = {"chat_message_id": sam_message, "chat_id": avas, "type": "love", "operation": "add"}
        refused = await refusal(client, "v2_react_to_chat_message", args)
    assert refused["http_status"] == 404
    sam_chat = sandbox.world.chats[sandbox.world.v2_refs[f"chat:{sams}"]]
    first = sandbox.world.messages[sam_chat["_message_ids"][0]]
    assert not [r for r in first["parts"][0].get("reactions", []) if r.get("is_me")]


async def test_v2_tools_are_off_unless_named(sandbox: Sandbox) -> None:
    for toolsets, expected in ((("all",), False), (("default",), False), (("default", "v2"), True), (("v2",), True)):
        settings = Settings(sandbox=True, toolsets=toolsets, safety=PERMISSIVE)
        async with connected(sandbox, settings) as (client, _):
            names = {t.name for t in (await client.list_tools()).tools}
        assert ("v2_create_chat" in names) is expected, toolsets
