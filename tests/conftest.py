"""Shared fixtures: a fresh in-process sandbox per test, and clients that talk to it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.transport import SandboxTransport
from linq_mcp.store import Store, make_store

# The test folders' helper modules (e2e_helpers, events_helpers, ...) live in tests/helpers, imported by
# their bare names; pyproject's mypy_path points mypy at the same folder, so they keep their types.
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))
from pg_helpers import fresh_database, migrated_database, reset  # noqa: E402  (found through the line above)

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
# A test that opens the SQLite file itself (it asks for one of these) runs on SQLite only.
SQLITE_ONLY = frozenset({"db_path"})


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses a store (through the ``backend`` fixture) runs on both backends."""
    if "backend" in metafunc.fixturenames:
        sqlite_only = not SQLITE_ONLY.isdisjoint(metafunc.fixturenames)
        metafunc.parametrize("backend", ("sqlite",) if sqlite_only else BACKENDS, indirect=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test (dropped afterwards); see ``pg_helpers``."""
    yield from fresh_database()


@pytest.fixture(scope="session")
def pg_session_url() -> Iterator[str]:
    yield from migrated_database()


@pytest.fixture
def pg_store_url(pg_session_url: str) -> str:
    """The session's migrated PostgreSQL database, emptied for this test: what a store test runs on."""
    reset(pg_session_url)
    return pg_session_url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``: parametrised by ``pytest_generate_tests`` above."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def new_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], Store]:
    """``new_store()``: another store instance (think: another process) on this test's shared database."""
    url = request.getfixturevalue("pg_store_url") if backend == "postgresql" else None
    path = tmp_path / "store.sqlite3"
    return lambda: make_store(url, path)
