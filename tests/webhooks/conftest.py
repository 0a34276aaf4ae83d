"""Fixtures for webhook tests: a store on a temp file and an in-process receiver client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from webhook_helpers import PATH, SECRET

from linq_mcp.webhooks import EventStore, create_receiver_app


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite3"


@pytest.fixture
async def store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[EventStore]:
    """The event log on SQLite (the db_path fixture's file) or PostgreSQL (a fresh database)."""
    if backend == "sqlite":
        async with EventStore(tmp_path / "events.sqlite3", watch_interval=0.02) as s:
            yield s
        return
    from linq_mcp.store.postgres import PostgresStore

    async with PostgresStore(request.getfixturevalue("pg_store_url")) as shared:
        yield shared.events  # type: ignore[misc]  # the same contract (EventLog), another class


@pytest.fixture
async def client(store: EventStore) -> AsyncIterator[httpx.AsyncClient]:
    app = create_receiver_app(store, [SECRET], path=PATH, max_body_bytes=64_000)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
