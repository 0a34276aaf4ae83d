"""Benchmark the webhook receiver over real loopback HTTP.

Starts ``python -m linq_mcp.webhooks serve`` (uvicorn on 127.0.0.1, a fresh SQLite file in
a temp dir), then:

1. **throughput**: several concurrent keep-alive senders post signed events as fast as
   the receiver acknowledges them; counts verified + durably committed events per second;
2. **latency**: a steady 200 events/s for a few seconds; acknowledgement latency
   percentiles, measured from each request's scheduled send time.

It checks the store afterwards (every acknowledged event is there), prints a table and a
verdict against the targets (>= 3,000 events/s; p99 <= 20 ms at 200/s), and stops by itself.

    .venv/bin/python tools/bench_webhooks.py [--count 20000] [--seconds 10] [--senders 16]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from linq_mcp.webhooks.verify import sign_standard  # noqa: E402

TARGET_RATE = 3000.0
TARGET_P99_MS = 20.0
PATH = "/webhooks/linq"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_body(i: int, chat_id: str) -> bytes:
    event = {
        "api_version": "v3",
        "webhook_version": "2026-02-03",
        "event_type": "message.received",
        "event_id": str(uuid.uuid4()),
        "created_at": "2026-02-05T19:31:13.736Z",
        "trace_id": uuid.uuid4().hex,
        "partner_id": "bench",
        "data": {
            "chat": {"id": chat_id, "is_group": False, "owner_handle": {"handle": "+12025551234", "is_me": True}},
            "id": str(uuid.uuid4()),
            "direction": "inbound",
            "sender_handle": {"handle": "+12025559876", "is_me": False},
            "parts": [{"type": "text", "value": f"bench message {i}"}],
            "sent_at": "2026-02-05T19:31:13.074Z",
            "delivered_at": None,
            "read_at": None,
            "service": "iMessage",
        },
    }
    return json.dumps(event, separators=(",", ":")).encode()


def make_request(secret: str, port: int, i: int) -> bytes:
    body = make_body(i, f"chat-{i % 50}")
    wid = f"msg_{uuid.uuid4().hex}"
    ts = int(time.time())
    head = (
        f"POST {PATH} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nwebhook-id: {wid}\r\nwebhook-timestamp: {ts}\r\n"
        f"webhook-signature: {sign_standard(secret, wid, ts, body)}\r\n\r\n"
    )
    return head.encode() + body


class Conn:
    """A minimal HTTP/1.1 keep-alive client: the sender must cost far less CPU than the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> Conn:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        return cls(r, w)

    async def post(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def throughput(port: int, requests: list[bytes], senders: int, seconds: float) -> tuple[int, float, int]:
    conns = [await Conn.open(port) for _ in range(senders)]
    it = iter(requests)
    ok = failed = 0
    deadline = time.perf_counter() + seconds

    async def run(conn: Conn) -> None:
        nonlocal ok, failed
        for req in it:
            if time.perf_counter() > deadline:
                return
            if await conn.post(req) == 200:
                ok += 1
            else:
                failed += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(run(c) for c in conns))
    elapsed = time.perf_counter() - t0
    for c in conns:
        c.close()
    return ok, elapsed, failed


async def latency(port: int, requests: list[bytes], rate: float) -> tuple[list[float], int]:
    pool: asyncio.Queue[Conn] = asyncio.Queue()
    for _ in range(8):
        pool.put_nowait(await Conn.open(port))
    lat: list[float] = []
    failed = 0

    async def one(req: bytes, scheduled: float) -> None:
        nonlocal failed
        conn = await pool.get()
        try:
            status = await conn.post(req)
        finally:
            pool.put_nowait(conn)
        lat.append((time.perf_counter() - scheduled) * 1000.0)
        if status != 200:
            failed += 1

    tasks = []
    t0 = time.perf_counter() + 0.05
    for i, req in enumerate(requests):
        scheduled = t0 + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(req, scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return lat, failed


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100.0 * (len(ordered) - 1))))]


async def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("receiver exited early")
        try:
            conn = await Conn.open(port)
            conn.writer.write(f"GET {PATH}/health HTTP/1.1\r\nhost: x\r\n\r\n".encode())
            head = await conn.reader.readuntil(b"\r\n\r\n")
            conn.close()
            if head[9:12] == b"200":
                return
        except OSError:
            pass
        await asyncio.sleep(0.05)
    raise RuntimeError("receiver did not start")


