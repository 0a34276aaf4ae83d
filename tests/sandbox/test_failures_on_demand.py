"""Failures on demand (issue 17 item 2): what goes wrong after Linq said yes.

Admin operations and the ``[failures]`` config produce the webhooks and statuses Linq would:
``message.failed`` after a 202, ``chat.group_*_update_failed`` after a pending rename, a
flagged or restricted line (``phone_number.status_updated``, then 403/2027), an opt-out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from linq.types.chat_group_name_update_failed_webhook_event import ChatGroupNameUpdateFailedWebhookEvent
from linq.types.message_failed_webhook_event import MessageFailedWebhookEvent
from linq.types.phone_number_status_updated_webhook_event import PhoneNumberStatusUpdatedWebhookEvent
from linq.types.poll_failed_webhook_event import PollFailedWebhookEvent
from sandbox_helpers import code
from sandbox_oas import event_errors

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.state import Event
from linq_mcp.sandbox.transport import SandboxTransport
from linq_mcp.sandbox.webhooks import envelope

LINE = "+15550100001"
AVA, RITA = "+15551230001", "+15551230004"
ADMIN = "http://sandbox.local/_sandbox"


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def events(sandbox: Sandbox, kind: str) -> list[Event]:
    return [e for e in sandbox.world.events if e.event_type == kind]


async def send_new(http: httpx.AsyncClient, to: list[str] | None = None) -> httpx.Response:
    r = await http.post("/v3/chats", json={"from": LINE, "to": to or [AVA], "message": text("hello")})
    assert r.status_code == 201, r.text
    return r


def conforms(event: Event) -> None:
    """The event as delivered matches the OAS schema (both versions) and the SDK's model."""
    for version in ("2025-01-01", "2026-02-03"):
        assert event_errors(event, version) == [], (event.event_type, version)
    models: dict[str, Any] = {
        "message.failed": MessageFailedWebhookEvent,
        "chat.group_name_update_failed": ChatGroupNameUpdateFailedWebhookEvent,
        "phone_number.status_updated": PhoneNumberStatusUpdatedWebhookEvent,
    }
    if event.event_type in models:
        models[event.event_type].model_validate(envelope(event, "2026-02-03", "partner_sandbox"))


