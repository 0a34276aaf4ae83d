"""The durable store: one SQLite database (WAL) shared by events, send caps and ledgers.

Each feature owns its tables and creates them with ``CREATE TABLE IF NOT EXISTS`` on
open. Connections are plain ``sqlite3``; callers on the event loop run queries in a
worker thread (``anyio.to_thread.run_sync``) so the loop never blocks on disk.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def connect(path: str | Path, *, check_same_thread: bool = False) -> sqlite3.Connection:
    """Open (creating if needed) the database with WAL and sane durability settings."""
    if str(path) != ":memory:":
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30.0, check_same_thread=check_same_thread, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn
