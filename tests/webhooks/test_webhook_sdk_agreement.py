"""Our verifier and the official SDK (linq-python ``webhooks.unwrap``) agree on signatures."""

from __future__ import annotations

import datetime as dt

import pytest
import standardwebhooks
from linq import LinqAPIV3
from webhook_helpers import OLD_SECRET, SECRET, body_of, load_fixture, standard_headers

from linq_mcp.webhooks import WebhookVerificationError
from linq_mcp.webhooks.verify import verify


@pytest.fixture
def sdk() -> LinqAPIV3:
    return LinqAPIV3(api_key="test-only", webhook_secret=SECRET, base_url="http://127.0.0.1:9/never-called")


@pytest.mark.parametrize(
    "name", ["message.received.v2026", "reaction.added.v2026", "phone_number.status_updated.v2026"]
)
def test_delivery_we_sign_is_accepted_by_the_sdk_and_by_us(sdk: LinqAPIV3, name: str) -> None:
    body = body_of(load_fixture(name))
    headers = standard_headers(body)
    event = sdk.webhooks.unwrap(body.decode(), headers=headers)
    assert event.event_type == name.rsplit(".", 1)[0]
    assert verify(body, headers, [SECRET]).scheme == "standard"


def test_delivery_signed_by_standardwebhooks_is_accepted_by_us() -> None:
    body = body_of(load_fixture("message.sent.v2026"))
    now = dt.datetime.now(dt.UTC)
    signature = standardwebhooks.Webhook(SECRET).sign("msg_sdk", now, body.decode())
    headers = {"webhook-id": "msg_sdk", "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    assert verify(body, headers, [SECRET]).webhook_id == "msg_sdk"


def test_tampered_delivery_is_refused_by_both(sdk: LinqAPIV3) -> None:
    body = body_of(load_fixture("message.received.v2026"))
    headers = standard_headers(body)
    tampered = body.replace(b"Hello!", b"Hellp!")
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        sdk.webhooks.unwrap(tampered.decode(), headers=headers)
    with pytest.raises(WebhookVerificationError):
        verify(tampered, headers, [SECRET])


def test_wrong_secret_is_refused_by_both(sdk: LinqAPIV3) -> None:
    body = body_of(load_fixture("message.received.v2026"))
    headers = standard_headers(body, secret=OLD_SECRET)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        sdk.webhooks.unwrap(body.decode(), headers=headers)
    with pytest.raises(WebhookVerificationError):
        verify(body, headers, [SECRET])
