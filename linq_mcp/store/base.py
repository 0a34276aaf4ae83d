"""The storage interface: everything the processes serving one deployment must agree on.

Two implementations sit behind it: SQLite (``linq_mcp.store.sqlite``; one file, the
default for stdio and single-process use) and PostgreSQL (``linq_mcp.store.postgres``;
shared by replicas). Callers — the events layer, the policy engine, the tool runner's
send ledger and the poller — type against these protocols only, so neither backend's
details leak into them.

- :class:`EventLog`: webhook/polled events, de-duplicated by ``event_id`` (and delivery
  id), the inbox and its read state, small named markers (the poller's high-water mark),
  and ``subscribe``/``wait`` that wake on events stored by *any* process.
- :class:`PolicyState`: the safety policy's shared state. Caps checks, reservations and
  nonce spending run inside :meth:`PolicyState.atomically` — one transaction that no other
  process interleaves with — against a :class:`PolicyTx`.
- :class:`Ledger`: the send ledger (idempotency key → pending / unknown / done + result),
  so a retry with the same key on another process is neither lost nor doubled.
- :class:`Store`: the three above, plus ``lead`` (one holder of a named role across
  processes, e.g. the poller) and ``health``.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from types import TracebackType

    from linq_mcp.webhooks.conversation import Conversation
    from linq_mcp.webhooks.events import Event, EventSource
    from linq_mcp.webhooks.store import EventPage

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
    "handle_key",
    "send_identity",
]

T = TypeVar("T")
LedgerState = Literal["pending", "done", "unknown"]


def handle_key(secret: bytes, handle: str) -> str:
    """A stable, non-reversible key for a canonical handle (both backends store only these)."""
    return hmac.new(secret, b"handle\0" + handle.encode(), hashlib.sha256).hexdigest()[:32]


def send_identity(secret: bytes, tool: str, idempotency_key: str, handles: Iterable[str]) -> str:
    """One send's identity: the same tool, key and recipients are the same send."""
    text = "\0".join([tool, idempotency_key, *sorted(handles)])
    return hmac.new(secret, b"send\0" + text.encode(), hashlib.sha256).hexdigest()[:32]


class StoreUnavailable(Exception):
    """The store cannot be reached (or opened); the message is one line, without credentials."""


class KeyReused(Exception):
    """The idempotency key was used before for a different call."""


@dataclass(frozen=True)
class LedgerEntry:
    fingerprint: str
    state: LedgerState
    result: dict[str, Any] | None
    at: float


class EventSubscription(Protocol):
    """New committed events in batches: ``async with`` it, then ``async for events in sub``."""

    @property
    def cursor(self) -> int | None: ...

    async def __aenter__(self) -> EventSubscription: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def __aiter__(self) -> EventSubscription: ...

    async def __anext__(self) -> list[Event]: ...


class EventLog(Protocol):
    """Durable, de-duplicated events in commit order; ``seq`` is a safe cursor (never reused)."""

    @property
    def closed(self) -> bool: ...

    async def open(self) -> EventLog: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> EventLog: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def add(
        self,
        event: Event,
        source: EventSource = "webhook",
        *,
        raw_json: str | None = None,
        delivery_id: str | None = None,
    ) -> bool:
        """True if new; False for an ``event_id``/``delivery_id`` any process stored before."""
        ...

    async def mark_read(
        self,
        *,
        event_ids: Sequence[str] | None = None,
        message_ids: Sequence[str] | None = None,
        chat_id: str | None = None,
        up_to_seq: int | None = None,
        everything: bool = False,
    ) -> int: ...

    async def marker(self, name: str) -> str | None: ...

    async def set_marker(self, name: str, value: str) -> None: ...

    async def prune(self, max_age_days: float | None = None, max_events: int | None = None) -> int: ...

    def subscribe(self, *, after_seq: int | None = None) -> EventSubscription: ...

    async def wait(
        self, predicate: Callable[[Event], bool], timeout: float, *, after_seq: int | None = None
    ) -> Event | None: ...

    async def latest_seq(self) -> int | None: ...

    async def get(self, event_id: str) -> Event | None: ...

    async def count(self) -> int: ...

    async def list(
        self,
        chat_id: str | None = None,
        types: Iterable[str] | None = None,
        after_seq: int | None = None,
        before_seq: int | None = None,
        limit: int = 50,
        newest_first: bool = True,
    ) -> EventPage: ...

    async def conversation(
        self, chat_id: str, *, limit: int | None = 200, max_events: int = 10_000
    ) -> Conversation: ...

    async def inbox(self, *, chat_id: str | None = None, limit: int = 50) -> builtins.list[Event]: ...

    async def unread_count(self) -> int: ...


