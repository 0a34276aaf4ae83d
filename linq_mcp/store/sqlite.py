"""The SQLite store: one database file (WAL) shared by the processes of one machine.

The default for stdio and single-process use. Its parts are today's code behind the
storage interface: ``linq_mcp.webhooks.EventStore`` (events; a writer thread with group
commit, a ``data_version`` watcher for other processes' commits), ``linq_mcp.policy.store``
(caps, contacts, nonces, declines; ``BEGIN IMMEDIATE`` makes each step atomic across
processes) and :class:`SqliteLedger` here. Leadership is trivial: the roles it guards
(the poller) run in every process that asks, as before.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import anyio.to_thread

from linq_mcp.policy.store import PolicyStore
from linq_mcp.store import db
from linq_mcp.store.base import KeyReused, LedgerEntry, LedgerState, StoreUnavailable
from linq_mcp.webhooks.store import EventStore

__all__ = ["SqliteLedger", "SqliteStore"]

LEDGER_TTL = 24 * 3600.0

_LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS send_ledger (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('pending', 'done', 'unknown')),
    result       TEXT,
    at           REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS send_ledger_at ON send_ledger (at);
"""


class SqliteLedger:
    """The send ledger in the database file: every process on the file sees each key's state."""

    def __init__(self, path: str | Path, ttl: float = LEDGER_TTL) -> None:
        self.path = path
        self.ttl = ttl
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def open_sync(self) -> None:
        with self._lock:
            if self._conn is None:
                self._conn = db.connect(self.path, check_same_thread=False)
                # WAL without an fsync per commit: an entry survives the process dying (what the
                # ledger guards against), not a power cut, and a send pays no disk flush for it.
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(_LEDGER_SCHEMA)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _run(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            if self._conn is None:
                raise RuntimeError("the send ledger is closed")
            return fn(self._conn)

    def ping(self) -> None:
        """A trivial query on the ledger's connection: the file is open and readable."""
        self._run(lambda c: c.execute("SELECT 1").fetchone())

    def _entry(self, conn: sqlite3.Connection, key: str, fp: str, now: float) -> LedgerEntry | None:
        row = conn.execute(
            "SELECT fingerprint, state, result, at FROM send_ledger WHERE key = ? AND at >= ?", (key, now - self.ttl)
        ).fetchone()
        if row is None:
            return None
        if row[0] != fp:
            raise KeyReused(key)
        return LedgerEntry(str(row[0]), row[1], json.loads(row[2]) if row[2] is not None else None, float(row[3]))

    async def lookup(self, key: str, fp: str) -> LedgerEntry | None:
        return await anyio.to_thread.run_sync(self._run, lambda c: self._entry(c, key, fp, time.time()))

    async def begin(self, key: str, fp: str) -> LedgerEntry | None:
        def work(conn: sqlite3.Connection) -> LedgerEntry | None:
            now = time.time()
            conn.execute("BEGIN IMMEDIATE")
            try:
                claimed = conn.execute(
                    "INSERT INTO send_ledger (key, fingerprint, state, result, at) VALUES (?, ?, 'pending', NULL, ?) "
                    "ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'pending', "
                    "result = NULL, at = excluded.at WHERE send_ledger.at < ? RETURNING key",
                    (key, fp, now, now - self.ttl),
                ).fetchone()
                entry = None if claimed is not None else self._entry(conn, key, fp, now)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return entry

        return await anyio.to_thread.run_sync(self._run, work)

    async def record(self, key: str, fp: str, state: LedgerState, result: dict[str, Any] | None = None) -> None:
        text = json.dumps(result, separators=(",", ":"), default=str) if result is not None else None

        def work(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.execute(
                "INSERT INTO send_ledger (key, fingerprint, state, result, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, state = excluded.state, "
                "result = excluded.result, at = excluded.at",
                (key, fp, state, text, now),
            )
            if state == "done":
                conn.execute("DELETE FROM send_ledger WHERE at < ?", (now - self.ttl,))

        await anyio.to_thread.run_sync(self._run, work)

    async def forget(self, key: str) -> None:
        await anyio.to_thread.run_sync(self._run, lambda c: c.execute("DELETE FROM send_ledger WHERE key = ?", (key,)))


class SqliteStore:
    """Events, policy state and the send ledger in one SQLite file."""

    kind = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.display = str(path)
        self._events = EventStore(path)
        self._ledger = SqliteLedger(path)
        self._policy: PolicyStore | None = None
        self.roles: set[str] = set()

    @property
    def events(self) -> EventStore:
        return self._events

    @property
    def policy(self) -> PolicyStore:
        if self._policy is None:
            raise RuntimeError("open the store first")
        return self._policy

    @property
    def ledger(self) -> SqliteLedger:
        return self._ledger

    def open_sync(self) -> SqliteStore:
        try:
            if self._policy is None:
                self._policy = PolicyStore(self.path)
            self._ledger.open_sync()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the store {self.display} cannot be opened: {exc}") from None
        return self

    async def open(self) -> SqliteStore:
        await anyio.to_thread.run_sync(self.open_sync)
        await self._events.open()
        return self

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._events.aclose()
            self._ledger.close()
            if self._policy is not None:
                self._policy.close()

    async def __aenter__(self) -> SqliteStore:
        return await self.open()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def health(self) -> None:
        try:
            await anyio.to_thread.run_sync(self._ledger.ping)
        except (sqlite3.Error, RuntimeError) as exc:
            raise StoreUnavailable(f"the store {self.display} is unusable: {exc}") from None

    async def lead(self, role: str, work: Callable[[], Awaitable[None]]) -> None:
        """One process, one leader: run ``work`` now."""
        self.roles.add(role)
        try:
            await work()
        finally:
            self.roles.discard(role)

    def __repr__(self) -> str:
        return f"SqliteStore({self.display!r})"
