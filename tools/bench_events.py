"""Webhook → ``notifications/resources/updated`` latency, over real loopback HTTP.

Starts ``linq-mcp --sandbox --transport http`` (stateful Streamable HTTP, a signing
secret in ``LINQ_WEBHOOK_SECRET``), connects the official ``mcp`` client and subscribes
to ``linq://events`` — with ``resources/subscribe`` on a 2025-11-25 connection and with
``subscriptions/listen`` on a 2026-07-28 one. Then, one at a time, POSTs a signed
``message.received`` webhook to ``/webhooks/linq`` and times until the client is told
``linq://events`` changed (verify → store → notifier → session → SSE → client).

    .venv/bin/python tools/bench_events.py [--events 100]

Target: p50 ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import ROOT, Report, linq_mcp_command, pct, verdict  # noqa: E402

sys.path.insert(0, str(ROOT))
TARGET_P50_MS = 20.0
URI = "linq://events"
SECRET = "whsec_" + base64.b64encode(b"linq-mcp benchmark secret 32 by!").decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def delivery(i: int) -> tuple[bytes, dict[str, str]]:
    from linq_mcp.webhooks.verify import sign_standard

    event_id = str(uuid.uuid4())
    payload = {
        "api_version": "v3",
        "webhook_version": "2026-02-03",
        "event_type": "message.received",
        "event_id": event_id,
        "created_at": "2026-02-03T10:00:00Z",
        "trace_id": uuid.uuid4().hex,
        "partner_id": "bench",
        "data": {
            "id": str(uuid.uuid4()),
            "chat": {"id": f"bench-chat-{i % 10}", "is_group": False, "owner_handle": {"handle": "+15550100001", "is_me": True}},
            "direction": "inbound",
            "sender_handle": {"handle": "+15551230001", "is_me": False},
            "parts": [{"type": "text", "value": f"bench {i}"}],
            "sent_at": "2026-02-03T10:00:00Z",
            "service": "iMessage",
        },
    }
    body = json.dumps(payload).encode()
    ts = int(time.time())
    return body, {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_standard(SECRET, event_id, ts, body),
    }


async def measure(base: str, era: str, events: int) -> tuple[list[float], int]:
    import warnings

    import anyio
    import httpx
    import mcp.types as types
    from mcp import Client, MCPDeprecationWarning

    warnings.filterwarnings("ignore", category=MCPDeprecationWarning)  # resources/subscribe is 2025-era

    send, recv = anyio.create_memory_object_stream[float](1000)

    async def handler(message: Any) -> None:
        note = getattr(message, "root", message)
        if isinstance(note, types.ResourceUpdatedNotification) and str(note.params.uri) == URI:
            send.send_nowait(time.perf_counter())

    lat: list[float] = []
    missed = 0
    async with Client(f"{base}/mcp", mode=era, message_handler=handler) as client:  # type: ignore[arg-type]
        async with anyio.create_task_group() as tg, httpx.AsyncClient(trust_env=False) as http:
            ready = anyio.Event()
            if era == "legacy":
                await client.subscribe_resource(URI)
                ready.set()
            else:

                async def listen() -> None:
                    async with client.listen(resource_subscriptions=[URI]) as sub:
                        ready.set()
                        async for event in sub:
                            if str(getattr(event, "uri", "")) == URI:
                                send.send_nowait(time.perf_counter())

                tg.start_soon(listen)
            with anyio.fail_after(10):
                await ready.wait()
            await anyio.sleep(0.2)
            deadline = time.monotonic() + 60
            for i in range(events + 5):  # the first 5 warm up
                body, headers = delivery(i)
                while True:  # drain stale updates
                    try:
                        recv.receive_nowait()
                    except anyio.WouldBlock:
                        break
                t0 = time.perf_counter()
                r = await http.post(f"{base}/webhooks/linq", content=body, headers=headers)
                assert r.status_code == 200, r.text
                try:
                    with anyio.fail_after(2):
                        at = await recv.receive()
                    if i >= 5:
                        lat.append((at - t0) * 1000)
                except TimeoutError:
                    missed += 1
                await anyio.sleep(0.01)
                if time.monotonic() > deadline:
                    break
            tg.cancel_scope.cancel()
    return lat, missed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100, help="webhooks per era")
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()
    import anyio
    import httpx

    tmp = tempfile.mkdtemp(prefix="linq-bench-events-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env.update(TMPDIR=tmp, LINQ_MCP_DATA_DIR=tmp, LINQ_WEBHOOK_SECRET=SECRET)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        linq_mcp_command() + ["--sandbox", "--transport", "http", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, tuple[list[float], int]] = {}
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("linq-mcp did not start")
            try:
                if httpx.get(f"{base}/healthz", trust_env=False).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        for era in ("legacy", "auto"):
            results[era] = anyio.run(measure, base, era, args.events)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    report = Report("events", "Webhook POST → notifications/resources/updated at the client (loopback HTTP)", "tools/bench_events.py")
    rows = [["connection", "events", "missed", "p50 ms", "p90 ms", "p99 ms", "max ms"]]
    for era, label in (("legacy", "2025-11-25, resources/subscribe"), ("auto", "2026-07-28, subscriptions/listen")):
        lat, missed = results[era]
        rows.append([label, str(len(lat)), str(missed), *(f"{pct(lat, p):.1f}" for p in (50, 90, 99, 100))])
        p50 = pct(lat, 50)
        report.add(f"p50, {label}", f"{p50:.1f} ms", target=f"≤ {TARGET_P50_MS:.0f} ms", verdict=verdict(p50 <= TARGET_P50_MS and missed == 0))
    report.tables["latency"] = rows
    report.notes.append(
        "one webhook at a time, 10 ms apart; timed from the POST's start to the notification's arrival in the "
        "client's handler; server = `linq-mcp --sandbox --transport http` (stateful)"
    )
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
