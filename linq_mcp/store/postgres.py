"""The PostgreSQL store: the shared state of several replicas (psycopg 3 and its pool).

Why it looks like this:

- **Blocking psycopg in worker threads**, like the SQLite store: the policy's atomic step
  (:meth:`PgPolicyState.atomically`) is plain code shared by both backends, and the event
  log keeps the SQLite one's writer thread with group commit.
- **Event order is commit order.** Every transaction that inserts events first takes one
  advisory transaction lock, so ``seq`` values become visible in increasing order and a
  reader that has seen ``seq`` N can never later find a smaller one committed. The newest
  committed seq is kept in ``webhook_events_top`` (the identity sequence may run ahead).
- **Fan-out by LISTEN/NOTIFY.** Each insert transaction ends with ``pg_notify`` (sent on
  commit); one thread per process holds a LISTEN connection and pokes the local
  subscribers, which then read by seq. When that connection drops the thread reconnects
  on its own (with backoff) and pokes everyone, so events stored during the gap are read.
- **Caps hold across replicas**: :meth:`PgPolicyState.atomically` runs under an advisory
  transaction lock, the same serialisation SQLite's ``BEGIN IMMEDIATE`` gives one file.
- **Migrations** (``migrations/NNNN_name.sql``) are applied at open under an advisory
  lock, recorded in ``schema_migrations``; replicas starting together apply each once.
- **Leadership** (:meth:`PostgresStore.lead`): a session advisory lock on a connection of
  its own; PostgreSQL drops it when the holder's connection dies, and the others try again
  every ``LEAD_RETRY`` seconds.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import logging
import queue
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from importlib import resources
from types import TracebackType
from typing import Any, TypeVar

import anyio
import anyio.to_thread
import psycopg
from psycopg_pool import ConnectionPool

from linq_mcp.store.base import (
    KeyReused,
    LedgerEntry,
    LedgerState,
    PolicyTx,
    StoreUnavailable,
    handle_key,
    send_identity,
)
from linq_mcp.store.eventsql import COLUMNS, list_filter, read_filter
from linq_mcp.store.fanout import MAX_BATCH, Job, Listener, Subscription, complete, wait_for
from linq_mcp.store.url import parse_url
from linq_mcp.webhooks.conversation import Conversation, merge_conversation
from linq_mcp.webhooks.events import Event, EventSource, event_from_json
from linq_mcp.webhooks.store import EventPage

__all__ = ["PostgresStore", "migrate", "migrations"]

T = TypeVar("T")
log = logging.getLogger("linq_mcp.store")

CHANNEL = "linq_mcp_events"
CONNECT_TIMEOUT = 5  # seconds to reach the server before the store says it is unreachable
POOL_SIZE = 10
LISTEN_POLL = 0.25  # seconds the LISTEN thread waits before checking whether the store closed
RECONNECT_MIN, RECONNECT_MAX = 0.1, 2.0  # the LISTEN thread's backoff between reconnects
LEAD_RETRY = 1.0  # seconds between a non-leader's attempts to take a role
LEAD_CHECK = 1.0  # seconds between the leader's checks that its lock connection lives
CLOSE_TIMEOUT = 5.0
LEDGER_TTL = 24 * 3600.0
DAY_SECONDS = 86_400.0


def lock_key(name: str) -> int:
    """A stable 64-bit advisory lock key per purpose, in linq-mcp's own namespace."""
    return int.from_bytes(hashlib.sha256(b"linq-mcp:" + name.encode()).digest()[:8], "big", signed=True)


MIGRATIONS_LOCK = lock_key("migrations")
EVENTS_LOCK = lock_key("events")
POLICY_LOCK = lock_key("policy")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# --- migrations -------------------------------------------------------------------------------


