"""The policy's durable state in the shared SQLite database (``PolicyState`` on SQLite).

Sends (for the sliding-window caps), known contacts (for first-contact confirmation),
spent confirmation nonces, remembered declines and the server secret that signs tokens.
Handles are stored only as keyed hashes (HMAC with that secret), so the database holds
no contact list. The ``PolicyTx`` methods block; ``atomically`` runs them in a worker
thread under one lock and one transaction.

A send is a row in ``policy_sends`` from the moment it is allowed: first *held*
(``held_until`` set: counted until then, so a crashed process over-counts briefly and
never under-counts), then *recorded* (``held_until`` NULL) or deleted when it failed.
Several processes share one database, so checking the caps and holding the slot happen
in one ``BEGIN IMMEDIATE`` transaction (``atomically``),
never in process memory. ``send_key`` (a keyed hash of the tool, the caller's
idempotency key and the recipients) makes a retry of the same send reuse its row.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from linq_mcp.store import db
from linq_mcp.store.base import PolicyTx, handle_key, send_identity

T = TypeVar("T")

DAY_SECONDS = 86_400.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_sends (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS policy_sends_at ON policy_sends (at);
CREATE TABLE IF NOT EXISTS policy_send_recipients (
    handle_key TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS policy_send_recipients_key_at ON policy_send_recipients (handle_key, at);
CREATE TABLE IF NOT EXISTS policy_known_contacts (
    handle_key TEXT PRIMARY KEY,
    first_sent_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_used_nonces (
    nonce TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS policy_declines (
    call_key TEXT PRIMARY KEY,
    declined_at REAL NOT NULL
);
"""


