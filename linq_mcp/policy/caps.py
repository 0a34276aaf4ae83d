"""Send caps over sliding windows: overall per minute/hour/day, and per recipient per hour.

``check`` and ``record`` are separate (record only after a send succeeded), which
leaves a gap in which parallel tool calls could all pass ``check``. Reservations close
it: an allowed send holds a slot in memory until it is recorded, released, or
``RESERVATION_SECONDS`` pass (a crashed call over-counts briefly, never under-counts).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from linq_mcp.policy.config import SafetyConfig
from linq_mcp.policy.decision import Refused
from linq_mcp.policy.store import DAY_SECONDS, PolicyStore

RESERVATION_SECONDS = 120.0
_WINDOWS: tuple[tuple[str, float, str], ...] = (
    ("max_sends_per_minute", 60.0, "minute"),
    ("max_sends_per_hour", 3600.0, "hour"),
    ("max_sends_per_day", DAY_SECONDS, "day"),
)


@dataclass(frozen=True)
class Reservation:
    id: int
    tool: str
    handles: tuple[str, ...]
    at: float


class Reservations:
    """Allowed sends that have not been recorded or released yet (this process only)."""

    def __init__(self) -> None:
        self._items: dict[int, Reservation] = {}
        self._ids = itertools.count(1)

    def live(self, now: float) -> list[Reservation]:
        for rid in [r.id for r in self._items.values() if now - r.at >= RESERVATION_SECONDS]:
            del self._items[rid]
        return list(self._items.values())

    def add(self, tool: str, handles: tuple[str, ...], now: float) -> int:
        rid = next(self._ids)
        self._items[rid] = Reservation(rid, tool, handles, now)
        return rid

    def drop(self, rid: int | None, tool: str, handles: tuple[str, ...]) -> None:
        """Drop ``rid``, or without one the oldest reservation for the same call."""
        if rid is None:
            rid = next((r.id for r in self._items.values() if r.tool == tool and r.handles == handles), None)
        if rid is not None:
            self._items.pop(rid, None)


def check_caps(
    config: SafetyConfig, store: PolicyStore, pending: Sequence[Reservation], handles: Sequence[str], now: float
) -> Refused | None:
    """Refuse if one more send to ``handles`` would exceed any cap."""
    day = store.send_times(now - DAY_SECONDS) + [r.at for r in pending]
    day.sort()
    for key, window, unit in _WINDOWS:
        limit: int = getattr(config, key)
        inside = [t for t in day if t > now - window]
        if len(inside) + 1 > limit:
            wait = _wait(inside, limit, window, now)
            return Refused(
                key,
                f"Send cap reached: {len(inside)} sends in the last {unit} ({key} = {limit}). Nothing was sent; "
                f"try again in about {wait}, or ask the operator to raise {key}.",
            )
    limit = config.max_sends_per_recipient_per_hour
    for handle in handles:
        times = store.recipient_times(handle, now - 3600.0) + [r.at for r in pending if handle in r.handles]
        times = sorted(t for t in times if t > now - 3600.0)
        if len(times) + 1 > limit:
            return Refused(
                "max_sends_per_recipient_per_hour",
                f"{handle} already received {len(times)} sends in the last hour "
                f"(max_sends_per_recipient_per_hour = {limit}). Nothing was sent; try again in about "
                f"{_wait(times, limit, 3600.0, now)}, or ask the operator to raise the cap.",
                handle,
            )
    return None


def _wait(times: list[float], limit: int, window: float, now: float) -> str:
    """How long until one more send fits: the send that must age out, plus the window."""
    oldest_blocking = times[len(times) - limit]
    seconds = max(1, math.ceil(oldest_blocking + window - now))
    return f"{seconds} s" if seconds < 120 else f"{(seconds + 59) // 60} min"