class PolicyTx(Protocol):
    """The policy's state inside one atomic step (blocking: it runs in a worker thread).

    Handles are stored only as keyed hashes (``key``), so the store holds no contact list.
    A send is counted from the moment it is held until it lapses (``held_until``), is
    recorded for good, or released.
    """

    def key(self, handle: str) -> str: ...

    def send_key(self, tool: str, idempotency_key: str, handles: Iterable[str]) -> str: ...

    def send_times(self, since: float, now: float) -> list[float]: ...

    def recipient_times(self, handle: str, since: float, now: float) -> list[float]: ...

    def find_send(self, send_key: str) -> int | None: ...

    def hold(self, at: float, hold_until: float, handles: Iterable[str], send_key: str | None) -> int: ...

    def hold_again(self, send_id: int, now: float, hold_until: float) -> None: ...

    def unknown(self, handles: Iterable[str]) -> list[str]: ...

    def spend_nonce(self, nonce: str, expires_at: float) -> bool:
        """Mark a confirmation nonce used; False if any process already spent it."""
        ...


class PolicyState(Protocol):
    """The shared policy state: caps, known contacts, spent nonces, declines, its secret."""

    @property
    def secret(self) -> bytes:
        """Keys the handle hashes (and signs tokens when no server secret is configured)."""
        ...

    async def atomically(self, fn: Callable[[PolicyTx], T]) -> T:
        """Run ``fn`` in one transaction that no other process's ``atomically`` interleaves with."""
        ...

    async def record(
        self,
        at: float,
        handles: Sequence[str],
        *,
        counts_as_send: bool,
        send_id: int | None = None,
        send_key: str | None = None,
    ) -> None: ...

    async def release(self, send_id: int) -> None: ...

    async def remember_decline(self, call_key: str, now: float, forget_before: float) -> None:
        """Remember a declined call (and forget declines older than ``forget_before``)."""
        ...

    async def declined_at(self, call_key: str, since: float) -> float | None: ...

    def close(self) -> None: ...


class Ledger(Protocol):
    """What was done with each idempotency key, shared by every process on the store."""

    async def lookup(self, key: str, fp: str) -> LedgerEntry | None:
        """The live entry for ``key``; raises :class:`KeyReused` if it was for another call."""
        ...

    async def begin(self, key: str, fp: str) -> LedgerEntry | None:
        """Claim ``key`` as pending; None when claimed, else the entry another call holds."""
        ...

    async def record(self, key: str, fp: str, state: LedgerState, result: dict[str, Any] | None = None) -> None: ...

    async def forget(self, key: str) -> None: ...


class Store(Protocol):
    """One backend: the shared state of every process serving the same deployment."""

    roles: set[str]  # the roles (``lead``) this process holds now, e.g. for a health report

    @property
    def kind(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        ...

    @property
    def display(self) -> str:
        """Where the store is, fit to print (no password)."""
        ...

    @property
    def events(self) -> EventLog: ...

    @property
    def policy(self) -> PolicyState: ...

    @property
    def ledger(self) -> Ledger: ...

    async def open(self) -> Store: ...

    async def aclose(self) -> None: ...

    async def __aenter__(self) -> Store: ...

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def health(self) -> None:
        """Return when the store answers; raise :class:`StoreUnavailable` otherwise."""
        ...

    async def lead(self, role: str, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` while this process holds ``role``; at most one process holds it.

        Waits for the role; if it is lost (the connection holding it died), ``work`` is
        cancelled and the role is sought again. Returns when ``work`` returns.
        """
        ...
