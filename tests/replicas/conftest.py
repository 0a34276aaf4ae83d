"""Fixtures for the multi-replica tests: one Linq sandbox, one shared store, replica processes.

The store is PostgreSQL: a database created for each test module and dropped after it. Under
CI (``CI=true``) an unreachable PostgreSQL fails the run; elsewhere those tests are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from replicas_helpers import Fleet, Linq, start_linq

PG_HOST = os.environ.get("LINQ_MCP_TEST_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("LINQ_MCP_TEST_PG_PORT", "5432")
PG_USER = os.environ.get("LINQ_MCP_TEST_PG_USER", "postgres")

# Fast but real timers: delivery, read and reply within a fraction of a second.
FAST_WORLD = """
[timing]
sent = 0.01
delivered = 0.02
read = 0.03
reply = 0.05
"""


def psql(sql: str, database: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", "-X", "-q", "-t", "-A", "-h", PG_HOST, "-p", PG_PORT, "-U", PG_USER, "-d", database, "-c", sql],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip())
    return done.stdout.strip()


def _unreachable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"PostgreSQL is required in CI and not reachable at {PG_HOST}:{PG_PORT}: {reason}")
    pytest.skip(f"PostgreSQL not reachable at {PG_HOST}:{PG_PORT}: {reason}")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh database for this module, dropped afterwards."""
    if shutil.which("psql") is None:
        _unreachable("psql is not installed")
    name = f"linq_replicas_{uuid.uuid4().hex[:12]}"
    try:
        psql(f'CREATE DATABASE "{name}"')
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        _unreachable(str(exc))
    try:
        yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
def store_env(workdir: Path) -> dict[str, str]:
    # TEMPORARY until the PostgreSQL store lands: replicas on one machine share one SQLite file.
    return {"LINQ_MCP_DB_PATH": str(workdir / "shared.sqlite3")}


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
