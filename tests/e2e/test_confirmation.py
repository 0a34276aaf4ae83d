"""Who confirms a send: the person wherever the client can ask them, in both protocol eras.

Each test drives the real server with the official ``mcp`` client, in-process, on a
2025-11-25 connection (elicitation mid-call) and on a 2026-07-28 one (``InputRequiredResult``
round trip). A client "with a person" has an elicitation handler; the model's moves are
the tool calls the test makes.
"""

from __future__ import annotations

from typing import Any

import anyio
import mcp.types as types
import pytest
from e2e_helpers import AVA, LINE, connected, data, policy
from mcp.shared.exceptions import MCPError

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.sandbox.app import Sandbox


def settings_for(config: SafetyConfig) -> Settings:
    return Settings(sandbox=True, toolsets=("all",), safety=config)


def hello(value: str = "Hello Ava") -> dict[str, Any]:
    return {"from": LINE, "to": [AVA], "message": {"parts": [{"type": "text", "value": value}]}}


class Person:
    """The human behind the client's elicitation dialog: answers as told, remembers being asked."""

    def __init__(self, action: str = "accept", confirm: bool = True) -> None:
        self.action, self.confirm = action, confirm
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        if self.action == "accept":
            return types.ElicitResult(action="accept", content={"confirm": self.confirm})
        return types.ElicitResult(action=self.action)  # type: ignore[arg-type]


async def delivered_to_ava(sandbox: Sandbox) -> int:
    await anyio.sleep(0.1)
    return sum(1 for d in sandbox.world.deliveries if d.get("to") == AVA)


def error_of(result: Any) -> dict[str, Any]:
    assert result.is_error, result.content[0].text
    return dict(result.structured_content or {})


async def test_the_person_is_asked_and_their_yes_sends_once(sandbox: Sandbox, era: str) -> None:
    person = Person("accept")
    async with connected(sandbox, settings_for(policy()), era=era, elicitation_callback=person) as (client, _):
        sent = data(await client.call_tool("create_chat", hello()))
    assert sent["chat"]["id"]
    assert len(person.asked) == 1 and "Hello Ava" in person.asked[0] and AVA in person.asked[0]
    assert await delivered_to_ava(sandbox) == 1


async def test_the_persons_no_sends_nothing_and_stays_no(sandbox: Sandbox, era: str) -> None:
    person = Person("decline")
    async with connected(sandbox, settings_for(policy()), era=era, elicitation_callback=person) as (client, _):
        first = error_of(await client.call_tool("create_chat", hello()))
        again = error_of(await client.call_tool("create_chat", {**hello(), "idempotency_key": "another-try"}))
    assert first["error"] == "declined" and again["error"] == "declined"
    assert len(person.asked) == 1, "a declined send is not put to the person again"
    assert await delivered_to_ava(sandbox) == 0


async def test_unchecking_the_box_is_a_no(sandbox: Sandbox, era: str) -> None:
    person = Person("accept", confirm=False)
    async with connected(sandbox, settings_for(policy()), era=era, elicitation_callback=person) as (client, _):
        result = error_of(await client.call_tool("create_chat", hello()))
    assert result["error"] == "declined"
    assert await delivered_to_ava(sandbox) == 0


async def test_a_dry_run_after_a_no_yields_no_token_and_sends_nothing(sandbox: Sandbox, era: str) -> None:
    """The reported attack: declined, then dry_run for a token, then send with it."""
    person = Person("decline")
    async with connected(sandbox, settings_for(policy()), era=era, elicitation_callback=person) as (client, _):
        await client.call_tool("create_chat", hello())
        dry = await client.call_tool("create_chat", {**hello(), "dry_run": True})
        assert "confirm_token" not in (dry.structured_content or {})
        assert "lc1." not in dry.content[0].text
        retry = error_of(await client.call_tool("create_chat", {**hello(), "confirm_token": "lc1.forged"}))
    assert retry["error"] == "declined"
    assert await delivered_to_ava(sandbox) == 0


async def test_a_dry_run_where_the_person_can_be_asked_previews_without_a_token(sandbox: Sandbox, era: str) -> None:
    person = Person("accept")
    async with connected(sandbox, settings_for(policy()), era=era, elicitation_callback=person) as (client, _):
        preview = data(await client.call_tool("create_chat", {**hello("Just looking"), "dry_run": True}))
    assert preview["sent"] is False and preview["confirmation_required"] is True
    assert "confirm_token" not in preview and "Just looking" in str(preview["would_send"])
    assert person.asked == [], "a dry run asks nobody"
    assert await delivered_to_ava(sandbox) == 0


