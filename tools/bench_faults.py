"""Exactly-once under faults: 1,000 sends through linq-mcp while the sandbox injects 30 %
faults of every kind (500, 502, 503, 429, latency, dropped connection, and
commit-then-lose: carried out, then the response is lost).

The client behaves as a good agent would: it sends without a key; when a result says
``outcome_unknown`` it retries with the returned ``idempotency_key``; on ``rate_limited``
it waits ``retry_after`` and retries with the same key; on a 5xx (or a connection error)
it retries with the same key. Every message has a unique text; afterwards the
sandbox's record of what people's phones received (``world.deliveries``) is compared
with the intended messages: 0 duplicates, 0 lost. The in-process server runs with a
permissive safety policy (the default caps sends at 10 a minute) and linq-mcp's own
retry rules (``max_retries``) on.

    .venv/bin/python tools/bench_faults.py [--sends 1000] [--rate 0.3] [--agents 25]

Targets: 0 duplicates, 0 lost, every send eventually succeeded.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_calls import permissive  # noqa: E402
from bench_common import ROOT, Report, pct, verdict  # noqa: E402

sys.path.insert(0, str(ROOT))
LINE = "+15550100001"
PEOPLE = [f"+1555999{i:04d}" for i in range(10)]
MAX_ATTEMPTS = 25


def sandbox_config(seed: int) -> Any:
    from linq_mcp.sandbox.config import FaultConfig, LimitsConfig, PersonConfig, SandboxConfig, TimingConfig

    people = [
        PersonConfig(handle=h, name=f"Bench {i}", replies="silent", read_receipts=False, typing=False)
        for i, h in enumerate(PEOPLE)
    ]
    return SandboxConfig(
        seed=seed,
        people=people,
        timing=TimingConfig(sent=0.01, delivered=0.02, read=3600, reply=3600),
        limits=LimitsConfig(pair_messages=1_000_000),
        faults=FaultConfig(rate=0.0, latency_ms=300, retry_after=1),
    )


async def run(sends: int, rate: float, agents: int, seed: int, budget_s: float) -> dict[str, Any]:
    import anyio
    from mcp import Client

    from linq_mcp.config.settings import Settings
    from linq_mcp.sandbox.app import create_sandbox
    from linq_mcp.server.app import assembled
    from linq_mcp.server.handlers import build_server

    sandbox = create_sandbox(sandbox_config(seed))
    outcome: dict[str, Any] = {"errors_seen": Counter(), "attempts": [], "failed": [], "keyless_retries": 0}
    with tempfile.TemporaryDirectory(prefix="linq-bench-faults-") as tmp:
        settings = Settings(sandbox=True, toolsets=("all",), safety=permissive(), db_path=str(Path(tmp) / "db.sqlite3"))
        async with assembled(settings, sandbox=sandbox) as rt, Client(build_server(rt), mode="legacy") as client:
            chats = []
            for handle in PEOPLE:  # set up without faults
                made = await client.call_tool(
                    "create_chat", {"from": LINE, "to": [handle], "message": {"parts": [{"type": "text", "value": "setup"}]}}
                )
                assert not made.is_error, made.content
                chats.append((made.structured_content or {})["chat"]["id"])
            sandbox.world.stats.clear()
            sandbox.world.config.faults.rate = rate

            texts = [f"bench-fault-{seed}-{i:05d}" for i in range(sends)]
            queue = list(enumerate(texts))
            t0 = time.perf_counter()

            async def send_one(i: int, value: str) -> None:
                args: dict[str, Any] = {"chat_id": chats[i % len(chats)], "message": {"parts": [{"type": "text", "value": value}]}}
                for attempt in range(1, MAX_ATTEMPTS + 1):
                    result = await client.call_tool("send_message", args)
                    if not result.is_error:
                        outcome["attempts"].append(attempt)
                        return
                    payload = result.structured_content or {}
                    kind = payload.get("error", "?")
                    status = payload.get("http_status")
                    outcome["errors_seen"][f"{kind}{f' {status}' if status else ''}"] += 1
                    key = payload.get("idempotency_key")
                    if key:
                        args["idempotency_key"] = key
                    elif "idempotency_key" not in args:
                        outcome["keyless_retries"] += 1
                    if kind == "outcome_unknown" or kind in ("connection_error", "timeout"):
                        continue
                    if kind == "rate_limited":
                        await anyio.sleep(float(payload.get("retry_after") or 1))
                        continue
                    if kind == "linq_api_error" and isinstance(status, int) and status >= 500:
                        continue
                    break  # not retryable: a real failure
                outcome["failed"].append((value, payload))

            async def agent() -> None:
                while queue:
                    i, value = queue.pop(0)
                    await send_one(i, value)

            with anyio.move_on_after(budget_s) as scope:
                async with anyio.create_task_group() as tg:
                    for _ in range(agents):
                        tg.start_soon(agent)
            outcome["timed_out"] = scope.cancel_called
            outcome["elapsed"] = time.perf_counter() - t0
            sandbox.world.config.faults.rate = 0.0
            await anyio.sleep(0.5)  # let the last "sent" timers fire
            got = Counter()
            for d in sandbox.world.deliveries:
                for part in d.get("parts") or []:
                    if isinstance(part.get("value"), str) and part["value"].startswith(f"bench-fault-{seed}-"):
                        got[part["value"]] += 1
            outcome["duplicates"] = sum(1 for t in texts if got[t] > 1)
            outcome["lost"] = sum(1 for t in texts if got[t] == 0)
            outcome["delivered"] = sum(1 for t in texts if got[t] == 1)
            outcome["stats"] = dict(sandbox.world.stats)
            outcome["sends"] = sends
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sends", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.3, help="fraction of API requests that fail")
    parser.add_argument("--agents", type=int, default=25, help="concurrent agents sharing the sends")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", help="write the figures here (for run_benchmarks.py)")
    args = parser.parse_args()
    import logging

    import anyio

    logging.getLogger("linq_mcp").setLevel(logging.CRITICAL)  # each injected fault would log a line
    out = anyio.run(run, args.sends, args.rate, args.agents, args.seed, 150.0)
    stats = out["stats"]
    faults = {k.removeprefix("fault."): v for k, v in sorted(stats.items()) if k.startswith("fault.")}
    requests = stats.get("requests") or stats.get("api.requests")
    report = Report("faults", f"{args.sends} sends under {args.rate:.0%} injected faults of every kind", "tools/bench_faults.py")
    report.add("duplicates (a text received twice)", str(out["duplicates"]), target="0", verdict=verdict(out["duplicates"] == 0))
    report.add("lost (an intended text never received)", str(out["lost"]), target="0", verdict=verdict(out["lost"] == 0))
    report.add(
        "sends that ended in success",
        f"{len(out['attempts'])} / {args.sends}",
        target=f"{args.sends}",
        verdict=verdict(len(out["attempts"]) == args.sends and not out["timed_out"]),
    )
    report.add("delivered exactly once", f"{out['delivered']} / {args.sends}")
    report.add("injected faults (all kinds)", str(sum(faults.values())))
    if requests:
        report.add("API requests the sandbox saw", str(requests))
    report.add("agent-level retries (tool calls beyond the first)", str(sum(a - 1 for a in out["attempts"])))
    report.add("attempts per send p50 / p99 / max", "{} / {} / {}".format(*(int(pct(out["attempts"], p)) for p in (50, 99, 100))) if out["attempts"] else "—")
    report.add("retries the agent had to make without a key", str(out["keyless_retries"]), target="0", verdict=verdict(out["keyless_retries"] == 0))
    report.add("elapsed", f"{out['elapsed']:.1f} s ({args.agents} agents)")
    report.tables["faults injected by the sandbox (world.stats)"] = [["kind", "count"]] + [[k, str(v)] for k, v in faults.items()]
    report.tables["error results the agent saw (it retried each)"] = [["error", "count"]] + [
        [k, str(v)] for k, v in out["errors_seen"].most_common()
    ]
    if out["failed"]:
        report.notes.append(f"failed sends (first 3): {out['failed'][:3]}")
    report.notes.append(
        "in-process: mcp Client (2025-11-25) → linq-mcp (permissive safety, client retries on) → sandbox; "
        "send_message into 10 one-to-one chats; latency faults 300 ms, retry_after 1 s"
    )
    report.print()
    report.write(args.json)
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
