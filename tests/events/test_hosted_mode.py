"""Hosted mode: replicas share one secret or refuse to start, and report their store's state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from e2e_helpers import free_port, http_server
from events_helpers import settings_for, wait_until_listening

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.server import hosted
from linq_mcp.server.app import assembled
from linq_mcp.server.hosted import HostedSecretMissing, check_hosted

SHARED_SECRET = "replica-secret-0123456789abcdef0123456789abcdef"


def _replica_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINQ_", "COV"))}
    env.update(LINQ_API_KEY="test-key-for-a-replica", LINQ_MCP_DATA_DIR=str(tmp_path), **extra)
    return env


def test_a_stateless_replica_without_the_shared_secret_refuses_to_start(tmp_path: Path) -> None:
    port = free_port()
    done = subprocess.run(
        [sys.executable, "-m", "linq_mcp", "--transport", "http", "--stateless", "--port", str(port)],
        env=_replica_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "LINQ_MCP_SECRET" in lines[0] and "Traceback" not in done.stderr
    assert done.stdout == ""


async def test_a_stateless_replica_with_the_shared_secret_serves(tmp_path: Path) -> None:
    port = free_port()
    cmd = [sys.executable, "-m", "linq_mcp", "--transport", "http", "--stateless", "--port", str(port)]
    env = _replica_env(tmp_path, LINQ_MCP_SECRET=SHARED_SECRET)
    process = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        await wait_until_listening(f"http://127.0.0.1:{port}/readyz")
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize(
    "settings",
    [
        Settings(transport="stdio", stateless=True),
        Settings(transport="http", sandbox=True, stateless=True),
        Settings(transport="http"),
    ],
    ids=["stdio", "sandbox-stateless-own-store", "stateful-http-own-store"],
)
def test_a_single_process_needs_no_shared_secret(settings: Settings) -> None:
    check_hosted(settings)  # does not raise


def test_the_refusal_names_the_setting_and_how_to_make_one() -> None:
    with pytest.raises(HostedSecretMissing, match=r"LINQ_MCP_SECRET.*token_hex"):
        check_hosted(Settings(transport="http", stateless=True, api_key="k"))


async def _get(base: str, path: str) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.get(f"{base}{path}")


async def test_a_replica_whose_store_answers_is_ready(sandbox: Sandbox, tmp_path: Path) -> None:
    settings = settings_for(tmp_path / "db.sqlite3", transport="http")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        ready, health = await _get(base, "/readyz"), await _get(base, "/healthz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "store": {"kind": "sqlite", "ok": True}}
    assert health.json()["store"] == {"kind": "sqlite", "ok": True}


async def _refused() -> dict[str, Any]:
    raise ConnectionRefusedError("connection refused by 127.0.0.1:5432")


async def _hung() -> dict[str, Any]:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


@pytest.mark.parametrize("check", [_refused, _hung], ids=["refused", "not-answering"])
async def test_a_replica_whose_store_is_unreachable_is_not_ready_but_alive(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, check: Any
) -> None:
    monkeypatch.setattr(hosted, "PROBE_TIMEOUT", 0.2)
    settings = settings_for(tmp_path / "db.sqlite3", transport="http")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        rt.store_check = check
        ready, health = await _get(base, "/readyz"), await _get(base, "/healthz")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert health.status_code == 200 and health.json()["store"]["ok"] is False
    assert "5432" not in ready.text  # the reason is named by its kind, never with connection details
