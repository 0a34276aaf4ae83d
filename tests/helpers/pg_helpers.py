"""PostgreSQL for tests: uniquely named databases on the local server, dropped afterwards.

``fresh_database`` makes an empty one (migration and leadership tests use one each).
Creating a database costs a second or two on a busy machine, so the many behaviour tests
share one migrated database per session instead, emptied (``reset``) before each test.

The server is the one every project machine runs (127.0.0.1:5432, user postgres, trust
auth; override with LINQ_MCP_TEST_PG_ADMIN). In CI (env CI set) an unreachable server
FAILS the test — the PostgreSQL half of the suite is never skipped silently; on a
developer's machine without PostgreSQL it skips, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

ADMIN_URL = os.environ.get("LINQ_MCP_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def _unreachable(reason: str) -> None:
    message = f"PostgreSQL at {urlsplit(ADMIN_URL).hostname}:{urlsplit(ADMIN_URL).port or 5432} is needed: {reason}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must run the PostgreSQL tests; start the server)", pytrace=False)
    pytest.skip(message)


def fresh_database() -> Iterator[str]:
    """Create ``linq_test_<random>``, yield its URL, drop it (closing whatever still uses it)."""
    try:
        import psycopg
    except ImportError:
        _unreachable("psycopg is not installed (pip install -e '.[test]')")
        raise
    name = f"linq_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unreachable(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    try:
        yield database_url(name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_database() -> Iterator[str]:
    """A fresh database with every migration applied (for a whole test session)."""
    from linq_mcp.store.postgres import migrate

    for url in fresh_database():
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            migrate(conn)
        yield url


def reset(url: str) -> None:
    """Empty every table but the migrations' record, as a fresh migrated database would be."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        tables = [
            str(row[0])
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'"
            )
        ]
        with conn.transaction():
            conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
            conn.execute("INSERT INTO webhook_events_top (id, seq) VALUES (1, 0)")
