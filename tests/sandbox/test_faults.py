"""Fault injection: queued faults are certain, and commit-then-lose really commits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
PEER = "+15557770001"
ADMIN = "http://sandbox.local/_sandbox"


def body(key: str) -> dict[str, Any]:
    return {"from": LINE, "to": [PEER], "message": {"parts": [{"type": "text", "value": "hi"}], "idempotency_key": key}}


async def queue(http: httpx.AsyncClient, *kinds: str) -> None:
    resp = await http.post(f"{ADMIN}/faults/next", json={"kinds": list(kinds)})
    assert resp.status_code == 200


async def test_commit_then_lose_drops_the_connection(http: httpx.AsyncClient) -> None:
    await queue(http, "commit_then_lose")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v3/chats", json=body("ctl-1"))


async def test_commit_then_lose_commits_the_message(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await queue(http, "commit_then_lose")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v3/chats", json=body("ctl-2"))
    assert [m["parts"][0]["value"] for m in sandbox.world.messages.values()] == ["hi"]


async def test_retry_after_lost_response_returns_it_and_sends_once(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    await queue(http, "commit_then_lose")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v3/chats", json=body("ctl-3"))
    retry = await http.post("/v3/chats", json=body("ctl-3"))
    assert retry.status_code == 201
    assert retry.json()["chat"]["message"]["id"] in sandbox.world.messages
    await advance_clock(sandbox.world, 5)
    assert len(sandbox.world.deliveries) == 1


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("502", 502), ("503", 503), ("429", 429)])
async def test_error_faults_commit_nothing(http: httpx.AsyncClient, sandbox: Sandbox, kind: str, status: int) -> None:
    await queue(http, kind)
    resp = await http.post("/v3/chats", json=body(f"err-{kind}"))
    assert resp.status_code == status
    assert sandbox.world.messages == {}


async def test_429_fault_has_retry_after(http: httpx.AsyncClient) -> None:
    await queue(http, "429")
    resp = await http.get("/v3/chats")
    assert resp.headers["Retry-After"] == "1"


async def test_drop_commits_nothing(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await queue(http, "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post("/v3/chats", json=body("drop-1"))
    assert sandbox.world.messages == {}


async def test_injected_faults_are_counted_in_stats(http: httpx.AsyncClient) -> None:
    await queue(http, "503", "drop")
    await http.get("/v3/chats")
    with pytest.raises(httpx.RemoteProtocolError):
        await http.get("/v3/chats")
    stats = (await http.get(f"{ADMIN}/stats")).json()
    assert stats["faults_injected"] == {"503": 1, "drop": 1}


async def test_fault_rate_one_fails_every_request(http: httpx.AsyncClient) -> None:
    await http.put(f"{ADMIN}/faults", json={"rate": 1.0, "kinds": {"503": 1}})
    statuses = {(await http.get("/v3/chats")).status_code for _ in range(3)}
    assert statuses == {503}


async def test_admin_requests_are_never_faulted(http: httpx.AsyncClient) -> None:
    await http.put(f"{ADMIN}/faults", json={"rate": 1.0, "kinds": {"500": 1}})
    assert (await http.get(f"{ADMIN}/stats")).status_code == 200
