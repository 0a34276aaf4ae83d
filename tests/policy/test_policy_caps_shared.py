"""Send caps are held in the database: they bind every process on it, and one key is one send.

Issue 11, items 4 and 5: two servers on one data directory each kept their own
reservations in memory, and a retry with the same idempotency key counted twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import pytest
from policy_helpers import SEND, Clock, to_handles

from linq_mcp.policy import Allowed, Policy, Refused
from linq_mcp.policy.caps import RESERVATION_SECONDS

MakePolicy = Callable[..., Policy]
LOOSE: dict[str, Any] = {"confirm": "never", "max_sends_per_recipient_per_hour": 100}


async def test_two_policies_on_one_database_share_one_minute_cap(make_policy: MakePolicy) -> None:
    """Parallel checks in two servers, none recorded yet: together they may not pass the cap."""
    first, second = make_policy(max_sends_per_minute=5, **LOOSE), make_policy(max_sends_per_minute=5, **LOOSE)
    decisions: list[Any] = []

    async def check(policy: Policy, i: int) -> None:
        decisions.append(await policy.check(SEND, "send", to_handles(f"+155500000{i:02d}")))

    async with anyio.create_task_group() as tg:
        for i in range(16):
            tg.start_soon(check, first if i % 2 else second, i)
    assert sum(isinstance(d, Allowed) for d in decisions) == 5


async def test_a_held_send_of_a_crashed_process_stops_counting_after_the_hold(
    make_policy: MakePolicy, clock: Clock
) -> None:
    crashed = make_policy(max_sends_per_minute=1, max_sends_per_hour=10, **LOOSE)
    assert isinstance(await crashed.check(SEND, "send", to_handles("+15550000001")), Allowed)
    crashed.close()  # never settled
    other = make_policy(max_sends_per_minute=1, max_sends_per_hour=10, **LOOSE)
    assert isinstance(await other.check(SEND, "send", to_handles("+15550000002")), Refused)
    clock.advance(RESERVATION_SECONDS + 1)
    assert isinstance(await other.check(SEND, "send", to_handles("+15550000002")), Allowed)


async def test_a_released_send_stops_counting(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=1, **LOOSE)
    allowed = await policy.check(SEND, "send", to_handles("+15550000001"))
    assert isinstance(allowed, Allowed)
    await policy.release(allowed)
    assert isinstance(await policy.check(SEND, "send", to_handles("+15550000001")), Allowed)


# Each cap at 1, and how long to wait for the narrower windows to pass so that this one is what refuses.
CAPS: dict[str, tuple[dict[str, int], float]] = {
    "max_sends_per_minute": ({"max_sends_per_minute": 1}, 0),
    "max_sends_per_hour": ({"max_sends_per_minute": 1, "max_sends_per_hour": 1}, 61),
    "max_sends_per_day": ({"max_sends_per_minute": 1, "max_sends_per_hour": 1, "max_sends_per_day": 1}, 3601),
    "max_sends_per_recipient_per_hour": ({"max_sends_per_recipient_per_hour": 1}, 0),
}


@pytest.mark.parametrize("rule", list(CAPS))
async def test_a_retry_with_the_same_key_is_the_same_send_for_every_cap(
    make_policy: MakePolicy, clock: Clock, rule: str
) -> None:
    caps, narrower_windows = CAPS[rule]
    policy = make_policy(confirm="never", **caps)
    args = to_handles("+15550000001")
    first = await policy.check(SEND, "send", args, idempotency_key="k-1")
    assert isinstance(first, Allowed)
    await policy.record_send(SEND, first.reached, reservation=first.reservation, send_key=first.send_key)
    clock.advance(5)
    for _ in range(3):  # the outcome was unknown: retry, and retry again
        again = await policy.check(SEND, "send", args, idempotency_key="k-1")
        assert isinstance(again, Allowed), again
        await policy.record_send(SEND, again.reached, reservation=again.reservation, send_key=again.send_key)
    clock.advance(narrower_windows)
    other = await policy.check(SEND, "send", args, idempotency_key="k-2")
    assert isinstance(other, Refused) and other.rule == rule


async def test_retries_with_one_key_do_not_use_up_the_cap(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=2, **LOOSE)
    args = to_handles("+15550000001")
    for _ in range(3):
        decision = await policy.check(SEND, "send", args, idempotency_key="k-1")
        assert isinstance(decision, Allowed)
        await policy.record_send(SEND, decision.reached, reservation=decision.reservation, send_key=decision.send_key)
    assert isinstance(await policy.check(SEND, "send", args, idempotency_key="k-2"), Allowed)


async def test_a_failed_retry_does_not_uncount_the_send_it_retried(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=1, **LOOSE)
    args = to_handles("+15550000001")
    first = await policy.check(SEND, "send", args, idempotency_key="k-1")
    assert isinstance(first, Allowed)
    await policy.record_send(SEND, first.reached, reservation=first.reservation, send_key=first.send_key)
    retry = await policy.check(SEND, "send", args, idempotency_key="k-1")
    assert isinstance(retry, Allowed)
    await policy.release(retry)  # e.g. the retry got a definite 400
    assert isinstance(await policy.check(SEND, "send", args, idempotency_key="k-2"), Refused)


async def test_the_same_key_for_other_recipients_is_another_send(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=1, **LOOSE)
    first = await policy.check(SEND, "send", to_handles("+15550000001"), idempotency_key="k-1")
    assert isinstance(first, Allowed)
    await policy.record_send(SEND, first.reached, reservation=first.reservation, send_key=first.send_key)
    other = await policy.check(SEND, "send", to_handles("+15550000002"), idempotency_key="k-1")
    assert isinstance(other, Refused) and other.rule == "max_sends_per_minute"
