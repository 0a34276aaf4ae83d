"""What two store instances on one database agree on: two processes on one SQLite file, or two
replicas on one PostgreSQL database (issue 14). Every test runs on both backends."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from store_helpers import NewStore, inbound, two

from linq_mcp.policy import Allowed, ConfirmationRequired, Policy, Refused, SafetyConfig
from linq_mcp.store import KeyReused
from linq_mcp.tools.ledger import fingerprint
from linq_mcp.webhooks import Event

SEND = "send_message_to_handles"
LOOSE: dict[str, Any] = {"confirm": "never", "max_sends_per_recipient_per_hour": 100}


def to(handle: str, **extra: Any) -> dict[str, Any]:
    return {"to": [handle], "message": {"parts": [{"type": "text", "value": "hello"}]}, **extra}


async def test_an_event_stored_by_one_instance_is_a_duplicate_on_the_other(new_store: NewStore) -> None:
    event = inbound()
    async with two(new_store) as (a, b):
        assert await a.events.add(event) is True
        assert await b.events.add(event) is False
        assert await b.events.count() == 1


async def test_concurrent_adds_of_one_event_on_two_instances_store_it_once(new_store: NewStore) -> None:
    event = inbound()
    results: list[bool] = []
    async with two(new_store) as (a, b):

        async def add(store_events: Any) -> None:
            results.append(await store_events.add(event))

        async with anyio.create_task_group() as tg:
            for i in range(8):
                tg.start_soon(add, (a if i % 2 else b).events)
        assert sorted(results) == [False] * 7 + [True]
        assert await a.events.count() == 1


async def test_an_event_added_on_one_instance_wakes_a_subscriber_on_the_other(new_store: NewStore) -> None:
    event = inbound()
    got: list[Event] = []
    async with two(new_store) as (a, b):
        with anyio.fail_after(5):
            async with b.events.subscribe() as sub:
                await a.events.add(event)
                async for batch in sub:
                    got.extend(batch)
                    break
    assert [e.event_id for e in got] == [event.event_id]


async def test_wait_on_one_instance_returns_an_event_added_on_the_other(new_store: NewStore) -> None:
    event = inbound(chat_id="chat-wait")
    async with two(new_store) as (a, b):
        async with anyio.create_task_group() as tg:
            found: list[Event | None] = []

            async def waiter() -> None:
                found.append(await b.events.wait(lambda e: e.chat_id == "chat-wait", timeout=5))

            tg.start_soon(waiter)
            await anyio.sleep(0.2)
            await a.events.add(inbound(chat_id="other"))
            await a.events.add(event)
    assert [e.event_id if e else None for e in found] == [event.event_id]


async def test_the_inbox_read_state_is_shared(new_store: NewStore) -> None:
    async with two(new_store) as (a, b):
        await a.events.add(inbound(chat_id="c1"))
        await a.events.add(inbound(chat_id="c2"))
        assert await b.events.mark_read(chat_id="c1") == 1
        assert [e.chat_id for e in await a.events.inbox()] == ["c2"]


async def test_a_marker_set_on_one_instance_is_read_on_the_other(new_store: NewStore) -> None:
    async with two(new_store) as (a, b):
        await a.events.set_marker("poller.high_water", "1.5")
        await a.events.set_marker("poller.high_water", "2.5")
        assert await b.events.marker("poller.high_water") == "2.5"


async def test_64_concurrent_sends_on_two_instances_never_pass_the_cap(new_store: NewStore) -> None:
    """Issue 14's figure: caps hold exactly across replicas under concurrency (0 over)."""
    config = SafetyConfig.from_mapping({"max_sends_per_minute": 10, **LOOSE})
    decisions: list[Any] = []
    async with two(new_store) as (a, b):
        policies = [Policy(config, a.policy), Policy(config, b.policy)]

        async def send(i: int) -> None:
            decisions.append(await policies[i % 2].check(SEND, "send", to(f"+1555000{i:04d}")))

        async with anyio.create_task_group() as tg:
            for i in range(64):
                tg.start_soon(send, i)
    assert sum(isinstance(d, Allowed) for d in decisions) == 10
    assert all(
        isinstance(d, Refused) and d.rule == "max_sends_per_minute" for d in decisions if not isinstance(d, Allowed)
    )


