"""Send caps over sliding windows: overall per minute/hour/day, and per recipient per hour.

A send counts from the moment it is allowed: ``Policy`` checks the caps and holds a
slot for the send (``PolicyTx.hold``) in one atomic step of the store, so parallel
calls — in this process or in another one on the same database — cannot all pass the
check. A hold lapses after ``RESERVATION_SECONDS`` if nobody records or releases it
(a crashed process over-counts briefly, never under-counts).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from linq_mcp.policy.config import SafetyConfig
from linq_mcp.policy.decision import Refused
from linq_mcp.policy.store import DAY_SECONDS
from linq_mcp.store.base import PolicyTx

RESERVATION_SECONDS = 120.0
_WINDOWS: tuple[tuple[str, float, str], ...] = (
    ("max_sends_per_minute", 60.0, "minute"),
    ("max_sends_per_hour", 3600.0, "hour"),
    ("max_sends_per_day", DAY_SECONDS, "day"),
)


def check_caps(config: SafetyConfig, store: PolicyTx, handles: Sequence[str], now: float) -> Refused | None:
    """Refuse if one more send to ``handles`` would exceed any cap (run inside ``PolicyState.atomically``)."""
    day = store.send_times(now - DAY_SECONDS, now)
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
        times = store.recipient_times(handle, now - 3600.0, now)
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