def migrations() -> list[tuple[int, str, str]]:
    """Every shipped migration as (version, name, SQL), oldest first."""
    found = []
    for entry in (resources.files("linq_mcp.store") / "migrations").iterdir():
        match = re.fullmatch(r"(\d{4})_(\w+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    return sorted(found)


def migrate(conn: psycopg.Connection[Any], target: int | None = None) -> list[int]:
    """Apply the missing migrations (up to ``target``), each in its own transaction; return their versions.

    Idempotent, and safe when several processes start at once: all of it runs under one
    session advisory lock, so the second process finds the work done.
    """
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATIONS_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {int(row[0]) for row in conn.execute("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, text in migrations():
            if target is not None and version > target:
                break
            if version in done:
                continue
            with conn.transaction():
                conn.execute(text.encode())  # no parameters: several statements in one go
                conn.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied.append(version)
        return applied
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATIONS_LOCK,))


# --- events -----------------------------------------------------------------------------------

_INSERT = (
    "INSERT INTO webhook_events (event_id, delivery_id, received_at, created_at, chat_id, message_id, "
    "event_type, direction, source, inbox_state, event_json, raw_json) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, "
    # An inbound message seen again under another event id (e.g. polled after its webhook) is
    # kept for the record but is not a second inbox item.
    "CASE WHEN %s::int = 0 AND (%s::text IS NULL OR NOT EXISTS (SELECT 1 FROM webhook_events AS w "
    "WHERE w.message_id = %s::text AND w.inbox_state IS NOT NULL)) THEN 0 END, %s, %s) "
    "ON CONFLICT DO NOTHING RETURNING seq"
)


def _row_event(row: Sequence[Any]) -> Event:
    seq, received_at, source, event_json, raw_json = row
    event = event_from_json(event_json, raw=json.loads(raw_json))
    return event.with_store_fields(int(seq), float(received_at), source)


class PgEventLog:
    """The event log on PostgreSQL; the same contract as ``linq_mcp.webhooks.EventStore``."""

    def __init__(self, pool: ConnectionPool[Any], conninfo: str, prepare: Callable[[], object]) -> None:
        self._pool = pool
        self._conninfo = conninfo
        self._prepare = prepare  # migrates and opens the pool (idempotent): the log can be opened alone
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._listeners: set[Listener] = set()
        self._known_seq = 0
        self._closed = False
        self._started = False
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._listener: threading.Thread | None = None
        self.listening = threading.Event()  # set while the LISTEN connection is up
        self.reconnect_delays = (RECONNECT_MIN, RECONNECT_MAX)  # first and longest wait before reconnecting
        self.listen_pid: int | None = None  # its server process (tests end it to prove reconnection)

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> PgEventLog:
        if not self._started:
            await anyio.to_thread.run_sync(self._open_sync)
        return self

    def _open_sync(self) -> None:
        with self._lock:
            if self._started:
                return
            self._prepare()
            with self._pool.connection() as conn:
                self._known_seq = self._top(conn)
            self._writer = threading.Thread(target=self._write_loop, name="linq-pg-events-writer", daemon=True)
            self._writer.start()
            self._listener = threading.Thread(target=self._listen_loop, name="linq-pg-events-listen", daemon=True)
            self._listener.start()
            self._started = True

    async def aclose(self) -> None:
        """Finish queued writes, stop listening; shielded and bounded like the SQLite store's."""
        if not self._started or self._closed:
            return
        self._closed = True
        self._stop.set()
        self._queue.put(None)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener.poke()
        threads = [t for t in (self._writer, self._listener) if t is not None]

        def join() -> None:
            for thread in threads:
                thread.join()

        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await anyio.to_thread.run_sync(join, abandon_on_cancel=True)

    async def __aenter__(self) -> PgEventLog:
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
            event.message_id,
            event.message_id,
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
        where, args = read_filter("%s", event_ids, message_ids, chat_id, up_to_seq, everything)
        sql = f"UPDATE webhook_events SET inbox_state = 1 WHERE {where}"
        return int(await self._submit(None, lambda c: c.execute(sql, args).rowcount))

    async def marker(self, name: str) -> str | None:
        def q(c: psycopg.Connection[Any]) -> str | None:
            row = c.execute("SELECT value FROM event_markers WHERE name = %s", (name,)).fetchone()
            return str(row[0]) if row else None

        return await self._read(q)

    async def set_marker(self, name: str, value: str) -> None:
        sql = (
            "INSERT INTO event_markers (name, value) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        )
        await self._submit(None, lambda c: c.execute(sql, (name, value)))

    async def prune(self, max_age_days: float | None = None, max_events: int | None = None) -> int:
        def op(c: psycopg.Connection[Any]) -> int:
            deleted = 0
            if max_age_days is not None:
                cutoff = time.time() - max_age_days * 86400.0
                deleted += c.execute("DELETE FROM webhook_events WHERE received_at < %s", (cutoff,)).rowcount
            if max_events is not None:
                deleted += c.execute(
                    "DELETE FROM webhook_events WHERE seq <= (SELECT seq FROM webhook_events "
                    "ORDER BY seq DESC LIMIT 1 OFFSET %s)",
                    (max(0, max_events),),
                ).rowcount
            return deleted

        return int(await self._submit(None, op))

    async def _submit(self, params: tuple[Any, ...] | None, op: Callable[[Any], Any] | None) -> Any:
        if self._closed:
            raise RuntimeError("event store is closed")
        await self.open()
        job = Job(params, op)
        self._queue.put(job)
        await job.wait()  # if cancelled, the write still happens; only the answer is lost
        if job.error is not None:
            raise job.error
        return job.result

    def _write_loop(self) -> None:
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
            self._run_batch(jobs)
            if stop:
                return

    def _run_batch(self, jobs: builtins.list[Job]) -> None:
        """One transaction for the batch; a failing batch is retried job by job to isolate the bad one."""
        top = 0
        try:
            with self._pool.connection() as conn, conn.transaction():
                inserts = [job for job in jobs if job.op is None]
                if inserts:  # seq order must be commit order across every writer on the database
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (EVENTS_LOCK,))
                    top = self._insert_many(conn, inserts)
                for job in jobs:
                    if job.op is not None:
                        job.result = job.op(conn)
                if top:
                    conn.execute("UPDATE webhook_events_top SET seq = GREATEST(seq, %s) WHERE id = 1", (top,))
                    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(top)))
        except BaseException as exc:  # noqa: BLE001 - every waiter must learn the outcome
            if len(jobs) > 1:
                for job in jobs:
                    self._run_batch([job])
                return
            jobs[0].error, jobs[0].result, top = exc, None, 0
        complete(jobs)
        if top:
            self._heard(top)

    @staticmethod
    def _insert_many(conn: psycopg.Connection[Any], jobs: builtins.list[Job]) -> int:
        """Insert in queue order (pipelined); each job learns whether its row was new."""
        seqs: builtins.list[int | None] = []
        with conn.cursor() as cur:
            cur.executemany(_INSERT, [job.params or () for job in jobs], returning=True)
            while True:
                row = cur.fetchone()
                seqs.append(int(row[0]) if row else None)
                if not cur.nextset():
                    break
        for job, seq in zip(jobs, seqs, strict=True):
            job.result = seq is not None
        return max((s for s in seqs if s is not None), default=0)

    @staticmethod
    def _top(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT seq FROM webhook_events_top WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    # change notification

    def _heard(self, seq: int, *, everyone: bool = False) -> None:
        """A commit up to ``seq`` happened (here or in another process): wake the subscribers."""
        with self._lock:
            fresh = seq > self._known_seq
            self._known_seq = max(self._known_seq, seq)
            listeners = list(self._listeners) if fresh or everyone else []
        for listener in listeners:
            listener.poke()

    def _listen_loop(self) -> None:
        """Hold a LISTEN connection; reconnect after any failure and catch up from the store."""
        delay = self.reconnect_delays[0]
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listen_pid = conn.info.backend_pid
                    self._heard(self._top(conn), everyone=True)  # whatever committed while we were away
                    self.listening.set()
                    delay = self.reconnect_delays[0]
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=LISTEN_POLL):
                            self._heard(int(note.payload) if note.payload.isdigit() else 0)
            except psycopg.Error as exc:
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning(
                    "event fan-out: the LISTEN connection failed (%s); reconnecting in %.1f s", _one_line(exc), delay
                )
                self._stop.wait(delay)
                delay = min(delay * 2, self.reconnect_delays[1])
        self.listening.clear()

    def _register(self, listener: Listener) -> Listener:
        with self._lock:
            self._listeners.add(listener)
        return listener

    def _unregister(self, listener: Listener) -> None:
        with self._lock:
            self._listeners.discard(listener)

    def subscribe(self, *, after_seq: int | None = None) -> Subscription:
        return Subscription(self, after_seq)

    async def wait(
        self, predicate: Callable[[Event], bool], timeout: float, *, after_seq: int | None = None
    ) -> Event | None:
        return await wait_for(self, predicate, timeout, after_seq=after_seq)

    # reading

    async def _read(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        if self._closed:
            raise RuntimeError("event store is closed")
        await self.open()
        return await anyio.to_thread.run_sync(self._read_sync, fn)

    def _read_sync(self, fn: Callable[[psycopg.Connection[Any]], T]) -> T:
        with self._pool.connection() as conn:
            return fn(conn)

    async def _after(self, after_seq: int, limit: int) -> builtins.list[Event]:
        def q(c: psycopg.Connection[Any]) -> builtins.list[Event]:
            rows = c.execute(
                f"SELECT {COLUMNS} FROM webhook_events WHERE seq > %s ORDER BY seq LIMIT %s", (after_seq, limit)
            ).fetchall()
            return [_row_event(r) for r in rows]

        return await self._read(q)

    async def latest_seq(self) -> int | None:
        return await self._read(lambda c: self._top(c) or None)

    async def get(self, event_id: str) -> Event | None:
        def q(c: psycopg.Connection[Any]) -> Event | None:
            row = c.execute(f"SELECT {COLUMNS} FROM webhook_events WHERE event_id = %s", (event_id,)).fetchone()
            return _row_event(row) if row else None

        return await self._read(q)

    async def count(self) -> int:
        return await self._read(lambda c: int(_scalar(c, "SELECT count(*) FROM webhook_events")))

    async def list(
        self,
        chat_id: str | None = None,
        types: Iterable[str] | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 50,
        newest_first: bool = True,
    ) -> EventPage:
        where, args = list_filter("%s", chat_id, types, after_seq, before_seq)
        limit = max(1, min(int(limit), MAX_BATCH))
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {COLUMNS} FROM webhook_events {where} ORDER BY seq {order} LIMIT %s"

        def q(c: psycopg.Connection[Any]) -> EventPage:
            with c.transaction():  # one snapshot: the page and the newest seq agree
                rows = c.execute(sql, (*args, limit + 1)).fetchall()
                top = self._top(c)
            more = len(rows) > limit
            events = [_row_event(r) for r in rows[:limit]]
            cursor = events[-1].seq if more and events else None
            return EventPage(events, cursor, top or None)

        return await self._read(q)

    async def conversation(self, chat_id: str, *, limit: int | None = 200, max_events: int = 10_000) -> Conversation:
        def q(c: psycopg.Connection[Any]) -> builtins.list[Event]:
            rows = c.execute(
                f"SELECT {COLUMNS} FROM (SELECT * FROM webhook_events WHERE chat_id = %s "
                "ORDER BY seq DESC LIMIT %s) AS recent ORDER BY seq",
                (chat_id, max_events),
            ).fetchall()
            return [_row_event(r) for r in rows]

        return merge_conversation(chat_id, await self._read(q), limit=limit)

    async def inbox(self, *, chat_id: str | None = None, limit: int = 50) -> builtins.list[Event]:
        sql = f"SELECT {COLUMNS} FROM webhook_events WHERE inbox_state = 0"
        args: builtins.list[Any] = []
        if chat_id is not None:
            sql += " AND chat_id = %s"
            args.append(chat_id)
        sql += " ORDER BY seq LIMIT %s"
        args.append(max(1, min(int(limit), MAX_BATCH)))
        return await self._read(lambda c: [_row_event(r) for r in c.execute(sql, args).fetchall()])

    async def unread_count(self) -> int:
        return await self._read(lambda c: int(_scalar(c, "SELECT count(*) FROM webhook_events WHERE inbox_state = 0")))


def _scalar(conn: psycopg.Connection[Any], sql: str, args: Sequence[Any] = ()) -> Any:
    row = conn.execute(sql, args).fetchone()
    return row[0] if row else None


# --- the policy -------------------------------------------------------------------------------


class PgPolicyTx:
    """The policy's state inside one transaction that holds the policy advisory lock."""

    def __init__(self, conn: psycopg.Connection[Any], secret: bytes) -> None:
        self._conn = conn
        self._secret = secret

    def key(self, handle: str) -> str:
        return handle_key(self._secret, handle)

    def send_key(self, tool: str, idempotency_key: str, handles: Iterable[str]) -> str:
        return send_identity(self._secret, tool, idempotency_key, handles)

    def send_times(self, since: float, now: float) -> list[float]:
        rows = self._conn.execute(
            "SELECT at FROM policy_sends WHERE at > %s AND (held_until IS NULL OR held_until > %s) ORDER BY at",
            (since, now),
        )
        return [float(r[0]) for r in rows]

    def recipient_times(self, handle: str, since: float, now: float) -> list[float]:
        rows = self._conn.execute(
            "SELECT r.at FROM policy_send_recipients r LEFT JOIN policy_sends s ON s.id = r.send_id "
            "WHERE r.handle_key = %s AND r.at > %s AND (s.held_until IS NULL OR s.held_until > %s) ORDER BY r.at",
            (self.key(handle), since, now),
        )
        return [float(r[0]) for r in rows]

    def find_send(self, send_key: str) -> int | None:
        value = _scalar(self._conn, "SELECT id FROM policy_sends WHERE send_key = %s", (send_key,))
        return None if value is None else int(value)

    def hold_again(self, send_id: int, now: float, hold_until: float) -> None:
        lapsed = self._conn.execute(
            "UPDATE policy_sends SET at = %s, held_until = %s "
            "WHERE id = %s AND held_until IS NOT NULL AND held_until <= %s",
            (now, hold_until, send_id, now),
        ).rowcount
        if lapsed:
            self._conn.execute("UPDATE policy_send_recipients SET at = %s WHERE send_id = %s", (now, send_id))

    def hold(self, at: float, hold_until: float, handles: Iterable[str], send_key: str | None) -> int:
        send_id = int(
            _scalar(
                self._conn,
                "INSERT INTO policy_sends (at, held_until, send_key) VALUES (%s, %s, %s) RETURNING id",
                (at, hold_until, send_key),
            )
        )
        rows = [(self.key(h), at, send_id) for h in handles]
        if rows:
            with self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO policy_send_recipients (handle_key, at, send_id) VALUES (%s, %s, %s)", rows
                )
        return send_id

    def unknown(self, handles: Iterable[str]) -> list[str]:
        handles = list(handles)
        keys = {h: self.key(h) for h in handles}
        rows = self._conn.execute(
            "SELECT handle_key FROM policy_known_contacts WHERE handle_key = ANY(%s)", (list(keys.values()),)
        )
        known = {str(r[0]) for r in rows}
        return [h for h in handles if keys[h] not in known]

    def spend_nonce(self, nonce: str, expires_at: float) -> bool:
        return (
            self._conn.execute(
                "INSERT INTO policy_used_nonces (nonce, expires_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (nonce, expires_at),
            ).rowcount
            == 1
        )

    def release_held(self, send_id: int) -> None:
        """A held send that definitely did not go out stops counting (a recorded one stays)."""
        if self._conn.execute("DELETE FROM policy_sends WHERE id = %s AND held_until IS NOT NULL", (send_id,)).rowcount:
            self._conn.execute("DELETE FROM policy_send_recipients WHERE send_id = %s", (send_id,))

    def settle(
        self, at: float, handles: Sequence[str], counts_as_send: bool, send_id: int | None, send_key: str | None
    ) -> None:
        if counts_as_send:
            updated = 0
            if send_id is not None:  # the key check guards against a row id reused after a release
                updated = self._conn.execute(
                    "UPDATE policy_sends SET held_until = NULL WHERE id = %s AND send_key IS NOT DISTINCT FROM %s",
                    (send_id, send_key),
                ).rowcount
            if not updated and send_key is not None:
                updated = self._conn.execute(
                    "UPDATE policy_sends SET held_until = NULL WHERE send_key = %s", (send_key,)
                ).rowcount
            if not updated:  # the hold is gone (released by a twin call, or pruned): count it anew
                new_id = self.hold(at, at, handles, send_key)
                self._conn.execute("UPDATE policy_sends SET held_until = NULL WHERE id = %s", (new_id,))
        keys = [(self.key(h), at) for h in handles]
        if keys:
            with self._conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO policy_known_contacts (handle_key, first_sent_at) VALUES (%s, %s) "
                    "ON CONFLICT DO NOTHING",
                    keys,
                )
        self._conn.execute("DELETE FROM policy_sends WHERE at < %s", (at - DAY_SECONDS,))
        self._conn.execute("DELETE FROM policy_send_recipients WHERE at < %s", (at - DAY_SECONDS,))
        self._conn.execute("DELETE FROM policy_used_nonces WHERE expires_at < %s", (at,))


