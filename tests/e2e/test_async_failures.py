"""What the model is told when things go wrong after Linq said yes (issue 17, acceptance 2).

The sandbox's failures on demand (``/_sandbox/failures/next``, ``/lines/{n}/status``,
``/opt-out``) produce Linq's webhooks; the real server, driven by the real ``mcp`` client,
must turn them into something an assistant can act on — through the tools, ``list_events``,
``wait_for_event`` and the ``linq://`` resources.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import mcp.types as types
from e2e_helpers import AVA, LINE, PERMISSIVE, connected, data
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

RITA = "+15551230004"


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


@asynccontextmanager
async def session(
    sandbox: Sandbox, tmp_path: Path, era: str = "auto"
) -> AsyncIterator[tuple[Client, httpx.AsyncClient]]:
    """The MCP client on a real server, and the sandbox's admin API next to it."""
    settings = Settings(sandbox=True, toolsets=("all",), safety=PERMISSIVE, db_path=str(tmp_path / "db.sqlite3"))
    async with (
        httpx.AsyncClient(
            transport=SandboxTransport(sandbox.app),
            base_url="http://sandbox.local/_sandbox",
            headers={"Authorization": f"Bearer {sandbox.api_key}"},
        ) as admin,
        connected(sandbox, settings, era=era) as (client, _runtime),
    ):
        yield client, admin


async def resource(client: Client, uri: str) -> dict[str, Any]:
    result = await client.read_resource(uri)
    content = result.contents[0]
    assert isinstance(content, types.TextResourceContents)
    return dict(json.loads(content.text))


async def wait_for(client: Client, types_: list[str], chat_id: str | None = None, since: str = "0") -> dict[str, Any]:
    args: dict[str, Any] = {"since": since, "types": types_, "timeout": 5}
    if chat_id is not None:
        args["chat_id"] = chat_id
    got = data(await client.call_tool("wait_for_event", args))
    assert got["timed_out"] is False, got
    event: dict[str, Any] = got["event"]
    return event


def error(result: Any) -> dict[str, Any]:
    assert result.is_error, result.content[0].text
    return dict(result.structured_content or {})


async def failed_send(client: Client, admin: httpx.AsyncClient, code: int = 4002) -> tuple[str, str]:
    """Arm a failure, send through the tool (accepted), return (chat_id, message_id)."""
    assert (await admin.post("/failures/next", json={"kind": "message", "code": code})).status_code == 200
    created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi Ava")}))
    assert created["chat"]["message"]["delivery_status"] == "pending"  # the send itself succeeded
    return str(created["chat"]["id"]), str(created["chat"]["message"]["id"])


# message.failed after a 202 -----------------------------------------------------------------------
async def test_wait_for_event_reports_a_failure_after_acceptance_with_code_meaning_and_fix(
    sandbox: Sandbox, tmp_path: Path, era: str
) -> None:
    async with session(sandbox, tmp_path, era) as (client, admin):
        chat_id, message_id = await failed_send(client, admin, 4002)
        event = await wait_for(client, ["message.failed"], chat_id)
    assert event["message_id"] == message_id and event["direction"] == "outbound"
    failure = event["failure"]
    assert (failure["code"], failure["reason"], failure["retryable"]) == (4002, "Phone not available", True)
    assert "not available" in failure["meaning"] and failure["fix"]


async def test_get_message_and_list_messages_show_the_failed_status(sandbox: Sandbox, tmp_path: Path) -> None:
    async with session(sandbox, tmp_path) as (client, admin):
        chat_id, message_id = await failed_send(client, admin, 4001)
        await wait_for(client, ["message.failed"], chat_id)
        one = data(await client.call_tool("get_message", {"message_id": message_id}))
        page = data(await client.call_tool("list_messages", {"chat_id": chat_id}))
    assert one["delivery_status"] == "failed" and one["sent_at"] is None
    assert [m["delivery_status"] for m in page["messages"]] == ["failed"]


async def test_list_events_and_the_event_resource_carry_the_failure(sandbox: Sandbox, tmp_path: Path) -> None:
    async with session(sandbox, tmp_path) as (client, admin):
        chat_id, message_id = await failed_send(client, admin, 3007)
        waited = await wait_for(client, ["message.failed"], chat_id)
        listed = data(await client.call_tool("list_events", {"chat_id": chat_id}))["events"]
        one = await resource(client, f"linq://events/{waited['event_id']}")
        chat_events = (await resource(client, f"linq://chats/{chat_id}/events"))["events"]
    failed = [e for e in listed if e["type"] == "message.failed"]
    assert len(failed) == 1 and failed[0]["failure"]["code"] == 3007
    assert one["failure"]["code"] == 3007 and one["failure"]["reason"] == "Maximum delivery attempts exceeded"
    assert "message.sent" not in {e["type"] for e in listed}  # it never reached the phone
    assert any(e["type"] == "message.failed" and e["message_id"] == message_id for e in chat_events)