class PolicyStore:
    """Blocking access to the policy tables; one connection, serialised by ``lock``."""

    def __init__(self, target: str | Path | sqlite3.Connection) -> None:
        if isinstance(target, sqlite3.Connection):
            self._conn, self._owned = target, False
        else:
            self._conn, self._owned = db.connect(target, check_same_thread=False), True
        self.lock = threading.RLock()
        with self.lock:
            self._conn.executescript(_SCHEMA)
            self._migrate()
            self.secret = self._load_secret()

    def close(self) -> None:
        if self._owned:
            self._conn.close()

    def _migrate(self) -> None:
        """Add the reservation columns to a database written by an older version."""
        with self._transaction():
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(policy_sends)")}
            if "held_until" not in columns:
                self._conn.execute("ALTER TABLE policy_sends ADD COLUMN held_until REAL")
            if "send_key" not in columns:
                self._conn.execute("ALTER TABLE policy_sends ADD COLUMN send_key TEXT")
            columns = {row[1] for row in self._conn.execute("PRAGMA table_info(policy_send_recipients)")}
            if "send_id" not in columns:
                self._conn.execute("ALTER TABLE policy_send_recipients ADD COLUMN send_id INTEGER")
            self._conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS policy_sends_key ON policy_sends (send_key)")
            self._conn.execute(
                "CREATE INDEX IF NOT EXISTS policy_send_recipients_send ON policy_send_recipients (send_id)"
            )

    def _load_secret(self) -> bytes:
        self._conn.execute("INSERT OR IGNORE INTO policy_secret (id, secret) VALUES (1, ?)", (secrets.token_bytes(32),))
        row = self._conn.execute("SELECT secret FROM policy_secret WHERE id = 1").fetchone()
        return bytes(row[0])

    def key(self, handle: str) -> str:
        """A stable, non-reversible key for a canonical handle."""
        return handle_key(self.secret, handle)

    def send_key(self, tool: str, idempotency_key: str, handles: Iterable[str]) -> str:
        """One send's identity: the same tool, key and recipients are the same send."""
        return send_identity(self.secret, tool, idempotency_key, handles)

    # ---- the PolicyState interface ----------------------------------------------------

    def _locked(self, fn: Callable[[PolicyTx], T]) -> T:
        with self.lock, self._transaction():
            return fn(self)

    async def atomically(self, fn: Callable[[PolicyTx], T]) -> T:
        """``fn`` in one ``BEGIN IMMEDIATE`` transaction: atomic across every process on the file."""
        return await anyio.to_thread.run_sync(self._locked, fn)

    async def record(
        self,
        at: float,
        handles: Sequence[str],
        *,
        counts_as_send: bool,
        send_id: int | None = None,
        send_key: str | None = None,
    ) -> None:
        def work() -> None:
            with self.lock:
                self.settle(at, handles, counts_as_send=counts_as_send, send_id=send_id, send_key=send_key)

        await anyio.to_thread.run_sync(work)

    async def release(self, send_id: int) -> None:
        def work() -> None:
            with self.lock:
                self.release_sync(send_id)

        await anyio.to_thread.run_sync(work)

    async def remember_decline(self, call_key: str, now: float, forget_before: float) -> None:
        def work() -> None:
            with self.lock, self._transaction():
                self._conn.execute(
                    "INSERT INTO policy_declines (call_key, declined_at) VALUES (?, ?) "
                    "ON CONFLICT (call_key) DO UPDATE SET declined_at = excluded.declined_at",
                    (call_key, now),
                )
                self._conn.execute("DELETE FROM policy_declines WHERE declined_at < ?", (forget_before,))

        await anyio.to_thread.run_sync(work)

    async def declined_at(self, call_key: str, since: float) -> float | None:
        def work() -> float | None:
            with self.lock:
                row = self._conn.execute(
                    "SELECT declined_at FROM policy_declines WHERE call_key = ? AND declined_at >= ?",
                    (call_key, since),
                ).fetchone()
            return float(row[0]) if row is not None else None

        return await anyio.to_thread.run_sync(work)

    # ---- caps (call inside ``atomically``) ------------------------------------------------

    def send_times(self, since: float, now: float) -> list[float]:
        """Times of sends counted at ``now`` (recorded, or held and not lapsed) after ``since``."""
        rows = self._conn.execute(
            "SELECT at FROM policy_sends WHERE at > ? AND (held_until IS NULL OR held_until > ?) ORDER BY at",
            (since, now),
        )
        return [float(r[0]) for r in rows]

    def recipient_times(self, handle: str, since: float, now: float) -> list[float]:
        rows = self._conn.execute(
            "SELECT r.at FROM policy_send_recipients r LEFT JOIN policy_sends s ON s.id = r.send_id "
            "WHERE r.handle_key = ? AND r.at > ? AND (s.held_until IS NULL OR s.held_until > ?) ORDER BY r.at",
            (self.key(handle), since, now),
        )
        return [float(r[0]) for r in rows]

    def find_send(self, send_key: str) -> int | None:
        """The row of an earlier call of this same send, if it is still kept."""
        row = self._conn.execute("SELECT id FROM policy_sends WHERE send_key = ?", (send_key,)).fetchone()
        return None if row is None else int(row[0])

    def hold_again(self, send_id: int, now: float, hold_until: float) -> None:
        """A retry of a send whose hold lapsed (its process died): count it again, from now, until settled."""
        lapsed = self._conn.execute(
            "UPDATE policy_sends SET at = ?, held_until = ? "
            "WHERE id = ? AND held_until IS NOT NULL AND held_until <= ?",
            (now, hold_until, send_id, now),
        ).rowcount
        if lapsed:
            self._conn.execute("UPDATE policy_send_recipients SET at = ? WHERE send_id = ?", (now, send_id))

    def hold(self, at: float, hold_until: float, handles: Iterable[str], send_key: str | None) -> int:
        """Count one send (and its recipients) from now on, until recorded or released."""
        cursor = self._conn.execute(
            "INSERT INTO policy_sends (at, held_until, send_key) VALUES (?, ?, ?)", (at, hold_until, send_key)
        )
        send_id = int(cursor.lastrowid or 0)
        self._conn.executemany(
            "INSERT INTO policy_send_recipients (handle_key, at, send_id) VALUES (?, ?, ?)",
            [(self.key(h), at, send_id) for h in handles],
        )
        return send_id

    def settle(
        self,
        at: float,
        handles: Iterable[str],
        *,
        counts_as_send: bool,
        send_id: int | None = None,
        send_key: str | None = None,
    ) -> None:
        """One successful call: its send counted for good, and who is now known."""
        handles = list(handles)
        keys = [self.key(h) for h in handles]
        with self._transaction():
            if counts_as_send:
                updated = 0
                if send_id is not None:  # the key check guards against a row id reused after a release
                    updated = self._conn.execute(
                        "UPDATE policy_sends SET held_until = NULL WHERE id = ? AND send_key IS ?", (send_id, send_key)
                    ).rowcount
                if not updated and send_key is not None:
                    updated = self._conn.execute(
                        "UPDATE policy_sends SET held_until = NULL WHERE send_key = ?", (send_key,)
                    ).rowcount
                if not updated:  # the hold is gone (released by a twin call, or pruned): count it anew
                    new_id = self.hold(at, at, handles, send_key)
                    self._conn.execute("UPDATE policy_sends SET held_until = NULL WHERE id = ?", (new_id,))
            self._conn.executemany(
                "INSERT OR IGNORE INTO policy_known_contacts (handle_key, first_sent_at) VALUES (?, ?)",
                [(k, at) for k in keys],
            )
            self._prune(at)

    def release_sync(self, send_id: int) -> None:
        """A held send that definitely did not go out stops counting."""
        with self._transaction():
            deleted = self._conn.execute(
                "DELETE FROM policy_sends WHERE id = ? AND held_until IS NOT NULL", (send_id,)
            ).rowcount
            if deleted:
                self._conn.execute("DELETE FROM policy_send_recipients WHERE send_id = ?", (send_id,))

    def _prune(self, now: float) -> None:
        # Lapsed holds stay until they are a day old like every send (they no longer count): a
        # retry with their key finds them, and their row ids are not reused under a late settler.
        self._conn.execute("DELETE FROM policy_sends WHERE at < ?", (now - DAY_SECONDS,))
        self._conn.execute("DELETE FROM policy_send_recipients WHERE at < ?", (now - DAY_SECONDS,))
        self._conn.execute("DELETE FROM policy_used_nonces WHERE expires_at < ?", (now,))

    # ---- contacts and confirmation -----------------------------------------------------

    def unknown(self, handles: Iterable[str]) -> list[str]:
        """The handles we have never successfully sent to."""
        out = []
        for handle in handles:
            row = self._conn.execute(
                "SELECT 1 FROM policy_known_contacts WHERE handle_key = ?", (self.key(handle),)
            ).fetchone()
            if row is None:
                out.append(handle)
        return out

    def spend_nonce(self, nonce: str, expires_at: float) -> bool:
        """Mark a token's nonce used; ``False`` if it already was."""
        try:
            self._conn.execute("INSERT INTO policy_used_nonces (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at))
        except sqlite3.IntegrityError:
            return False
        return True

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error; nested use joins the outer transaction."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
