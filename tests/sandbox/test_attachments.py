"""Attachments: create → PUT to the sandbox's upload URL → download; checked against SDK models."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import linq
import pytest
from linq.types import AttachmentCreateResponse, AttachmentRetrieveResponse

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


@pytest.fixture
async def web(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client, like a browser or S3 client following presigned URLs."""
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app)) as client:
        yield client


async def _create(sdk: Any, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"filename": "photo.png", "content_type": "image/png", "size_bytes": len(PNG)}
    params.update(overrides)
    raw = await sdk.attachments.with_raw_response.create(**params)
    assert raw.http_response.status_code == 200
    body: dict[str, Any] = raw.http_response.json()
    return body


async def test_create_validates_and_points_at_the_sandbox(sdk: Any, sandbox: Sandbox) -> None:
    body = await _create(sdk)
    AttachmentCreateResponse.model_validate(body)
    base = sandbox.world.config.public_base_url
    assert body["upload_url"].startswith(f"{base}/api/partner/_uploads/{body['attachment_id']}?token=")
    assert body["download_url"] == f"{base}/api/partner/_files/{body['attachment_id']}/photo.png"
    assert body["http_method"] == "PUT"
    assert body["required_headers"] == {"Content-Type": "image/png"}


async def test_new_attachment_is_pending(sdk: Any) -> None:
    created = await _create(sdk)
    raw = await sdk.attachments.with_raw_response.retrieve(created["attachment_id"])
    body = raw.http_response.json()
    AttachmentRetrieveResponse.model_validate(body)
    assert body["status"] == "pending"
    assert body["size_bytes"] == len(PNG)


async def test_upload_then_download_round_trips_the_bytes(sdk: Any, web: httpx.AsyncClient) -> None:
    created = await _create(sdk)
    put = await web.put(created["upload_url"], content=PNG, headers=created["required_headers"])
    assert put.status_code == 200
    got = await sdk.attachments.retrieve(created["attachment_id"])
    assert got.status == "complete"
    download = await web.get(created["download_url"])
    assert download.status_code == 200
    assert download.content == PNG
    assert download.headers["content-type"] == "image/png"


async def test_upload_with_wrong_content_type_is_5006(sdk: Any, web: httpx.AsyncClient) -> None:
    created = await _create(sdk)
    put = await web.put(created["upload_url"], content=PNG, headers={"Content-Type": "image/jpeg"})
    assert put.status_code == 400
    assert put.json()["error"]["code"] == 5006


async def test_upload_with_wrong_length_is_5006(sdk: Any, web: httpx.AsyncClient) -> None:
    created = await _create(sdk)
    put = await web.put(created["upload_url"], content=PNG + b"x", headers=created["required_headers"])
    assert put.status_code == 400
    assert put.json()["error"]["code"] == 5006


async def test_upload_with_a_bad_token_is_refused(sdk: Any, web: httpx.AsyncClient) -> None:
    created = await _create(sdk)
    url = created["upload_url"].split("?")[0] + "?token=forged"
    put = await web.put(url, content=PNG, headers=created["required_headers"])
    assert put.status_code == 403


async def test_download_before_upload_is_not_ready(sdk: Any, web: httpx.AsyncClient) -> None:
    created = await _create(sdk)
    resp = await web.get(created["download_url"])
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == 2007


@pytest.mark.parametrize("content_type", ["audio/flac", "audio/ogg", "application/x-msdownload"])
async def test_unsupported_types_are_5004(sdk: Any, content_type: str) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.attachments.create(filename="f.bin", content_type=content_type, size_bytes=10)
    assert exc.value.body["code"] == 5004  # type: ignore[index]


async def test_over_100_mb_is_5005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.attachments.create(filename="big.mp4", content_type="video/mp4", size_bytes=104_857_601)
    assert exc.value.body["code"] == 5005  # type: ignore[index]


async def test_exactly_100_mb_is_allowed(sdk: Any) -> None:
    await _create(sdk, filename="big.mp4", content_type="video/mp4", size_bytes=104_857_600)


async def test_zero_size_is_1005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.attachments.create(filename="a.png", content_type="image/png", size_bytes=0)
    assert exc.value.body["code"] == 1005  # type: ignore[index]


async def test_filename_over_255_chars_is_1005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.attachments.create(filename="a" * 256, content_type="image/png", size_bytes=1)
    assert exc.value.body["code"] == 1005  # type: ignore[index]


async def test_missing_filename_is_1001(http: httpx.AsyncClient) -> None:
    resp = await http.post("/v3/attachments", json={"content_type": "image/png", "size_bytes": 3})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 1001


async def test_string_size_is_1005_not_500(http: httpx.AsyncClient) -> None:
    resp = await http.post("/v3/attachments", json={"filename": "a", "content_type": "image/png", "size_bytes": "3"})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 1005


async def test_unknown_attachment_is_404_2003(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.attachments.retrieve("00000000-0000-4000-8000-000000000000")
    assert exc.value.body["code"] == 2003  # type: ignore[index]


async def test_non_uuid_attachment_id_is_400(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.attachments.delete("not-a-uuid")


async def test_delete_removes_record_and_bytes(sdk: Any, sandbox: Sandbox, web: httpx.AsyncClient) -> None:
    created = await _create(sdk)
    await web.put(created["upload_url"], content=PNG, headers=created["required_headers"])
    raw = await sdk.attachments.with_raw_response.delete(created["attachment_id"])
    assert raw.http_response.status_code == 204
    assert created["attachment_id"] not in sandbox.world.attachments
    assert created["attachment_id"] not in sandbox.world.uploads
    assert (await web.get(created["download_url"])).status_code == 404
