"""Send caps: sliding windows that hold across restarts and parallel calls; group size."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_helpers import SEND, Clock, to_handles

from linq_mcp.policy import Allowed, Policy, Refused, SafetyConfig

MakePolicy = Callable[..., Policy]
LOOSE = {"confirm": "never", "max_sends_per_recipient_per_hour": 100}


async def send(policy: Policy, *handles: str) -> Allowed | Refused:
    """check, and record when allowed: what the server does around a successful send."""
    decision = await policy.check(SEND, "send", to_handles(*handles))
    assert isinstance(decision, Allowed | Refused)
    if isinstance(decision, Allowed):
        await policy.record_send(SEND, decision.reached, reservation=decision.reservation)
    return decision


async def test_the_send_after_the_per_minute_cap_is_refused(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=3, **LOOSE)
    for i in range(3):
        assert isinstance(await send(policy, f"+1555000000{i}"), Allowed)
    refused = await send(policy, "+15550000009")
    assert isinstance(refused, Refused) and refused.rule == "max_sends_per_minute"
    assert "max_sends_per_minute = 3" in refused.message


async def test_the_minute_window_slides(make_policy: MakePolicy, clock: Clock) -> None:
    policy = make_policy(max_sends_per_minute=2, **LOOSE)
    await send(policy, "+15550000001")
    clock.advance(30)
    await send(policy, "+15550000002")
    clock.advance(31)  # the first send is now more than a minute old
    assert isinstance(await send(policy, "+15550000003"), Allowed)
    assert isinstance(await send(policy, "+15550000004"), Refused)


async def test_the_hour_cap_survives_a_restart(make_policy: MakePolicy, clock: Clock) -> None:
    first = make_policy(max_sends_per_hour=3, max_sends_per_minute=3, **LOOSE)
    for i in range(3):
        await send(first, f"+1555000000{i}")
        clock.advance(120)
    first.close()
    restarted = make_policy(max_sends_per_hour=3, max_sends_per_minute=3, **LOOSE)
    refused = await send(restarted, "+15550000009")
    assert isinstance(refused, Refused) and refused.rule == "max_sends_per_hour"


async def test_the_day_cap_refuses_and_says_when_to_retry(make_policy: MakePolicy, clock: Clock) -> None:
    policy = make_policy(max_sends_per_minute=1, max_sends_per_hour=1, max_sends_per_day=2, **LOOSE)
    await send(policy, "+15550000001")
    clock.advance(7200)
    await send(policy, "+15550000002")
    clock.advance(7200)
    refused = await send(policy, "+15550000003")
    assert isinstance(refused, Refused) and refused.rule == "max_sends_per_day"
    assert "try again in about 1200 min" in refused.message  # 24 h after the first send


async def test_the_per_recipient_cap_counts_only_that_recipient(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_recipient_per_hour=2, confirm="never")
    await send(policy, "+15550000001")
    await send(policy, "+1 555 000 0001")
    refused = await send(policy, "+15550000001")
    assert isinstance(refused, Refused) and refused.rule == "max_sends_per_recipient_per_hour"
    assert refused.handle == "+15550000001"
    assert isinstance(await send(policy, "+15550000002"), Allowed)


async def test_a_check_without_record_does_not_count_once_released(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=1, **LOOSE)
    decision = await policy.check(SEND, "send", to_handles("+15550000001"))
    assert isinstance(decision, Allowed)
    await policy.release(decision)  # the API call failed
    assert isinstance(await send(policy, "+15550000001"), Allowed)


async def test_parallel_checks_cannot_overshoot_the_cap(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=3, **LOOSE)
    decisions: list[object] = []

    async def one(i: int) -> None:
        decisions.append(await policy.check(SEND, "send", to_handles(f"+1555000001{i}")))

    async with anyio.create_task_group() as tg:
        for i in range(8):
            tg.start_soon(one, i)
    assert sum(isinstance(d, Allowed) for d in decisions) == 3


async def test_dry_runs_do_not_use_up_the_cap(make_policy: MakePolicy) -> None:
    policy = make_policy(max_sends_per_minute=1, **LOOSE)
    for _ in range(3):
        decision = await policy.check(SEND, "send", to_handles("+15550000001", dry_run=True))
        assert isinstance(decision, Allowed) and decision.dry_run
    assert isinstance(await send(policy, "+15550000001"), Allowed)


async def test_a_new_chat_larger_than_max_group_size_is_refused(make_policy: MakePolicy) -> None:
    policy = make_policy(max_group_size=3, confirm="never")
    refused = await policy.check("create_chat", "send", {"from": "+15550009999", **to_handles(*_people(4))})
    assert isinstance(refused, Refused) and refused.rule == "max_group_size"
    allowed = await policy.check("create_chat", "send", {"from": "+15550009999", **to_handles(*_people(3))})
    assert isinstance(allowed, Allowed)


async def test_adding_a_participant_beyond_max_group_size_is_refused(make_policy: MakePolicy) -> None:
    policy = make_policy(max_group_size=3, confirm="never")
    chat: list[dict[str, Any]] = [{"handle": "+15550009999", "is_me": True}, *({"handle": h} for h in _people(3))]
    args = {"chat_id": "c1", "handle": "+15550000077"}
    refused = await policy.check("add_participant", "visible", args, chat_participants=chat)
    assert isinstance(refused, Refused) and refused.rule == "max_group_size"
    chat[1]["status"] = "left"
    assert isinstance(await policy.check("add_participant", "visible", args, chat_participants=chat), Allowed)


def _people(n: int) -> list[str]:
    return [f"+155500001{i:02d}" for i in range(n)]


CAPS = {"max_sends_per_minute": 2, "max_sends_per_hour": 4, "max_sends_per_day": 6}
WINDOWS = {"max_sends_per_minute": 60.0, "max_sends_per_hour": 3600.0, "max_sends_per_day": 86400.0}


@settings(max_examples=40, deadline=None)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from([0.0, 1.0, 20.0, 59.0, 61.0, 900.0, 3599.0, 7200.0, 40000.0]), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_caps_hold_in_every_window_across_restarts(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[float, bool]]
) -> None:
    """Whatever the timing, and with restarts anywhere, no window ever holds more sends than its cap."""
    path: Path = tmp_path_factory.mktemp("caps") / "db.sqlite3"
    clock = Clock()
    config = SafetyConfig.from_mapping({"confirm": "never", "max_sends_per_recipient_per_hour": 3, **CAPS})
    sent: list[float] = []

    async def run() -> None:
        policy = Policy(config, path, clock=clock)
        for gap, restart in steps:
            clock.advance(gap)
            if restart:
                policy.close()
                policy = Policy(config, path, clock=clock)
            if isinstance(await send(policy, "+15550000001"), Allowed):
                sent.append(clock.now)
        policy.close()

    anyio.run(run)
    for at in sent:
        for key, window in WINDOWS.items():
            assert sum(1 for t in sent if at - window < t <= at) <= CAPS[key]
        assert sum(1 for t in sent if at - 3600.0 < t <= at) <= 3
