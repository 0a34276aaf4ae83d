"""The durable event store: every verified webhook (or polled) event, once, in commit order.

Why it looks like this:

- **One writer thread with group commit.** ``add`` enqueues and waits; the writer drains
  whatever is queued into one transaction (WAL, ``synchronous=FULL``), so many concurrent
  deliveries share one fsync and each ``add`` returns only after its row is durable.
- **Reads in worker threads** on per-thread connections, so the event loop never blocks.
- **Change notification** (``wait``/``subscribe``) fires on in-process commits at once and
  on commits by *another process* (a separate receiver writing the same file) via a
  watcher thread that polls ``PRAGMA data_version`` every ``watch_interval`` seconds, and
  only while someone is waiting or subscribed.
- ``seq`` is ``AUTOINCREMENT``: strictly increasing and never reused, even after pruning,
  so it is a safe cursor.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from linq_mcp.config import paths
from linq_mcp.store import db
from linq_mcp.store.eventsql import COLUMNS, list_filter, read_filter
from linq_mcp.store.fanout import MAX_BATCH, Job, Listener, Subscription, complete, wait_for

from .conversation import Conversation, merge_conversation
from .events import Event, EventSource, event_from_json

__all__ = ["EventPage", "EventStore", "Subscription"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS webhook_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id     TEXT NOT NULL UNIQUE,
    delivery_id  TEXT,
    received_at  REAL NOT NULL,
    created_at   TEXT,
    chat_id      TEXT,
    message_id   TEXT,
    event_type   TEXT NOT NULL,
    direction    TEXT,
    source       TEXT NOT NULL CHECK (source IN ('webhook', 'polled')),
    inbox_state  INTEGER,            -- NULL: not an inbox item; 0: unread inbound message; 1: read
    event_json   TEXT NOT NULL,      -- the normalised Event (without raw)
    raw_json     TEXT NOT NULL       -- the payload exactly as received
);
CREATE UNIQUE INDEX IF NOT EXISTS webhook_events_delivery ON webhook_events(delivery_id)
    WHERE delivery_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_events_chat ON webhook_events(chat_id, seq);
CREATE INDEX IF NOT EXISTS webhook_events_message ON webhook_events(message_id) WHERE message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS webhook_events_unread ON webhook_events(seq) WHERE inbox_state = 0;
-- Small named values that readers of the API keep across restarts (e.g. the poller's high-water mark).
CREATE TABLE IF NOT EXISTS event_markers (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""

# A batch is inserted by a few multi-row statements (chunks of power-of-two sizes, so the
# statement cache holds them all) rather than one statement per row. This is for the GIL:
# the sqlite3 module releases and re-takes it around every step, and re-taking it while the
# event loop is busy can cost up to a switch interval (5 ms), so the writer keeps its
# round trips per batch small and constant. ``column13`` keeps queue order.
_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT_HEAD = (
    "INSERT OR IGNORE INTO webhook_events (event_id, delivery_id, received_at, created_at, chat_id, "
    "message_id, event_type, direction, source, inbox_state, event_json, raw_json) "
    "SELECT column1, column2, column3, column4, column5, column6, column7, column8, column9, "
    # An inbound message seen again under another event id (e.g. polled after its webhook) is
    # kept for the record but is not a second inbox item.
    "CASE WHEN column10 = 0 AND (column6 IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_events AS w "
    "WHERE w.message_id = column6 AND w.inbox_state IS NOT NULL)) THEN 0 END, column11, column12 "
    "FROM (VALUES "
)
_CHUNKS = (256, 128, 64, 32, 16, 8, 4, 2, 1)


def _insert_sql(rows: int) -> str:
    # RETURNING names exactly the rows that were new (OR IGNORE skips duplicates), so no
    # query before or after the insert is needed to tell them apart or to learn the top seq.
    return _INSERT_HEAD + ", ".join([_ROW] * rows) + ") ORDER BY column13 RETURNING seq, event_id"


_INSERT_SQL = {n: _insert_sql(n) for n in _CHUNKS}
_CHECKPOINT_ROWS = 500  # ask the checkpointer to run after this many new rows
CLOSE_TIMEOUT = 5.0  # seconds aclose waits for the writer to finish the queue


# --- public records ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventPage:
    """A page of events; pass ``cursor`` back as ``before_seq`` (newest first) or ``after_seq``."""

    events: list[Event]
    cursor: int | None  # None when there is nothing more in this direction
    latest_seq: int | None  # the newest seq in the store when the page was read


# --- the store ---------------------------------------------------------------------------------


class EventStore:
    """Durable, deduplicated webhook events over SQLite (``linq_mcp.store.db``)."""

    def __init__(self, path: str | Path | None = None, *, watch_interval: float = 0.05) -> None:
        self.path = Path(path) if path is not None else paths.default_db_path()
        self.watch_interval = watch_interval
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._local = threading.local()
        self._readers: builtins.list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._interest = threading.Condition(self._lock)
        self._listeners: set[Listener] = set()
        self._known_seq = 0  # highest seq this process has announced to listeners
        self._closed = False
        self._started = False
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_due = threading.Event()
        self._rows_since_checkpoint = 0

    # lifecycle

    async def open(self) -> EventStore:
        """Create the table if needed and start the writer thread (idempotent)."""
        if not self._started:
            await anyio.to_thread.run_sync(self._open_sync)
        return self

    def _open_sync(self) -> None:
        with self._lock:
            if self._started:
                return
            conn = db.connect(self.path)
            conn.executescript(_SCHEMA)
            # Checkpoints copy the WAL into the main file and fsync it: slow, and if the writer
            # ran them (SQLite's default, on commit) the deliveries in that batch would wait.
            # A separate thread runs them instead (PASSIVE: never blocks the writer).
            conn.execute("PRAGMA wal_autocheckpoint=0")
            self._known_seq = self._max_seq(conn)
            self._writer = threading.Thread(target=self._write_loop, args=(conn,), name="linq-events-writer")
            self._writer.daemon = True
            self._writer.start()
            self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="linq-events-checkpoint")
            self._checkpointer.daemon = True
            self._checkpointer.start()
            self._started = True

    @property
    def closed(self) -> bool:
        return self._closed

    async def aclose(self) -> None:
        """Finish queued writes, stop the threads and close every connection.

        Shielded: closing usually happens while the owner is being cancelled (shutdown, Ctrl-C,
        a host cancelling its lifespan), and an unshielded wait would stop at its first await,
        leaving the threads running and the database open with its WAL behind. Bounded: a
        writer stuck on another process's lock is left to finish on its own after
        ``CLOSE_TIMEOUT`` seconds (its waiters were never acknowledged) rather than hang shutdown.
        """
        if not self._started or self._closed:
            return
        self._closed = True
        self._queue.put(None)
        with self._interest:
            self._interest.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:  # subscribers wake up and see the store is closed
            listener.poke()
        writer, watcher, checkpointer = self._writer, self._watcher, self._checkpointer

        def join() -> None:
            if writer is not None:
                writer.join()
            self._checkpoint_due.set()  # after the writer: one last checkpoint of its rows
            for thread in (watcher, checkpointer):
                if thread is not None:
                    thread.join()

        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await anyio.to_thread.run_sync(join, abandon_on_cancel=True)
        with self._lock:
            readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()

    async def __aenter__(self) -> EventStore:
        return await self.open()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # writing

    async def add(
        self,
        event: Event,
        source: EventSource = "webhook",
        *,
        raw_json: str | None = None,
        delivery_id: str | None = None,
    ) -> bool:
        """Store ``event`` durably; True if new, False for a duplicate ``event_id``/``delivery_id``.

        Returns only after the transaction holding the row has committed (fsynced WAL).
        ``raw_json`` is the body as received (default: ``event.raw`` re-serialised).
        """
        if source not in ("webhook", "polled"):
            raise ValueError("source must be 'webhook' or 'polled'")
        inbox = 0 if event.is_inbound_message else None
        params = (
            event.event_id,
            delivery_id,
            time.time(),
            event.created_at,
            event.chat_id,
            event.message_id,
            event.event_type,
            event.direction,
            source,
            inbox,
            event.to_json(include_raw=False),
            raw_json if raw_json is not None else json.dumps(event.raw, separators=(",", ":")),
        )
        return bool(await self._submit(params, None))

    async def mark_read(
        self,
        *,
        event_ids: Sequence[str] | None = None,
        message_ids: Sequence[str] | None = None,
        chat_id: str | None = None,
        up_to_seq: int | None = None,
        everything: bool = False,
    ) -> int:
        """Mark inbox messages read; returns how many changed. At least one selector is required."""
        where, args = read_filter("?", event_ids, message_ids, chat_id, up_to_seq, everything)
        sql = f"UPDATE webhook_events SET inbox_state = 1 WHERE {where}"
        return int(await self._submit(None, lambda c: c.execute(sql, args).rowcount))

    async def marker(self, name: str) -> str | None:
        """A value kept with the events under ``name`` (None when never set)."""

        def q(c: sqlite3.Connection) -> str | None:
            row = c.execute("SELECT value FROM event_markers WHERE name = ?", (name,)).fetchone()
            return str(row[0]) if row else None

        return await self._read(q)

    async def set_marker(self, name: str, value: str) -> None:
        """Keep ``value`` under ``name``, durably, in the same database as the events."""
        sql = (
            "INSERT INTO event_markers (name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = excluded.value"
        )
        await self._submit(None, lambda c: c.execute(sql, (name, value)))

    async def prune(self, max_age_days: float | None = None, max_events: int | None = None) -> int:
        """Delete events older than ``max_age_days`` and beyond the newest ``max_events``."""

        def op(c: sqlite3.Connection) -> int:
            deleted = 0
            if max_age_days is not None:
                cutoff = time.time() - max_age_days * 86400.0
                deleted += c.execute("DELETE FROM webhook_events WHERE received_at < ?", (cutoff,)).rowcount
            if max_events is not None:
                deleted += c.execute(
                    "DELETE FROM webhook_events WHERE seq <= (SELECT seq FROM webhook_events "
                    "ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                    (max(0, max_events),),
                ).rowcount
            return deleted

        return int(await self._submit(None, op))

    async def _submit(self, params: tuple[Any, ...] | None, op: Callable[[sqlite3.Connection], Any] | None) -> Any:
        if self._closed:
            raise RuntimeError("event store is closed")
        await self.open()
        job = Job(params, op)
        self._queue.put(job)
        await job.wait()  # if cancelled, the write still happens; only the answer is lost
        if job.error is not None:
            raise job.error
        return job.result

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        try:
            while True:
                first = self._queue.get()
                if first is None:
                    return
                jobs = [first]
                stop = False
                while len(jobs) < MAX_BATCH:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is None:
                        stop = True
                        break
                    jobs.append(nxt)
                self._run_batch(conn, jobs)
                if stop:
                    return
        finally:
            conn.close()

    def _run_batch(self, conn: sqlite3.Connection, jobs: builtins.list[Job]) -> None:
        """One transaction for the whole batch: consecutive inserts go through one executemany."""
        top = 0  # the highest seq inserted, 0 when nothing was new
        try:
            conn.execute("BEGIN IMMEDIATE")
            run: builtins.list[Job] = []
            for job in jobs:
                if job.op is None:
                    run.append(job)
                    continue
                if run:
                    top = max(top, self._insert_many(conn, run))
                    run = []
                job.result = job.op(conn)
            if run:
                top = max(top, self._insert_many(conn, run))
            conn.execute("COMMIT")
        except BaseException as exc:  # noqa: BLE001 - every waiter must learn the outcome
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if len(jobs) > 1:  # isolate the bad job: retry one by one
                for job in jobs:
                    self._run_batch(conn, [job])
                return
            jobs[0].error = exc
            jobs[0].result = None
        complete(jobs)
        if top:
            self._announce(top)
            self._rows_since_checkpoint += len(jobs)
            if self._rows_since_checkpoint >= _CHECKPOINT_ROWS:
                self._rows_since_checkpoint = 0
                self._checkpoint_due.set()

    def _insert_many(self, conn: sqlite3.Connection, jobs: builtins.list[Job]) -> int:
        """Insert rows; each job learns whether its row was new (first of its event id, not ignored).

        Returns the highest seq inserted (0 if none was new)."""
        flat: builtins.list[Any] = []
        inbox_ids: set[Any] = set()
        for i, job in enumerate(jobs):
            row = job.params or ()
            if row[9] == 0 and row[5] is not None:  # one inbox item per message within the batch too
                if row[5] in inbox_ids:
                    row = (*row[:9], None, *row[10:])
                inbox_ids.add(row[5])
            flat.extend(row)
            flat.append(i)
        width = 13
        start = 0
        remaining = len(jobs)
        new: builtins.list[tuple[int, Any]] = []
        while remaining:
            n = next(c for c in _CHUNKS if c <= remaining)
            new += conn.execute(_INSERT_SQL[n], flat[start * width : (start + n) * width]).fetchall()
            start += n
            remaining -= n
        new_ids = {event_id for _, event_id in new}
        for job in jobs:
            event_id = job.params[0] if job.params else None
            job.result = event_id in new_ids
            new_ids.discard(event_id)  # a second copy in the same batch is a duplicate
        return max((seq for seq, _ in new), default=0)

    def _announce(self, seq: int) -> None:
        with self._lock:
            self._known_seq = max(self._known_seq, seq)
            listeners = list(self._listeners)
        for listener in listeners:
            listener.poke()

    def _checkpoint_loop(self) -> None:
        """Copy the WAL back into the database file off the acknowledgement path."""
        conn = db.connect(self.path)
        try:
            while True:
                self._checkpoint_due.wait(timeout=5.0)
                self._checkpoint_due.clear()
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                if self._closed and (self._writer is None or not self._writer.is_alive()):
                    return
        finally:
            conn.close()

    @staticmethod
    def _max_seq(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'webhook_events'").fetchone()
        return int(row[0]) if row else 0

    # change notification

    def _register(self, listener: Listener) -> Listener:
        with self._interest:
            self._listeners.add(listener)
            if self._watcher is None and not self._closed:
                self._watcher = threading.Thread(target=self._watch_loop, name="linq-events-watcher")
                self._watcher.daemon = True
                self._watcher.start()
            self._interest.notify_all()
        return listener

    def _unregister(self, listener: Listener) -> None:
        with self._interest:
            self._listeners.discard(listener)

    def _watch_loop(self) -> None:
        """Notice commits by other processes; sleeps on a condition while nobody listens."""
        conn = db.connect(self.path)
        try:
            version: int | None = None
            while True:
                with self._interest:
                    while not self._listeners and not self._closed:
                        version = None
                        self._interest.wait()
                    if self._closed:
                        return
                now_version = int(conn.execute("PRAGMA data_version").fetchone()[0])
                if version is not None and now_version != version:
                    seq = self._max_seq(conn)
                    with self._lock:
                        fresh = seq > self._known_seq
                        if fresh:
                            self._known_seq = seq
                        listeners = list(self._listeners)
                    if fresh:
                        for listener in listeners:
                            listener.poke()
                version = now_version
                with self._interest:
                    if not self._closed:
                        self._interest.wait(self.watch_interval)
        finally:
            conn.close()

    def subscribe(self, *, after_seq: int | None = None) -> Subscription:
        """``async with store.subscribe() as sub: async for events in sub: ...`` (new events only)."""
        return Subscription(self, after_seq)

    async def wait(
        self,
        predicate: Callable[[Event], bool],
        timeout: float,
        *,
        after_seq: int | None = None,
    ) -> Event | None:
        """The first event committed after the call (or after ``after_seq``) matching ``predicate``.

        Returns None when ``timeout`` seconds pass first.
        """
        return await wait_for(self, predicate, timeout, after_seq=after_seq)

    # reading

    async def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise RuntimeError("event store is closed")
        await self.open()
        return await anyio.to_thread.run_sync(self._read_sync, fn)

    def _read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = db.connect(self.path)
            self._local.conn = conn
            with self._lock:
                self._readers.append(conn)
        return fn(conn)

    @staticmethod
    def _row_event(row: Sequence[Any]) -> Event:
        seq, received_at, source, event_json, raw_json = row
        event = event_from_json(event_json, raw=json.loads(raw_json))
        return event.with_store_fields(int(seq), float(received_at), source)

    async def _after(self, after_seq: int, limit: int) -> builtins.list[Event]:
        def q(c: sqlite3.Connection) -> builtins.list[Event]:
            rows = c.execute(
                f"SELECT {COLUMNS} FROM webhook_events WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit),
            ).fetchall()
            return [self._row_event(r) for r in rows]

        return await self._read(q)

    async def latest_seq(self) -> int | None:
        """The newest seq ever assigned (survives pruning), or None for an empty store."""
        return await self._read(lambda c: self._max_seq(c) or None)

    async def get(self, event_id: str) -> Event | None:
        def q(c: sqlite3.Connection) -> Event | None:
            row = c.execute(f"SELECT {COLUMNS} FROM webhook_events WHERE event_id = ?", (event_id,)).fetchone()
            return self._row_event(row) if row else None

        return await self._read(q)

    async def count(self) -> int:
        return await self._read(lambda c: int(c.execute("SELECT count(*) FROM webhook_events").fetchone()[0]))

    async def list(
        self,
        chat_id: str | None = None,
        types: Iterable[str] | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 50,
        newest_first: bool = True,
    ) -> EventPage:
        """Events filtered by chat and types (``"message.*"`` matches a family), one page at a time."""
        where, args = list_filter("?", chat_id, types, after_seq, before_seq)
        limit = max(1, min(int(limit), MAX_BATCH))
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {COLUMNS} FROM webhook_events {where} ORDER BY seq {order} LIMIT ?"

        def q(c: sqlite3.Connection) -> EventPage:
            rows = c.execute(sql, (*args, limit + 1)).fetchall()
            more = len(rows) > limit
            events = [self._row_event(r) for r in rows[:limit]]
            cursor = events[-1].seq if more and events else None
            return EventPage(events, cursor, self._max_seq(c) or None)

        return await self._read(q)

    async def conversation(self, chat_id: str, *, limit: int | None = 200, max_events: int = 10_000) -> Conversation:
        """The chat's messages, one entry each, with their latest delivery/read state and reactions."""

        def q(c: sqlite3.Connection) -> builtins.list[Event]:
            rows = c.execute(
                f"SELECT {COLUMNS} FROM (SELECT * FROM webhook_events WHERE chat_id = ? "
                "ORDER BY seq DESC LIMIT ?) ORDER BY seq",
                (chat_id, max_events),
            ).fetchall()
            return [self._row_event(r) for r in rows]

        return merge_conversation(chat_id, await self._read(q), limit=limit)

    async def inbox(self, *, chat_id: str | None = None, limit: int = 50) -> builtins.list[Event]:
        """Inbound messages not yet marked read, oldest first (each message once)."""
        sql = f"SELECT {COLUMNS} FROM webhook_events WHERE inbox_state = 0"
        args: builtins.list[Any] = []
        if chat_id is not None:
            sql += " AND chat_id = ?"
            args.append(chat_id)
        sql += " ORDER BY seq LIMIT ?"
        args.append(max(1, min(int(limit), MAX_BATCH)))
        return await self._read(lambda c: [self._row_event(r) for r in c.execute(sql, args).fetchall()])

    async def unread_count(self) -> int:
        return await self._read(
            lambda c: int(c.execute("SELECT count(*) FROM webhook_events WHERE inbox_state = 0").fetchone()[0])
        )

    def __repr__(self) -> str:
        return f"EventStore({str(self.path)!r})"