# message.failed after a 202 --------------------------------------------------------------------------
async def test_an_armed_failure_turns_an_accepted_send_into_message_failed(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    armed = await http.post(f"{ADMIN}/failures/next", json={"kind": "message", "code": 4002})
    assert armed.status_code == 200
    sent = await send_new(http)
    message_id = sent.json()["chat"]["message"]["id"]
    assert sent.json()["chat"]["message"]["delivery_status"] == "pending"
    await advance_clock(sandbox.world, 5)
    [failed] = events(sandbox, "message.failed")
    assert failed.data["message_id"] == message_id and failed.data["code"] == 4002
    assert failed.data["reason"] == "Phone not available"
    assert failed.trace_id == sent.headers["X-Trace-ID"]
    assert (await http.get(f"/v3/messages/{message_id}")).json()["delivery_status"] == "failed"
    assert not events(sandbox, "message.sent") and not sandbox.world.deliveries
    conforms(failed)


async def test_an_armed_failure_is_spent_by_one_send(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await http.post(f"{ADMIN}/failures/next", json={"code": 4001})
    first = await send_new(http)
    second = await http.post(f"/v3/chats/{first.json()['chat']['id']}/messages", json={"message": text("again")})
    await advance_clock(sandbox.world, 5)
    statuses = [
        (await http.get(f"/v3/messages/{m}")).json()["delivery_status"]
        for m in (first.json()["chat"]["message"]["id"], second.json()["message"]["id"])
    ]
    assert statuses == ["failed", "read"]


async def test_a_failure_armed_for_one_chat_spares_the_others(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    target = await send_new(http, [RITA])
    await advance_clock(sandbox.world, 5)
    await http.post(f"{ADMIN}/failures/next", json={"code": 3007, "chat_id": target.json()["chat"]["id"]})
    other = await send_new(http, [AVA])
    again = await http.post(f"/v3/chats/{target.json()['chat']['id']}/messages", json={"message": text("x")})
    await advance_clock(sandbox.world, 5)
    [failed] = events(sandbox, "message.failed")
    assert failed.data["message_id"] == again.json()["message"]["id"]
    assert (await http.get(f"/v3/messages/{other.json()['chat']['message']['id']}")).json()["delivery_status"] == "read"


async def test_a_sent_message_can_be_failed_on_demand(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sent = await send_new(http)
    message_id = sent.json()["chat"]["message"]["id"]
    await advance_clock(sandbox.world, 0.06)  # sent, not yet delivered
    r = await http.post(f"{ADMIN}/messages/{message_id}/fail", json={"code": 3007})
    assert r.status_code == 200 and r.json()["event"]["data"]["code"] == 3007
    await advance_clock(sandbox.world, 5)
    assert (await http.get(f"/v3/messages/{message_id}")).json()["delivery_status"] == "failed"
    assert not events(sandbox, "message.delivered")


async def test_a_failed_message_can_still_be_delivered_after_all(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """SDK 0.65: in rare cases a message.delivered follows a message.failed."""
    sent = await send_new(http)
    message_id = sent.json()["chat"]["message"]["id"]
    await http.post(f"{ADMIN}/messages/{message_id}/fail", json={"code": 4001, "then_delivered": True})
    await advance_clock(sandbox.world, 5)
    order = [e.event_type for e in sandbox.world.events if e.data.get("message_id", e.data.get("id")) == message_id]
    assert order == ["message.failed", "message.delivered"]
    assert [d["to"] for d in sandbox.world.deliveries if d["message_id"] == message_id] == [AVA]
    conforms(events(sandbox, "message.delivered")[0])


async def test_a_delivered_message_cannot_be_failed(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sent = await send_new(http)
    await advance_clock(sandbox.world, 5)
    r = await http.post(f"{ADMIN}/messages/{sent.json()['chat']['message']['id']}/fail", json={"code": 4001})
    assert code(r) == (409, 2015)


@pytest.mark.parametrize(("kind", "bad"), [("message", 2001), ("message", "4001"), ("group_name", 4002)])
async def test_a_code_outside_the_documented_set_is_refused(http: httpx.AsyncClient, kind: str, bad: object) -> None:
    r = await http.post(f"{ADMIN}/failures/next", json={"kind": kind, "code": bad})
    assert code(r) == (400, 1005)


async def test_a_poll_fails_as_poll_failed(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await send_new(http)
    await advance_clock(sandbox.world, 5)
    await http.post(f"{ADMIN}/failures/next", json={"code": 4005})
    r = await http.post(
        f"/v3/chats/{chat.json()['chat']['id']}/polls",
        json={"poll": {"options": [{"text": "yes"}, {"text": "no"}]}},
    )
    assert r.status_code == 202, r.text
    await advance_clock(sandbox.world, 5)
    [failed] = events(sandbox, "poll.failed")
    assert failed.data["error"]["code"] == 4005 and failed.data["message_id"] == r.json()["message_id"]
    PollFailedWebhookEvent.model_validate(envelope(failed, "2026-02-03", "partner_sandbox"))


# group rename / icon ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kind", "body", "event"),
    [
        ("group_name", {"display_name": "Team"}, "chat.group_name_update_failed"),
        ("group_icon", {"group_chat_icon": "https://cdn.example/i.png"}, "chat.group_icon_update_failed"),
    ],
)
async def test_a_pending_group_update_can_fail(
    http: httpx.AsyncClient, sandbox: Sandbox, kind: str, body: dict[str, Any], event: str
) -> None:
    chat = (await send_new(http, [AVA, RITA])).json()["chat"]
    await http.post(f"{ADMIN}/failures/next", json={"kind": kind, "code": 3007})
    r = await http.put(f"/v3/chats/{chat['id']}", json=body)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    await advance_clock(sandbox.world, 5)
    [failed] = events(sandbox, event)
    assert failed.data["chat_id"] == chat["id"] and failed.data["error_code"] == 3007
    after = (await http.get(f"/v3/chats/{chat['id']}")).json()
    assert after["display_name"] == chat["display_name"] and after["group_chat_icon"] is None
    assert not events(sandbox, event.replace("_update_failed", "_updated"))
    conforms(failed)


# lines ----------------------------------------------------------------------------------------------
async def test_flagging_a_line_emits_status_updated_and_refuses_new_activity(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    chat = (await send_new(http)).json()["chat"]
    r = await http.post(f"{ADMIN}/lines/{LINE}/status", json={"status": "FLAGGED"})
    assert r.status_code == 200
    [updated] = events(sandbox, "phone_number.status_updated")
    assert (updated.data["previous_status"], updated.data["new_status"]) == ("ACTIVE", "FLAGGED")
    conforms(updated)
    send = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text("hi")})
    assert code(send) == (403, 2027)
    assert (await http.get(f"/v3/chats/{chat['id']}/messages")).status_code == 200  # reads still work


async def test_restricting_a_line_changes_its_reputation(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await http.post(f"{ADMIN}/lines/{LINE}/status", json={"reputation": "CRITICAL"})
    [updated] = events(sandbox, "phone_number.status_updated")
    assert (updated.data["previous_reputation"], updated.data["new_reputation"]) == ("HEALTHY", "CRITICAL")
    lines = (await http.get("/v3/phone_numbers")).json()["phone_numbers"]
    assert next(ln for ln in lines if ln["phone_number"] == LINE)["reputation"]["status"] == "CRITICAL"


async def test_unflagging_restores_the_line(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = (await send_new(http)).json()["chat"]
    await http.post(f"{ADMIN}/lines/{LINE}/status", json={"status": "FLAGGED"})
    await http.post(f"{ADMIN}/lines/{LINE}/status", json={"status": "ACTIVE"})
    send = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text("hi")})
    assert send.status_code == 202


async def test_an_unknown_line_or_status_is_refused(http: httpx.AsyncClient) -> None:
    assert code(await http.post(f"{ADMIN}/lines/+15559999999/status", json={"status": "FLAGGED"})) == (404, 2019)
    assert code(await http.post(f"{ADMIN}/lines/{LINE}/status", json={"status": "PAUSED"})) == (400, 1005)


# opt-out ----------------------------------------------------------------------------------------------
async def test_an_opt_out_on_demand_blocks_direct_sends(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = (await send_new(http)).json()["chat"]
    await advance_clock(sandbox.world, 5)
    r = await http.post(f"{ADMIN}/opt-out", json={"handle": AVA})
    assert r.json() == {"dropped": False, "opted_out": True, "chat_id": chat["id"]}
    assert events(sandbox, "message.received")[-1].data["parts"][0]["value"] == "STOP"
    assert (await http.get(f"/v3/chats/{chat['id']}")).json()["health_status"]["status"] == "OPTED_OUT"
    refused = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text("hi")})
    assert code(refused) == (403, 2024)
    forced = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text("hi"), "override_optout": True})
    assert forced.status_code == 202


# [failures] at a seeded rate -------------------------------------------------------------------
async def _run(config: SandboxConfig, sends: int) -> tuple[list[str], list[str]]:
    sandbox = create_sandbox(config)
    sandbox.world.clock.freeze()
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local/api/partner",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as http:
        chat = (await send_new(http)).json()["chat"]
        ids = [chat["message"]["id"]]
        for i in range(sends - 1):
            r = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text(f"m{i}")})
            ids.append(r.json()["message"]["id"])
        await advance_clock(sandbox.world, 5)
        statuses = [sandbox.world.messages[m]["delivery_status"] for m in ids]
    return ids, statuses


