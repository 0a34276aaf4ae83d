"""Streamable HTTP throughput: linq-mcp versus the bare ``mcp`` server, side by side.

Both servers run as subprocesses on 127.0.0.1 in stateless JSON-response mode under
uvicorn with the same settings: ``linq-mcp --sandbox --transport http --stateless`` and
``tools/bare_server.py --transport http --stateless``. ``--clients`` concurrent clients
(raw ``httpx`` keep-alive POSTs of JSON-RPC ``tools/call``, with the headers the SDK
requires) hammer each for ``--seconds``; the two alternate (bare, linq, bare, linq).
linq-mcp serves a read tool (``list_phone_numbers``, a real sandbox round trip), the
bare server its ``echo`` tool.

    .venv/bin/python tools/bench_http.py [--clients 32] [--seconds 10] [--rounds 2]

Targets: linq-mcp ≥ 0.8× the bare server's calls/s; linq-mcp p99 ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import Report, bare_server_command, linq_mcp_command, pct, verdict  # noqa: E402

TARGET_RATIO = 0.8
TARGET_P99_MS = 100.0
HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call_body(tool: str, arguments: dict) -> bytes:
    return json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    ).encode()


async def wait_ready(url: str, proc: subprocess.Popen, body: bytes, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited early ({proc.returncode})")
            try:
                r = await http.post(url, content=body, headers=HEADERS)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not start")


class RawConn:
    """A minimal HTTP/1.1 keep-alive POST client on asyncio streams (``--client raw``): it costs
    the load generator a fraction of httpx's CPU, so the server under test gets the cores."""

    def __init__(self, url: str) -> None:
        rest = url.split("://", 1)[1]
        hostport, _, path = rest.partition("/")
        self.host, _, port = hostport.partition(":")
        self.port, self.path = int(port), "/" + path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader
        head = f"POST {self.path} HTTP/1.1\r\nhost: {self.host}:{self.port}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in HEADERS.items()
        )
        self.writer.write(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length, chunked = 0, False
        for line in raw.split(b"\r\n"):
            low = line.lower()
            if low.startswith(b"content-length:"):
                length = int(line[15:])
            elif low.startswith(b"transfer-encoding:") and b"chunked" in low:
                chunked = True
        if not chunked:
            return status, await self.reader.readexactly(length)
        data = b""
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return status, data
            data += chunk[:-2]

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load_raw(url: str, body: bytes, clients: int, seconds: float) -> dict[str, float | list[float]]:
    lat: list[float] = []
    errors = 0
    conns = [RawConn(url) for _ in range(clients)]
    deadline = time.perf_counter() + seconds

    async def worker(conn: RawConn) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            try:
                status, data = await conn.post(body)
                ok = status == 200 and b'"isError":false' in data
            except (OSError, asyncio.IncompleteReadError):
                ok = False
                await conn.aclose()
                conn.writer = None
            lat.append((time.perf_counter() - t) * 1000)
            if not ok:
                errors += 1

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            await c.aclose()
    return {"calls": float(len(lat)), "errors": float(errors), "elapsed": time.perf_counter() - t0, "lat": lat}


async def load(url: str, body: bytes, clients: int, seconds: float, client: str = "httpx") -> dict[str, float | list[float]]:
    """``clients`` workers, each one request at a time, for ``seconds``."""
    if client == "raw":
        return await load_raw(url, body, clients, seconds)
    import httpx

    lat: list[float] = []
    errors = 0
    # One httpx client (one keep-alive connection) per simulated client: a single shared
    # AsyncClient with a 32-connection pool costs ~4× more client CPU per request than the
    # server spends, which would make the load generator the bottleneck on 2 cores.
    https = [httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=1)) for _ in range(clients)]
    try:
        deadline = time.perf_counter() + seconds

        async def worker(http: httpx.AsyncClient) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    r = await http.post(url, content=body, headers=HEADERS)
                    ok = r.status_code == 200 and "result" in r.json() and not r.json()["result"].get("isError")
                except httpx.HTTPError:
                    ok = False
                lat.append((time.perf_counter() - t) * 1000)
                if not ok:
                    errors += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(h) for h in https))
        elapsed = time.perf_counter() - t0
    finally:
        for h in https:
            await h.aclose()
    return {"calls": float(len(lat)), "errors": float(errors), "elapsed": elapsed, "lat": lat}


