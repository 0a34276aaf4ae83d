"""The sandbox's legacy V2 API at the HTTP boundary: its auth header, its two error formats,
the older request shapes of seed 001, and V2 webhook deliveries (envelope and signature)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.transport import SandboxTransport

LINE = "+15550100001"
AVA = "+15551230001"
SECRET = "quickstart-secret-0123456789"


@pytest.fixture
async def v2(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local/api/partner/v2",
        headers={"X-LINQ-INTEGRATION-TOKEN": sandbox.api_key},
    ) as client:
        yield client


class Receiver:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
def receiver(sandbox: Sandbox) -> Receiver:
    rx = Receiver()
    sandbox.webhook_transport = httpx.MockTransport(rx)
    return rx


async def settle(sandbox: Sandbox) -> None:
    """Let the simulated delivery timeline run (sent, delivered) and its webhooks go out."""
    for _ in range(6):
        sandbox.world.clock.advance(1)
        await sandbox.world.scheduler.run_due()


async def create_chat(v2: httpx.AsyncClient, text: str = "Hello!") -> dict[str, Any]:
    body = {"send_from": LINE, "chat": {"phone_numbers": [AVA]}, "message": {"text": text}}
    response = await v2.post("/chats", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


async def subscribe(v2: httpx.AsyncClient, events: list[str], secret: str | None = SECRET) -> dict[str, Any]:
    sub: dict[str, Any] = {"webhook_url": "https://your-app.example/hook", "version": 2, "events": events}
    if secret is not None:
        sub["secret"] = secret
    response = await v2.post("/webhook_subscriptions", json={"webhook_subscription": sub})
    assert response.status_code == 201, response.text
    return dict(response.json()["webhook_subscription"])


async def test_v2_needs_the_integration_token_header_not_a_bearer(sandbox: Sandbox) -> None:
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local/api/partner/v2",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as bearer:
        response = await bearer.get("/phone_numbers")
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "unauthorized"


async def test_chat_errors_use_the_errors_list_format(v2: httpx.AsyncClient) -> None:
    response = await v2.get("/chats/424242")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [
            {"status": 404, "code": "chat_not_found", "title": "Chat not found", "detail": "Chat 424242 not found"}
        ]
    }


async def test_contact_errors_use_the_flat_format(v2: httpx.AsyncClient) -> None:
    response = await v2.get("/contacts/424242")
    body = response.json()
    assert response.status_code == 404
    assert body["status"] == 404 and body["error_code"] == "contact_not_found"
    assert body["errors"] == [body["message"]]


async def test_a_contact_answers_to_put_as_to_patch(v2: httpx.AsyncClient) -> None:
    created = (await v2.post("/contacts", json={"contact": {"first_name": "Ann"}})).json()["data"]
    put = await v2.put(f"/contacts/{created['id']}", json={"contact": {"title": "CTO"}})
    assert put.status_code == 200 and put.json()["data"]["title"] == "CTO"
    assert put.json()["data"]["first_name"] == "Ann"


async def test_seed_001_create_chat_body_is_accepted_with_its_response_shape(v2: httpx.AsyncClient) -> None:
    older = {"phone_numbers": [AVA], "message": {"text": "Hello! This is my first message."}, "phone_number": LINE}
    response = await v2.post("/chats", json=older)
    assert response.status_code == 200, response.text
    body = response.json()["data"]
    assert set(body) == {"chat", "message"}
    assert body["chat"]["message_count"] == 1 and body["message"]["text"] == "Hello! This is my first message."


async def test_seed_001_json_message_with_attachment_urls_is_accepted(v2: httpx.AsyncClient) -> None:
    chat = await create_chat(v2)
    body = {"text": "Check out this image!", "attachment_urls": ["https://your-cdn.example/image.jpg"]}
    response = await v2.post(f"/chats/{chat['id']}/chat_messages", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["attachments"][0]["filename"] == "image.jpg"


async def test_seed_001_flat_subscription_body_is_accepted(v2: httpx.AsyncClient) -> None:
    flat = {"webhook_url": "https://your-app.example/webhooks/linq", "events": ["message.received"], "version": 2}
    response = await v2.post("/webhook_subscriptions", json={**flat, "active": True})
    assert response.status_code == 201
    assert response.json()["webhook_subscription"]["secret_configured"] is False


async def test_a_multipart_message_replayed_with_its_key_answers_200_with_the_same_message(
    v2: httpx.AsyncClient,
) -> None:
    chat = await create_chat(v2)
    fields = {"message[text]": "once", "message[idempotency_key]": "k-1"}
    first = await v2.post(f"/chats/{chat['id']}/chat_messages", files={k: (None, v) for k, v in fields.items()})
    again = await v2.post(f"/chats/{chat['id']}/chat_messages", files={k: (None, v) for k, v in fields.items()})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()


async def test_v2_delivery_has_the_v2_envelope_and_a_sha256_body_signature(
    sandbox: Sandbox, v2: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(v2, ["message.sent"])
    chat = await create_chat(v2, "signed")
    await settle(sandbox)
    request = receiver.requests[-1]
    body = json.loads(request.content)
    assert set(body) == {"api_version", "created_at", "data", "event_id", "event_type"}
    assert body["api_version"] == "v2" and body["event_type"] == "message.sent"
    assert body["data"]["chat"]["id"] == chat["id"] and body["data"]["message"]["text"] == "signed"
    expected = "sha256=" + hmac.new(SECRET.encode(), request.content, hashlib.sha256).hexdigest()
    assert request.headers["X-Webhook-Signature"] == expected


async def test_a_v2_subscription_without_a_secret_gets_unsigned_deliveries(
    sandbox: Sandbox, v2: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(v2, ["message.sent"], secret=None)
    await create_chat(v2)
    await settle(sandbox)
    assert receiver.requests and "X-Webhook-Signature" not in receiver.requests[-1].headers


async def test_v2_deliveries_follow_the_subscribed_v2_events(
    sandbox: Sandbox, v2: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(v2, ["contact.created"])
    await create_chat(v2)
    await v2.post("/contacts", json={"contact": {"first_name": "Ann"}})
    await settle(sandbox)
    assert [b["event_type"] for b in receiver.bodies()] == ["contact.created"]
    assert receiver.bodies()[0]["data"]["contact"]["first_name"] == "Ann"


async def test_a_call_to_our_line_is_delivered_as_call_completed(
    sandbox: Sandbox, v2: httpx.AsyncClient, receiver: Receiver
) -> None:
    await subscribe(v2, ["call.completed"])
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as admin:
        answer = await admin.post("/_sandbox/calls", json={"from": AVA, "to": LINE, "duration": 42})
    assert answer.status_code == 200, answer.text
    await settle(sandbox)
    [call] = receiver.bodies()
    assert call["event_type"] == "call.completed"
    assert {k: call["data"][k] for k in ("from", "to", "status", "duration")} == {
        "from": AVA,
        "to": LINE,
        "status": "completed",
        "duration": 42,
    }


async def test_their_tapback_and_typing_reach_v2_as_v2_events(
    sandbox: Sandbox, v2: httpx.AsyncClient, receiver: Receiver
) -> None:
    """Ava types before she replies and leaves a love on what she read (the default cast)."""
    await subscribe(v2, ["reaction.received", "typing_indicator.received", "reaction.sent"])
    chat = await create_chat(v2, "How was the trip?")
    await settle(sandbox)
    kinds = [b["event_type"] for b in receiver.bodies()]
    assert "reaction.received" in kinds and "typing_indicator.received" in kinds and "reaction.sent" not in kinds
    tapback = next(b["data"] for b in receiver.bodies() if b["event_type"] == "reaction.received")
    assert (tapback["chat_id"], tapback["from_phone"], tapback["is_from_me"]) == (chat["id"], AVA, False)


async def test_v2_ids_survive_a_restart(tmp_path: Path) -> None:
    config = SandboxConfig(seed=9, db_path=str(tmp_path / "sandbox.db"))
    headers = {"X-LINQ-INTEGRATION-TOKEN": config.api_keys[0]}
    first = create_sandbox(config)
    async with httpx.AsyncClient(
        transport=SandboxTransport(first.app), base_url="http://sandbox.local/api/partner/v2", headers=headers
    ) as http:
        chat = await create_chat(http)
        contact = (await http.post("/contacts", json={"contact": {"first_name": "Ann"}})).json()["data"]
    second = create_sandbox(config)
    async with httpx.AsyncClient(
        transport=SandboxTransport(second.app), base_url="http://sandbox.local/api/partner/v2", headers=headers
    ) as http:
        got_chat = await http.get(f"/chats/{chat['id']}")
        got_contact = await http.get(f"/contacts/{contact['id']}")
        another = (await http.post("/contacts", json={"contact": {"first_name": "Bo"}})).json()["data"]
    assert got_chat.status_code == got_contact.status_code == 200
    assert another["id"] == contact["id"] + 1