async def test_a_failure_rate_is_seeded_and_never_shifts_ids() -> None:
    cfg = {"seed": 7, "failures": {"rate": 0.5, "codes": {"4001": 1.0, "3007": 1.0}}}
    ids_a, statuses_a = await _run(SandboxConfig.from_dict(cfg), 12)
    ids_b, statuses_b = await _run(SandboxConfig.from_dict(cfg), 12)
    ids_0, _ = await _run(SandboxConfig.from_dict({"seed": 7}), 12)
    assert (ids_a, statuses_a) == (ids_b, statuses_b)
    assert 0 < statuses_a.count("failed") < 12
    assert ids_a == ids_0


async def test_a_failure_rate_of_one_fails_every_send() -> None:
    _, statuses = await _run(SandboxConfig.from_dict({"failures": {"rate": 1.0}}), 3)
    assert statuses == ["failed"] * 3


async def test_a_group_update_rate_of_one_fails_every_rename() -> None:
    sandbox = create_sandbox(
        SandboxConfig.from_dict({"failures": {"group_update_rate": 1.0, "group_update_codes": {"3007": 1.0}}})
    )
    sandbox.world.clock.freeze()
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local/api/partner",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as http:
        chat = (await send_new(http, [AVA, RITA])).json()["chat"]
        for name in ("One", "Two"):
            assert (await http.put(f"/v3/chats/{chat['id']}", json={"display_name": name})).status_code == 202
        await advance_clock(sandbox.world, 5)
    failed = events(sandbox, "chat.group_name_update_failed")
    assert [e.data["error_code"] for e in failed] == [3007, 3007]
    assert not events(sandbox, "chat.group_name_updated")


def test_the_failures_section_reads_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    path.write_text('[failures]\nrate = 0.25\ngroup_update_rate = 0.5\n[failures.codes]\n"4005" = 2.0\n')
    cfg = SandboxConfig.from_toml(path)
    assert (cfg.failures.rate, cfg.failures.group_update_rate, cfg.failures.codes) == (0.25, 0.5, {"4005": 2.0})
