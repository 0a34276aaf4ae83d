"""Per-call overhead: one tool call through the in-process ``mcp`` client → linq-mcp →
sandbox, versus the same request with raw ``httpx`` to the same sandbox.

Both sides use the same in-process transport to the sandbox (``SandboxTransport``), so
the difference is what linq-mcp and the MCP layer add: validation, policy, the request
build, the result translation, JSON-RPC (or the 2026 direct dispatch) and pydantic.
Calls alternate MCP / raw, after a warm-up; ``get_chat`` on a chat made beforehand.
Measured for both protocol eras of the official client: ``auto`` (its default,
2026-07-28) and ``legacy`` (2025-11-25 handshake, JSON-RPC over memory streams).

    .venv/bin/python tools/bench_calls.py [--calls 1000]

Target: p50 overhead (MCP p50 − raw p50) ≤ 2 ms.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import ROOT, Report, pct, verdict  # noqa: E402

sys.path.insert(0, str(ROOT))
TARGET_MS = 2.0
TOOL = "get_chat"


def permissive() -> Any:
    from linq_mcp.policy import SafetyConfig

    return SafetyConfig(
        confirm="never",
        max_sends_per_minute=100_000,
        max_sends_per_hour=100_000,
        max_sends_per_day=100_000,
        max_sends_per_recipient_per_hour=100_000,
        max_group_size=31,
    )


async def measure(era: str, calls: int, warmup: int, budget_s: float) -> dict[str, list[float]]:
    import tempfile

    from linq_mcp.sandbox.app import create_sandbox
    from linq_mcp.sandbox.config import SandboxConfig

    sandbox = create_sandbox(SandboxConfig(seed=7))
    with tempfile.TemporaryDirectory(prefix="linq-bench-calls-") as tmp:
        return await _measure(sandbox, str(Path(tmp) / "db.sqlite3"), era, calls, warmup, budget_s)


async def _measure(sandbox: Any, db: str, era: str, calls: int, warmup: int, budget_s: float) -> dict[str, list[float]]:
    from mcp import Client

    from linq_mcp.api.client import make_http_client
    from linq_mcp.config.settings import Settings
    from linq_mcp.sandbox.transport import SandboxTransport
    from linq_mcp.server.app import assembled
    from linq_mcp.server.handlers import build_server
    from linq_mcp.server.runtime import SANDBOX_BASE_URL

    settings = Settings(sandbox=True, toolsets=("all",), safety=permissive(), db_path=db)
    async with assembled(settings, sandbox=sandbox) as rt, Client(build_server(rt), mode=era) as client:
        created = await client.call_tool(
            "create_chat",
            {"from": "+15550100001", "to": ["+15551230001"], "message": {"parts": [{"type": "text", "value": "hi"}]}},
        )
        assert not created.is_error, created.content
        chat_id = (created.structured_content or {})["chat"]["id"]
        raw = make_http_client(SANDBOX_BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox.app))
        async with raw:

            async def via_mcp() -> float:
                t = time.perf_counter()
                result = await client.call_tool(TOOL, {"chat_id": chat_id})
                dt = time.perf_counter() - t
                assert not result.is_error and result.structured_content, result.content
                return dt * 1000

            async def via_httpx() -> float:
                t = time.perf_counter()
                response = await raw.get(f"/v3/chats/{chat_id}")
                body = response.json()
                dt = time.perf_counter() - t
                assert response.status_code == 200 and body["id"] == chat_id
                return dt * 1000

            for _ in range(warmup):
                await via_mcp()
                await via_httpx()
            out: dict[str, list[float]] = {"mcp": [], "raw": []}
            gc.collect()
            deadline = time.monotonic() + budget_s
            for i in range(calls):
                if i % 2:
                    out["raw"].append(await via_httpx())
                    out["mcp"].append(await via_mcp())
                else:
                    out["mcp"].append(await via_mcp())
                    out["raw"].append(await via_httpx())
                if time.monotonic() > deadline:
                    break
            return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000, help="calls per side and era")
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()
    import anyio

    report = Report("calls", f"One tool call ({TOOL}) in-process: MCP client → linq-mcp → sandbox vs raw httpx", "tools/bench_calls.py")
    rows = [["client era", "calls", "MCP p50", "MCP p90", "raw p50", "raw p90", "p50 overhead", "p90 overhead"]]
    for era, label in (("auto", "auto (default, 2026-07-28)"), ("legacy", "legacy (2025-11-25)")):
        res = anyio.run(measure, era, args.calls, args.warmup, 30.0)
        m50, m90, r50, r90 = pct(res["mcp"], 50), pct(res["mcp"], 90), pct(res["raw"], 50), pct(res["raw"], 90)
        rows.append([label, str(len(res["mcp"])), f"{m50:.2f}", f"{m90:.2f}", f"{r50:.2f}", f"{r90:.2f}", f"{m50 - r50:.2f}", f"{m90 - r90:.2f}"])
        report.add(
            f"p50 overhead, client {label}",
            f"{m50 - r50:.2f} ms",
            f"raw p50 {r50:.2f} ms",
            f"{m50 / r50:.1f}× raw",
            f"≤ {TARGET_MS:.0f} ms",
            verdict(m50 - r50 <= TARGET_MS),
        )
    report.tables["latency in ms"] = rows
    report.notes.append(
        "same sandbox, same in-process transport (SandboxTransport) on both sides; calls alternate; "
        "linq-mcp with all toolsets and a permissive safety policy"
    )
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