def server_stack(env: dict[str, str]) -> str:
    """Which HTTP parser and event loop uvicorn picks ("auto") in the server's environment."""
    probe = "import importlib.util as u; print(bool(u.find_spec('httptools')), bool(u.find_spec('uvloop')))"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True).stdout.split()
    http = "httptools" if out[:1] == ["True"] else "h11"
    loop = "uvloop" if out[1:2] == ["True"] else "asyncio"
    return f"uvicorn {http}/{loop}"


async def main_async(args: argparse.Namespace) -> int:
    load_before = os.getloadavg()[0]
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    tmp = tempfile.mkdtemp(prefix="linq-bench-")
    db_path = os.path.join(tmp, "events.sqlite3")
    port = free_port()
    pythonpath = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "LINQ_WEBHOOK_SECRETS": secret, "PYTHONPATH": pythonpath}
    cmd = [sys.executable, "-m", "linq_mcp.webhooks", "serve", "--port", str(port), "--db", db_path]
    proc = subprocess.Popen(cmd, env=env, cwd=str(ROOT))
    try:
        await wait_ready(port, proc)
        warm = [make_request(secret, port, i) for i in range(300)]
        await throughput(port, warm, 4, 10)

        reqs = [make_request(secret, port, i) for i in range(args.count)]
        ok, elapsed, failed_t = await throughput(port, reqs, args.senders, args.seconds)
        rate = ok / elapsed if elapsed else 0.0

        steady = [make_request(secret, port, i) for i in range(int(args.rate * args.latency_seconds))]
        lat, failed_l = await latency(port, steady, args.rate)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    try:
        with sqlite3.connect(db_path) as conn:
            stored = conn.execute("SELECT count(*) FROM webhook_events").fetchone()[0]
    except sqlite3.Error:
        stored = -1
    shutil.rmtree(tmp, ignore_errors=True)
    acked = 300 + ok + len(lat) - failed_l
    p50, p90, p99, mx = (pct(lat, p) for p in (50, 90, 99, 100))
    print()
    print(
        f"cpus: {os.cpu_count()}  load avg before: {load_before:.2f}  python: {sys.version.split()[0]}  "
        f"senders: {args.senders}  server stack: {server_stack(env)}"
    )
    print(f"{'measure':<44}{'value':>12}")
    print(f"{'-' * 56}")
    print(f"{'throughput: events acknowledged (200)':<44}{ok:>12d}")
    print(f"{'throughput: rejected / failed':<44}{failed_t:>12d}")
    print(f"{'throughput: elapsed s':<44}{elapsed:>12.2f}")
    print(f"{'throughput: verified+committed events/s':<44}{rate:>12.0f}")
    label = f"latency @ {args.rate:.0f}/s: events (failed)"
    print(f"{label:<44}{f'{len(lat)} ({failed_l})':>12}")
    print(f"{'latency p50 ms':<44}{p50:>12.2f}")
    print(f"{'latency p90 ms':<44}{p90:>12.2f}")
    print(f"{'latency p99 ms':<44}{p99:>12.2f}")
    print(f"{'latency max ms':<44}{mx:>12.2f}")
    print(f"{'latency mean ms':<44}{statistics.fmean(lat):>12.2f}")
    print(f"{'rows in store / acknowledged':<44}{f'{stored} / {acked}':>12}")
    verdict_rate = rate >= TARGET_RATE
    verdict_p99 = p99 <= TARGET_P99_MS
    print()
    print(f"throughput >= {TARGET_RATE:.0f}/s: {'PASS' if verdict_rate else 'FAIL'} ({rate:.0f}/s)")
    print(f"p99 <= {TARGET_P99_MS:.0f} ms at {args.rate:.0f}/s: {'PASS' if verdict_p99 else 'FAIL'} ({p99:.2f} ms)")
    print(f"every acknowledged event stored: {'PASS' if stored >= acked else 'FAIL'}")
    return 0 if verdict_rate and verdict_p99 and stored >= acked else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=20000, help="max events in the throughput phase")
    parser.add_argument("--seconds", type=float, default=10.0, help="max seconds for the throughput phase")
    parser.add_argument("--senders", type=int, default=16, help="concurrent keep-alive connections")
    parser.add_argument("--rate", type=float, default=200.0, help="steady rate for the latency phase")
    parser.add_argument("--latency-seconds", type=float, default=10.0)
    args = parser.parse_args()
    return asyncio.run(asyncio.wait_for(main_async(args), timeout=300))


if __name__ == "__main__":
    raise SystemExit(main())
