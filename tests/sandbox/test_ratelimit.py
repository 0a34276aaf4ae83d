"""Quotas: 30 messages per sender-recipient pair per sliding 60 s, and the daily caps."""

from __future__ import annotations

from typing import Any

import linq
import pytest

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.config import LimitsConfig, SandboxConfig

LINE = "+15550100001"
PEER = "+15557770001"
TEXT = {"parts": [{"type": "text", "value": "hi"}]}


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(seed=5, limits=LimitsConfig(account_daily=None))


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


async def fill_window(sdk: Any, sandbox: Sandbox) -> str:
    created = await sdk.chats.create(from_=LINE, to=[PEER], message=TEXT)
    for _ in range(29):
        await advance_clock(sandbox.world, 1)
        await sdk.chats.messages.send(created.chat.id, message=TEXT)
    return str(created.chat.id)


async def test_31st_message_in_a_minute_is_429_with_retry_after(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await fill_window(sdk, sandbox)
    with pytest.raises(linq.RateLimitError) as info:
        await sdk.chats.messages.send(chat_id, message=TEXT)
    body = info.value.body
    assert (body["code"], body["retry_after"]) == (1007, 31)  # type: ignore[index]
    assert info.value.response.headers["Retry-After"] == "31"


async def test_window_frees_after_retry_after(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await fill_window(sdk, sandbox)
    await advance_clock(sandbox.world, 31)
    sent = await sdk.chats.messages.send(chat_id, message=TEXT)
    assert sent.message.id in sandbox.world.messages


async def test_other_recipients_are_not_affected(sdk: Any, sandbox: Sandbox) -> None:
    await fill_window(sdk, sandbox)
    other = await sdk.chats.create(from_=LINE, to=["+15557770002"], message=TEXT)
    assert other.chat.message.id in sandbox.world.messages


async def test_refused_send_commits_nothing(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await fill_window(sdk, sandbox)
    before = len(sandbox.world.messages)
    with pytest.raises(linq.RateLimitError):
        await sdk.chats.messages.send(chat_id, message=TEXT)
    assert len(sandbox.world.messages) == before


async def test_account_daily_cap(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.config.limits.account_daily = 2
    await sdk.chats.create(from_=LINE, to=[PEER], message=TEXT)
    await sdk.chats.create(from_=LINE, to=["+15557770002"], message=TEXT)
    with pytest.raises(linq.RateLimitError) as info:
        await sdk.chats.create(from_=LINE, to=["+15557770003"], message=TEXT)
    assert 0 < info.value.body["retry_after"] <= 86400  # type: ignore[index]


async def test_line_daily_cap(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.config.limits.line_daily = 1
    await sdk.chats.create(from_=LINE, to=[PEER], message=TEXT)
    with pytest.raises(linq.RateLimitError):
        await sdk.chats.create(from_=LINE, to=["+15557770002"], message=TEXT)
