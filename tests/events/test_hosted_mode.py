"""Hosted mode: replicas share one secret or refuse to start, and report their store's state."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
from e2e_helpers import free_port, http_server
from events_helpers import settings_for, wait_until_listening
from pg_faults import outage

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox
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


def _settings(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    url: str | None = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    settings: Settings = settings_for(tmp_path / "db.sqlite3", transport="http", store_url=url)
    return settings


async def test_a_replica_whose_store_answers_is_ready(
    sandbox: Sandbox, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    async with assembled(_settings(tmp_path, backend, request), sandbox=sandbox) as rt, http_server(rt) as base:
        ready, health = await _get(base, "/readyz"), await _get(base, "/healthz")
    assert ready.status_code == 200 and ready.json() == {"ready": True, "store": {"kind": backend, "ok": True}}
    assert health.json()["store"] == {"kind": backend, "ok": True}


async def test_a_replica_whose_postgresql_is_down_is_not_ready_but_alive_until_it_is_back(
    sandbox: Sandbox, tmp_path: Path, pg_url: str
) -> None:
    settings = settings_for(tmp_path / "db.sqlite3", transport="http", store_url=pg_url)
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        with outage(pg_url):
            down, alive = await _get(base, "/readyz"), await _get(base, "/healthz")
        with anyio.fail_after(20):
            while (back := await _get(base, "/readyz")).status_code != 200:
                await anyio.sleep(0.2)
    assert down.status_code == 503 and down.json()["ready"] is False
    assert down.json()["store"]["kind"] == "postgresql" and down.json()["store"]["ok"] is False
    assert alive.status_code == 200 and alive.json()["store"]["ok"] is False
    assert "127.0.0.1" not in down.text and "5432" not in down.text  # unauthenticated: no connection details
    assert back.json()["ready"] is True
