"""The event store: dedup, paging, inbox, retention, and change notification."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest
from webhook_helpers import envelope, message

from linq_mcp.webhooks import EventStore, normalise


async def test_add_reports_new_then_duplicate(store: EventStore) -> None:
    event = normalise(message())
    assert [await store.add(event), await store.add(event)] == [True, False]


async def test_duplicate_event_is_stored_once(store: EventStore) -> None:
    event = normalise(message())
    for _ in range(3):
        await store.add(event)
    assert await store.count() == 1


async def test_concurrent_duplicates_in_one_batch_store_one_row(store: EventStore) -> None:
    event = normalise(message())
    results: list[bool] = []

    async def add() -> None:
        results.append(await store.add(event))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(add)
    assert (sorted(results), await store.count()) == ([False] * 9 + [True], 1)


async def test_replayed_delivery_id_is_not_stored_again(store: EventStore) -> None:
    assert await store.add(normalise(message()), delivery_id="msg_same")
    assert not await store.add(normalise(message()), delivery_id="msg_same")


async def test_row_is_visible_to_another_connection_when_add_returns(store: EventStore, db_path: Path) -> None:
    event = normalise(message())
    await store.add(event)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM webhook_events WHERE event_id = ?", (event.event_id,)).fetchone() == (
            1,
        )


async def test_store_file_is_in_wal_mode(store: EventStore, db_path: Path) -> None:
    await store.add(normalise(message()))
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


async def test_get_returns_the_event_with_store_fields(store: EventStore) -> None:
    payload = message(text="hello there")
    await store.add(normalise(payload), "polled")
    got = await store.get(payload["event_id"])
    assert got is not None and (got.text, got.source, got.seq, got.raw) == ("hello there", "polled", 1, payload)
    assert got.received_at is not None and abs(got.received_at - time.time()) < 60


async def test_get_unknown_event_is_none(store: EventStore) -> None:
    assert await store.get("nope") is None


async def test_add_rejects_an_unknown_source(store: EventStore) -> None:
    with pytest.raises(ValueError):
        await store.add(normalise(message()), "carrier-pigeon")  # type: ignore[arg-type]


async def test_raw_body_is_stored_exactly_as_received(store: EventStore, db_path: Path) -> None:
    payload = message()
    raw = json.dumps(payload, indent=3)
    await store.add(normalise(payload), raw_json=raw)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT raw_json FROM webhook_events").fetchone() == (raw,)


async def test_seq_increases_in_commit_order(store: EventStore) -> None:
    ids = []
    for i in range(5):
        payload = message(text=str(i))
        ids.append(payload["event_id"])
        await store.add(normalise(payload))
    page = await store.list(newest_first=False)
    seqs = [e.seq for e in page.events if e.seq is not None]
    assert [e.event_id for e in page.events] == ids and len(seqs) == len(ids) and seqs == sorted(seqs)


async def test_list_pages_newest_first_with_a_cursor(store: EventStore) -> None:
    for i in range(7):
        await store.add(normalise(message(text=str(i))))
    seen: list[str | None] = []
    cursor = None
    while True:
        page = await store.list(limit=3, before_seq=cursor)
        seen.extend(e.text for e in page.events)
        if page.cursor is None:
            break
        cursor = page.cursor
    assert seen == [str(i) for i in reversed(range(7))]


async def test_list_pages_oldest_first_with_after_seq(store: EventStore) -> None:
    for i in range(5):
        await store.add(normalise(message(text=str(i))))
    first = await store.list(limit=2, newest_first=False)
    second = await store.list(limit=10, newest_first=False, after_seq=first.cursor)
    assert [e.text for e in first.events + second.events] == ["0", "1", "2", "3", "4"] and second.cursor is None


async def test_list_filters_by_chat_and_type(store: EventStore) -> None:
    await store.add(normalise(message(chat_id="a")))
    await store.add(normalise(message("outbound", chat_id="a")))
    await store.add(normalise(message(chat_id="b")))
    await store.add(normalise(envelope("chat.typing_indicator.started", {"chat_id": "a"})))
    page = await store.list(chat_id="a", types=["message.received", "chat.typing_indicator.started"])
    assert sorted(e.event_type for e in page.events) == ["chat.typing_indicator.started", "message.received"]


async def test_list_type_family_wildcard(store: EventStore) -> None:
    await store.add(normalise(message()))
    await store.add(normalise(envelope("chat.typing_indicator.started", {"chat_id": "a"})))
    page = await store.list(types=["message.*"])
    assert [e.event_type for e in page.events] == ["message.received"]


async def test_inbox_holds_unread_inbound_messages_only(store: EventStore) -> None:
    inbound = message(text="to you")
    await store.add(normalise(inbound))
    await store.add(normalise(message("outbound", text="from us")))
    assert [e.event_id for e in await store.inbox()] == [inbound["event_id"]]


async def test_mark_read_by_message_id_empties_the_inbox(store: EventStore) -> None:
    inbound = message(message_id="m-1")
    await store.add(normalise(inbound))
    assert await store.mark_read(message_ids=["m-1"]) == 1
    assert await store.inbox() == [] and await store.unread_count() == 0


async def test_mark_read_by_chat_leaves_other_chats_unread(store: EventStore) -> None:
    await store.add(normalise(message(chat_id="a")))
    await store.add(normalise(message(chat_id="b")))
    await store.mark_read(chat_id="a")
    assert [e.chat_id for e in await store.inbox()] == ["b"]


async def test_mark_read_needs_a_selector(store: EventStore) -> None:
    with pytest.raises(ValueError):
        await store.mark_read()


async def test_the_same_message_polled_after_its_webhook_is_one_inbox_item(store: EventStore) -> None:
    first = message(message_id="m-7")
    again = {**first, "event_id": "polled-m-7"}
    await store.add(normalise(first), "webhook")
    assert await store.add(normalise(again), "polled")
    assert [e.event_id for e in await store.inbox()] == [first["event_id"]]


async def test_prune_by_count_keeps_the_newest(store: EventStore) -> None:
    for i in range(10):
        await store.add(normalise(message(text=str(i))))
    assert await store.prune(max_events=3) == 7
    assert [e.text for e in (await store.list()).events] == ["9", "8", "7"]


async def test_prune_by_age_drops_old_events(store: EventStore, db_path: Path) -> None:
    old, new = message(text="old"), message(text="new")
    await store.add(normalise(old))
    await store.add(normalise(new))
    with sqlite3.connect(db_path) as conn:
        conn.execute(
            "UPDATE webhook_events SET received_at = ? WHERE event_id = ?", (time.time() - 10 * 86400, old["event_id"])
        )
    assert await store.prune(max_age_days=7) == 1
    assert [e.text for e in (await store.list()).events] == ["new"]


async def test_seq_is_never_reused_after_pruning(store: EventStore) -> None:
    await store.add(normalise(message()))
    await store.add(normalise(message()))
    await store.prune(max_events=0)
    await store.add(normalise(message()))
    assert [e.seq for e in (await store.list()).events] == [3]


async def test_wait_returns_an_event_added_in_process(store: EventStore) -> None:
    payload = message(text="reply")

    async def later() -> None:
        await anyio.sleep(0.05)
        await store.add(normalise(payload))

    async with anyio.create_task_group() as tg:
        tg.start_soon(later)
        got = await store.wait(lambda e: e.event_type == "message.received", timeout=5)
    assert got is not None and got.event_id == payload["event_id"]


async def test_wait_skips_events_that_do_not_match(store: EventStore) -> None:
    async def later() -> None:
        await anyio.sleep(0.05)
        await store.add(normalise(message(chat_id="other")))
        await store.add(normalise(message(chat_id="mine", text="yes")))

    async with anyio.create_task_group() as tg:
        tg.start_soon(later)
        got = await store.wait(lambda e: e.chat_id == "mine", timeout=5)
    assert got is not None and got.text == "yes"


async def test_wait_ignores_events_committed_before_it_started(store: EventStore) -> None:
    await store.add(normalise(message()))
    assert await store.wait(lambda e: True, timeout=0.2) is None


async def test_wait_times_out_with_none(store: EventStore) -> None:
    started = time.monotonic()
    assert await store.wait(lambda e: True, timeout=0.1) is None
    assert time.monotonic() - started < 2


async def test_wait_after_seq_sees_events_already_committed(store: EventStore) -> None:
    await store.add(normalise(message(text="earlier")))
    got = await store.wait(lambda e: True, timeout=1, after_seq=0)
    assert got is not None and got.text == "earlier"


_ADD_FROM_OTHER_PROCESS = """
import asyncio, json, sys
from linq_mcp.webhooks import EventStore, normalise

