"""The client builds each request itself (fast path) exactly as httpx's build_request would."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from linq_mcp.api.client import ApiRequest, LinqClient, make_http_client

BASE_URL = "https://api.linqapp.com/api/partner"

REQUESTS = {
    "plain GET": ApiRequest("GET", "/v3/phone_numbers"),
    "path id": ApiRequest("GET", "/v3/chats/6f1c2a9e-0000-4000-8000-000000000001/messages"),
    "repeated query keys": ApiRequest("GET", "/v3/chats", query=[("to", "+15551230001"), ("to", "+15551230002")]),
    "query needing escapes": ApiRequest("GET", "/v3/chats", query=[("q", "Ava & Sam / ü"), ("limit", "5")]),
    "JSON body, unicode": ApiRequest("POST", "/v3/chats/c1/messages", json={"parts": [{"value": "héllo 👋"}]}),
    "idempotency header": ApiRequest("POST", "/v3/contact_card", json={"a": 1}, headers={"Idempotency-Key": "k-1"}),
    "DELETE, no body": ApiRequest("DELETE", "/v3/webhook-subscriptions/w1"),
}


def built(request: ApiRequest, *, fast: bool) -> httpx.Request:
    client = LinqClient(make_http_client(BASE_URL, "linq_test_key"))
    client._fast = fast
    return client._build(request, request.method)


@pytest.mark.parametrize("name", list(REQUESTS))
def test_a_request_built_directly_matches_httpx_build_request(name: str) -> None:
    direct, reference = built(REQUESTS[name], fast=True), built(REQUESTS[name], fast=False)
    assert direct.method == reference.method
    assert str(direct.url) == str(reference.url)
    assert sorted(direct.headers.multi_items()) == sorted(reference.headers.multi_items())
    assert direct.read() == reference.read()
    assert direct.extensions == reference.extensions


def test_a_client_with_default_query_params_falls_back_to_build_request() -> None:
    http = httpx.AsyncClient(base_url=BASE_URL, params={"tenant": "t1"})
    request = LinqClient(http)._build(ApiRequest("GET", "/v3/chats"), "GET")
    assert request.url.params["tenant"] == "t1"


async def test_the_client_keeps_no_cookies_a_server_sets() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("cookie"))
        return httpx.Response(200, json={}, headers={"Set-Cookie": "session=abc; Path=/"})

    http = make_http_client(BASE_URL, "linq_test_key", transport=httpx.MockTransport(handler))
    async with LinqClient(http) as client:
        await client.send(ApiRequest("GET", "/v3/phone_numbers", replay_safe=True))
        await client.send(ApiRequest("GET", "/v3/phone_numbers", replay_safe=True))
    assert seen == [None, None]
    assert len(http.cookies) == 0


def test_cookies_cannot_be_set_on_the_linq_client() -> None:
    http: Any = make_http_client(BASE_URL, "linq_test_key")
    with pytest.raises(AttributeError):
        http.cookies = {"a": "b"}
