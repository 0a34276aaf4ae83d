"""Virtual time and the timer queue that makes the simulated world move.

The sandbox never sleeps on its own: every future happening (a delivery receipt, a
reply, a webhook retry) is a timer on :class:`Scheduler`. Timers run either from the
background runner (``Scheduler.run``) or lazily, before each request is handled
(``Scheduler.run_due``), so the world stays consistent even where no runner is
active (an ``httpx.ASGITransport`` runs no lifespan). Freezing time stops the runner
from firing anything until the admin API advances the clock.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import anyio

Callback = Callable[[], Awaitable[None] | None]


class Clock:
    """Wall time plus an offset; can be frozen and advanced by the admin API."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def iso(self, ts: float | None = None) -> str:
        value = self.now() if ts is None else ts
        return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def freeze(self) -> None:
        if self._frozen_at is None:
            self._frozen_at = self.now()

    def unfreeze(self) -> None:
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None

    def advance(self, seconds: float) -> None:
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds


class Scheduler:
    """A heap of timers keyed on virtual time."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callback]] = []
        self._seq = itertools.count()
        self._wake = anyio.Event()
        self._running_due = False

    def call_later(self, delay: float, callback: Callback) -> None:
        heapq.heappush(self._heap, (self.clock.now() + max(0.0, delay), next(self._seq), callback))
        self._wake.set()

    def pending(self) -> int:
        return len(self._heap)

    def clear(self) -> None:
        self._heap.clear()

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    async def run_due(self) -> int:
        """Run every timer whose time has come; timers may schedule more timers."""
        if self._running_due:
            return 0
        self._running_due = True
        ran = 0
        try:
            while self._heap and self._heap[0][0] <= self.clock.now():
                _, _, callback = heapq.heappop(self._heap)
                result = callback()
                if result is not None:
                    await result
                ran += 1
        finally:
            self._running_due = False
        return ran

    def poke(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Fire timers in real time until cancelled."""
        while True:
            await self.run_due()
            due = self.next_due()
            if due is None or self.clock.frozen:
                wait = 3600.0 if due is None else 0.5
            else:
                wait = max(0.0, due - self.clock.now())
            self._wake = anyio.Event()
            with anyio.move_on_after(min(wait, 3600.0)):
                await self._wake.wait()
