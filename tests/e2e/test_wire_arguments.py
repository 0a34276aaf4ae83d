"""Values that would travel in a header or a URL path are checked before anything is sent.

An idempotency key that cannot be an HTTP header, or an id that a URL resolver would
read as navigation, is the caller's mistake: a field-named error, nothing sent, no
send counted against the caps.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_helpers import AVA, LINE, PERMISSIVE, connected
from starlette.types import Receive, Scope, Send

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.sandbox.app import Sandbox

BAD_KEYS = ["café-key", "line\nbreak", "with space", "tab\there", "clé", "a:b"]


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def record_requests(sandbox: Sandbox) -> list[str]:
    """Every API path the sandbox is asked for (admin routes and the server's own webhook set-up aside)."""
    seen: list[str] = []
    inner = sandbox.app

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not any(p in scope["path"] for p in ("/_sandbox", "/webhook-subscriptions")):
            seen.append(f"{scope['method']} {scope['path']}")
        await inner(scope, receive, send)

    sandbox.app = app  # type: ignore[method-assign]
    return seen


def problem_paths(result: Any) -> set[str]:
    assert result.is_error, result
    payload = dict(result.structured_content or {})
    assert payload["error"] == "invalid_arguments", payload
    return {p["path"] for p in payload["problems"]}


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_a_header_key_that_cannot_be_a_header_is_refused_by_name(sandbox: Sandbox, key: str) -> None:
    seen = record_requests(sandbox)
    async with connected(sandbox) as (client, _):
        result = await client.call_tool(
            "send_message_to_handles", {"to": [AVA], "message": text("hi"), "idempotency_key": key}
        )
    assert problem_paths(result) == {"idempotency_key"}
    assert "letters, digits" in result.content[0].text
    assert seen == []


@pytest.mark.parametrize("key", ["café-key", "line\nbreak"])
async def test_a_body_key_follows_the_same_rule(sandbox: Sandbox, key: str) -> None:
    seen = record_requests(sandbox)
    async with connected(sandbox) as (client, _):
        message = {**text("hi"), "idempotency_key": key}
        result = await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": message})
    assert problem_paths(result) == {"message.idempotency_key"}
    assert seen == []


async def test_keys_in_the_documented_alphabet_still_send(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        result = await client.call_tool(
            "send_message_to_handles", {"to": [AVA], "message": text("hi"), "idempotency_key": "Order-42_retry"}
        )
    assert not result.is_error, result.content[0].text
    assert (result.structured_content or {})["idempotency_key"] == "Order-42_retry"


async def test_a_refused_key_does_not_count_against_the_send_cap(sandbox: Sandbox) -> None:
    """Old behaviour: a newline key became "outcome unknown, retry" and used up the cap."""
    capped = SafetyConfig.from_mapping(
        {**{k: getattr(PERMISSIVE, k) for k in ("confirm", "max_sends_per_hour", "max_sends_per_day")},
         "max_sends_per_minute": 1, "max_sends_per_recipient_per_hour": 100}
    )  # fmt: skip
    settings = Settings(sandbox=True, safety=capped)
    async with connected(sandbox, settings) as (client, _):
        for key in ("line\nbreak", "café-key", "line\nbreak"):
            bad = await client.call_tool(
                "send_message_to_handles", {"to": [AVA], "message": text("hi"), "idempotency_key": key}
            )
            assert problem_paths(bad) == {"idempotency_key"}
        good = await client.call_tool(
            "send_message_to_handles", {"to": [AVA], "message": text("hi"), "idempotency_key": "good-1"}
        )
    assert not good.is_error, good.content[0].text


@pytest.mark.parametrize("value", ["..", ".", " "])
async def test_an_id_that_would_navigate_the_url_path_is_refused_by_name(sandbox: Sandbox, value: str) -> None:
    """``get_payment(payment_id="..")`` used to become ``GET /v3/`` — another endpoint."""
    seen = record_requests(sandbox)
    settings = Settings(sandbox=True, toolsets=("payments", "lines"), safety=PERMISSIVE)
    async with connected(sandbox, settings) as (client, _):
        payment = await client.call_tool("get_payment", {"payment_id": value})
        audit = await client.call_tool("get_reputation_audit", {"phone_number": LINE, "audit_id": value})
    assert problem_paths(payment) == {"payment_id"}
    assert problem_paths(audit) == {"audit_id"}
    assert seen == []
