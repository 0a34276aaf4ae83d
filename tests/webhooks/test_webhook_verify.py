"""Signature verification: both schemes, rotation, and every way a delivery can be refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest
from webhook_helpers import OLD_SECRET, SECRET, legacy_headers, standard_headers

from linq_mcp.webhooks import WebhookVerificationError
from linq_mcp.webhooks.verify import verify

BODY = b'{"event_id":"e1","event_type":"message.received","data":{}}'
NOW = 1_770_000_000


def reason_of(body: bytes, headers: dict[str, str], secrets: list[str], now: float = NOW) -> str:
    with pytest.raises(WebhookVerificationError) as info:
        verify(body, headers, secrets, now=now)
    return info.value.reason


def test_standard_signature_is_accepted() -> None:
    delivery = verify(BODY, standard_headers(BODY, webhook_id="msg_1", ts=NOW), [SECRET], now=NOW)
    assert (delivery.scheme, delivery.webhook_id, delivery.timestamp) == ("standard", "msg_1", NOW)


def test_standard_signature_matches_the_documented_recipe() -> None:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, b"msg_1.%d." % NOW + BODY, hashlib.sha256).digest()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(NOW),
        "webhook-signature": "v1," + base64.b64encode(mac).decode(),
    }
    assert verify(BODY, headers, [SECRET], now=NOW).scheme == "standard"


def test_one_good_entry_among_several_signatures_is_enough() -> None:
    headers = standard_headers(BODY, ts=NOW)
    headers["webhook-signature"] = "v1,AAAA v2,zzz " + headers["webhook-signature"]
    assert verify(BODY, headers, [SECRET], now=NOW).scheme == "standard"


def test_header_names_are_case_insensitive() -> None:
    headers = {k.upper(): v for k, v in standard_headers(BODY, ts=NOW).items()}
    assert verify(BODY, headers, [SECRET], now=NOW).scheme == "standard"


def test_legacy_signature_with_utf8_key_is_accepted() -> None:
    delivery = verify(BODY, legacy_headers(BODY, ts=NOW), [SECRET], now=NOW)
    assert (delivery.scheme, delivery.legacy_key_form, delivery.webhook_id) == ("legacy", "utf8", None)


def test_legacy_signature_with_decoded_whsec_key_is_accepted() -> None:
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    sig = hmac.new(key, b"%d." % NOW + BODY, hashlib.sha256).hexdigest()
    headers = {"X-Webhook-Timestamp": str(NOW), "X-Webhook-Signature": sig}
    assert verify(BODY, headers, [SECRET], now=NOW).legacy_key_form == "whsec_decoded"


def test_standard_scheme_is_preferred_when_both_are_present() -> None:
    headers = {**legacy_headers(BODY, ts=NOW), **standard_headers(BODY, ts=NOW)}
    assert verify(BODY, headers, [SECRET], now=NOW).scheme == "standard"


def test_bad_standard_signature_does_not_fall_back_to_legacy() -> None:
    headers = {**legacy_headers(BODY, ts=NOW), **standard_headers(BODY, ts=NOW, secret=OLD_SECRET)}
    assert reason_of(BODY, headers, [SECRET]) == "bad_signature"


def test_any_of_several_secrets_verifies_during_rotation() -> None:
    delivery = verify(BODY, standard_headers(BODY, ts=NOW, secret=OLD_SECRET), [SECRET, OLD_SECRET], now=NOW)
    assert delivery.secret_index == 1


def test_legacy_rotation_reports_the_matching_secret() -> None:
    assert (
        verify(BODY, legacy_headers(BODY, ts=NOW, secret=OLD_SECRET), [SECRET, OLD_SECRET], now=NOW).secret_index == 1
    )


def test_missing_headers_are_refused() -> None:
    assert reason_of(BODY, {"content-type": "application/json"}, [SECRET]) == "missing_headers"


def test_incomplete_standard_headers_are_refused() -> None:
    headers = standard_headers(BODY, ts=NOW)
    del headers["webhook-signature"]
    assert reason_of(BODY, headers, [SECRET]) == "missing_headers"


def test_malformed_timestamp_is_refused() -> None:
    headers = standard_headers(BODY, ts=NOW)
    headers["webhook-timestamp"] = "yesterday"
    assert reason_of(BODY, headers, [SECRET]) == "missing_headers"


def test_tampered_body_is_refused() -> None:
    headers = standard_headers(BODY, ts=NOW)
    assert reason_of(BODY.replace(b"e1", b"e2"), headers, [SECRET]) == "bad_signature"


def test_tampered_legacy_body_is_refused() -> None:
    headers = legacy_headers(BODY, ts=NOW)
    assert reason_of(BODY + b" ", headers, [SECRET]) == "bad_signature"


def test_wrong_secret_is_refused() -> None:
    assert reason_of(BODY, standard_headers(BODY, ts=NOW, secret=OLD_SECRET), [SECRET]) == "bad_signature"


def test_signature_bound_to_webhook_id() -> None:
    headers = standard_headers(BODY, ts=NOW, webhook_id="msg_1")
    headers["webhook-id"] = "msg_2"
    assert reason_of(BODY, headers, [SECRET]) == "bad_signature"


def test_stale_timestamp_is_refused() -> None:
    assert reason_of(BODY, standard_headers(BODY, ts=NOW - 301), [SECRET]) == "stale_timestamp"


def test_future_timestamp_is_refused() -> None:
    assert reason_of(BODY, standard_headers(BODY, ts=NOW + 301), [SECRET]) == "stale_timestamp"


def test_stale_legacy_timestamp_is_refused() -> None:
    assert reason_of(BODY, legacy_headers(BODY, ts=NOW - 600), [SECRET]) == "stale_timestamp"


def test_timestamp_at_the_tolerance_edge_is_accepted() -> None:
    assert verify(BODY, standard_headers(BODY, ts=NOW - 300), [SECRET], now=NOW).timestamp == NOW - 300


def test_no_secret_configured_is_refused() -> None:
    assert reason_of(BODY, standard_headers(BODY, ts=NOW), []) == "no_secret"


def test_default_clock_is_now() -> None:
    assert verify(BODY, standard_headers(BODY, ts=int(time.time())), [SECRET]).scheme == "standard"


def test_error_message_never_contains_the_secret_or_signature() -> None:
    headers = standard_headers(BODY, ts=NOW, secret=OLD_SECRET)
    with pytest.raises(WebhookVerificationError) as info:
        verify(BODY, headers, [SECRET], now=NOW)
    text = str(info.value) + repr(info.value)
    assert SECRET not in text and headers["webhook-signature"][3:] not in text
