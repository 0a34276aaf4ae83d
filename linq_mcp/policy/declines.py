"""Declines remembered: a send the person said no to stays refused for a while.

Without this, an assistant told "no" could simply ask again (and again) until the person
gives in or mis-taps. A decline is bound to the exact call (``confirm.canonical_call``:
the tool and its content arguments, not the idempotency key or dry_run) and stored as a
keyed hash in the shared database, so every process on the machine honours it.
Blocking; ``Policy`` calls it from a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from linq_mcp.policy.confirm import canonical_call
from linq_mcp.store import db

DECLINE_TTL_SECONDS = 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS policy_declines (
    call_key TEXT PRIMARY KEY,
    declined_at REAL NOT NULL
);
"""


class Declines:
    def __init__(self, target: str | Path | sqlite3.Connection, key: bytes) -> None:
        if isinstance(target, sqlite3.Connection):
            self._conn, self._owned = target, False
        else:
            self._conn, self._owned = db.connect(target, check_same_thread=False), True
        self._key = key
        self._lock = threading.Lock()
        with self._lock:
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        if self._owned:
            self._conn.close()

    def _call_key(self, tool: str, args: Mapping[str, Any]) -> str:
        return hmac.new(self._key, b"decline\0" + canonical_call(tool, args), hashlib.sha256).hexdigest()[:40]

    def remember(self, tool: str, args: Mapping[str, Any], now: float) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT INTO policy_declines (call_key, declined_at) VALUES (?, ?) "
                "ON CONFLICT (call_key) DO UPDATE SET declined_at = excluded.declined_at",
                (self._call_key(tool, args), now),
            )
            self._conn.execute("DELETE FROM policy_declines WHERE declined_at < ?", (now - DECLINE_TTL_SECONDS,))

    def declined_at(self, tool: str, args: Mapping[str, Any], now: float) -> float | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT declined_at FROM policy_declines WHERE call_key = ? AND declined_at >= ?",
                (self._call_key(tool, args), now - DECLINE_TTL_SECONDS),
            ).fetchone()
        return float(row[0]) if row is not None else None
