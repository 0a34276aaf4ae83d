"""Blocked handles: normalised, idempotent, newest first."""

from __future__ import annotations

from typing import Any

import linq
import pytest
from linq.types import BlockedHandleBlockResponse, BlockedHandleListResponse

from linq_mcp.sandbox.app import Sandbox


async def test_block_returns_the_entry(sdk: Any) -> None:
    raw = await sdk.blocked_handles.with_raw_response.block(handle="+15551230009", reason="spam")
    body = raw.http_response.json()
    BlockedHandleBlockResponse.model_validate(body)
    assert body["blocked_handle"]["handle"] == "+15551230009"
    assert body["blocked_handle"]["reason"] == "spam"


async def test_reblocking_returns_the_existing_entry(sdk: Any, sandbox: Sandbox) -> None:
    first = await sdk.blocked_handles.block(handle="+15551230009", reason="spam")
    sandbox.world.clock.advance(5)
    again = await sdk.blocked_handles.block(handle="+15551230009", reason="other")
    assert again.blocked_handle == first.blocked_handle
    assert len(sandbox.world.blocked) == 1


async def test_handles_are_normalised(sdk: Any, sandbox: Sandbox) -> None:
    email = await sdk.blocked_handles.block(handle="Spammer@Example.COM")
    phone = await sdk.blocked_handles.block(handle="+1 (555) 123-0009")
    assert email.blocked_handle.handle == "spammer@example.com"
    assert phone.blocked_handle.handle == "+15551230009"
    assert set(sandbox.world.blocked) == {"spammer@example.com", "+15551230009"}


@pytest.mark.parametrize("handle", ["262966", "ACMEBANK"])
async def test_short_codes_and_sender_ids_can_be_blocked(sdk: Any, handle: str) -> None:
    assert (await sdk.blocked_handles.block(handle=handle)).blocked_handle.handle == handle


async def test_ten_digit_number_without_plus_is_1002(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.blocked_handles.block(handle="4155551234")
    assert exc.value.body["code"] == 1002  # type: ignore[index]


async def test_list_is_newest_first(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.blocked_handles.block(handle="+15551230008")
    sandbox.world.clock.advance(1)
    await sdk.blocked_handles.block(handle="+15551230009")
    raw = await sdk.blocked_handles.with_raw_response.list()
    body = raw.http_response.json()
    BlockedHandleListResponse.model_validate(body)
    assert [e["handle"] for e in body["blocked_handles"]] == ["+15551230009", "+15551230008"]


async def test_unblock_removes_the_entry(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.blocked_handles.block(handle="a@example.com")
    raw = await sdk.blocked_handles.with_raw_response.unblock(handle="A@example.com")
    assert raw.http_response.status_code == 204
    assert sandbox.world.blocked == {}
