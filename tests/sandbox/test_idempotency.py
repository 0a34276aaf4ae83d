"""Idempotent sends: a repeated key returns the original answer and sends nothing new."""

from __future__ import annotations

from typing import Any

import linq
import pytest

from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
PEER = "+15557770001"


def text(value: str, key: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"parts": [{"type": "text", "value": value}]}
    if key:
        message["idempotency_key"] = key
    return message


def outbound(sandbox: Sandbox) -> int:
    return sum(1 for m in sandbox.world.messages.values() if m["is_from_me"])


async def test_create_chat_replay_returns_same_status_and_body(http: Any, sandbox: Sandbox) -> None:
    body = {"from": LINE, "to": [PEER], "message": text("hi", "k-1")}
    first = await http.post("/v3/chats", json=body)
    second = await http.post("/v3/chats", json=body)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert outbound(sandbox) == 1


async def test_send_message_replay_sends_nothing_new(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[PEER], message=text("hi"))
    first = await sdk.chats.messages.send(created.chat.id, message=text("again", "k-2"))
    second = await sdk.chats.messages.send(created.chat.id, message=text("again", "k-2"))
    assert first.message.id == second.message.id
    assert outbound(sandbox) == 2


async def test_keys_are_scoped_per_operation(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[PEER], message=text("hi", "shared"))
    sent = await sdk.chats.messages.send(created.chat.id, message=text("next", "shared"))
    assert sent.message.id != created.chat.message.id


async def test_idempotency_key_header_on_send_to_handles(sdk: Any, sandbox: Sandbox) -> None:
    first = await sdk.messages.create(to=[PEER], message=text("hi"), idempotency_key="h-1")
    second = await sdk.messages.create(to=[PEER], message=text("hi"), idempotency_key="h-1")
    assert first.message.id == second.message.id
    assert outbound(sandbox) == 1


async def test_reusing_the_key_of_a_deleted_message_is_404_2002(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[PEER], message=text("hi"))
    sent = await sdk.chats.messages.send(created.chat.id, message=text("x", "k-3"))
    await sdk.messages.delete(sent.message.id)
    with pytest.raises(linq.NotFoundError) as info:
        await sdk.chats.messages.send(created.chat.id, message=text("x", "k-3"))
    assert info.value.body["code"] == 2002  # type: ignore[index]
    assert outbound(sandbox) == 1


async def test_key_over_255_characters_is_1005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as info:
        await sdk.chats.create(from_=LINE, to=[PEER], message=text("hi", "k" * 256))
    assert info.value.body["code"] == 1005  # type: ignore[index]
