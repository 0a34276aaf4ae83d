"""A whole conversation through the official SDK, driven by the virtual clock."""

from __future__ import annotations

from typing import Any

import httpx

from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
AVA = "+15551230001"


async def test_conversation_with_ava(sdk: Any, sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    await http.post("http://sandbox.local/_sandbox/clock/freeze")
    created = await sdk.chats.create(
        from_=LINE, to=[AVA], message={"parts": [{"type": "text", "value": "Dinner this week?"}]}
    )
    chat_id, message_id = created.chat.id, created.chat.message.id

    await http.post("http://sandbox.local/_sandbox/clock", json={"advance": 0.2})
    assert (await sdk.messages.retrieve(message_id)).delivery_status == "delivered"

    await http.post("http://sandbox.local/_sandbox/clock", json={"advance": 0.4})
    read = await sdk.messages.retrieve(message_id)
    assert (read.delivery_status, read.is_read) == ("read", True)

    await http.post("http://sandbox.local/_sandbox/clock", json={"advance": 1})
    received = [e for e in sandbox.world.events if e.event_type == "message.received"]
    assert [e.data["parts"][0]["value"] for e in received] == ["Dinner sounds great — 7pm?"]
    assert received[0].data["chat"]["id"] == chat_id
    assert received[0].data_v2025 is not None and received[0].data_v2025["is_from_me"] is False

    history = [m async for m in sdk.chats.messages.list(chat_id)]
    assert [(m.is_from_me, m.parts[0].value) for m in history] == [
        (False, "Dinner sounds great — 7pm?"),
        (True, "Dinner this week?"),
    ]


async def test_events_share_the_trace_id_of_the_call_that_caused_them(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()
    raw = await sdk.chats.with_raw_response.create(
        from_=LINE, to=[AVA], message={"parts": [{"type": "text", "value": "hi"}]}
    )
    trace = raw.http_response.headers["X-Trace-ID"]
    from linq_mcp.sandbox.admin import advance_clock

    await advance_clock(sandbox.world, 0.5)
    sent = next(e for e in sandbox.world.events if e.event_type == "message.sent")
    assert sent.trace_id == trace
