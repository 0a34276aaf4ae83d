"""The policy's durable state in the shared SQLite database.

Sends (for the sliding-window caps), known contacts (for first-contact confirmation),
spent confirmation nonces and the server secret that signs tokens. Handles are stored
only as keyed hashes (HMAC with that secret), so the database holds no contact list.
All methods block; ``Policy`` calls them from a worker thread under one lock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from linq_mcp import db

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
            self.secret = self._load_secret()

    def close(self) -> None:
        if self._owned:
            self._conn.close()

    def _load_secret(self) -> bytes:
        self._conn.execute("INSERT OR IGNORE INTO policy_secret (id, secret) VALUES (1, ?)", (secrets.token_bytes(32),))
        row = self._conn.execute("SELECT secret FROM policy_secret WHERE id = 1").fetchone()
        return bytes(row[0])

    def key(self, handle: str) -> str:
        """A stable, non-reversible key for a canonical handle."""
        return hmac.new(self.secret, b"handle\0" + handle.encode(), hashlib.sha256).hexdigest()[:32]

    # ---- caps ------------------------------------------------------------------------

    def send_times(self, since: float) -> list[float]:
        """Times of recorded sends at or after ``since``, oldest first."""
        rows = self._conn.execute("SELECT at FROM policy_sends WHERE at >= ? ORDER BY at", (since,))
        return [float(r[0]) for r in rows]

    def recipient_times(self, handle: str, since: float) -> list[float]:
        rows = self._conn.execute(
            "SELECT at FROM policy_send_recipients WHERE handle_key = ? AND at >= ? ORDER BY at",
            (self.key(handle), since),
        )
        return [float(r[0]) for r in rows]

    def record(self, at: float, handles: Iterable[str], *, counts_as_send: bool) -> None:
        """One successful call: a send (if it is one), its recipients, and who is now known."""
        keys = [self.key(h) for h in handles]
        with self._transaction():
            if counts_as_send:
                self._conn.execute("INSERT INTO policy_sends (at) VALUES (?)", (at,))
                self._conn.executemany(
                    "INSERT INTO policy_send_recipients (handle_key, at) VALUES (?, ?)", [(k, at) for k in keys]
                )
            self._conn.executemany(
                "INSERT OR IGNORE INTO policy_known_contacts (handle_key, first_sent_at) VALUES (?, ?)",
                [(k, at) for k in keys],
            )
            self._prune(at)

    def _prune(self, now: float) -> None:
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
        """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on error (the connection is in autocommit mode)."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")
