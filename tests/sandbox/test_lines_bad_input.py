"""Bad input never yields a 500 on any route of the lines/attachments/webhooks/blocklist/payments half.

Every route gets malformed JSON, non-object JSON, an empty object, and objects whose known
fields hold values of the wrong type; each must answer a 4xx in Linq's envelope.
"""

from __future__ import annotations

import json
import random
from typing import Any

import httpx
import pytest

from linq_mcp.sandbox.app import Sandbox

UUID0 = "00000000-0000-4000-8000-000000000000"
ROUTES: list[tuple[str, str, list[str]]] = [
    ("POST", "/v3/attachments", ["filename", "content_type", "size_bytes"]),
    ("PUT", "/v3/phone_numbers/{line_id}", ["forwarding_number"]),
    ("POST", "/v3/capability/check_imessage", ["address", "from"]),
    ("POST", "/v3/capability/check_rcs", ["address", "from"]),
    ("POST", "/v3/contact_card", ["phone_number", "first_name", "last_name", "image_url"]),
    ("PATCH", "/v3/contact_card?phone_number=%2B15550100001", ["first_name", "last_name", "image_url"]),
    (
        "POST",
        "/v3/webhook-subscriptions",
        ["target_url", "subscribed_events", "phone_numbers", "routing_key_header", "routing_id_header"],
    ),
    ("PUT", "/v3/webhook-subscriptions/{sub_id}", ["target_url", "subscribed_events", "is_active", "phone_numbers"]),
    ("POST", "/v3/blocked_handles", ["handle", "reason"]),
    ("DELETE", "/v3/blocked_handles", ["handle"]),
    (
        "POST",
        "/v3/payment_requests",
        ["amount", "currency", "mode", "rail", "price_id", "quantity", "discount", "metadata", "trial_end", "from"],
    ),
    ("POST", "/v3/payments", ["amount_cents", "currency", "handle", "merchant", "metadata", "description"]),
    ("POST", "/v3/payments/handles/%2B15551230001/verify", ["code", "connect_id"]),
    ("POST", "/v3/payments/providers/natural/connect", ["return_url"]),
]
WRONG: list[Any] = [None, 0, -1, 10**20, 1.5, True, "", " ", "x" * 3000, [], [1, "a"], {}, {"a": {"b": []}}, "+1"]


def _bodies(fields: list[str], rng: random.Random) -> list[bytes]:
    bodies = [b"{not json", b"[1, 2]", b'"text"', b"{}", b"null"]
    for _ in range(25):
        chosen = {f: rng.choice(WRONG) for f in fields if rng.random() < 0.7}
        bodies.append(json.dumps(chosen).encode())
    return bodies


@pytest.mark.parametrize(("method", "path", "fields"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_bad_bodies_answer_4xx_never_500(
    http: httpx.AsyncClient, sandbox: Sandbox, method: str, path: str, fields: list[str]
) -> None:
    line_id = next(iter(sandbox.world.lines))
    sub = await http.post(
        "/v3/webhook-subscriptions", json={"target_url": "https://e.example/h", "subscribed_events": ["message.sent"]}
    )
    await http.post("/v3/contact_card", json={"phone_number": "+15550100001", "first_name": "A"})
    sandbox.world.config.limits.contact_card_calls = 10_000
    url = path.format(line_id=line_id, sub_id=sub.json()["id"])
    for body in _bodies(fields, random.Random(path)):
        resp = await http.request(method, url, content=body, headers={"Content-Type": "application/json"})
        assert resp.status_code < 500, (body, resp.text)
        if resp.status_code >= 400:
            assert resp.json()["success"] is False


@pytest.mark.parametrize(
    "path",
    [
        "/v3/attachments/not-a-uuid",
        f"/v3/attachments/{UUID0}",
        f"/v3/webhook-subscriptions/{UUID0}",
        f"/v3/payment_requests/{UUID0}",
        f"/v3/payments/{UUID0}",
        f"/v3/payments/{UUID0}/credentials",
        "/v3/payments/handles/nobody/connection",
        "/v3/phone_numbers/%2B1/reputation_audit/x",
        "/v3/available_number?type=fax",
        "/v3/available_number?exclude_from=123",
        "/v3/payment_requests?limit=0",
        "/v3/payment_requests?offset=-1",
        "/v3/payment_requests?status=lost",
        "/v3/contact_card?phone_number=abc",
        "/v3/experiences/nope",
    ],
)
async def test_bad_ids_and_queries_answer_4xx(http: httpx.AsyncClient, path: str) -> None:
    resp = await http.get(path)
    assert 400 <= resp.status_code < 500, resp.text
    assert resp.json()["error"]["code"] in {1001, 1002, 1005, 2001, 2003, 2010, 2019, 2021, 2012}