async def test_a_token_from_a_tokenless_client_does_not_skip_the_person(sandbox: Sandbox, era: str) -> None:
    """A confirm_token minted for another client (which could not ask) is no answer from the person."""
    person = Person("decline")
    async with connected(sandbox, settings_for(policy())) as (blind, rt):
        hold = error_of(await blind.call_tool("create_chat", hello()))
        assert hold["error"] == "confirmation_required"
        from mcp import Client

        from linq_mcp.server.handlers import build_server

        async with Client(build_server(rt), mode=era, elicitation_callback=person) as asking:
            result = error_of(
                await asking.call_tool("create_chat", {**hello(), "confirm_token": hold["confirm_token"]})
            )
    assert result["error"] == "declined" and len(person.asked) == 1
    assert await delivered_to_ava(sandbox) == 0


async def test_a_client_that_cannot_ask_gets_the_token_path(sandbox: Sandbox, era: str) -> None:
    async with connected(sandbox, settings_for(policy()), era=era) as (client, _):
        hold = error_of(await client.call_tool("create_chat", hello()))
        assert hold["error"] == "confirmation_required" and hold["confirm_token"].startswith("lc1.")
        data(await client.call_tool("create_chat", {**hello(), "confirm_token": hold["confirm_token"]}))
    assert await delivered_to_ava(sandbox) == 1


async def test_confirm_fallback_refuse_refuses_where_nobody_can_be_asked(sandbox: Sandbox, era: str) -> None:
    async with connected(sandbox, settings_for(policy(confirm_fallback="refuse")), era=era) as (client, rt):
        refused = error_of(await client.call_tool("create_chat", hello()))
        dry = data(await client.call_tool("create_chat", {**hello(), "dry_run": True}))
        instructions = rt.policy_description or ""
    assert refused["error"] == "policy_refused" and refused["rule"] == "confirm_fallback"
    assert "cannot ask the person" in refused["message"] and "confirm_token" not in refused
    assert "confirm_token" not in dry and dry["confirmation_required"] is True
    assert "confirm_fallback = refuse" in instructions
    assert await delivered_to_ava(sandbox) == 0


async def test_confirm_fallback_refuse_still_lets_the_person_decide(sandbox: Sandbox, era: str) -> None:
    person = Person("accept")
    config = policy(confirm_fallback="refuse")
    async with connected(sandbox, settings_for(config), era=era, elicitation_callback=person) as (client, _):
        data(await client.call_tool("create_chat", hello()))
    assert len(person.asked) == 1 and await delivered_to_ava(sandbox) == 1


async def test_a_decline_in_one_era_holds_in_the_other(sandbox: Sandbox) -> None:
    person = Person("decline")
    async with connected(sandbox, settings_for(policy()), era="legacy", elicitation_callback=person) as (c, rt):
        error_of(await c.call_tool("create_chat", hello()))
        from mcp import Client

        from linq_mcp.server.handlers import build_server

        async with Client(build_server(rt), mode="auto") as blind:
            refused = error_of(await blind.call_tool("create_chat", hello()))
    assert refused["error"] == "declined", "no token path for a message the person declined"
    assert await delivered_to_ava(sandbox) == 0


# ---- the 2026-07-28 round trip, driven by hand ----------------------------------------------


async def first_round(client: Any, args: dict[str, Any]) -> types.InputRequiredResult:
    result = await client.session.call_tool("create_chat", args, allow_input_required=True)
    assert isinstance(result, types.InputRequiredResult), result
    return result


def the_question(ask: types.InputRequiredResult) -> tuple[str, types.InputRequest]:
    """The round's one request and its key (a round with none, or several, fails the test)."""
    assert ask.input_requests is not None, ask
    ((key, request),) = ask.input_requests.items()
    return key, request


def yes(request_key: str) -> dict[str, Any]:
    return {request_key: types.ElicitResult(action="accept", content={"confirm": True})}