async def main():
    async with EventStore(sys.argv[1]) as store:
        await asyncio.sleep(float(sys.argv[3]))
        await store.add(normalise(json.loads(sys.argv[2])))

asyncio.run(main())
"""


async def test_wait_returns_an_event_written_by_another_process(store: EventStore, db_path: Path) -> None:
    await store.add(normalise(message()))  # the table exists before the other process opens it
    payload = message(text="from the receiver process")
    proc = subprocess.Popen([sys.executable, "-c", _ADD_FROM_OTHER_PROCESS, str(db_path), json.dumps(payload), "0.5"])
    try:
        got = await store.wait(lambda e: e.event_id == payload["event_id"], timeout=20)
    finally:
        await anyio.to_thread.run_sync(proc.wait)
    assert got is not None and got.text == "from the receiver process"


async def test_cross_process_write_is_noticed_within_a_fraction_of_a_second(store: EventStore, db_path: Path) -> None:
    await store.add(normalise(message()))
    payload = message()
    proc = subprocess.Popen([sys.executable, "-c", _ADD_FROM_OTHER_PROCESS, str(db_path), json.dumps(payload), "0"])
    noticed_at: list[float] = []
    async with anyio.create_task_group() as tg:

        async def waiter() -> None:
            if await store.wait(lambda e: e.event_id == payload["event_id"], timeout=20):
                noticed_at.append(time.time())

        tg.start_soon(waiter)
        await anyio.to_thread.run_sync(proc.wait)
    got = await store.get(payload["event_id"])
    assert got is not None and got.received_at is not None and noticed_at
    assert noticed_at[0] - got.received_at < 0.5


async def test_subscribe_yields_new_events_in_batches(store: EventStore) -> None:
    await store.add(normalise(message(text="before")))
    received: list[str | None] = []
    async with store.subscribe() as sub:
        await store.add(normalise(message(text="one")))
        await store.add(normalise(message(text="two")))
        with anyio.fail_after(5):
            async for batch in sub:
                received.extend(e.text for e in batch)
                if len(received) >= 2:
                    break
    assert received == ["one", "two"]


async def test_store_reopens_with_its_events(db_path: Path) -> None:
    payload = message()
    async with EventStore(db_path) as first:
        await first.add(normalise(payload))
    async with EventStore(db_path) as second:
        assert (await second.get(payload["event_id"])) is not None


async def test_closed_store_refuses_writes(db_path: Path) -> None:
    store = EventStore(db_path)
    await store.open()
    await store.aclose()
    with pytest.raises(RuntimeError):
        await store.add(normalise(message()))


async def test_subscription_ends_when_the_store_closes(db_path: Path) -> None:
    store = EventStore(db_path)
    await store.open()
    batches: list[int] = []

    async def consume() -> None:
        async with store.subscribe() as sub:
            async for batch in sub:
                batches.append(len(batch))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await anyio.sleep(0.1)
            await store.aclose()
    assert batches == []


async def test_a_marker_is_kept_across_reopening_and_overwritten_in_place(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    async with EventStore(path) as store:
        assert await store.marker("poller.high_water") is None
        await store.set_marker("poller.high_water", "1.5")
        await store.set_marker("poller.high_water", "2.5")
    async with EventStore(path) as store:
        assert await store.marker("poller.high_water") == "2.5"
