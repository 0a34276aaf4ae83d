"""Signed webhook delivery: verified by the SDK's ``unwrap``, versions, filters and retries."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import anyio
import httpx
import pytest
from linq.types import (
    MessageReceivedWebhookEvent,
    PaymentCanceledWebhookEvent,
    WebhookSubscriptionCreatedWebhookEvent,
)
from standardwebhooks import WebhookVerificationError

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.webhooks import delivery_log, dispatcher_of

LINE = "+15550100001"
OTHER_LINE = "+15550100002"
URL = "https://receiver.example.com/hook"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    config = SandboxConfig(seed=1234)
    config.webhooks.retry_schedule = [0, 2, 4]
    config.webhooks.timeout = 0.5
    return config


class Receiver:
    """An in-process webhook endpoint answering scripted statuses (then 200)."""

    def __init__(self, statuses: list[int | Exception] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        outcome = self.statuses.pop(0) if self.statuses else 200
        if isinstance(outcome, Exception):
            raise outcome
        return httpx.Response(outcome, headers={"X-Route": "tok-1"})

    def body(self, i: int = -1) -> str:
        return self.requests[i].content.decode()

    def headers(self, i: int = -1) -> dict[str, str]:
        return dict(self.requests[i].headers)


def _data_2026(chat_id: str = "chat-1") -> dict[str, Any]:
    handle = {
        "id": "h-1",
        "handle": "+15551230001",
        "joined_at": "2026-01-01T00:00:00.000Z",
        "service": "iMessage",
    }
    owner = {**handle, "id": "h-0", "handle": LINE, "is_me": True}
    return {
        "id": "msg-1",
        "chat": {
            "id": chat_id,
            "is_group": False,
            "owner_handle": owner,
            "health_status": {
                "status": "HEALTHY",
                "doc_url": "https://docs.linqapp.com",
                "updated_at": "2026-01-01T00:00:00Z",
            },
        },
        "direction": "inbound",
        "sender_handle": handle,
        "parts": [{"type": "text", "value": "hi"}],
        "service": "iMessage",
        "sent_at": "2026-01-01T00:00:00.000Z",
    }


DATA_2025 = {"chat_id": "chat-1", "is_from_me": False, "message": {"id": "msg-1", "parts": []}}


async def _subscribe(sdk: Any, url: str = URL, **params: Any) -> dict[str, Any]:
    params.setdefault("subscribed_events", ["message.received", "message.edited"])
    raw = await sdk.webhook_subscriptions.with_raw_response.create(target_url=url, **params)
    body: dict[str, Any] = raw.http_response.json()
    return body


async def _emit(sandbox: Sandbox, event_type: str = "message.received", phone: str = LINE) -> str:
    event = await sandbox.world.emit(event_type, _data_2026(), data_v2025=DATA_2025, phone_number=phone)
    await sandbox.world.scheduler.run_due()
    return event.event_id


@pytest.fixture
def receiver(sandbox: Sandbox) -> Receiver:
    rx = Receiver()
    sandbox.webhook_transport = httpx.MockTransport(rx)
    return rx


async def test_delivery_verifies_with_the_sdk_unwrap(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    sub = await _subscribe(sdk)
    event_id = await _emit(sandbox)
    event = sdk.webhooks.unwrap(receiver.body(), headers=receiver.headers(), key=sub["signing_secret"])
    assert event.event_id == event_id
    assert event.event_type == "message.received"


async def test_delivery_envelope_validates_as_the_sdk_event(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk)
    await _emit(sandbox)
    body = json.loads(receiver.body())
    MessageReceivedWebhookEvent.model_validate(body)
    assert body["api_version"] == "v3"
    assert body["partner_id"] == sandbox.world.config.partner_id
    assert len(body["trace_id"]) == 32


async def test_tampered_body_fails_verification(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    sub = await _subscribe(sdk)
    await _emit(sandbox)
    tampered = receiver.body().replace('"hi"', '"HI"')
    with pytest.raises(WebhookVerificationError):
        sdk.webhooks.unwrap(tampered, headers=receiver.headers(), key=sub["signing_secret"])


async def test_wrong_secret_fails_verification(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk)
    other = await _subscribe(sdk, url=URL + "?other=1", subscribed_events=["message.sent"])
    await _emit(sandbox)
    with pytest.raises(WebhookVerificationError):
        sdk.webhooks.unwrap(receiver.body(), headers=receiver.headers(), key=other["signing_secret"])


async def test_webhook_id_is_the_event_id(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk)
    event_id = await _emit(sandbox)
    assert receiver.headers()["webhook-id"] == event_id


async def test_legacy_signature_is_hex_hmac_keyed_with_the_full_secret(
    sdk: Any, sandbox: Sandbox, receiver: Receiver
) -> None:
    sub = await _subscribe(sdk)
    await _emit(sandbox)
    headers = receiver.headers()
    ts = headers["x-webhook-timestamp"]
    expected = hmac.new(sub["signing_secret"].encode(), f"{ts}.{receiver.body()}".encode(), hashlib.sha256)
    assert headers["x-webhook-signature"] == expected.hexdigest()
    assert headers["x-webhook-event"] == "message.received"
    assert headers["x-webhook-subscription-id"] == sub["id"]
    assert ts == headers["webhook-timestamp"]


async def test_version_2025_subscription_gets_the_2025_payload(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk, url=URL + "?version=2025-01-01")
    await _emit(sandbox)
    body = json.loads(receiver.body())
    assert body["webhook_version"] == "2025-01-01"
    assert body["data"] == DATA_2025


async def test_subscription_without_version_gets_2026_02_03(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk)
    await _emit(sandbox)
    body = json.loads(receiver.body())
    assert body["webhook_version"] == "2026-02-03"
    assert body["data"]["direction"] == "inbound"


async def test_message_edited_is_not_sent_to_2025_subscriptions(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk, url=URL + "?version=2025-01-01")
    await _emit(sandbox, "message.edited")
    assert receiver.requests == []


async def test_message_edited_is_sent_to_2026_subscriptions(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk, url=URL + "?version=2026-02-03")
    await _emit(sandbox, "message.edited")
    assert len(receiver.requests) == 1


async def test_phone_number_filter_skips_other_lines(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk, phone_numbers=[OTHER_LINE])
    await _emit(sandbox, phone=LINE)
    assert receiver.requests == []
    await _emit(sandbox, phone=OTHER_LINE)
    assert len(receiver.requests) == 1


async def test_unsubscribed_event_type_is_not_sent(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk, subscribed_events=["message.sent"])
    await _emit(sandbox, "message.received")
    assert receiver.requests == []


async def test_paused_subscription_receives_nothing(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    sub = await _subscribe(sdk)
    await sdk.webhook_subscriptions.update(sub["id"], is_active=False)
    await _emit(sandbox)
    assert receiver.requests == []


async def test_500_is_retried_on_the_schedule_then_delivered(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    world = sandbox.world
    world.clock.freeze()
    await _subscribe(sdk)
    receiver.statuses = [500]
    event_id = await _emit(sandbox)
    assert len(receiver.requests) == 1
    world.clock.advance(1.9)
    await world.scheduler.run_due()
    assert len(receiver.requests) == 1
    world.clock.advance(0.1)
    await world.scheduler.run_due()
    assert len(receiver.requests) == 2
    assert receiver.headers(0)["webhook-id"] == receiver.headers(1)["webhook-id"] == event_id
    outcomes = [a["outcome"] for a in delivery_log(world, event_id=event_id)["attempts"]]
    assert outcomes == ["retry", "delivered"]


async def test_retries_are_per_subscription(sdk: Any, sandbox: Sandbox) -> None:
    """C.5: a failing endpoint is retried on its own; a healthy one gets the event once."""
    world = sandbox.world
    world.clock.freeze()
    failing_url = "https://down.example.com/hook"
    seen: list[str] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(500 if str(request.url) == failing_url else 200)

    sandbox.webhook_transport = httpx.MockTransport(endpoint)
    await _subscribe(sdk)
    await _subscribe(sdk, failing_url)
    await _emit(sandbox)
    world.clock.advance(2)
    await world.scheduler.run_due()
    assert (seen.count(URL), seen.count(failing_url)) == (1, 2)


async def test_400_is_not_retried(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    world = sandbox.world
    world.clock.freeze()
    await _subscribe(sdk)
    receiver.statuses = [400]
    await _emit(sandbox)
    world.clock.advance(60)
    await world.scheduler.run_due()
    assert len(receiver.requests) == 1
    assert world.webhook_attempts[-1]["outcome"] == "rejected"


async def test_429_is_retried(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.world.clock.freeze()
    await _subscribe(sdk)
    receiver.statuses = [429]
    await _emit(sandbox)
    sandbox.world.clock.advance(2)
    await sandbox.world.scheduler.run_due()
    assert len(receiver.requests) == 2


async def test_connection_error_is_retried(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    sandbox.world.clock.freeze()
    await _subscribe(sdk)
    receiver.statuses = [httpx.ConnectError("refused")]
    await _emit(sandbox)
    assert sandbox.world.webhook_attempts[-1]["error"].startswith("connection error")
    sandbox.world.clock.advance(2)
    await sandbox.world.scheduler.run_due()
    assert sandbox.world.webhook_attempts[-1]["outcome"] == "delivered"


async def test_event_is_dropped_after_the_last_attempt(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    world = sandbox.world
    world.clock.freeze()
    await _subscribe(sdk)
    receiver.statuses = [503, 503, 503, 503]
    await _emit(sandbox)
    for _ in range(5):
        world.clock.advance(4)
        await world.scheduler.run_due()
    assert len(receiver.requests) == 3  # retry_schedule [0, 2, 4] = three attempts
    assert world.webhook_attempts[-1]["outcome"] == "dropped"
    assert world.stats["webhook.dropped"] == 1


async def test_slow_receiver_times_out_and_is_retried(sdk: Any, sandbox: Sandbox) -> None:
    calls: list[int] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            await anyio.sleep(5)
        return httpx.Response(200)

    sandbox.webhook_transport = httpx.MockTransport(slow)
    sandbox.world.clock.freeze()
    await _subscribe(sdk)
    await _emit(sandbox)
    assert sandbox.world.webhook_attempts[-1]["error"].startswith("timeout")
    sandbox.world.clock.advance(2)
    await sandbox.world.scheduler.run_due()
    assert sandbox.world.webhook_attempts[-1]["outcome"] == "delivered"


async def test_delivery_does_not_block_the_request_that_caused_it(sdk: Any, sandbox: Sandbox) -> None:
    release = anyio.Event()
    received = anyio.Event()

    async def blocked(request: httpx.Request) -> httpx.Response:
        received.set()
        await release.wait()
        return httpx.Response(200)

    sandbox.webhook_transport = httpx.MockTransport(blocked)
    async with sandbox.running():
        with anyio.fail_after(3):
            await _subscribe(sdk, subscribed_events=["webhook_subscription.created"])
            await received.wait()  # the delivery of its own creation event is now stuck in the receiver
            listed = await sdk.webhook_subscriptions.list()
            assert len(listed.subscriptions) == 1
            ticked = anyio.Event()
            sandbox.world.scheduler.call_later(0, ticked.set)
            await ticked.wait()  # the world's timers still run
            release.set()
            dispatcher = dispatcher_of(sandbox.world)
            assert dispatcher is not None
            await dispatcher.wait_idle()
    assert sandbox.world.webhook_attempts[-1]["outcome"] == "delivered"


async def test_routing_token_from_a_2xx_is_sent_back_next_time(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    await _subscribe(sdk, routing_key_header="X-Route")
    await _emit(sandbox)
    await _emit(sandbox)
    assert receiver.headers(0)["linq-chat-id"] == "chat-1"
    assert "x-route" not in receiver.headers(0)
    assert receiver.headers(1)["x-route"] == "tok-1"


async def test_delivery_log_counts_attempts(sdk: Any, sandbox: Sandbox, receiver: Receiver) -> None:
    sub = await _subscribe(sdk)
    await _emit(sandbox)
    log = delivery_log(sandbox.world, subscription_id=sub["id"])
    assert [a["status"] for a in log["attempts"]] == [200]
    assert log["stats"]["delivered"] == 1


async def test_admin_api_serves_the_delivery_log(
    sdk: Any, sandbox: Sandbox, receiver: Receiver, http: httpx.AsyncClient
) -> None:
    sub = await _subscribe(sdk)
    event_id = await _emit(sandbox)
    resp = await http.get(
        "http://sandbox.local/_sandbox/webhook-deliveries", params={"subscription_id": sub["id"], "limit": "5"}
    )
    assert resp.status_code == 200
    attempts = resp.json()["attempts"]
    assert [(a["event_id"], a["outcome"], a["attempt"]) for a in attempts] == [(event_id, "delivered", 1)]


async def test_account_event_delivery_validates_as_the_sdk_event(
    sdk: Any, sandbox: Sandbox, receiver: Receiver
) -> None:
    sub = await _subscribe(sdk, subscribed_events=["webhook_subscription.created"])
    await sandbox.world.scheduler.run_due()
    body = json.loads(receiver.body())
    WebhookSubscriptionCreatedWebhookEvent.model_validate(body)
    assert body["data"]["webhook_subscription"]["id"] == sub["id"]
    assert body["data"]["actor"] == {"type": "api"}


async def test_payment_event_delivery_validates_as_the_sdk_event(
    sdk: Any, sandbox: Sandbox, receiver: Receiver
) -> None:
    await _subscribe(sdk, subscribed_events=["payment.canceled"])
    request = await sdk.payment_requests.create(amount=500, currency="usd")
    await sdk.payment_requests.cancel(request.id)
    await sandbox.world.scheduler.run_due()
    body = json.loads(receiver.body())
    PaymentCanceledWebhookEvent.model_validate(body)
    assert (body["event_type"], body["data"]["id"], body["data"]["status"]) == (
        "payment.canceled",
        request.id,
        "canceled",
    )
