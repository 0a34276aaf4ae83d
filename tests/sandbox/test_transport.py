"""The in-process transport calls the sandbox directly and means the same as the ASGI app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

BASE = "http://sandbox.local/api/partner"


def clients(sandbox: Sandbox) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """Direct (the sandbox's own app) and through ASGI (the same app behind a plain callable)."""

    async def plain_asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        await sandbox.app(scope, receive, send)

    headers = {"Authorization": f"Bearer {sandbox.api_key}"}
    direct = httpx.AsyncClient(base_url=BASE, headers=headers, transport=SandboxTransport(sandbox.app))
    asgi = httpx.AsyncClient(base_url=BASE, headers=headers, transport=SandboxTransport(plain_asgi))
    return direct, asgi


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/v3/phone_numbers", {}),
        ("GET", "/v3/chats", {"params": {"from": "+15550100001", "limit": "2"}}),
        ("GET", "/v3/chats/not-a-chat", {}),
        ("PATCH", "/v3/phone_numbers", {}),
        ("POST", "/v3/chats", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ],
)
async def test_direct_and_asgi_transports_answer_alike(
    sandbox: Sandbox, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    direct, asgi = clients(sandbox)
    async with direct, asgi:
        a = await direct.request(method, path, **kwargs)
        b = await asgi.request(method, path, **kwargs)
    assert a.status_code == b.status_code
    assert a.headers.get("content-type") == b.headers.get("content-type")
    assert "x-trace-id" in a.headers and "x-trace-id" in b.headers
    body_a, body_b = a.json(), b.json()
    if isinstance(body_a, dict):
        body_a.pop("trace_id", None)
        body_b.pop("trace_id", None)
    assert body_a == body_b


async def test_a_missing_token_is_a_401_on_the_direct_transport(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(base_url=BASE, transport=SandboxTransport(sandbox.app)) as bare:
        response = await bare.get("/v3/phone_numbers")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == 2004


async def test_a_dropped_connection_is_a_transport_error_on_both_transports(sandbox: Sandbox) -> None:
    direct, asgi = clients(sandbox)
    async with direct, asgi:
        for client in (direct, asgi):
            sandbox.faults.queued.append("drop")
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get("/v3/phone_numbers")
