"""Fixtures for the multi-replica tests: one Linq sandbox, one shared store, replica processes.

The store is PostgreSQL: a database created for each test module and dropped after it
(``pg_helpers``: under CI an unreachable PostgreSQL fails the run; elsewhere it skips, saying why).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_helpers import fresh_database
from replicas_helpers import Fleet, Linq, start_linq

# Fast but real timers: delivery, read and reply within a fraction of a second.
FAST_WORLD = """
[timing]
sent = 0.01
delivered = 0.02
read = 0.03
reply = 0.05
"""


@pytest.fixture(scope="module")
def replicas_pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this module, dropped afterwards."""
    yield from fresh_database()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("replicas")


@pytest.fixture(scope="module")
def linq(workdir: Path) -> Iterator[Linq]:
    """The Linq sandbox as its own process: one world every replica talks to."""
    linq = start_linq(workdir, FAST_WORLD)
    try:
        yield linq
    finally:
        linq.process.terminate()
        linq.process.wait(timeout=15)


@pytest.fixture(scope="module")
def store_env(replicas_pg_url: str) -> dict[str, str]:
    return {"LINQ_MCP_STORE_URL": replicas_pg_url}


@pytest.fixture
def fleet(workdir: Path, linq: Linq, store_env: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Fleet]:
    """Replicas a test starts (``fleet.start(n, *flags)``); stopped when it ends."""
    fleet = Fleet(workdir / request.node.name[:40].replace("[", "-").replace("]", ""), linq, store_env)
    fleet.workdir.mkdir(parents=True, exist_ok=True)
    try:
        yield fleet
    finally:
        fleet.stop()


@pytest.fixture(params=["legacy", "auto"], ids=["2025-11-25-stateless", "2026-07-28"])
def era(request: pytest.FixtureRequest) -> str:
    return str(request.param)
