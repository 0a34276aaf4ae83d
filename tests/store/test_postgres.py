"""What only the PostgreSQL store has: migrations, the LISTEN connection's recovery, leadership
across replicas, and a clear refusal when the server cannot be reached."""

from __future__ import annotations

import threading

import anyio
import psycopg
import pytest
from store_helpers import inbound

from linq_mcp.store import StoreUnavailable
from linq_mcp.store.postgres import PostgresStore, lock_key, migrate, migrations
from linq_mcp.webhooks import Event

LATEST = migrations()[-1][0]


def applied(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [int(r[0]) for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def terminate(url: str, pid: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (pid,))


async def test_an_empty_database_is_migrated_to_the_latest_version(pg_url: str) -> None:
    async with PostgresStore(pg_url):
        pass
    assert applied(pg_url) == [version for version, _, _ in migrations()]


async def test_a_database_at_the_previous_version_is_migrated_and_keeps_its_data(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn, target=LATEST - 1) == list(range(1, LATEST))
        conn.execute("INSERT INTO event_markers (name, value) VALUES ('poller.high_water', '42.0')")
    async with PostgresStore(pg_url) as store:
        assert await store.events.marker("poller.high_water") == "42.0"
        assert await store.ledger.begin("k", "fp") is None  # the newest migration's table works
    assert applied(pg_url) == list(range(1, LATEST + 1))


async def test_migrating_again_applies_nothing(pg_url: str) -> None:
    async with PostgresStore(pg_url):
        pass
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert migrate(conn) == []


async def test_three_instances_starting_at_once_migrate_once_and_all_open(pg_url: str) -> None:
    stores = [PostgresStore(pg_url) for _ in range(3)]
    try:
        async with anyio.create_task_group() as tg:
            for store in stores:
                tg.start_soon(store.open)
        for store in stores:
            await store.health()
    finally:
        for store in stores:
            await store.aclose()
    assert applied(pg_url) == [version for version, _, _ in migrations()]


async def test_the_listener_reconnects_after_its_connection_is_killed_and_catches_up(pg_url: str) -> None:
    async with PostgresStore(pg_url) as writer, PostgresStore(pg_url) as reader:
        reader.events.reconnect_delays = (1.0, 1.0)  # a gap wide enough to write into, for certain
        assert await anyio.to_thread.run_sync(reader.events.listening.wait, 5.0)
        killed = reader.events.listen_pid
        assert killed is not None
        got: list[tuple[Event, int | None]] = []

        async def follow() -> None:
            async with reader.events.subscribe() as sub:
                async for batch in sub:
                    got.extend((event, reader.events.listen_pid) for event in batch)
                    return

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow)
                await anyio.sleep(0.2)  # the subscriber is waiting
                terminate(pg_url, killed)
                while reader.events.listening.is_set():
                    await anyio.sleep(0.01)
                missed = inbound()
                await writer.events.add(missed)  # its NOTIFY reaches nobody: the reader is not listening
        assert [e.event_id for e, _ in got] == [missed.event_id]
        assert got[0][1] not in (None, killed)  # delivered by the reconnection's catch-up


async def test_another_instance_takes_a_role_within_seconds_when_its_holder_dies(pg_url: str) -> None:
    leading: list[str] = []

    async def work() -> None:
        leading.append("b")
        await anyio.sleep_forever()

    holder = psycopg.connect(pg_url, autocommit=True)  # a replica holding the role, about to die
    try:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key("lead:poller"),))
        async with PostgresStore(pg_url) as b, anyio.create_task_group() as tg:
            tg.start_soon(b.lead, "poller", work)
            await anyio.sleep(1.5)  # longer than a non-leader's retry interval
            assert leading == []
            terminate(pg_url, holder.info.backend_pid)
            with anyio.fail_after(5):  # "within seconds"
                while not leading:
                    await anyio.sleep(0.05)
            tg.cancel_scope.cancel()
    finally:
        holder.close()
    assert leading == ["b"]


async def test_a_leader_whose_lock_connection_dies_stops_its_work(pg_url: str) -> None:
    stopped = anyio.Event()

    async def work() -> None:
        try:
            await anyio.sleep_forever()
        finally:
            stopped.set()

    async with PostgresStore(pg_url) as a, anyio.create_task_group() as tg:
        tg.start_soon(a.lead, "poller", work)
        with anyio.fail_after(5):
            while "poller" not in a.roles:
                await anyio.sleep(0.05)
        with psycopg.connect(pg_url) as conn:
            row = conn.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted").fetchone()
        assert row is not None
        terminate(pg_url, int(row[0]))
        with anyio.fail_after(5):  # it must not go on polling without the role
            await stopped.wait()
        tg.cancel_scope.cancel()


async def test_an_unreachable_server_is_one_line_without_the_password() -> None:
    store = PostgresStore("postgresql://linq:hunter2-secret-pw@127.0.0.1:1/linq")
    with pytest.raises(StoreUnavailable) as caught:
        await store.open()
    message = str(caught.value)
    assert "hunter2-secret-pw" not in message and "\n" not in message
    assert "postgresql://linq:***@127.0.0.1:1/linq" in message


def test_writes_of_many_threads_commit_in_seq_order(pg_url: str) -> None:
    """Readers use seq as a cursor: a commit must never reveal a seq below one already visible."""
    seen: list[int] = []
    stop = threading.Event()

    async def run() -> None:
        async with PostgresStore(pg_url) as a, PostgresStore(pg_url) as b:

            async def writer(store: PostgresStore, n: int) -> None:
                for _ in range(n):
                    await store.events.add(inbound())

            async def reader() -> None:
                cursor = 0
                while not stop.is_set():
                    page = await a.events.list(after_seq=cursor, newest_first=False, limit=1000)
                    for event in page.events:
                        seen.append(event.seq or 0)
                        cursor = event.seq or cursor
                    await anyio.sleep(0)

            async with anyio.create_task_group() as tg:
                tg.start_soon(reader)
                async with anyio.create_task_group() as writers:
                    for i in range(8):
                        writers.start_soon(writer, a if i % 2 else b, 25)
                await anyio.sleep(0.3)
                stop.set()
            rest = await a.events.list(after_seq=seen[-1] if seen else 0, newest_first=False, limit=1000)
            seen.extend(e.seq or 0 for e in rest.events)

    anyio.run(run)
    assert seen == list(range(1, 201))
