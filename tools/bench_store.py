"""The PostgreSQL store across two instances (two replicas' worth): cross-instance wake-up latency
and caps exactness under concurrency.

- **wake-up**: instance B subscribes; instance A stores one event at a time; the time from
  A's ``add()`` call to B's subscriber holding the event (commit, NOTIFY, B's LISTEN thread,
  B's read by seq). Events are spaced so each is measured alone.
- **caps**: 64 concurrent sends through two ``Policy`` objects, one per instance, against
  ``max_sends_per_minute = 10``: how many were allowed (exactly 10 means 0 over the cap).

Runs on a fresh database it creates and drops (``--admin-url``, default the local server).

    .venv/bin/python tools/bench_store.py [--events 200]

Targets: wake-up p50 ≤ 50 ms; 0 sends over the cap.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import ROOT, Report, pct, verdict  # noqa: E402

sys.path.insert(0, str(ROOT))
TARGET_MS = 50.0
CAP = 10
SENDS = 64


def inbound(i: int) -> Any:
    from linq_mcp.webhooks import normalise

    return normalise(
        {
            "api_version": "v3",
            "event_type": "message.received",
            "event_id": f"bench-{uuid.uuid4()}",
            "created_at": "2026-02-05T19:31:13.736Z",
            "data": {"chat": {"id": "chat-bench"}, "id": f"m-{i}", "direction": "inbound", "parts": []},
        }
    )


async def wakeups(url: str, count: int, gap: float) -> list[float]:
    import anyio

    from linq_mcp.store.postgres import PostgresStore

    latencies: list[float] = []
    async with PostgresStore(url) as a, PostgresStore(url) as b:
        await anyio.to_thread.run_sync(b.events.listening.wait, 10.0)
        arrived: dict[str, float] = {}
        got = anyio.Event()

        async def follow() -> None:
            nonlocal got
            async with b.events.subscribe() as sub:
                async for batch in sub:
                    for event in batch:
                        arrived[event.event_id] = time.perf_counter()
                    got.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(follow)
            await anyio.sleep(0.2)
            for i in range(count):
                event = inbound(i)
                got = anyio.Event()
                started = time.perf_counter()
                await a.events.add(event)
                with anyio.fail_after(5):
                    while event.event_id not in arrived:
                        await got.wait()
                        got = anyio.Event()
                latencies.append((arrived[event.event_id] - started) * 1000.0)
                await anyio.sleep(gap)
            tg.cancel_scope.cancel()
    return latencies


async def caps(url: str) -> int:
    import anyio

    from linq_mcp.policy import Allowed, Policy, SafetyConfig
    from linq_mcp.store.postgres import PostgresStore

    config = SafetyConfig.from_mapping(
        {"confirm": "never", "max_sends_per_minute": CAP, "max_sends_per_recipient_per_hour": 100}
    )
    allowed = 0
    async with PostgresStore(url) as a, PostgresStore(url) as b:
        policies = [Policy(config, a.policy), Policy(config, b.policy)]

        async def send(i: int) -> None:
            nonlocal allowed
            args = {"to": [f"+1555100{i:04d}"], "message": {"parts": [{"type": "text", "value": "hi"}]}}
            if isinstance(await policies[i % 2].check("send_message_to_handles", "send", args), Allowed):
                allowed += 1

        async with anyio.create_task_group() as tg:
            for i in range(SENDS):
                tg.start_soon(send, i)
    return allowed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="events to time, one at a time")
    parser.add_argument("--gap", type=float, default=0.01, help="seconds between events")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()
    import anyio
    import psycopg

    name = f"linq_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = args.admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        latencies = anyio.run(wakeups, url, args.events, args.gap)
        allowed = anyio.run(caps, url)
    finally:
        with psycopg.connect(args.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    report = Report("store", "PostgreSQL store, two instances on one database", "tools/bench_store.py")
    p50, p90, p99 = pct(latencies, 50), pct(latencies, 90), pct(latencies, 99)
    report.add(
        "cross-instance wake-up p50", f"{p50:.1f} ms", "", "", f"≤ {TARGET_MS:.0f} ms", verdict(p50 <= TARGET_MS)
    )
    report.add("cross-instance wake-up p90 / p99", f"{p90:.1f} / {p99:.1f} ms")
    over = max(0, allowed - CAP)
    report.add(f"{SENDS} concurrent sends, cap {CAP}/min: allowed", str(allowed), "", "", "0 over", verdict(over == 0))
    report.notes.append(f"{len(latencies)} events, one at a time; wake-up = A.add() called → B's subscriber has it")
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
