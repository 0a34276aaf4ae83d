"""Legacy V2 deliveries at the receiver: ``X-Webhook-Signature: sha256=<hex>`` over the raw
body with the subscription's own secret; forged, tampered or wrongly keyed ones store
nothing; accepted ones become the same normalised events as V3's."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from webhook_helpers import PATH, SECRET

from linq_mcp.webhooks import EventStore, create_receiver_app, sign_v2
from linq_mcp.webhooks.events import facts

V2_SECRET = "my-own-v2-secret-0123456789"
LINE = "+15550100001"
AVA = "+15551230001"


@pytest.fixture
async def v2_client(store: EventStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_receiver_app(store, [SECRET, V2_SECRET], path=PATH)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as c:
        yield c


def v2_envelope(event_type: str, data: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {
        "api_version": "v2",
        "created_at": "2026-12-01T10:31:00Z",
        "data": data,
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
    }


def reply(text: str = "Thanks! This is my reply.", event_id: str | None = None) -> dict[str, Any]:
    return v2_envelope(
        "message.received",
        {
            "chat": {"id": 12345, "display_name": "+1 (555) 123-0001", "service": "iMessage", "group": False},
            "message": {
                "id": 67891,
                "text": text,
                "sent_at": "2026-12-01T10:31:00Z",
                "sent_from": AVA,
                "chat_id": 12345,
            },
        },
        event_id,
    )


async def post(client: httpx.AsyncClient, payload: dict[str, Any], *, secret: str = V2_SECRET) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await client.post(PATH, content=body, headers={"X-Webhook-Signature": sign_v2(secret, body)})


async def test_a_signed_v2_reply_is_stored_as_the_same_message_event(
    v2_client: httpx.AsyncClient, store: EventStore
) -> None:
    assert (await post(v2_client, reply())).status_code == 200
    [event] = (await store.list()).events
    assert (event.event_type, event.direction, event.sender, event.chat_id) == (
        "message.received",
        "inbound",
        AVA,
        "12345",
    )
    assert event.text == "Thanks! This is my reply." and event.message_id == "67891"
    assert event.webhook_version == "v2"


async def test_an_unsigned_v2_delivery_is_refused_and_stores_nothing(
    v2_client: httpx.AsyncClient, store: EventStore
) -> None:
    response = await v2_client.post(PATH, content=json.dumps(reply()).encode())
    assert response.status_code == 401
    assert (await store.list()).events == []


async def test_a_tampered_v2_body_is_refused_and_stores_nothing(
    v2_client: httpx.AsyncClient, store: EventStore
) -> None:
    body = json.dumps(reply("Meet at 5")).encode()
    signature = sign_v2(V2_SECRET, body)
    forged = body.replace(b"Meet at 5", b"Meet at 6")
    response = await v2_client.post(PATH, content=forged, headers={"X-Webhook-Signature": signature})
    assert response.status_code == 401
    assert (await store.list()).events == []


async def test_a_v2_delivery_signed_with_another_secret_is_refused(
    v2_client: httpx.AsyncClient, store: EventStore
) -> None:
    response = await post(v2_client, reply(), secret="somebody-elses-secret-000")
    assert response.status_code == 401 and response.json()["error"] == "bad_signature"
    assert (await store.list()).events == []


async def test_a_v2_signature_next_to_a_timestamp_is_checked_as_legacy_and_fails(
    v2_client: httpx.AsyncClient, store: EventStore
) -> None:
    """No downgrade: a delivery carrying V3's timestamp header is verified by V3's legacy rule only."""
    body = json.dumps(reply()).encode()
    headers = {"X-Webhook-Signature": sign_v2(V2_SECRET, body), "X-Webhook-Timestamp": "1796000000"}
    assert (await v2_client.post(PATH, content=body, headers=headers)).status_code == 401
    assert (await store.list()).events == []


async def test_a_duplicate_v2_event_id_is_stored_once(v2_client: httpx.AsyncClient, store: EventStore) -> None:
    event_id = str(uuid.uuid4())
    first = await post(v2_client, reply(event_id=event_id))
    again = await post(v2_client, reply(event_id=event_id))
    assert first.status_code == again.status_code == 200 and again.json()["duplicate"] is True
    assert len((await store.list()).events) == 1


async def test_a_v2_reaction_received_is_stored_as_their_reaction_added(
    v2_client: httpx.AsyncClient, store: EventStore
) -> None:
    data = {"id": 7001, "chat_message_id": 5001, "reaction": "love", "is_from_me": False, "from_phone": AVA}
    await post(v2_client, v2_envelope("reaction.received", {**data, "chat_id": 101, "operation": "add"}))
    [event] = (await store.list()).events
    assert (event.event_type, event.direction, event.sender, event.message_id) == (
        "reaction.added",
        "inbound",
        AVA,
        "5001",
    )
    assert event.reaction is not None and event.reaction.type == "love"


async def test_a_v2_typing_indicator_is_stored_as_chat_typing(v2_client: httpx.AsyncClient, store: EventStore) -> None:
    await post(v2_client, v2_envelope("typing_indicator.received", {"chat_id": 101, "phone_number": AVA}))
    [event] = (await store.list()).events
    assert (event.event_type, event.chat_id, event.sender) == ("chat.typing_indicator.started", "101", AVA)


async def test_a_v2_contact_created_event_shows_the_contact(v2_client: httpx.AsyncClient, store: EventStore) -> None:
    contact = {"id": 301, "first_name": "Ann", "last_name": "Lee", "phone_number": AVA, "created_at": "x"}
    await post(v2_client, v2_envelope("contact.created", {"contact": contact}))
    [event] = (await store.list()).events
    assert event.event_type == "contact.created"
    assert facts(event) == {"contact": {"id": 301, "first_name": "Ann", "last_name": "Lee", "phone_number": AVA}}


async def test_a_v2_call_completed_event_shows_the_call(v2_client: httpx.AsyncClient, store: EventStore) -> None:
    call = {"id": 9, "from": AVA, "to": LINE, "status": "completed", "duration": 42}
    await post(v2_client, v2_envelope("call.completed", call))
    [event] = (await store.list()).events
    assert (event.event_type, event.sender, event.our_line) == ("call.completed", AVA, LINE)
    assert facts(event) == {"call": call}
