"""Shared fixtures: a fresh in-process sandbox per test, and clients that talk to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from pg_helpers import fresh_database

from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.transport import SandboxTransport
from linq_mcp.store import Store, make_store

SANDBOX_BASE_URL = "http://sandbox.local/api/partner"


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Override in a test module to shape the world (timings, limits, faults, cast)."""
    return SandboxConfig(seed=1234)


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Sandbox:
    return create_sandbox(sandbox_config)


@pytest.fixture
async def http(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    """A raw httpx client on the sandbox, authenticated with its test key."""
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url=SANDBOX_BASE_URL,
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as client:
        yield client


@pytest.fixture
async def sdk(sandbox: Sandbox) -> AsyncIterator[object]:
    """The official linq-python SDK pointed at the sandbox (test-only dependency)."""
    from linq import AsyncLinqAPIV3

    http_client = httpx.AsyncClient(transport=SandboxTransport(sandbox.app))
    client = AsyncLinqAPIV3(api_key=sandbox.api_key, base_url=SANDBOX_BASE_URL, http_client=http_client, max_retries=0)
    try:
        yield client
    finally:
        await client.close()


# --- the two stores ------------------------------------------------------------------------------

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test (dropped afterwards); see ``pg_helpers``."""
    yield from fresh_database()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each store-facing test runs on SQLite and on PostgreSQL."""
    return str(request.param)


@pytest.fixture
def new_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Store]:
    """``new_store()``: another store instance (think: another process) on this test's shared database."""
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    path = tmp_path / "store.sqlite3"
    return lambda: make_store(url, path)
