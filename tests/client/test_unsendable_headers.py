"""A request the HTTP layer refuses to write was never sent: it says so and is not retried."""

from __future__ import annotations

import socket

import pytest

from linq_mcp.api.client import ApiRequest, LinqClient, make_http_client
from linq_mcp.api.errors import LinqConnectionError


async def test_a_header_value_h11_refuses_is_reported_as_not_sent_without_retries() -> None:
    """Before: LocalProtocolError on a keyed send was retried, then called "outcome unknown"."""
    with socket.socket() as listener:  # a real socket: the in-process transports skip h11
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)

        http = make_http_client(f"http://127.0.0.1:{port}/api/partner", "sk_test_key_1234")
        async with LinqClient(http, sleep=sleep) as client:
            request = ApiRequest("POST", "/v3/messages", json={}, headers={"Idempotency-Key": "a\nb"}, replay_safe=True)
            with pytest.raises(LinqConnectionError) as raised:
                await client.send(request)
    assert "not sent" in str(raised.value)
    assert waits == []
