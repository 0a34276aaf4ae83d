"""The admin API under /_sandbox: inbound, deliveries, events, clock, faults, reset, cast."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
AVA = "+15551230001"
ADMIN = "http://sandbox.local/_sandbox"
TEXT = {"parts": [{"type": "text", "value": "hi"}]}


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


async def test_health_needs_no_key(sandbox: Sandbox) -> None:
    from linq_mcp.sandbox.transport import SandboxTransport

    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app)) as bare:
        assert (await bare.get(f"{ADMIN}/health")).json() == {"ok": True}


async def test_admin_needs_the_api_key(sandbox: Sandbox) -> None:
    from linq_mcp.sandbox.transport import SandboxTransport

    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app)) as bare:
        assert (await bare.get(f"{ADMIN}/events")).status_code == 401


async def test_inbound_creates_a_chat_and_a_received_message(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    resp = await http.post(f"{ADMIN}/inbound", json={"from": AVA, "to": LINE, "text": "hello there"})
    body = resp.json()
    assert body["message"]["is_from_me"] is False
    assert [e.event_type for e in sandbox.world.events] == ["chat.created", "message.received"]


async def test_inbound_into_an_existing_chat(http: httpx.AsyncClient) -> None:
    created = (await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})).json()
    chat_id = created["chat"]["id"]
    resp = await http.post(f"{ADMIN}/inbound", json={"from": AVA, "chat_id": chat_id, "text": "yo"})
    assert resp.json()["chat_id"] == chat_id


async def test_inbound_from_a_blocked_handle_is_dropped(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.world.blocked[AVA] = {"handle": AVA}
    resp = await http.post(f"{ADMIN}/inbound", json={"from": AVA, "to": LINE, "text": "hi"})
    assert resp.json()["dropped"] is True
    assert sandbox.world.messages == {}


async def test_inbound_to_a_line_we_do_not_own_is_2006(http: httpx.AsyncClient) -> None:
    resp = await http.post(f"{ADMIN}/inbound", json={"from": AVA, "to": "+15550000000", "text": "hi"})
    assert resp.json()["error"]["code"] == 2006


async def test_deliveries_filter_by_recipient(http: httpx.AsyncClient) -> None:
    await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})
    await http.post("/v3/chats", json={"from": LINE, "to": ["+15557770001"], "message": TEXT})
    await http.post(f"{ADMIN}/clock", json={"advance": 0.1})
    found = (await http.get(f"{ADMIN}/deliveries", params={"to": AVA})).json()["deliveries"]
    assert [d["to"] for d in found] == [AVA]


async def test_events_filter_by_glob(http: httpx.AsyncClient) -> None:
    await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})
    await http.post(f"{ADMIN}/clock", json={"advance": 1})
    found = (await http.get(f"{ADMIN}/events", params={"type": "message.*"})).json()["events"]
    assert [e["event_type"] for e in found] == ["message.sent", "message.delivered", "message.read"]


async def test_events_carry_both_payload_versions(http: httpx.AsyncClient) -> None:
    await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})
    await http.post(f"{ADMIN}/clock", json={"advance": 0.1})
    sent = (await http.get(f"{ADMIN}/events", params={"type": "message.sent"})).json()["events"][0]
    assert (sent["data"]["direction"], sent["data_v2025"]["is_from_me"]) == ("outbound", True)


async def test_clock_advance_runs_due_timers(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})
    before = sandbox.world.now()
    resp = (await http.post(f"{ADMIN}/clock", json={"advance": 10})).json()
    assert resp["ran"] > 0
    assert sandbox.world.now() == pytest.approx(before + 10)


async def test_negative_advance_is_1005(http: httpx.AsyncClient) -> None:
    resp = await http.post(f"{ADMIN}/clock", json={"advance": -1})
    assert resp.json()["error"]["code"] == 1005


async def test_freeze_and_unfreeze(http: httpx.AsyncClient) -> None:
    assert (await http.post(f"{ADMIN}/clock/unfreeze")).json()["frozen"] is False
    assert (await http.post(f"{ADMIN}/clock/freeze")).json()["frozen"] is True


async def test_reset_gives_a_fresh_world_with_the_same_lines(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})
    lines = dict(sandbox.world.lines)
    resp = await http.post(f"{ADMIN}/reset")
    assert resp.status_code == 200
    assert (sandbox.world.chats, sandbox.world.events) == ({}, [])
    assert sandbox.world.lines == lines


async def test_reset_keeps_the_api_working(http: httpx.AsyncClient) -> None:
    await http.post(f"{ADMIN}/reset")
    resp = await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": TEXT})
    assert resp.status_code == 201


async def test_faults_get_and_put(http: httpx.AsyncClient) -> None:
    put = (await http.put(f"{ADMIN}/faults", json={"rate": 0.25, "latency_ms": 5})).json()
    got = (await http.get(f"{ADMIN}/faults")).json()
    assert put == got
    assert (got["rate"], got["latency_ms"]) == (0.25, 5)


async def test_unknown_fault_kind_is_1005(http: httpx.AsyncClient) -> None:
    resp = await http.post(f"{ADMIN}/faults/next", json={"kinds": ["meteor"]})
    assert resp.json()["error"]["code"] == 1005


async def test_people_lists_the_cast(http: httpx.AsyncClient) -> None:
    people: list[dict[str, Any]] = (await http.get(f"{ADMIN}/people")).json()["people"]
    assert AVA in [p["handle"] for p in people]
