"""Hosted mode under load: one and two replicas on PostgreSQL against one process on SQLite.

Everything runs on 127.0.0.1: the Linq sandbox as its own process (standing in for Linq),
replicas as ``linq-mcp --transport http --stateless`` subprocesses in live mode against it,
and PostgreSQL in a database created for the run and dropped after it. Measured:

- **webhook ingest**: signed ``message.received`` deliveries POSTed by ``--clients``
  concurrent connections, spread round-robin over the replicas, for ``--seconds``;
  events/s that were answered 200 (each one committed before its answer);
- **tool calls**: stateless JSON ``tools/call`` of ``list_events`` (a store read; no Linq
  round trip, so the store and the server are what is measured), same load shape; calls/s;
- **cross-replica wake-up** (two replicas): a client listening on replica B
  (``subscriptions/listen`` on ``linq://events``); one webhook at a time POSTed to replica A;
  time from the POST to ``resources/updated`` on B; p50 and p95 (target p50 ≤ 50 ms);
- **caps exactness** (two replicas): 64 concurrent sends to 64 new people, alternating
  between the replicas, against ``max_sends_per_minute = 32``; how many went out over the cap
  (target 0) and under it.

Each throughput figure is the median of ``--rounds`` short runs. The machine has 2 cores,
shared by the load generator, the sandbox, PostgreSQL and the replicas.

    .venv/bin/python tools/bench_replicas.py [--seconds 3] [--rounds 3] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

PG_ADMIN = os.environ.get("LINQ_MCP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-" + "5e" * 24
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"linq-mcp replicas bench key 32b!").decode()
LINE = "+15550100001"
CAP = 32
CAP_SENDS = 64
WAKE_SAMPLES = 40
TARGET_WAKE_P50_MS = 50.0
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env.update(extra)
    return env


def wait_http(url: str, process: subprocess.Popen[bytes], what: str, any_answer: bool = False) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"bench: {what} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            status = httpx.get(url, timeout=2, trust_env=False).status_code
            if status == 200 or (any_answer and status < 500):
                return
        time.sleep(0.05)
    raise SystemExit(f"bench: {what} not ready at {url}")


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"linq_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Setup:
    """The sandbox and a set of replicas on one store, started and stopped together."""

    def __init__(self, workdir: Path, store_env: dict[str, str], replicas: int, *flags: str) -> None:
        self.workdir, self.store_env, self.count, self.flags = workdir, store_env, replicas, flags
        self.processes: list[subprocess.Popen[bytes]] = []
        self.ports: list[int] = []

    def __enter__(self) -> Setup:
        from linq_mcp.sandbox.config import DEFAULT_API_KEY

        sandbox_port = free_port()
        sandbox = self._spawn([sys.executable, "-m", "linq_mcp.sandbox", "--port", str(sandbox_port)], clean_env())
        wait_http(f"http://127.0.0.1:{sandbox_port}/_sandbox/health", sandbox, "the sandbox", any_answer=True)
        for i in range(self.count):
            port = free_port()
            env = clean_env(
                LINQ_API_KEY=DEFAULT_API_KEY,
                LINQ_API_V3_BASE_URL=f"http://127.0.0.1:{sandbox_port}/api/partner",
                LINQ_MCP_SECRET=SECRET,
                LINQ_WEBHOOK_SECRET=WEBHOOK_SECRET,
                LINQ_MCP_DATA_DIR=str(self.workdir / f"replica{i}-{uuid.uuid4().hex[:6]}"),
                **self.store_env,
            )
            cmd = [sys.executable, "-m", "linq_mcp", "--transport", "http", "--stateless", "--port", str(port)]
            self.ports.append(port)
            self._spawn([*cmd, "--confirm", "never", *self.flags], env)
        for port, process in zip(self.ports, self.processes[1:], strict=True):
            wait_http(f"http://127.0.0.1:{port}/readyz", process, f"the replica on {port}")
        return self

    def _spawn(self, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def __exit__(self, *exc: object) -> None:
        for process in reversed(self.processes):
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.ports]


def signed_webhook() -> tuple[bytes, dict[str, str]]:
    from linq_mcp.webhooks import sign_standard

    event_id = str(uuid.uuid4())
    payload = {
        "api_version": "v3",
        "webhook_version": "2026-02-03",
        "event_type": "message.received",
        "event_id": event_id,
        "created_at": "2026-02-03T10:00:00Z",
        "trace_id": "0" * 32,
        "partner_id": "partner_bench",
        "data": {
            "id": str(uuid.uuid4()),
            "chat": {"id": f"chat-{event_id[:8]}", "is_group": False, "owner_handle": {"handle": LINE, "is_me": True}},
            "direction": "inbound",
            "sender_handle": {"handle": "+15551230001", "is_me": False},
            "parts": [{"type": "text", "value": "bench"}],
            "sent_at": "2026-02-03T10:00:00Z",
            "service": "iMessage",
        },
    }
    body = json.dumps(payload).encode()
    ts = int(time.time())
    headers = {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_standard(WEBHOOK_SECRET, event_id, ts, body),
    }
    return body, headers


def call_body(tool: str, arguments: dict[str, Any]) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    ).encode()


async def _load(urls: list[str], clients: int, seconds: float, request: Any) -> float:
    """``clients`` workers, worker i on replica i mod n, each sending ``request(http, url)`` in a loop."""
    done = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(trust_env=False, timeout=30, limits=limits) as http:

        async def worker(url: str) -> None:
            nonlocal done
            while time.monotonic() < deadline:
                if await request(http, url):
                    done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker(urls[i % len(urls)]) for i in range(clients)))
        elapsed = time.monotonic() - started
    return done / elapsed


async def ingest(urls: list[str], clients: int, seconds: float) -> float:
    deliveries = [signed_webhook() for _ in range(int(4000 * seconds))]  # signed ahead: the client stays cheap

    async def post(http: httpx.AsyncClient, url: str) -> bool:
        body, headers = deliveries.pop() if deliveries else signed_webhook()
        return (await http.post(f"{url}/webhooks/linq", content=body, headers=headers)).status_code == 200

    return await _load(urls, clients, seconds, post)


async def tool_calls(urls: list[str], clients: int, seconds: float) -> float:
    body = call_body("list_events", {"limit": 5})

    async def call(http: httpx.AsyncClient, url: str) -> bool:
        response = await http.post(f"{url}/mcp", content=body, headers=HEADERS)
        return response.status_code == 200 and b'"isError":true' not in response.content

    return await _load(urls, clients, seconds, call)


async def wake_up(receiver: str, listener: str) -> list[float]:
    """ms from a webhook POST on ``receiver`` to ``resources/updated`` on ``listener``."""
    from mcp import Client

    samples: list[float] = []
    arrived: asyncio.Queue[float] = asyncio.Queue()
    async with Client(f"{listener}/mcp") as client, httpx.AsyncClient(trust_env=False) as http:
        listening = asyncio.Event()

        async def listen() -> None:
            async with client.listen(resource_subscriptions=["linq://events"]) as subscription:
                listening.set()
                async for event in subscription:
                    if str(getattr(event, "uri", "")) == "linq://events":
                        arrived.put_nowait(time.perf_counter())

        task = asyncio.create_task(listen())
        await asyncio.wait_for(listening.wait(), 10)
        await asyncio.sleep(0.3)
        for _ in range(WAKE_SAMPLES):
            body, headers = signed_webhook()
            sent = time.perf_counter()
            response = await http.post(f"{receiver}/webhooks/linq", content=body, headers=headers)
            assert response.status_code == 200, response.text
            samples.append((await asyncio.wait_for(arrived.get(), 10) - sent) * 1000)
            await asyncio.sleep(0.05)
            while not arrived.empty():  # a coalesced extra update belongs to no sample
                arrived.get_nowait()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    return samples


async def caps(urls: list[str]) -> int:
    """Sends that went out, of CAP_SENDS concurrent ones against a cap of CAP."""
    run = uuid.uuid4().hex[:6]

    async def send(http: httpx.AsyncClient, i: int) -> bool:
        to = f"+1555{int(run, 16) % 1000:03d}{i:04d}"
        message = {"parts": [{"type": "text", "value": f"caps {run} {i}"}]}
        body = call_body("create_chat", {"from": LINE, "to": [to], "message": message})
        response = await http.post(f"{urls[i % len(urls)]}/mcp", content=body, headers=HEADERS)
        return response.status_code == 200 and b'"isError":true' not in response.content

    limits = httpx.Limits(max_connections=CAP_SENDS)
    async with httpx.AsyncClient(trust_env=False, timeout=60, limits=limits) as http:
        results = await asyncio.gather(*(send(http, i) for i in range(CAP_SENDS)))
    return sum(results)


def median(values: list[float]) -> float:
    return statistics.median(values)


def run(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="linq-bench-replicas-"))
    results: dict[str, Any] = {"seconds": args.seconds, "rounds": args.rounds, "clients": args.clients}
    try:
        setups: list[tuple[str, dict[str, str], int]] = [("1 process, SQLite", {}, 1)]
        with contextlib.ExitStack() as stack:
            pg = stack.enter_context(postgres_database())
            setups += [("1 replica, PostgreSQL", {"LINQ_MCP_STORE_URL": pg}, 1)]
            setups += [("2 replicas, PostgreSQL", {"LINQ_MCP_STORE_URL": pg}, 2)]
            for name, store_env, count in setups:
                if not store_env:
                    store_env = {"LINQ_MCP_DB_PATH": str(workdir / f"solo-{uuid.uuid4().hex[:6]}.sqlite3")}
                with Setup(workdir, store_env, count) as setup:
                    rates = [asyncio.run(ingest(setup.urls, args.clients, args.seconds)) for _ in range(args.rounds)]
                    calls = [asyncio.run(tool_calls(setup.urls, args.clients, args.seconds)) for _ in range(args.rounds)]
                results[name] = {"ingest_per_s": median(rates), "calls_per_s": median(calls), "runs": [rates, calls]}
                print(f"bench: {name}: ingest {median(rates):.0f}/s, tool calls {median(calls):.0f}/s", file=sys.stderr)
            with Setup(workdir, {"LINQ_MCP_STORE_URL": pg}, 2) as setup:
                samples = asyncio.run(wake_up(setup.urls[0], setup.urls[1]))
            ordered = sorted(samples)
            results["wake_up_ms"] = {
                "p50": median(samples),
                "p95": ordered[int(len(ordered) * 0.95) - 1],
                "samples": len(samples),
                "target_p50": TARGET_WAKE_P50_MS,
            }
            print(f"bench: cross-replica wake-up {results['wake_up_ms']}", file=sys.stderr)
            with Setup(workdir, {"LINQ_MCP_STORE_URL": pg}, 2, "--max-sends-per-minute", str(CAP)) as setup:
                sent = asyncio.run(caps(setup.urls))
            results["caps"] = {"cap": CAP, "attempts": CAP_SENDS, "sent": sent, "over": max(0, sent - CAP)}
            print(f"bench: caps {results['caps']}", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="runs per figure (the median is reported)")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = run(args)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print("| setup | webhook ingest (events/s) | tool calls (calls/s) |")
        print("|---|---|---|")
        for name in ("1 process, SQLite", "1 replica, PostgreSQL", "2 replicas, PostgreSQL"):
            row = results[name]
            print(f"| {name} | {row['ingest_per_s']:.0f} | {row['calls_per_s']:.0f} |")
        wake, capped = results["wake_up_ms"], results["caps"]
        print(f"\ncross-replica wake-up: p50 {wake['p50']:.1f} ms, p95 {wake['p95']:.1f} ms ({wake['samples']} samples)")
        print(f"caps: {capped['sent']} of {capped['attempts']} concurrent sends went out, cap {capped['cap']}: "
              f"{capped['over']} over")  # fmt: skip
    wake_ok = results["wake_up_ms"]["p50"] <= TARGET_WAKE_P50_MS
    return 0 if wake_ok and results["caps"]["over"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
