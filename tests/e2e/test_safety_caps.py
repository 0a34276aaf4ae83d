"""Send caps at the boundary: retries with one key, and sends cancelled in flight (issue 11, items 5-6)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import pytest
from e2e_helpers import AVA, connected, data

from linq_mcp.config.settings import Settings
from linq_mcp.policy import Allowed, Policy, Refused, SafetyConfig
from linq_mcp.policy.caps import RESERVATION_SECONDS
from linq_mcp.sandbox.app import Sandbox

SEND = "send_message_to_handles"


def caps(**keys: Any) -> SafetyConfig:
    base: dict[str, Any] = {"confirm": "never", "allow_recipients": ["+1555*"]}
    return SafetyConfig.from_mapping({**base, **keys})


def settings_for(config: SafetyConfig, db: Path) -> Settings:
    return Settings(sandbox=True, toolsets=("all",), safety=config, db_path=str(db))


def message(value: str) -> dict[str, Any]:
    return {"to": [AVA], "message": {"parts": [{"type": "text", "value": value}]}}


async def lose_the_response(client: Any, sandbox: Sandbox, args: dict[str, Any]) -> str:
    """Send while every attempt's response is lost: the outcome is unknown; return the key to retry."""
    sandbox.faults.queued.extend(["commit_then_lose"] * 8)
    lost = await client.call_tool(SEND, args)
    sandbox.faults.queued.clear()
    payload = lost.structured_content or {}
    assert lost.is_error and payload["error"] == "outcome_unknown", lost.content[0].text
    return str(payload["idempotency_key"])


CAP_AT_ONE = {
    "max_sends_per_minute": {"max_sends_per_minute": 1},
    "max_sends_per_recipient_per_hour": {"max_sends_per_recipient_per_hour": 1},
}


@pytest.mark.parametrize("rule", list(CAP_AT_ONE))
async def test_retrying_an_unknown_outcome_with_its_key_is_never_refused_by_the_cap(
    sandbox: Sandbox, tmp_path: Path, rule: str
) -> None:
    async with connected(sandbox, settings_for(caps(**CAP_AT_ONE[rule]), tmp_path / "db")) as (client, _):
        key = await lose_the_response(client, sandbox, message("once"))
        retried = data(await client.call_tool(SEND, {**message("once"), "idempotency_key": key}))
        assert retried["idempotency_key"] == key
        another = await client.call_tool(SEND, message("twice"))
    assert another.is_error and (another.structured_content or {})["rule"] == rule


async def test_a_retried_send_does_not_make_later_sends_be_refused_early(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(caps(max_sends_per_minute=2), tmp_path / "db")) as (client, _):
        key = await lose_the_response(client, sandbox, message("one"))
        for _ in range(2):
            data(await client.call_tool(SEND, {**message("one"), "idempotency_key": key}))
        data(await client.call_tool(SEND, message("two")))  # the second send of the minute
        third = await client.call_tool(SEND, message("three"))
    assert third.is_error and (third.structured_content or {})["rule"] == "max_sends_per_minute"


async def test_a_send_cancelled_in_flight_is_counted_not_leaked(sandbox: Sandbox, tmp_path: Path) -> None:
    """Cancelled while Linq holds the request, the send may have gone out: it counts for the whole window.

    A leaked reservation would count only until it lapsed (``RESERVATION_SECONDS``).
    """
    db = tmp_path / "db"
    config = caps(max_sends_per_minute=1, max_sends_per_hour=1)
    faults = sandbox.world.config.faults
    faults.rate, faults.kinds, faults.latency_ms, faults.only_operations = 1.0, {"latency": 1.0}, 5000, [SEND]
    async with connected(sandbox, settings_for(config, db)) as (_, runtime):
        with anyio.move_on_after(10) as scope:
            async with anyio.create_task_group() as tg:
                tg.start_soon(runtime.runner.call, SEND, message("cancelled"))
                while not sandbox.world.stats.get("fault.latency"):
                    await anyio.sleep(0.01)
                tg.cancel_scope.cancel()  # the request is at Linq, waiting on the latency fault
        assert not scope.cancelled_caught
    later = Policy(config, db, clock=lambda: time.time() + RESERVATION_SECONDS + 60)
    try:
        decision = await later.check(SEND, "send", message("later"))
    finally:
        later.close()
    assert isinstance(decision, Refused) and decision.rule == "max_sends_per_hour", decision
    assert not isinstance(decision, Allowed)


async def test_a_send_the_client_cancels_over_mcp_is_counted_not_leaked(sandbox: Sandbox, tmp_path: Path) -> None:
    """The same, with the cancellation coming from the MCP client (notifications/cancelled)."""
    db = tmp_path / "db"
    config = caps(max_sends_per_minute=1, max_sends_per_hour=1)
    faults = sandbox.world.config.faults
    faults.rate, faults.kinds, faults.latency_ms, faults.only_operations = 1.0, {"latency": 1.0}, 3000, [SEND]
    async with connected(sandbox, settings_for(config, db)) as (client, _):
        async with anyio.create_task_group() as tg:
            tg.start_soon(client.call_tool, SEND, message("cancelled"))
            while not sandbox.world.stats.get("fault.latency"):
                await anyio.sleep(0.01)
            tg.cancel_scope.cancel()
        await anyio.sleep(0.5)  # the server handles the cancellation
    later = Policy(config, db, clock=lambda: time.time() + RESERVATION_SECONDS + 60)
    try:
        decision = await later.check(SEND, "send", message("later"))
    finally:
        later.close()
    assert isinstance(decision, Refused) and decision.rule == "max_sends_per_hour", decision