async def test_a_retry_with_the_same_key_on_the_other_instance_is_one_send(new_store: NewStore) -> None:
    config = SafetyConfig.from_mapping({"max_sends_per_minute": 1, **LOOSE})
    async with two(new_store) as (a, b):
        first = await Policy(config, a.policy).check(SEND, "send", to("+15550001111"), idempotency_key="k1")
        retry = await Policy(config, b.policy).check(SEND, "send", to("+15550001111"), idempotency_key="k1")
        other = await Policy(config, b.policy).check(SEND, "send", to("+15550002222"), idempotency_key="k2")
    assert isinstance(first, Allowed) and isinstance(retry, Allowed) and retry.reservation_reused
    assert isinstance(other, Refused)


async def test_a_confirmation_minted_on_one_instance_is_redeemed_once_across_both(new_store: NewStore) -> None:
    config = SafetyConfig.from_mapping({"confirm": "always"})
    async with two(new_store) as (a, b):
        asked = await Policy(config, a.policy).check(SEND, "send", to("+15550003333"))
        assert isinstance(asked, ConfirmationRequired)
        confirmed = to("+15550003333", confirm_token=asked.token)
        decisions: list[Any] = []

        async def redeem(policy: Policy) -> None:
            decisions.append(await policy.check(SEND, "send", confirmed))

        async with anyio.create_task_group() as tg:
            for store in (a, b, a, b):
                tg.start_soon(redeem, Policy(config, store.policy))
    assert sum(isinstance(d, Allowed) for d in decisions) == 1
    assert {d.rule for d in decisions if isinstance(d, Refused)} == {"confirm_token"}


async def test_a_decline_on_one_instance_is_honoured_on_the_other(new_store: NewStore) -> None:
    config = SafetyConfig.from_mapping({"confirm": "always"})
    async with two(new_store) as (a, b):
        await Policy(config, a.policy).record_decline(SEND, to("+15550004444"))
        assert await Policy(config, b.policy).declined_at(SEND, to("+15550004444")) is not None
        assert await Policy(config, b.policy).declined_at(SEND, to("+15550005555")) is None


async def test_a_key_claimed_on_one_instance_is_pending_on_the_other(new_store: NewStore) -> None:
    fp = fingerprint(SEND, to("+15550006666"))
    async with two(new_store) as (a, b):
        assert await a.ledger.begin("key-1", fp) is None
        held = await b.ledger.begin("key-1", fp)
        assert held is not None and held.state == "pending"


async def test_a_result_recorded_on_one_instance_is_replayed_on_the_other(new_store: NewStore) -> None:
    fp = fingerprint(SEND, to("+15550007777"))
    async with two(new_store) as (a, b):
        assert await a.ledger.begin("key-2", fp) is None
        await a.ledger.record("key-2", fp, "done", {"chat_id": "c-9", "id": "m-1"})
        entry = await b.ledger.lookup("key-2", fp)
    assert entry is not None and (entry.state, entry.result) == ("done", {"chat_id": "c-9", "id": "m-1"})


async def test_a_key_reused_for_another_call_is_refused_on_the_other_instance(new_store: NewStore) -> None:
    async with two(new_store) as (a, b):
        await a.ledger.record("key-3", fingerprint(SEND, to("+15550008888")), "unknown")
        with pytest.raises(KeyReused):
            await b.ledger.lookup("key-3", fingerprint(SEND, to("+15550009999")))


async def test_a_forgotten_key_is_free_on_both(new_store: NewStore) -> None:
    fp = fingerprint(SEND, to("+15550001212"))
    async with two(new_store) as (a, b):
        await a.ledger.begin("key-4", fp)
        await b.ledger.forget("key-4")
        assert await a.ledger.lookup("key-4", fp) is None


async def test_health_passes_on_an_open_store(new_store: NewStore) -> None:
    async with new_store() as store:
        await store.health()


async def test_a_role_is_held_while_its_work_runs_and_released_after(new_store: NewStore) -> None:
    async with new_store() as store:
        seen: list[set[str]] = []

        async def work() -> None:
            seen.append(set(store.roles))

        with anyio.fail_after(5):
            await store.lead("poller", work)
        assert seen == [{"poller"}]
        assert "poller" not in store.roles
