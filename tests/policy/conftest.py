"""Policy fixtures: a settable clock and policies on a throwaway database file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from policy_helpers import Clock

from linq_mcp.policy import Policy, SafetyConfig
from linq_mcp.store.base import PolicyState


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "linq-mcp.sqlite3"


@pytest.fixture
async def make_policy(
    backend: str, tmp_path: Path, clock: Clock, request: pytest.FixtureRequest
) -> AsyncIterator[Callable[..., Policy]]:
    """``make_policy(**safety_keys)``: a Policy on the test's shared store (SQLite file or PostgreSQL
    database); calling it again is a restart, or another process on the same store."""
    opened: list[Policy] = []
    stores: list[Any] = []

    def state() -> str | Path | PolicyState:
        if backend == "sqlite":
            return tmp_path / "linq-mcp.sqlite3"  # the db_path fixture's file
        from linq_mcp.store.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("pg_store_url")).open_sync()
        stores.append(store)
        return store.policy

    def make(**keys: Any) -> Policy:
        policy = Policy(SafetyConfig.from_mapping(keys), state(), clock=clock)
        opened.append(policy)
        return policy

    yield make
    for policy in opened:
        policy.close()
    for store in stores:
        await store.aclose()