async def test_the_conversation_resource_marks_the_message_failed_and_says_why(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    async with session(sandbox, tmp_path) as (client, admin):
        chat_id, message_id = await failed_send(client, admin, 4005)
        await wait_for(client, ["message.failed"], chat_id)
        conversation = await resource(client, f"linq://chats/{chat_id}/conversation")
    [message] = [m for m in conversation["messages"] if m["message_id"] == message_id]
    assert message["status"] == "failed" and message["from"] == "me"
    assert message["failure"]["code"] == 4005 and message["failure"]["meaning"]
    assert message["failure"]["retryable"] is False


# a flagged line ------------------------------------------------------------------------------------
async def test_a_flagged_line_is_announced_and_its_sends_refused_with_a_fix(sandbox: Sandbox, tmp_path: Path) -> None:
    async with session(sandbox, tmp_path) as (client, admin):
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")}))
        chat_id = created["chat"]["id"]
        await admin.post(f"/lines/{LINE}/status", json={"status": "FLAGGED", "reputation": "CRITICAL"})
        announced = await wait_for(client, ["phone_number.status_updated"])
        refused = error(await client.call_tool("send_message", {"chat_id": chat_id, "message": text("again")}))
        still_readable = data(await client.call_tool("list_messages", {"chat_id": chat_id}))
    assert announced["line_status"] == {
        "phone_number": LINE,
        "status": "FLAGGED",
        "previous": "ACTIVE",
        "reputation": "CRITICAL",
    }
    assert (refused["code"], refused["http_status"], refused["retryable"]) == (2027, 403, False)
    assert "another line" in refused["fix"]
    assert still_readable["messages"]


# an opted-out recipient ----------------------------------------------------------------------------
async def test_an_opt_out_arrives_fenced_and_later_sends_are_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    async with session(sandbox, tmp_path) as (client, admin):
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")}))
        chat_id = created["chat"]["id"]
        answer = await wait_for(client, ["message.received"], chat_id)  # Ava's own answer first
        await admin.post("/opt-out", json={"handle": AVA, "keyword": "STOP"})
        stop = await wait_for(client, ["message.received"], chat_id, since=answer["cursor"])
        chat = data(await client.call_tool("get_chat", {"chat_id": chat_id}))
        refused = error(await client.call_tool("send_message", {"chat_id": chat_id, "message": text("one more")}))
    assert stop["untrusted_content"]["untrusted_text"] == "STOP"
    assert chat["health_status"]["status"] == "OPTED_OUT"
    assert (refused["code"], refused["http_status"]) == (2024, 403)
    assert "override_optout" in refused["fix"] or "opted out" in refused["meaning"].lower()


# a failed group rename -------------------------------------------------------------------------------
async def test_a_failed_group_rename_is_reported_and_the_name_is_unchanged(sandbox: Sandbox, tmp_path: Path) -> None:
    async with session(sandbox, tmp_path) as (client, admin):
        created = data(
            await client.call_tool("create_chat", {"from": LINE, "to": [AVA, RITA], "message": text("hi both")})
        )
        chat_id = created["chat"]["id"]
        await admin.post("/failures/next", json={"kind": "group_name", "code": 4001, "chat_id": chat_id})
        pending = data(await client.call_tool("update_chat", {"chat_id": chat_id, "display_name": "Supper club"}))
        event = await wait_for(client, ["chat.group_name_update_failed"], chat_id)
        after = data(await client.call_tool("get_chat", {"chat_id": chat_id}))
    assert pending["status"] == "pending"
    assert event["chat_change"]["field"] == "group_name"
    failure = event["failure"]
    assert failure["code"] == 4001 and failure["reason"] == "Delivery failed" and failure["meaning"]
    # A group's name is fenced as its participants' words (any of them may set it).
    name_now = after["untrusted_content"]["untrusted_data"]["display_name"]
    name_before = created["chat"]["untrusted_content"]["untrusted_data"]["display_name"]
    assert name_now == name_before != "Supper club"


async def test_a_delivery_after_a_failure_wins_in_the_conversation(sandbox: Sandbox, tmp_path: Path) -> None:
    """SDK 0.65: a message.delivered may follow a message.failed; the model must not be told it failed."""
    sandbox.world.clock.freeze()
    async with session(sandbox, tmp_path) as (client, admin):
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")}))
        chat_id, message_id = created["chat"]["id"], created["chat"]["message"]["id"]
        await admin.post(f"/messages/{message_id}/fail", json={"code": 4001, "then_delivered": True})
        await admin.post("/clock", json={"advance": 1})
        await wait_for(client, ["message.delivered"], chat_id)
        conversation = await resource(client, f"linq://chats/{chat_id}/conversation")
        one = data(await client.call_tool("get_message", {"message_id": message_id}))
    [message] = [m for m in conversation["messages"] if m["message_id"] == message_id]
    assert message["status"] == "delivered" and one["delivery_status"] == "delivered"


async def test_failures_at_a_configured_rate_reach_the_model(tmp_path: Path) -> None:
    """`[failures] rate = 1` in the world config: every accepted send ends in message.failed."""
    from linq_mcp.sandbox.app import create_sandbox
    from linq_mcp.sandbox.config import FailuresConfig, SandboxConfig, TimingConfig

    world = SandboxConfig(
        seed=5,
        timing=TimingConfig(sent=0.01, delivered=0.02, read=0.03, reply=0.05),
        failures=FailuresConfig(rate=1.0, codes={"3007": 1.0}),
    )
    async with session(create_sandbox(world), tmp_path) as (client, _admin):
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")}))
        event = await wait_for(client, ["message.failed"], created["chat"]["id"])
    assert event["message_id"] == created["chat"]["message"]["id"] and event["failure"]["code"] == 3007