async def main_async(args: argparse.Namespace) -> Report:
    tmp = tempfile.mkdtemp(prefix="linq-bench-http-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env.update(TMPDIR=tmp, LINQ_MCP_DATA_DIR=tmp)
    servers = {
        "bare": (bare_server_command(), "echo", {"text": "hello"}),
        # The bare server plus the one thing linq-mcp's read tool does beyond echo: the same Linq
        # request to the same embedded sandbox, with the same httpx client (information, no target).
        "bare+sandbox": (bare_server_command() + ["--sandbox-call"], "list_phone_numbers", {}),
        "linq": (linq_mcp_command() + ["--sandbox"], "list_phone_numbers", {}),
    }
    procs: dict[str, subprocess.Popen] = {}
    urls: dict[str, str] = {}
    bodies: dict[str, bytes] = {}
    try:
        for name, (cmd, tool, arguments) in servers.items():
            port = free_port()
            procs[name] = subprocess.Popen(
                [*cmd, "--transport", "http", "--port", str(port), "--stateless"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            urls[name] = f"http://127.0.0.1:{port}/mcp"
            bodies[name] = call_body(tool, arguments)
        for name in servers:
            await wait_ready(urls[name], procs[name], bodies[name])
        for name in servers:  # warm-up
            await load(urls[name], bodies[name], args.clients, 2.0, args.client)
        runs: dict[str, list[dict]] = {name: [] for name in servers}
        for _ in range(args.rounds):
            for name in servers:
                runs[name].append(await load(urls[name], bodies[name], args.clients, args.seconds, args.client))
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)

    def summary(name: str) -> dict[str, float]:
        calls = sum(r["calls"] for r in runs[name])
        elapsed = sum(r["elapsed"] for r in runs[name])
        lat = [x for r in runs[name] for x in r["lat"]]
        return {
            "rate": calls / elapsed,
            "calls": calls,
            "errors": sum(r["errors"] for r in runs[name]),
            "p50": pct(lat, 50),
            "p90": pct(lat, 90),
            "p99": pct(lat, 99),
            "rounds": [r["calls"] / r["elapsed"] for r in runs[name]],  # type: ignore[dict-item]
        }

    bare, linq, upstream = summary("bare"), summary("linq"), summary("bare+sandbox")
    ratio = linq["rate"] / bare["rate"]
    report = Report(
        "http",
        f"Streamable HTTP, stateless JSON, {args.clients} concurrent {args.client} clients, tools/call",
        "tools/bench_http.py" + (f" --client {args.client}" if args.client != "httpx" else ""),
    )
    report.add(
        "throughput, calls/s (linq-mcp list_phone_numbers vs bare echo)",
        f"{linq['rate']:.0f}",
        f"{bare['rate']:.0f}",
        f"{ratio:.2f}×",
        f"≥ {TARGET_RATIO}× bare",
        verdict(ratio >= TARGET_RATIO),
    )
    report.add(
        "linq-mcp p99 latency",
        f"{linq['p99']:.1f} ms",
        f"{bare['p99']:.1f} ms",
        f"{linq['p99'] / bare['p99']:.2f}×",
        f"≤ {TARGET_P99_MS:.0f} ms",
        verdict(linq["p99"] <= TARGET_P99_MS),
    )
    report.add(
        "throughput, linq-mcp vs bare + the same sandbox request (no target)",
        f"{linq['rate']:.0f}",
        f"{upstream['rate']:.0f}",
        f"{linq['rate'] / upstream['rate']:.2f}×",
    )
    report.add("failed calls (linq-mcp / bare)", f"{linq['errors']:.0f} / {bare['errors']:.0f}", target="0", verdict=verdict(linq["errors"] == 0 and bare["errors"] == 0))
    report.tables["detail"] = [["server", "calls", "calls/s per round", "p50 ms", "p90 ms", "p99 ms"]] + [
        [label, f"{s['calls']:.0f}", ", ".join(f"{x:.0f}" for x in s["rounds"]), f"{s['p50']:.1f}", f"{s['p90']:.1f}", f"{s['p99']:.1f}"]  # type: ignore[union-attr]
        for label, s in (
            ("bare (echo)", bare),
            ("bare + sandbox request (list_phone_numbers)", upstream),
            ("linq-mcp (list_phone_numbers)", linq),
        )
    ]
    report.notes.append(
        f"rounds of {args.seconds:.0f} s alternate bare / bare+sandbox / linq ×{args.rounds}; the load generator ({args.client}) shares the "
        "machine's 2 cores with the server under test"
    )
    return report


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--client",
        choices=["httpx", "raw"],
        default="httpx",
        help="load generator: one httpx.AsyncClient per client (default) or minimal asyncio HTTP/1.1 (cheaper)",
    )
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()
    report = asyncio.run(asyncio.wait_for(main_async(args), timeout=90 + 3 * args.rounds * (args.seconds + 5)))
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