async def test_the_2026_question_carries_a_sealed_state_and_no_token(sandbox: Sandbox) -> None:
    person = Person()
    async with connected(sandbox, settings_for(policy()), elicitation_callback=person) as (client, _):
        ask = await first_round(client, hello())
    key, request = the_question(ask)
    assert isinstance(request, types.ElicitRequest) and "Hello Ava" in request.params.message
    assert ask.request_state and "lc1." not in ask.request_state and "token" not in ask.request_state


async def test_a_2026_yes_cannot_be_moved_to_other_arguments(sandbox: Sandbox) -> None:
    async with connected(sandbox, settings_for(policy()), elicitation_callback=Person()) as (client, _):
        ask = await first_round(client, hello("Harmless"))
        key, _ = the_question(ask)
        with pytest.raises(MCPError, match="Invalid or expired requestState"):
            await client.session.call_tool(
                "create_chat",
                hello("Something else entirely"),
                input_responses=yes(key),
                request_state=ask.request_state,
                allow_input_required=True,
            )
    assert await delivered_to_ava(sandbox) == 0


async def test_a_2026_state_that_was_tampered_with_is_refused(sandbox: Sandbox) -> None:
    async with connected(sandbox, settings_for(policy()), elicitation_callback=Person()) as (client, _):
        ask = await first_round(client, hello())
        key, _ = the_question(ask)
        state = ask.request_state or ""
        forged = state[:-2] + ("AA" if not state.endswith("AA") else "BB")
        with pytest.raises(MCPError, match="Invalid or expired requestState"):
            await client.session.call_tool(
                "create_chat", hello(), input_responses=yes(key), request_state=forged, allow_input_required=True
            )
    assert await delivered_to_ava(sandbox) == 0


async def test_a_2026_yes_without_the_servers_state_is_not_a_yes(sandbox: Sandbox) -> None:
    async with connected(sandbox, settings_for(policy()), elicitation_callback=Person()) as (client, _):
        ask = await first_round(client, hello())
        key, _ = the_question(ask)
        again = await client.session.call_tool(
            "create_chat", hello(), input_responses=yes(key), allow_input_required=True
        )
    assert isinstance(again, types.InputRequiredResult), "the person is asked again"
    assert await delivered_to_ava(sandbox) == 0


async def test_a_2026_yes_sends_once_even_if_the_round_is_replayed(sandbox: Sandbox) -> None:
    async with connected(sandbox, settings_for(policy(confirm="always")), elicitation_callback=Person()) as (c, _):
        ask = await first_round(c, hello())
        key, _ = the_question(ask)
        sent = await c.session.call_tool(
            "create_chat", hello(), input_responses=yes(key), request_state=ask.request_state, allow_input_required=True
        )
        assert isinstance(sent, types.CallToolResult) and not sent.is_error, sent
        replay = await c.session.call_tool(
            "create_chat", hello(), input_responses=yes(key), request_state=ask.request_state, allow_input_required=True
        )
    assert isinstance(replay, types.CallToolResult) and replay.is_error
    assert (replay.structured_content or {}).get("rule") == "confirm_token"
    assert await delivered_to_ava(sandbox) == 1


async def test_a_failing_dialog_on_2025_sends_nothing_and_hands_out_no_token(sandbox: Sandbox) -> None:
    """Where the person could be asked but asking fails, the old code fell back to a token for the model."""

    async def broken(context: Any, params: types.ElicitRequestParams) -> types.ErrorData:
        return types.ErrorData(code=types.INTERNAL_ERROR, message="dialog crashed")

    async with connected(sandbox, settings_for(policy()), era="legacy", elicitation_callback=broken) as (client, _):
        result = await client.call_tool("create_chat", hello())
    failed = error_of(result)
    assert failed["error"] == "confirmation_unavailable" and "confirm_token" not in failed
    assert "lc1." not in result.content[0].text
    assert await delivered_to_ava(sandbox) == 0


def test_the_instructions_say_the_token_path_goes_through_the_model() -> None:
    from linq_mcp.server.app import surface
    from linq_mcp.server.handlers import instructions

    text = instructions(surface(settings_for(policy())))
    assert "Where your client can ask the person (elicitation), linq-mcp asks them itself" in text
    assert "That confirmation passes through you" in text
    refusing = instructions(surface(settings_for(policy(confirm_fallback="refuse"))))
    assert "such sends are refused (confirm_fallback = refuse)" in refusing and "passes through you" not in refusing
