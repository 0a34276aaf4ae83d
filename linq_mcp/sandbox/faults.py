"""Fault injection: the failures a real network and a real API produce.

A chosen fraction of API requests fails in one of these ways (weights in
``FaultConfig.kinds``):

- ``500`` / ``502`` / ``503``: an error envelope, nothing committed;
- ``429``: rate limited with ``Retry-After``, nothing committed;
- ``latency``: the request succeeds after ``latency_ms``;
- ``drop``: the connection is cut before the request is handled, nothing committed;
- ``commit_then_lose``: the operation is carried out, then the response is lost
  (connection reset). This is the case that proves a client never sends twice.

Faults can also be queued one-shot through the admin API (``POST /_sandbox/faults``
with ``{"next": ["commit_then_lose", ...]}``), which is how tests make them certain.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio

from .errors import LinqError

if TYPE_CHECKING:
    from .router import Ctx
    from .state import World

KINDS = ("500", "502", "503", "429", "latency", "drop", "commit_then_lose")


class DroppedConnection(Exception):
    """Raised inside the app to make the transport cut the connection."""

    def __init__(self, committed: bool) -> None:
        self.committed = committed
        super().__init__("connection dropped" + (" after commit" if committed else ""))


class FaultPlan:
    """Decides, request by request, which fault (if any) to inject."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.queued: list[str] = []

    def choose(self, operation: str) -> str | None:
        if self.queued:
            return self.queued.pop(0)
        cfg = self.world.config.faults
        if cfg.rate <= 0:
            return None
        if cfg.only_operations and operation not in cfg.only_operations:
            return None
        if self.world.rng.random() >= cfg.rate:
            return None
        kinds = [(k, w) for k, w in cfg.kinds.items() if w > 0 and k in KINDS]
        if not kinds:
            return None
        total = sum(w for _, w in kinds)
        pick = self.world.rng.random() * total
        for kind, weight in kinds:
            pick -= weight
            if pick <= 0:
                return kind
        return kinds[-1][0]

    async def before(self, ctx: Ctx, kind: str | None) -> None:
        """Inject the faults that happen before the operation runs."""
        if kind is None:
            return
        self.world.count(f"fault.{kind}")
        cfg = self.world.config.faults
        if kind in ("500", "502", "503"):
            status = int(kind)
            code = {500: 3006, 502: 3003, 503: 4004}[status]
            raise LinqError(status, code, f"Injected fault: HTTP {status}")
        if kind == "429":
            from .errors import rate_limited

            raise rate_limited(cfg.retry_after, "Injected fault: rate limited")
        if kind == "latency":
            await anyio.sleep(cfg.latency_ms / 1000)
        if kind == "drop":
            raise DroppedConnection(committed=False)

    def after(self, kind: str | None) -> None:
        """Inject the faults that happen once the operation has been committed."""
        if kind == "commit_then_lose":
            raise DroppedConnection(committed=True)
