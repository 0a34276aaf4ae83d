"""Waking tasks from other threads, and subscriptions that read events by seq.

Shared by both event logs (``linq_mcp.webhooks.store`` on SQLite, ``linq_mcp.store.postgres``):
their writer and watcher threads finish jobs and poke listeners on the right event
loop, and a :class:`Subscription` re-reads the log from its cursor on every poke. A
poke only says "look again", so a coalesced, late or spurious one never loses or
repeats an event; a listener that reconnects after a gap just pokes everyone.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, cast

import anyio

if TYPE_CHECKING:
    from linq_mcp.webhooks.events import Event

__all__ = ["MAX_BATCH", "Job", "Listener", "Soon", "Subscription", "complete", "current_soon", "wait_for"]

MAX_BATCH = 1000  # events per subscription batch, and jobs per writer transaction

Soon = Callable[[Callable[[], None]], Any]


def current_soon() -> Soon:
    """A thread-safe "run this on my event loop soon" for the calling task's loop."""
    try:
        return asyncio.get_running_loop().call_soon_threadsafe
    except RuntimeError:  # pragma: no cover - not asyncio: anyio on trio
        import trio  # only importable (and only reached) when running under trio

        return cast(Soon, trio.lowlevel.current_trio_token().run_sync_soon)


def _call_soon(soon: Soon, fn: Callable[[], None]) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is waiting any more
        soon(fn)


class Job:
    """One unit of work for the writer thread; the awaiting task sleeps until ``finish``.

    On asyncio the wait is a bare future (cheap: this is on every delivery's path); on
    other anyio backends an ``anyio.Event``.
    """

    __slots__ = ("soon", "_future", "_event", "params", "op", "result", "error")

    def __init__(self, params: tuple[Any, ...] | None, op: Callable[[Any], Any] | None) -> None:
        self.params = params
        self.op = op
        self.result: Any = None
        self.error: BaseException | None = None
        self._event: anyio.Event | None = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - trio
            self.soon = current_soon()
            self._future: asyncio.Future[None] | None = None
            self._event = anyio.Event()
        else:
            self.soon = loop.call_soon_threadsafe
            self._future = loop.create_future()

    def finish(self) -> None:
        """Runs on the job's event loop."""
        if self._future is not None:
            if not self._future.done():
                self._future.set_result(None)
        elif self._event is not None:
            self._event.set()

    async def wait(self) -> None:
        if self._future is not None:
            await self._future
        elif self._event is not None:
            await self._event.wait()


def _finish_all(jobs: builtins.list[Job]) -> None:
    for job in jobs:
        job.finish()


class Listener:
    """A waiter or subscriber; ``poke`` may be called from any thread."""

    __slots__ = ("_soon", "_event")

    def __init__(self, soon: Soon) -> None:
        self._soon = soon
        self._event = anyio.Event()

    def poke(self) -> None:
        _call_soon(self._soon, self._set)

    def _set(self) -> None:
        self._event.set()

    async def wait(self) -> None:
        await self._event.wait()
        self._event = anyio.Event()


def complete(jobs: builtins.list[Job]) -> None:
    """Wake every job's task, one call per event loop."""
    by_loop: dict[Soon, builtins.list[Job]] = {}
    for job in jobs:
        by_loop.setdefault(job.soon, []).append(job)
    for soon, group in by_loop.items():
        _call_soon(soon, functools.partial(_finish_all, group))


class Source(Protocol):
    """What a subscription reads: any event log with change notification (SQLite or PostgreSQL)."""

    @property
    def closed(self) -> bool: ...

    def _register(self, listener: Listener) -> Listener: ...

    def _unregister(self, listener: Listener) -> None: ...

    async def _after(self, after_seq: int, limit: int) -> builtins.list[Event]: ...

    async def latest_seq(self) -> int | None: ...


class Subscription:
    """New committed events, in batches, as an async iterator; use ``async with``.

    Wake-ups only say "look again": the events themselves are always read from the store
    by seq, so a missed or coalesced wake-up never loses an event.
    """

    def __init__(self, store: Source, after_seq: int | None) -> None:
        self._store = store
        self._after = after_seq
        self._listener: Listener | None = None

    @property
    def cursor(self) -> int | None:
        return self._after

    async def __aenter__(self) -> Subscription:
        self._listener = self._store._register(Listener(current_soon()))
        if self._after is None:
            self._after = await self._store.latest_seq() or 0
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._listener is not None:
            self._store._unregister(self._listener)
            self._listener = None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> builtins.list[Event]:
        if self._listener is None:
            raise RuntimeError("use 'async with store.subscribe() as sub'")
        while True:
            if self._store.closed:
                raise StopAsyncIteration
            events = await self._store._after(self._after or 0, MAX_BATCH)
            if events:
                self._after = events[-1].seq
                return events
            await self._listener.wait()


async def wait_for(
    source: Source, predicate: Callable[[Event], bool], timeout: float, *, after_seq: int | None = None
) -> Event | None:
    """The first event committed after the call (or after ``after_seq``) matching ``predicate``."""
    with anyio.move_on_after(timeout):
        async with Subscription(source, after_seq) as sub:
            async for events in sub:
                for event in events:
                    if predicate(event):
                        return event
    return None
