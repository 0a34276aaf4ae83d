"""Correctly signed but pathological bodies: a 400 that stores nothing (Linq drops it), never a 500
and a traceback (Linq would retry it forever). Odd types in known fields never break a later read."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from webhook_helpers import PATH, SECRET, body_of, message, standard_headers

from linq_mcp.events.present import present_conversation, present_event
from linq_mcp.webhooks import EventStore, create_receiver_app


@pytest.fixture
async def roomy(store: EventStore) -> AsyncIterator[httpx.AsyncClient]:
    """The receiver with its real default body limit (1 MB)."""
    app = create_receiver_app(store, [SECRET], path=PATH)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as c:
        yield c


def _ok_message_with(text_json: str) -> bytes:
    """A valid message body whose text value is replaced by raw JSON text."""
    body: bytes = body_of(message(text="PLACEHOLDER"))
    return body.replace(b'"PLACEHOLDER"', text_json.encode())


PATHOLOGICAL: dict[str, bytes] = {
    "100000_nested_arrays": b"[" * 100_000,
    "100000_nested_objects_in_data": b'{"event_id":"e","event_type":"message.received","data":'
    + b'{"a":' * 100_000
    + b"1"
    + b"}" * 100_001,
    "nesting_deeper_than_linq_ever_sends": body_of({**message(), "data": json.loads('{"x":' * 200 + "1" + "}" * 200)}),
    "5000_digit_integer": _ok_message_with("1" * 5000),
    "float_overflowing_to_infinity": _ok_message_with("1e999"),
    "NaN": _ok_message_with("NaN"),
    "Infinity": _ok_message_with("-Infinity"),
    "invalid_utf8": body_of(message(text="PLACEHOLDER")).replace(b"PLACEHOLDER", b"caf\xff\xfe"),
    "utf16_encoded": json.dumps(message()).encode("utf-16"),
    "lone_surrogate_in_text": _ok_message_with('"\\ud800 hi"'),
    "lone_surrogate_in_event_id": body_of(message()).replace(b'"event_id":"', b'"event_id":"\\udfff', 1),
    "array": b"[]",
    "string": b'"message.received"',
    "number": b"1",
    "null": b"null",
    "event_id_a_number": body_of({**message(), "event_id": 5}),
    "event_type_an_object": body_of({**message(), "event_type": {"x": 1}}),
}


@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
async def test_a_signed_pathological_body_is_400_and_stores_nothing(
    case: str, roomy: httpx.AsyncClient, store: EventStore, caplog: pytest.LogCaptureFixture
) -> None:
    body = PATHOLOGICAL[case]
    with caplog.at_level(logging.WARNING, logger="linq_mcp"):
        response = await roomy.post(PATH, content=body, headers=standard_headers(body))
    assert (response.status_code, await store.count()) == (400, 0), response.text
    assert response.json()["ok"] is False
    assert not any(record.exc_info for record in caplog.records), "a traceback was logged"


def _with_data(**fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = message(text="hello")
    payload["data"] = {**payload["data"], **fields}
    return payload


ODD = [None, 7, True, -1.5, "x", [], [1, "a", None], {}, {"handle": ["nested"]}, "9" * 400]
FIELDS = ["parts", "chat", "sender_handle", "reply_to", "sent_at", "service", "direction", "id", "idempotency_key"]


@pytest.mark.parametrize("field", FIELDS)
async def test_odd_types_in_known_fields_never_break_a_later_read(
    field: str, roomy: httpx.AsyncClient, store: EventStore
) -> None:
    for value in ODD:
        payload = _with_data(**{field: value})
        body = body_of(payload)
        response = await roomy.post(PATH, content=body, headers=standard_headers(body))
        assert response.status_code in (200, 400), (value, response.text)
    page = await store.list(limit=100)
    for event in page.events:  # every stored event still presents as JSON
        json.dumps(present_event(event, None))
        if event.chat_id:
            json.dumps(present_conversation(await store.conversation(event.chat_id, limit=50), None))
