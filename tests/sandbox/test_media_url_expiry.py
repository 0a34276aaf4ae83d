"""Catalog B.2: a media part's ``url`` is presigned and valid for 1 hour, on the virtual clock.

Fetched like a browser or object-store client would (no Bearer token); an expired URL is 403,
as presigned object-store URLs are; re-reading the message hands out a fresh one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

LINE = "+15550100001"
STRANGER = "+15557770001"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
HOUR = 3600


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


@pytest.fixture
async def web(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client following presigned URLs."""
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app)) as client:
        yield client


async def _uploaded(http: httpx.AsyncClient, web: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.post(
        "/v3/attachments", json={"filename": "photo.png", "content_type": "image/png", "size_bytes": len(PNG)}
    )
    assert r.status_code == 200
    created: dict[str, Any] = r.json()
    put = await web.put(created["upload_url"], content=PNG, headers=created["required_headers"])
    assert put.status_code == 200
    return created


async def _sent_photo(http: httpx.AsyncClient, web: httpx.AsyncClient) -> dict[str, Any]:
    """A chat started with a photo; returns the ``SentMessage`` from the create call."""
    created = await _uploaded(http, web)
    parts = [{"type": "media", "attachment_id": created["attachment_id"]}]
    r = await http.post("/v3/chats", json={"from": LINE, "to": [STRANGER], "message": {"parts": parts}})
    assert r.status_code in (200, 201, 202)
    message: dict[str, Any] = r.json()["chat"]["message"]
    return message


def _media_url(message: dict[str, Any]) -> str:
    url: str = next(p for p in message["parts"] if p["type"] == "media")["url"]
    return url


async def test_a_media_part_url_expires_an_hour_after_it_is_handed_out(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    now = sandbox.world.now()
    url = _media_url(await _sent_photo(http, web))
    assert parse_qs(urlparse(url).query)["Expires"] == [str(int(now + HOUR))]


async def test_a_media_part_url_works_within_the_hour(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    url = _media_url(await _sent_photo(http, web))
    await advance_clock(sandbox.world, HOUR - 1)
    got = await web.get(url)
    assert got.status_code == 200
    assert got.content == PNG


async def test_a_media_part_url_is_refused_with_403_after_the_hour(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    url = _media_url(await _sent_photo(http, web))
    await advance_clock(sandbox.world, HOUR + 1)
    got = await web.get(url)
    assert got.status_code == 403
    assert "expired" in got.json()["error"]["message"]


async def test_get_message_after_the_hour_gives_a_fresh_url_that_works(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sent = await _sent_photo(http, web)
    await advance_clock(sandbox.world, HOUR + 1)
    again = await http.get(f"/v3/messages/{sent['id']}")
    fresh = _media_url(again.json())
    assert fresh != _media_url(sent)
    assert (await web.get(fresh)).content == PNG


async def test_list_messages_after_the_hour_gives_a_fresh_url_that_works(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sent = await _sent_photo(http, web)
    chat_id = next(iter(sandbox.world.chats))
    await advance_clock(sandbox.world, HOUR + 1)
    listed = (await http.get(f"/v3/chats/{chat_id}/messages")).json()["messages"]
    fresh = _media_url(next(m for m in listed if m["id"] == sent["id"]))
    assert fresh != _media_url(sent)
    assert (await web.get(fresh)).status_code == 200


async def test_a_media_url_with_a_pushed_back_expiry_is_refused_with_403(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    url = _media_url(await _sent_photo(http, web))
    expires = parse_qs(urlparse(url).query)["Expires"][0]
    await advance_clock(sandbox.world, HOUR + 1)
    forged = url.replace(f"Expires={expires}", f"Expires={int(expires) + 10 * HOUR}")
    assert (await web.get(forged)).status_code == 403


async def test_the_attachments_own_download_url_does_not_expire(
    http: httpx.AsyncClient, web: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """B.3 gives the ``download_url`` no lifetime (persistent-tier files live until deleted)."""
    created = await _uploaded(http, web)
    await advance_clock(sandbox.world, 30 * 24 * HOUR)
    assert (await web.get(created["download_url"])).status_code == 200
