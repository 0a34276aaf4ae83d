"""Payments, simulated: payment requests, handle connections, agent payments, providers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import linq
import pytest
from linq.types import (
    Payment,
    PaymentCredentialsResponse,
    PaymentHandleConnection,
    PaymentProvider,
    PaymentProviderConnectResponse,
    PaymentRequest,
    PaymentRequestListResponse,
)

from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

CUSTOMER = "+15551230001"


@pytest.fixture
async def web(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=SandboxTransport(sandbox.app)) as client:
        yield client


async def _request(sdk: Any, **params: Any) -> dict[str, Any]:
    params = {"amount": 1500, "currency": "usd", **params}
    raw = await sdk.payment_requests.with_raw_response.create(**params)
    body: dict[str, Any] = raw.http_response.json()
    PaymentRequest.model_validate(body)
    return body


async def _connect(sdk: Any, sandbox: Sandbox, handle: str = CUSTOMER) -> None:
    started = await sdk.payment_handles.connect(handle)
    code = sandbox.world.payment_handles[handle]["_otp"]
    await sdk.payment_handles.verify(handle, code=code, connect_id=started.connect_id)


# payment requests -----------------------------------------------------------------------------
async def test_payment_request_starts_requested(sdk: Any) -> None:
    body = await _request(sdk, description="Haircut", metadata={"chat_id": "c1"})
    assert body["status"] == "requested"
    assert body["object"] == "payment_request"
    assert body["mode"] == "payment"
    assert body["metadata"] == {"chat_id": "c1"}


async def test_paying_at_checkout_succeeds_and_emits(sdk: Any, sandbox: Sandbox, web: httpx.AsyncClient) -> None:
    body = await _request(sdk)
    paid = await web.post(body["checkout_url"])
    assert paid.status_code == 200
    got = await sdk.payment_requests.retrieve(body["id"])
    assert got.status == "succeeded" and got.paid_at is not None
    event = sandbox.world.events[-1]
    assert (event.event_type, event.data["id"], event.data["status"]) == ("payment.succeeded", body["id"], "succeeded")


async def test_cancel_moves_requested_to_canceled(sdk: Any, sandbox: Sandbox) -> None:
    body = await _request(sdk)
    raw = await sdk.payment_requests.with_raw_response.cancel(body["id"])
    PaymentRequest.model_validate(raw.http_response.json())
    assert raw.http_response.json()["status"] == "canceled"
    assert sandbox.world.events[-1].event_type == "payment.canceled"


async def test_cancel_after_payment_is_409(sdk: Any, web: httpx.AsyncClient) -> None:
    body = await _request(sdk)
    await web.post(body["checkout_url"])
    with pytest.raises(linq.ConflictError):
        await sdk.payment_requests.cancel(body["id"])


async def test_unpaid_request_expires_after_a_day(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    body = await _request(sdk)
    sandbox.world.clock.advance(24 * 3600)
    assert (await sdk.payment_requests.retrieve(body["id"])).status == "expired"


async def test_idempotency_key_replays_the_original_request(sdk: Any, sandbox: Sandbox) -> None:
    first = await _request(sdk, idempotency_key="order-1")
    second = await _request(sdk, idempotency_key="order-1", amount=9999)
    assert second == first
    assert len(sandbox.world.payment_requests) == 1


async def test_unknown_payment_request_is_404_2021(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError) as exc:
        await sdk.payment_requests.retrieve("00000000-0000-4000-8000-000000000000")
    assert exc.value.body["code"] == 2021  # type: ignore[index]


async def test_amount_below_minimum_is_1005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.payment_requests.create(amount=49, currency="usd")
    assert exc.value.body["code"] == 1005  # type: ignore[index]


async def test_non_usd_currency_is_1005(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.payment_requests.create(amount=500, currency="eur")


async def test_payment_mode_without_amount_is_1001(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.payment_requests.create(currency="usd")
    assert exc.value.body["code"] == 1001  # type: ignore[index]


async def test_subscription_mode_prices_the_first_invoice(sdk: Any) -> None:
    body = await _request(
        sdk, amount=None, currency=None, mode="subscription", price_id="price_123", quantity=2, discount={"coupon": "c"}
    )
    assert (body["amount"], body["interval"], body["quantity"]) == (2500, "month", 2)
    assert body["stripe"]["customer_id"].startswith("cus_")


async def test_subscription_mode_rejects_an_amount(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.payment_requests.create(mode="subscription", price_id="price_1", amount=500)


async def test_natural_rail_needs_from_and_payer(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError) as exc:
        await sdk.payment_requests.create(amount=500, currency="usd", rail="natural")
    assert exc.value.body["code"] == 1001  # type: ignore[index]


async def test_reserved_metadata_key_is_rejected(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.payment_requests.create(amount=500, currency="usd", metadata={"linq_x": "1"})


async def test_list_is_newest_first_with_offset_paging(sdk: Any) -> None:
    ids = [(await _request(sdk))["id"] for _ in range(3)]
    raw = await sdk.payment_requests.with_raw_response.list(limit=2)
    page = raw.http_response.json()
    PaymentRequestListResponse.model_validate(page)
    assert [r["id"] for r in page["data"]] == [ids[2], ids[1]]
    assert page["has_more"] is True
    rest = await sdk.payment_requests.list(limit=2, offset=2)
    assert [r.id for r in rest.data] == [ids[0]] and rest.has_more is False


async def test_list_filters_by_status(sdk: Any) -> None:
    keep = await _request(sdk)
    gone = await _request(sdk)
    await sdk.payment_requests.cancel(gone["id"])
    listed = await sdk.payment_requests.list(status="requested")
    assert [r.id for r in listed.data] == [keep["id"]]


# handle connections ---------------------------------------------------------------------------
async def test_unknown_handle_is_not_connected(sdk: Any) -> None:
    raw = await sdk.payment_handles.with_raw_response.connection(CUSTOMER)
    body = raw.http_response.json()
    PaymentHandleConnection.model_validate(body)
    assert body == {"handle": CUSTOMER, "status": "not_connected"}


async def test_connect_then_verify_with_the_code(sdk: Any, sandbox: Sandbox) -> None:
    started = await sdk.payment_handles.with_raw_response.connect(CUSTOMER)
    body = started.http_response.json()
    assert body["status"] == "pending" and body["connect_id"]
    code = sandbox.world.payment_handles[CUSTOMER]["_otp"]
    verified = await sdk.payment_handles.verify(CUSTOMER, code=code, connect_id=body["connect_id"])
    assert verified.status == "connected"
    assert sandbox.world.events[-1].event_type == "connection.created"


async def test_wrong_code_is_rejected(sdk: Any) -> None:
    started = await sdk.payment_handles.connect(CUSTOMER)
    with pytest.raises(linq.BadRequestError):
        await sdk.payment_handles.verify(CUSTOMER, code="not-it", connect_id=started.connect_id)


async def test_revoke_ends_the_connection(sdk: Any, sandbox: Sandbox) -> None:
    await _connect(sdk, sandbox)
    revoked = await sdk.payment_handles.revoke(CUSTOMER)
    assert revoked.status == "revoked"
    assert sandbox.world.events[-1].event_type == "connection.revoked"


# agent payments -------------------------------------------------------------------------------
async def test_payment_for_an_unconnected_handle_needs_connection(sdk: Any) -> None:
    raw = await sdk.payments.with_raw_response.create(amount_cents=1200, currency="usd", handle=CUSTOMER)
    body = raw.http_response.json()
    Payment.model_validate(body)
    assert body["status"] == "needs_connection"
    assert "id" not in body


async def test_full_agent_payment_flow(sdk: Any, sandbox: Sandbox, web: httpx.AsyncClient) -> None:
    world = sandbox.world
    world.clock.freeze()
    await _connect(sdk, sandbox)
    key = {"Idempotency-Key": "buy-1"}
    first = await sdk.payments.create(amount_cents=1200, currency="usd", handle=CUSTOMER, extra_headers=key)
    assert first.status == "awaiting_user_action" and first.attach_url and first.id
    assert (await web.get(first.attach_url)).status_code == 200
    second = await sdk.payments.create(amount_cents=1200, currency="usd", handle=CUSTOMER, extra_headers=key)
    assert second.id == first.id and second.approval_url
    assert (await web.post(second.approval_url)).status_code == 200
    assert (await sdk.payments.retrieve(first.id)).status == "ready"
    raw = await sdk.payments.with_raw_response.credentials(first.id)
    creds = raw.http_response.json()
    PaymentCredentialsResponse.model_validate(creds)
    card = await web.get(
        creds["handoff"]["fetch_url"], headers={"Authorization": f"Bearer {creds['handoff']['user_token']}"}
    )
    assert card.json()["number"] == "4242424242424242"
    world.clock.advance(1)
    assert (await sdk.payments.retrieve(first.id)).status == "authorized"
    world.clock.advance(1)
    assert (await sdk.payments.retrieve(first.id)).status == "succeeded"
    assert [e.event_type for e in world.events[-2:]] == ["payment.authorized", "payment.succeeded"]


async def test_credentials_before_ready_is_409(sdk: Any, sandbox: Sandbox) -> None:
    await _connect(sdk, sandbox)
    payment = await sdk.payments.create(amount_cents=1200, currency="usd", handle=CUSTOMER)
    with pytest.raises(linq.ConflictError):
        await sdk.payments.credentials(payment.id)


async def test_cancel_payment(sdk: Any, sandbox: Sandbox) -> None:
    await _connect(sdk, sandbox)
    payment = await sdk.payments.create(amount_cents=1200, currency="usd", handle=CUSTOMER)
    canceled = await sdk.payments.cancel(payment.id)
    assert canceled.status == "canceled"
    assert sandbox.world.events[-1].event_type == "payment.canceled"


async def test_large_payment_is_declined(sdk: Any, sandbox: Sandbox) -> None:
    await _connect(sdk, sandbox)
    payment = await sdk.payments.create(amount_cents=1_000_000, currency="usd", handle=CUSTOMER)
    assert payment.status == "declined"


async def test_payment_with_bad_handle_is_400(sdk: Any) -> None:
    with pytest.raises(linq.BadRequestError):
        await sdk.payments.create(amount_cents=1200, currency="usd", handle="nobody")


# providers --------------------------------------------------------------------------------------
async def test_provider_status_validates(sdk: Any) -> None:
    raw = await sdk.payment_providers.with_raw_response.retrieve("stripe")
    body = raw.http_response.json()
    PaymentProvider.model_validate(body)
    assert body == {"provider": "stripe", "status": "ready"}


async def test_natural_rail_needs_an_onboarded_provider(sdk: Any) -> None:
    with pytest.raises(linq.PermissionDeniedError):
        await sdk.payment_requests.create(
            amount=500, currency="usd", rail="natural", from_="+15550100001", payer_handle=CUSTOMER
        )


async def test_provider_onboarding_turns_ready(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    raw = await sdk.payment_providers.with_raw_response.connect("natural", return_url="https://app.example.com/done")
    body = raw.http_response.json()
    PaymentProviderConnectResponse.model_validate(body)
    assert body["status"] == "onboarding"
    sandbox.world.clock.advance(sandbox.world.config.timing.provider_onboarding)
    assert (await sdk.payment_providers.retrieve("natural")).status == "ready"


async def test_opening_the_hosted_url_completes_onboarding(sdk: Any, web: httpx.AsyncClient) -> None:
    session = await sdk.payment_providers.connect("natural", return_url="https://app.example.com/done")
    resp = await web.get(session.hosted_url)
    assert resp.status_code == 302 and resp.headers["location"] == "https://app.example.com/done"
    assert (await sdk.payment_providers.retrieve("natural")).status == "ready"


async def test_unknown_provider_is_404(sdk: Any) -> None:
    with pytest.raises(linq.NotFoundError):
        await sdk.payment_providers.retrieve("paypal")
