"""Webhook subscription CRUD and the event-type list, checked against the official SDK models."""

from __future__ import annotations

import base64
import typing
from typing import Any

import httpx
import linq
import pytest
from linq.types import (
    WebhookEventListResponse,
    WebhookSubscription,
    WebhookSubscriptionCreateResponse,
    WebhookSubscriptionListResponse,
)
from linq.types.webhook_event_type import WebhookEventType

from linq_mcp.sandbox.app import Sandbox

URL = "https://hooks.example.com/linq"


async def _create(sdk: Any, **overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"target_url": URL, "subscribed_events": ["message.received"]}
    params.update(overrides)
    raw = await sdk.webhook_subscriptions.with_raw_response.create(**params)
    assert raw.http_response.status_code == 201
    data: dict[str, Any] = raw.http_response.json()
    return data


async def test_event_type_list_is_the_sdk_enum_and_validates(sdk: Any) -> None:
    raw = await sdk.webhook_events.with_raw_response.list()
    body = raw.http_response.json()
    WebhookEventListResponse.model_validate(body)
    assert body["events"] == list(typing.get_args(WebhookEventType))
    assert body["doc_url"] == "https://docs.linqapp.com/channel/imessage/guides/webhooks/events"


async def test_create_returns_201_with_a_whsec_secret_of_32_bytes(sdk: Any) -> None:
    body = await _create(sdk, phone_numbers=["+15550100001"])
    model = WebhookSubscriptionCreateResponse.model_validate(body)
    assert model.is_active is True
    assert model.phone_numbers == ["+15550100001"]
    assert body["signing_secret"].startswith("whsec_")
    assert len(base64.b64decode(body["signing_secret"].removeprefix("whsec_"))) == 32


async def test_secret_is_never_shown_again(sdk: Any) -> None:
    created = await _create(sdk)
    got = (await sdk.webhook_subscriptions.with_raw_response.retrieve(created["id"])).http_response.json()
    listed = (await sdk.webhook_subscriptions.with_raw_response.list()).http_response.json()
    WebhookSubscription.model_validate(got)
    WebhookSubscriptionListResponse.model_validate(listed)
    assert "signing_secret" not in got
    assert all("signing_secret" not in s for s in listed["subscriptions"])
    assert [s["id"] for s in listed["subscriptions"]] == [created["id"]]


async def test_secrets_differ_between_subscriptions(sdk: Any) -> None:
    a = await _create(sdk)
    b = await _create(sdk, target_url=URL + "?line=2")
    assert a["signing_secret"] != b["signing_secret"]


async def test_plain_http_target_is_rejected(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.webhook_subscriptions.create(
            target_url="http://hooks.example.com/x", subscribed_events=["message.sent"]
        )
    assert exc.value.body["code"] == 1005  # type: ignore[index]


async def test_plain_http_is_allowed_for_local_receivers(sdk: Any) -> None:
    body = await _create(sdk, target_url="http://127.0.0.1:8765/webhooks")
    assert body["target_url"] == "http://127.0.0.1:8765/webhooks"


async def test_target_url_is_unique_per_account(sdk: Any) -> None:
    await _create(sdk)
    with pytest.raises(linq.ConflictError):
        await sdk.webhook_subscriptions.create(target_url=URL, subscribed_events=["message.sent"])


async def test_unknown_event_type_is_rejected(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.webhook_subscriptions.create(target_url=URL, subscribed_events=["message.exploded"])
    assert exc.value.body["code"] == 1005  # type: ignore[index]


async def test_empty_event_list_is_rejected(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.webhook_subscriptions.create(target_url=URL, subscribed_events=[])


async def test_missing_target_url_is_1001(http: httpx.AsyncClient) -> None:
    resp = await http.post("/v3/webhook-subscriptions", json={"subscribed_events": ["message.sent"]})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 1001


async def test_phone_number_filter_must_be_e164(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.webhook_subscriptions.create(
            target_url=URL, subscribed_events=["message.sent"], phone_numbers=["5550100001"]
        )
    assert exc.value.body["code"] == 1002  # type: ignore[index]


async def test_unknown_version_query_is_rejected(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.webhook_subscriptions.create(
            target_url=URL + "?version=2024-01-01", subscribed_events=["message.sent"]
        )


async def test_update_is_partial(sdk: Any) -> None:
    created = await _create(sdk, phone_numbers=["+15550100001"])
    raw = await sdk.webhook_subscriptions.with_raw_response.update(created["id"], is_active=False)
    body = raw.http_response.json()
    WebhookSubscription.model_validate(body)
    assert body["is_active"] is False
    assert body["subscribed_events"] == ["message.received"]
    assert body["phone_numbers"] == ["+15550100001"]
    assert body["target_url"] == URL


async def test_update_with_empty_phone_numbers_clears_the_filter(sdk: Any) -> None:
    created = await _create(sdk, phone_numbers=["+15550100001"])
    updated = await sdk.webhook_subscriptions.update(created["id"], phone_numbers=[])
    assert not updated.phone_numbers


async def test_routing_id_header_defaults_when_affinity_is_on(sdk: Any) -> None:
    body = await _create(sdk, routing_key_header="X-Route-Token")
    assert body["routing_id_header"] == "Linq-Chat-Id"
    cleared = await sdk.webhook_subscriptions.update(body["id"], routing_key_header=None)
    assert cleared.routing_key_header is None and cleared.routing_id_header is None


async def test_unknown_subscription_is_404_2010(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.webhook_subscriptions.retrieve("00000000-0000-4000-8000-000000000000")
    assert exc.value.body["code"] == 2010  # type: ignore[index]


async def test_delete_answers_204_and_forgets(sdk: Any, sandbox: Sandbox) -> None:
    created = await _create(sdk)
    raw = await sdk.webhook_subscriptions.with_raw_response.delete(created["id"])
    assert raw.http_response.status_code == 204
    assert created["id"] not in sandbox.world.subscriptions
    with pytest.raises(linq.NotFoundError):
        await sdk.webhook_subscriptions.delete(created["id"])


async def test_creation_emits_an_account_event(sdk: Any, sandbox: Sandbox) -> None:
    created = await _create(sdk, target_url=URL + "?version=2026-02-03&token=abc")
    event = sandbox.world.events[-1]
    assert event.event_type == "webhook_subscription.created"
    assert event.data["webhook_subscription"] == {
        "id": created["id"],
        "target_url": URL,
        "events": ["message.received"],
    }
