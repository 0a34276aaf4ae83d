"""Two linq-mcp processes on one database share one set of send caps (issue 11, item 4).

Two MCP clients launching linq-mcp share the per-user data directory. The attack: each
fires 8 sends in parallel against ``max_sends_per_minute = 5``. Everything is real: the
sandbox runs as its own process on a loopback port, both servers are stdio
subprocesses pointed at it, and what was delivered is read from its admin API.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from e2e_helpers import free_port, stdio_params, text_of
from mcp import Client

PER_PROCESS = 8
CAP = 5


@pytest.fixture
def sandbox_process() -> Iterator[tuple[str, str]]:
    """``linq-mcp sandbox`` on a free loopback port: yields (base URL, API key)."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linq_mcp", "sandbox", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        key = ""
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("API key:"):
                key = line.split(":", 1)[1].strip()
            if line.startswith("Admin API:"):
                break
        assert key, "the sandbox did not print its API key"
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/_sandbox/health", headers={"Authorization": f"Bearer {key}"}).is_success:
                    break
            except httpx.TransportError:
                pass
            anyio.run(anyio.sleep, 0.05)
        yield base, key
    finally:
        proc.terminate()
        proc.wait(10)


async def fire(env: dict[str, str], first: int, results: list[bool]) -> None:
    """One linq-mcp process; PER_PROCESS parallel sends to distinct people."""
    async with Client(stdio_params(env=env)) as client:

        async def one(i: int) -> None:
            result = await client.call_tool(
                "send_message_to_handles",
                {"to": [f"+1555020{i:04d}"], "message": {"parts": [{"type": "text", "value": f"hi {i}"}]}},
            )
            payload = result.structured_content or {}
            assert not result.is_error or payload.get("rule") == "max_sends_per_minute", text_of(result)
            results.append(not result.is_error)

        async with anyio.create_task_group() as tg:
            for i in range(first, first + PER_PROCESS):
                tg.start_soon(one, i)


def test_two_processes_on_one_database_deliver_no_more_than_the_cap(
    sandbox_process: tuple[str, str], tmp_path: Path
) -> None:
    base, key = sandbox_process
    env = {
        "LINQ_API_V3_BASE_URL": f"{base}/api/partner",
        "LINQ_API_KEY": key,
        "LINQ_MCP_DB_PATH": str(tmp_path / "shared.sqlite3"),
        "LINQ_MCP_CONFIRM": "never",
        "LINQ_MCP_MAX_SENDS_PER_MINUTE": str(CAP),
    }
    results: list[bool] = []

    async def both() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(fire, env, 0, results)
            tg.start_soon(fire, env, 100, results)

    anyio.run(both)
    assert len(results) == 2 * PER_PROCESS
    deliveries: list[dict[str, Any]] = []
    for _ in range(40):  # the sandbox delivers shortly after accepting
        response = httpx.get(f"{base}/_sandbox/deliveries", headers={"Authorization": f"Bearer {key}"})
        deliveries = response.json()["deliveries"]
        if len(deliveries) >= sum(results):
            break
        anyio.run(anyio.sleep, 0.1)
    recipients = {d["to"] for d in deliveries}
    assert sum(results) == CAP, f"{sum(results)} sends allowed with max_sends_per_minute = {CAP}"
    assert len(recipients) == CAP, f"{len(recipients)} people reached with max_sends_per_minute = {CAP}"
