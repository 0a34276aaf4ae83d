"""Requests to the legacy V2 API: its header, its origin, its token, multipart for messages,
and its two error formats read into the usual errors."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP

import httpx
import pytest

from linq_mcp.api.client import LinqClient, make_http_client
from linq_mcp.api.errors import NotFoundError, UnprocessableEntityError
from linq_mcp.api.request import ApiRequest
from linq_mcp.api.tool_errors import tool_error
from linq_mcp.config.settings import Settings, from_env, from_file

V3_BASE = "https://api.linqapp.com/api/partner"
KEY = "linq_test_key"


async def sent(request: ApiRequest, answer: httpx.Response | None = None, **options: str) -> httpx.Request:
    seen: list[httpx.Request] = []

    def handle(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return answer or httpx.Response(200, json={"data": {}})

    client = LinqClient(make_http_client(V3_BASE, KEY, transport=httpx.MockTransport(handle)), **options)  # type: ignore[arg-type]
    async with client:
        await client.send(request)
    return seen[0]


async def test_a_v2_request_carries_the_integration_token_and_no_bearer() -> None:
    request = await sent(ApiRequest("GET", "/api/partner/v2/phone_numbers", api="v2"))
    assert str(request.url) == "https://api.linqapp.com/api/partner/v2/phone_numbers"
    assert request.headers["X-LINQ-INTEGRATION-TOKEN"] == KEY
    assert "authorization" not in request.headers


async def test_a_v2_token_of_its_own_is_used_when_set() -> None:
    request = await sent(ApiRequest("GET", "/api/partner/v2/phone_numbers", api="v2"), v2_token="v2_only_token")
    assert request.headers["X-LINQ-INTEGRATION-TOKEN"] == "v2_only_token"


async def test_a_v2_base_url_of_its_own_is_used_when_set() -> None:
    request = await sent(
        ApiRequest("GET", "/api/partner/v2/chats/7", api="v2"), v2_base_url="https://legacy.example.com/"
    )
    assert str(request.url) == "https://legacy.example.com/api/partner/v2/chats/7"


async def test_v3_requests_are_unchanged_by_the_v2_settings() -> None:
    request = await sent(ApiRequest("GET", "/v3/phone_numbers"), v2_token="v2_only_token")
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert "x-linq-integration-token" not in request.headers


async def test_a_form_request_is_multipart_with_rails_style_field_names() -> None:
    body = {
        "message": {
            "text": "héllo",
            "idempotency_key": "k-1",
            "attachment_urls": ["https://a/1.jpg", "https://a/2.png"],
        }
    }
    request = await sent(ApiRequest("POST", "/api/partner/v2/chats/7/chat_messages", json=body, api="v2", form=True))
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    parsed = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + request.read())
    fields = []
    for part in parsed.iter_parts():
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        fields.append((part.get_param("name", header="content-disposition"), payload.decode("utf-8")))
    assert fields == [
        ("message[text]", "héllo"),
        ("message[idempotency_key]", "k-1"),
        ("message[attachment_urls][]", "https://a/1.jpg"),
        ("message[attachment_urls][]", "https://a/2.png"),
    ]


async def test_the_errors_list_format_becomes_a_coded_tool_error() -> None:
    answer = httpx.Response(
        404, json={"errors": [{"status": 404, "code": "chat_not_found", "title": "Not found", "detail": "Chat 7"}]}
    )
    with pytest.raises(NotFoundError) as caught:
        await sent(ApiRequest("GET", "/api/partner/v2/chats/7", api="v2"), answer)
    payload = tool_error(caught.value)
    assert (payload["code"], payload["http_status"], payload["message"]) == ("chat_not_found", 404, "Chat 7")
    assert payload["meaning"] and payload["fix"]


async def test_the_flat_contacts_format_becomes_a_coded_tool_error() -> None:
    answer = httpx.Response(
        422,
        json={"status": 422, "error_code": "validation_failed", "message": "Name needed", "errors": ["Name needed"]},
    )
    with pytest.raises(UnprocessableEntityError) as caught:
        await sent(ApiRequest("POST", "/api/partner/v2/contacts", json={"contact": {}}, api="v2"), answer)
    payload = tool_error(caught.value)
    assert (payload["code"], payload["message"]) == ("validation_failed", "Name needed")


def test_the_v2_settings_come_from_the_environment() -> None:
    values = from_env({"LINQ_API_V2_TOKEN": "tok", "LINQ_API_V2_BASE_URL": "https://legacy.example.com"})
    assert values["v2_token"][0] == "tok" and values["v2_base_url"][0] == "https://legacy.example.com"


def test_the_v2_settings_come_from_the_config_file_too() -> None:
    values = from_file({"linq": {"v2_token": "tok", "v2_base_url": "https://legacy.example.com"}})
    assert values["v2_token"][0] == "tok" and values["v2_base_url"][0] == "https://legacy.example.com"


def test_the_v2_token_is_never_shown_by_the_settings() -> None:
    assert Settings(v2_token="secret-v2-token").redacted()["v2_token"] == "set"
