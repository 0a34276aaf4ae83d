"""PostgreSQL faults under load across replicas: connections killed mid-load are re-opened; while
the database is down, calls fail clearly (a send is stopped before it goes out, and its retry
sends it once), the receivers answer 503 (so Linq retries) and /readyz says so; nothing a
replica acknowledged with a 200 is lost."""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
import httpx
from pg_faults import outage, terminate_connections
from replicas_helpers import LINE, SAM, Fleet, Replica, direct, message, signed_webhook, unique

from linq_mcp.store import open_store


class Linq:
    """Delivers webhooks like Linq: round robin over the replicas, and a 5xx or a timeout is retried."""

    def __init__(self, replicas: list[Replica]) -> None:
        self.replicas = replicas
        self.acknowledged: list[str] = []
        self.pending: list[tuple[bytes, dict[str, str], str]] = []
        self.refused: dict[int, int] = {}
        self.sent = 0

    async def deliver(self, http: httpx.AsyncClient, delivery: tuple[bytes, dict[str, str], str]) -> None:
        body, headers, event_id = delivery
        replica = self.replicas[self.sent % len(self.replicas)]
        self.sent += 1
        try:
            status = (await http.post(f"{replica.url}/webhooks/linq", content=body, headers=headers)).status_code
        except httpx.HTTPError:
            status = 0
        if status == 200:
            self.acknowledged.append(event_id)
        else:
            self.refused[status] = self.refused.get(status, 0) + 1
            self.pending.append(delivery)

    async def run(self, stop: anyio.Event) -> None:
        async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
            while not stop.is_set():
                await self.deliver(http, signed_webhook(f"chat-{uuid.uuid4().hex[:6]}", "load"))
                await anyio.sleep(0.01)
            with anyio.fail_after(60):  # Linq's retries, once the store is back
                while self.pending:
                    await self.deliver(http, self.pending.pop(0))


async def _ready(replica: Replica) -> int:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        return (await http.get(f"{replica.url}/readyz")).status_code


async def test_under_load_a_database_outage_loses_nothing_acknowledged(
    fleet: Fleet, replicas_pg_url: str, tmp_path: Path
) -> None:
    replicas = fleet.start(2, "--confirm", "never")
    linq, stop = Linq(replicas), anyio.Event()
    text = unique("Sent around an outage")
    send = {"from": LINE, "to": [SAM], "message": message(text), "idempotency_key": f"k-{uuid.uuid4().hex}"}
    async with anyio.create_task_group() as tg:
        tg.start_soon(linq.run, stop)
        await anyio.sleep(1.0)
        assert terminate_connections(replicas_pg_url) > 0  # every replica's connections, mid-load
        await anyio.sleep(1.5)
        with outage(replicas_pg_url):
            await anyio.sleep(1.0)
            down = [await _ready(r) for r in replicas]
            async with direct(replicas[0]) as client:
                asked = anyio.current_time()
                failed = await client.call_tool("list_events", {"limit": 1})
                waited = anyio.current_time() - asked
            async with direct(replicas[1]) as client:
                held = await client.call_tool("create_chat", send)
        with anyio.fail_after(30):  # the replicas reconnect by themselves
            while [await _ready(r) for r in replicas] != [200, 200]:
                await anyio.sleep(0.2)
        async with direct(replicas[0]) as client:  # the caller retries, as the error said to
            retried = await client.call_tool("create_chat", send)
        stop.set()
    assert down == [503, 503]
    assert (held.structured_content or {}).get("error") == "store_unavailable"
    assert not retried.is_error, retried.content[0].text
    assert fleet.linq.delivered(text) == 1  # stopped while down, sent once on the retry
    assert failed.is_error and "store" in failed.content[0].text.lower(), failed  # a clear error, not a crash
    assert waited < 15  # and in seconds, not after the client gave up
    assert linq.refused.get(503, 0) > 0 and not linq.pending
    assert {s for s in linq.refused if s not in (0, 503)} == set()

    store = await open_store(replicas_pg_url, tmp_path / "unused.sqlite3")
    try:
        missing = [e for e in linq.acknowledged if await store.events.get(e) is None]
        stored = await store.events.count()
    finally:
        await store.aclose()
    assert missing == [] and stored == len(set(linq.acknowledged))
    assert [await _ready(r) for r in replicas] == [200, 200]
