"""The sandbox tier's rule: a recipient must message you first (403/2008), when configured."""

from __future__ import annotations

import httpx
import pytest

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.config import LimitsConfig, SandboxConfig

LINE, AVA = "+15550100001", "+15551230001"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    return SandboxConfig(seed=5, limits=LimitsConfig(require_inbound_first=True))


def first_message(to: str) -> dict[str, object]:
    return {"from": LINE, "to": [to], "message": {"parts": [{"type": "text", "value": "hi"}]}}


async def test_a_recipient_who_never_wrote_is_not_allowed(http: httpx.AsyncClient) -> None:
    response = await http.post("/v3/chats", json=first_message(AVA))
    assert response.status_code == 403
    assert response.json()["error"]["code"] == 2008


async def test_a_recipient_who_wrote_first_can_be_answered(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    inbound = await http.post("http://sandbox.local/_sandbox/inbound", json={"from": AVA, "to": LINE, "text": "hello"})
    assert inbound.status_code == 200
    response = await http.post("/v3/chats", json=first_message(AVA))
    assert response.status_code == 201, response.text
