"""Shared state behind one small interface (``base``), on SQLite or PostgreSQL.

``open_store(url, sqlite_path)`` picks the backend: a ``postgresql://`` URL (``--store``,
``LINQ_MCP_STORE_URL``, ``[store] url``) or else the SQLite file. The backends load lazily:
psycopg is imported only when a PostgreSQL store is used.
"""

from __future__ import annotations

from pathlib import Path

from linq_mcp.store.base import (
    EventLog,
    EventSubscription,
    KeyReused,
    Ledger,
    LedgerEntry,
    LedgerState,
    PolicyState,
    PolicyTx,
    Store,
    StoreUnavailable,
)

__all__ = [
    "EventLog",
    "EventSubscription",
    "KeyReused",
    "Ledger",
    "LedgerEntry",
    "LedgerState",
    "PolicyState",
    "PolicyTx",
    "Store",
    "StoreUnavailable",
    "make_store",
    "open_store",
]


def make_store(url: str | None, sqlite_path: str | Path) -> Store:
    """The store for these settings, not yet opened (``ValueError`` for a URL that is not PostgreSQL's)."""
    if url:
        try:
            from linq_mcp.store.postgres import PostgresStore
        except ImportError:
            raise StoreUnavailable("a PostgreSQL store needs psycopg: pip install 'linq-mcp[postgres]'") from None
        return PostgresStore(url)
    from linq_mcp.store.sqlite import SqliteStore

    return SqliteStore(sqlite_path)


async def open_store(url: str | None, sqlite_path: str | Path) -> Store:
    """The store, opened: migrated, connected and listening (raises :class:`StoreUnavailable`)."""
    store = make_store(url, sqlite_path)
    await store.open()
    return store
