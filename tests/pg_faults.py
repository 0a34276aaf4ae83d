"""PostgreSQL faults for tests: a database that goes away for a while, connections cut mid-use.

A real outage of one test database, without touching the server the other tests share:
new connections are refused (``ALLOW_CONNECTIONS false``) and the open ones are terminated
(``pg_terminate_backend``), as when the server restarts; leaving the block brings it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from pg_helpers import ADMIN_URL


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def terminate_connections(url: str) -> int:
    """Cut every open connection to ``url``'s database; returns how many were cut."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (_name(url),),
        ).fetchall()
    return sum(1 for (cut,) in rows if cut)


@contextmanager
def outage(url: str) -> Iterator[None]:
    """``url``'s database refuses connections and loses the open ones until the block ends."""
    import psycopg

    name = _name(url)
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    try:
        terminate_connections(url)
        yield
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