class PgPolicyState:
    """The safety policy's shared state on PostgreSQL (see ``linq_mcp.store.base.PolicyState``)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool
        self._lock = threading.Lock()  # one atomic step at a time per process; the advisory lock does the rest
        with pool.connection() as conn:
            conn.execute(
                "INSERT INTO policy_secret (id, secret) VALUES (1, %s) ON CONFLICT DO NOTHING",
                (secrets.token_bytes(32),),
            )
            self._secret = bytes(_scalar(conn, "SELECT secret FROM policy_secret WHERE id = 1"))

    @property
    def secret(self) -> bytes:
        return self._secret

    def _locked(self, fn: Callable[[PgPolicyTx], T]) -> T:
        with self._lock, self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (POLICY_LOCK,))
            return fn(PgPolicyTx(conn, self._secret))

    async def atomically(self, fn: Callable[[PolicyTx], T]) -> T:
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
        await anyio.to_thread.run_sync(
            self._locked, lambda tx: tx.settle(at, list(handles), counts_as_send, send_id, send_key)
        )

    async def release(self, send_id: int) -> None:
        await anyio.to_thread.run_sync(self._locked, lambda tx: tx.release_held(send_id))

    async def remember_decline(self, call_key: str, now: float, forget_before: float) -> None:
        def work() -> None:
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(
                    "INSERT INTO policy_declines (call_key, declined_at) VALUES (%s, %s) "
                    "ON CONFLICT (call_key) DO UPDATE SET declined_at = excluded.declined_at",
                    (call_key, now),
                )
                conn.execute("DELETE FROM policy_declines WHERE declined_at < %s", (forget_before,))

        await anyio.to_thread.run_sync(work)

    async def declined_at(self, call_key: str, since: float) -> float | None:
        def work() -> float | None:
            with self._pool.connection() as conn:
                value = _scalar(
                    conn,
                    "SELECT declined_at FROM policy_declines WHERE call_key = %s AND declined_at >= %s",
                    (call_key, since),
                )
            return None if value is None else float(value)

        return await anyio.to_thread.run_sync(work)

    def close(self) -> None:
        """The pool belongs to the store, which closes it."""


# --- the send ledger --------------------------------------------------------------------------


class PgLedger:
    """The send ledger on PostgreSQL: one row per idempotency key, claimed atomically."""

    def __init__(self, pool: ConnectionPool[Any], ttl: float = LEDGER_TTL) -> None:
        self._pool = pool
        self.ttl = ttl

    def _entry(self, conn: psycopg.Connection[Any], key: str, fp: str, now: float) -> LedgerEntry | None:
        row = conn.execute(
            "SELECT fingerprint, state, result, at FROM send_ledger WHERE key = %s AND at >= %s",
            (key, now - self.ttl),
        ).fetchone()
        if row is None:
            return None
        if row[0] != fp:
            raise KeyReused(key)
        result = json.loads(row[2]) if row[2] is not None else None
        return LedgerEntry(str(row[0]), row[1], result, float(row[3]))

    async def lookup(self, key: str, fp: str) -> LedgerEntry | None:
        def work() -> LedgerEntry | None:
            with self._pool.connection() as conn:
                return self._entry(conn, key, fp, time.time())

        return await anyio.to_thread.run_sync(work)

    async def begin(self, key: str, fp: str) -> LedgerEntry | None:
        def work() -> LedgerEntry | None:
            now = time.time()
            with self._pool.connection() as conn, conn.transaction():
                claimed = conn.execute(
                    "INSERT INTO send_ledger (key, fingerprint, state, result, at) "
                    "VALUES (%s, %s, 'pending', NULL, %s) "
                    "ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, state = 'pending', "
                    "result = NULL, at = excluded.at WHERE send_ledger.at < %s RETURNING key",
                    (key, fp, now, now - self.ttl),
                ).fetchone()
                if claimed is not None:
                    return None
                return self._entry(conn, key, fp, now)

        return await anyio.to_thread.run_sync(work)

    async def record(self, key: str, fp: str, state: LedgerState, result: dict[str, Any] | None = None) -> None:
        text = json.dumps(result, separators=(",", ":"), default=str) if result is not None else None

        def work() -> None:
            now = time.time()
            with self._pool.connection() as conn, conn.transaction():
                conn.execute(
                    "INSERT INTO send_ledger (key, fingerprint, state, result, at) VALUES (%s, %s, %s, %s, %s) "
                    "ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, state = excluded.state, "
                    "result = excluded.result, at = excluded.at",
                    (key, fp, state, text, now),
                )
                if state == "done":
                    conn.execute("DELETE FROM send_ledger WHERE at < %s", (now - self.ttl,))

        await anyio.to_thread.run_sync(work)

    async def forget(self, key: str) -> None:
        def work() -> None:
            with self._pool.connection() as conn:
                conn.execute("DELETE FROM send_ledger WHERE key = %s", (key,))

        await anyio.to_thread.run_sync(work)


# --- the store --------------------------------------------------------------------------------


class PostgresStore:
    """Events, policy state and the send ledger in one PostgreSQL database, shared by replicas."""

    kind = "postgresql"

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.conninfo, self.display = parse_url(url)
        self._pool: ConnectionPool[Any] = ConnectionPool(
            self.conninfo,
            min_size=1,
            max_size=pool_size,
            open=False,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT},
            check=ConnectionPool.check_connection,  # a connection killed while idle is replaced, not handed out
            name="linq-mcp",
        )
        self._events = PgEventLog(self._pool, self.conninfo, self.open_sync)
        self._ledger = PgLedger(self._pool)
        self._policy: PgPolicyState | None = None
        self.roles: set[str] = set()  # the roles this process leads now

    @property
    def events(self) -> PgEventLog:
        return self._events

    @property
    def policy(self) -> PgPolicyState:
        if self._policy is None:
            raise RuntimeError("open the store first")
        return self._policy

    @property
    def ledger(self) -> PgLedger:
        return self._ledger

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"the store {self.display} is unreachable: {_one_line(exc)}")

    def open_sync(self) -> PostgresStore:
        """Migrate and open the pool (blocking); the event log starts with :meth:`open`."""
        if self._policy is not None:
            return self
        try:
            with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
                migrate(conn)
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT)
            self._policy = PgPolicyState(self._pool)
        except psycopg.Error as exc:
            self._pool.close()
            raise self._unavailable(exc) from None
        return self

    async def open(self) -> PostgresStore:
        await anyio.to_thread.run_sync(self.open_sync)
        await self._events.open()
        return self

    async def aclose(self) -> None:
        with anyio.CancelScope(shield=True):
            await self._events.aclose()
            with anyio.move_on_after(CLOSE_TIMEOUT):
                await anyio.to_thread.run_sync(self._pool.close, abandon_on_cancel=True)

    async def __aenter__(self) -> PostgresStore:
        return await self.open()

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def health(self) -> None:
        def ping() -> None:
            with self._pool.connection(timeout=CONNECT_TIMEOUT) as conn:
                conn.execute("SELECT 1")

        try:
            await anyio.to_thread.run_sync(ping)
        except psycopg.Error as exc:
            raise self._unavailable(exc) from None

    # leadership

    def _try_lead(self, key: int) -> psycopg.Connection[Any] | None:
        try:
            conn = psycopg.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT)
        except psycopg.Error as exc:
            log.warning("leadership: cannot reach the store (%s); trying again", _one_line(exc))
            return None
        try:
            if _scalar(conn, "SELECT pg_try_advisory_lock(%s)", (key,)):
                return conn
        except psycopg.Error:
            pass
        conn.close()
        return None

    @staticmethod
    def _alive(conn: psycopg.Connection[Any]) -> bool:
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            return False
        return True

    async def lead(self, role: str, work: Callable[[], Awaitable[None]]) -> None:
        key = lock_key("lead:" + role)
        while True:
            conn = await anyio.to_thread.run_sync(self._try_lead, key)
            if conn is None:
                await anyio.sleep(LEAD_RETRY)
                continue
            finished = False
            self.roles.add(role)
            try:
                async with anyio.create_task_group() as tg:

                    async def run() -> None:
                        nonlocal finished
                        await work()
                        finished = True
                        tg.cancel_scope.cancel()

                    async def watch(conn: psycopg.Connection[Any] = conn) -> None:
                        while await anyio.to_thread.run_sync(self._alive, conn):
                            await anyio.sleep(LEAD_CHECK)
                        log.warning("leadership: lost the %s role (its connection died); seeking it again", role)
                        tg.cancel_scope.cancel()

                    tg.start_soon(run)
                    tg.start_soon(watch)
            finally:
                self.roles.discard(role)
                with anyio.CancelScope(shield=True), contextlib.suppress(psycopg.Error):
                    await anyio.to_thread.run_sync(conn.close)
            if finished:
                return

    def __repr__(self) -> str:
        return f"PostgresStore({self.display!r})"
