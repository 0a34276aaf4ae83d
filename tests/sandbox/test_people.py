"""The simulated people: receipts, replies by rule, typing, tapbacks, opt-out and back in."""

from __future__ import annotations

from typing import Any

import pytest

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.messaging import is_optout_keyword

LINE = "+15550100001"
AVA, SAM, STEVE, RITA = "+15551230001", "+15551230002", "+15551230003", "+15551230004"


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def types(sandbox: Sandbox) -> list[str]:
    return [e.event_type for e in sandbox.world.events]


def replies_from(sandbox: Sandbox, handle: str) -> list[str]:
    return [
        m["parts"][0]["value"] for m in sandbox.world.messages.values() if not m["is_from_me"] and m["from"] == handle
    ]


async def test_device_receives_the_message(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.chats.create(from_=LINE, to=[AVA], message=text("hi Ava"))
    await advance_clock(sandbox.world, 0.1)
    assert [(d["to"], d["parts"][0]["value"]) for d in sandbox.world.deliveries] == [(AVA, "hi Ava")]


async def test_imessage_person_sends_delivered_then_read(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.chats.create(from_=LINE, to=[AVA], message=text("hi"))
    await advance_clock(sandbox.world, 1)
    assert [t for t in types(sandbox) if t.startswith("message.")][:3] == [
        "message.sent",
        "message.delivered",
        "message.read",
    ]


async def test_sms_person_gives_no_receipts_at_all(sdk: Any, sandbox: Sandbox) -> None:
    """Linq has delivery and read receipts for iMessage 1:1 chats only: SMS stays at sent."""
    created = await sdk.chats.create(from_=LINE, to=[SAM], message=text("hi"))
    await advance_clock(sandbox.world, 5)
    assert sandbox.world.messages[created.chat.message.id]["delivery_status"] == "sent"
    assert "message.delivered" not in types(sandbox) and "message.read" not in types(sandbox)


async def test_rules_person_answers_the_matching_keyword(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.chats.create(from_=LINE, to=[AVA], message=text("Dinner on Friday"))
    await advance_clock(sandbox.world, 5)
    assert replies_from(sandbox, AVA) == ["Dinner sounds great — 7pm?"]


async def test_echo_person_repeats_the_text(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.chats.create(from_=LINE, to=[SAM], message=text("ping"))
    await advance_clock(sandbox.world, 5)
    assert replies_from(sandbox, SAM) == ["ping"]


async def test_canned_replies_cycle_in_order(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[AVA], message=text("one"))
    await advance_clock(sandbox.world, 5)
    await sdk.chats.messages.send(created.chat.id, message=text("two"))
    await advance_clock(sandbox.world, 5)
    assert replies_from(sandbox, AVA) == ["Sounds good!", "Got it, thanks."]


async def test_person_types_before_replying(sdk: Any, sandbox: Sandbox) -> None:
    await sdk.chats.create(from_=LINE, to=[AVA], message=text("hi"))
    await advance_clock(sandbox.world, 5)
    seen = types(sandbox)
    started = seen.index("chat.typing_indicator.started")
    assert started < seen.index("chat.typing_indicator.stopped") < seen.index("message.received")


async def test_person_leaves_their_tapback_on_what_they_read(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[AVA], message=text("hi"))
    await advance_clock(sandbox.world, 5)
    reactions = sandbox.world.messages[created.chat.message.id]["parts"][0]["reactions"]
    assert [(r["type"], r["is_me"]) for r in reactions] == [("love", False)]


async def test_stop_person_opts_out_and_later_sends_are_refused(sdk: Any, sandbox: Sandbox) -> None:
    import linq

    created = await sdk.chats.create(from_=LINE, to=[STEVE], message=text("offer!"))
    await advance_clock(sandbox.world, 5)
    assert STEVE in sandbox.world.opted_out
    assert sandbox.world.chats[created.chat.id]["health_status"]["status"] == "OPTED_OUT"
    with pytest.raises(linq.PermissionDeniedError) as info:
        await sdk.chats.messages.send(created.chat.id, message=text("more"))
    assert info.value.body["code"] == 2024  # type: ignore[index]


async def test_a_later_message_opts_them_back_in(sdk: Any, sandbox: Sandbox, http: Any) -> None:
    created = await sdk.chats.create(from_=LINE, to=[STEVE], message=text("offer!"))
    await advance_clock(sandbox.world, 5)
    await http.post(
        "http://sandbox.local/_sandbox/inbound", json={"from": STEVE, "to": LINE, "text": "actually, tell me more"}
    )
    assert STEVE not in sandbox.world.opted_out
    assert sandbox.world.chats[created.chat.id]["health_status"]["status"] == "HEALTHY"


@pytest.mark.parametrize("word", ["STOP", " UNSUBSCRIBE ", "QUIT", "opt out", "Opt-Out", "optout", "OPTOUT"])
def test_opt_out_keywords(word: str) -> None:
    assert is_optout_keyword(word)


@pytest.mark.parametrize("word", ["stop", "please STOP", "Stop it", "END now"])
def test_not_opt_out_keywords(word: str) -> None:
    assert not is_optout_keyword(word)


async def test_same_seed_replays_identically() -> None:
    async def run() -> list[tuple[str, str]]:
        box = create_sandbox(SandboxConfig(seed=7))
        box.world.clock.freeze()
        import httpx

        from linq_mcp.sandbox.transport import SandboxTransport

        async with httpx.AsyncClient(
            transport=SandboxTransport(box.app),
            base_url="http://sandbox.local/api/partner",
            headers={"Authorization": f"Bearer {box.api_key}"},
        ) as client:
            await client.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": text("dinner?")})
        await advance_clock(box.world, 5)
        return [(e.event_type, e.event_id) for e in box.world.events]

    assert await run() == await run()
