"""Any replica answers any request: one client session's requests alternate between replicas,
and what one replica mints (a confirm_token, a sealed requestState) another redeems, once."""

from __future__ import annotations

from typing import Any

import mcp.types as types
from replicas_helpers import AVA, LINE, SAM, Fleet, balanced, data, direct, message, unique


async def test_a_conversation_alternates_between_three_replicas(fleet: Fleet, era: str) -> None:
    replicas = fleet.start(3, "--confirm", "never")
    text = unique("Dinner on Friday?")
    async with balanced(replicas, era) as (client, balancer):
        assert "create_chat" in {t.name for t in (await client.list_tools()).tools}
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [SAM], "message": message(text)}))
        chat_id = created["chat"]["id"]
        data(await client.call_tool("send_message", {"chat_id": chat_id, "message": message(text + " (again)")}))
        assert data(await client.call_tool("get_chat", {"chat_id": chat_id}))["id"] == chat_id
        listed = data(await client.call_tool("list_messages", {"chat_id": chat_id}))
    assert len(listed["messages"]) >= 2
    calls = {name for name, method in balancer.served if method == "tools/call"}
    assert calls == {r.name for r in replicas}, balancer.served
    assert fleet.linq.delivered(text) == 2  # the first message and the one sent "again"


def _create(text: str, **extra: Any) -> dict[str, Any]:
    return {"from": LINE, "to": [AVA], "message": message(text), **extra}


async def test_a_confirm_token_minted_on_one_replica_is_redeemed_on_another_exactly_once(fleet: Fleet) -> None:
    replicas = fleet.start(3, "--confirm", "always")
    text = unique("Hello Ava, from three replicas")
    # Stateless 2025: nobody to ask, so a token; each call goes to the next replica.
    async with balanced(replicas, "legacy", rotate_on=("tools/call",)) as (client, balancer):
        held = (await client.call_tool("create_chat", _create(text))).structured_content or {}
        assert held.get("error") == "confirmation_required", held
        sent = await client.call_tool("create_chat", _create(text, confirm_token=held["confirm_token"]))
        replay = await client.call_tool("create_chat", _create(text, confirm_token=held["confirm_token"]))
    minted, redeemed, replayed = [name for name, method in balancer.served if method == "tools/call"]
    assert len({minted, redeemed, replayed}) == 3, balancer.served
    assert not sent.is_error, sent.content[0].text
    assert replay.is_error and (replay.structured_content or {}).get("rule") == "confirm_token"
    assert fleet.linq.delivered(text) == 1


async def _yes(context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
    """A client that can ask its person (who says yes): the 2026 round trip, not the token."""
    return types.ElicitResult(action="accept", content={"confirm": True})


async def test_a_sealed_request_state_minted_on_one_replica_is_redeemed_on_another_exactly_once(fleet: Fleet) -> None:
    first, second, third = fleet.start(3, "--confirm", "always")
    text = unique("Hello Ava, sealed on one replica")
    async with direct(first, elicitation_callback=_yes) as client:
        ask = await client.session.call_tool("create_chat", _create(text), allow_input_required=True)
    assert isinstance(ask, types.InputRequiredResult) and ask.input_requests is not None, ask
    ((key, _),) = ask.input_requests.items()
    answer = {key: types.ElicitResult(action="accept", content={"confirm": True})}
    results = []
    for replica in (second, third):
        async with direct(replica, elicitation_callback=_yes) as client:
            results.append(
                await client.session.call_tool(
                    "create_chat",
                    _create(text),
                    input_responses=answer,
                    request_state=ask.request_state,
                    allow_input_required=True,
                )
            )
    sent, replay = results
    assert isinstance(sent, types.CallToolResult) and not sent.is_error, sent
    assert isinstance(replay, types.CallToolResult) and replay.is_error
    assert (replay.structured_content or {}).get("rule") == "confirm_token"
    assert fleet.linq.delivered(text) == 1


async def test_a_replica_started_with_another_secret_refuses_the_others_tokens(fleet: Fleet) -> None:
    ours = fleet.start(1, "--confirm", "always")[0]
    stranger = fleet.start(1, "--confirm", "always", LINQ_MCP_SECRET="another-secret-" + "ab" * 16)[0]
    text = unique("Hello Ava, minted under one secret")
    async with direct(ours, "legacy") as client:
        held = (await client.call_tool("create_chat", _create(text))).structured_content or {}
    async with direct(stranger, "legacy") as client:
        refused = await client.call_tool("create_chat", _create(text, confirm_token=held["confirm_token"]))
    assert refused.is_error and (refused.structured_content or {}).get("rule") == "confirm_token"
    assert fleet.linq.delivered(text) == 0
