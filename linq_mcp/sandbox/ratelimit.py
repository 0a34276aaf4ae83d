"""Send quotas: Linq's per-pair sliding window and the optional daily caps.

Checked before a send commits and recorded once it does, so a refused send costs
nothing. The windows live in ``world.counters`` (timestamps per key) so they are
persisted and reset with the rest of the world.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .errors import rate_limited

if TYPE_CHECKING:
    from .state import World


def _day(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def _seconds_to_midnight(ts: float) -> int:
    now = datetime.fromtimestamp(ts, tz=UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, math.ceil((midnight - now).total_seconds()))


def _pair_key(line: str, handle: str) -> str:
    return f"pair:{line}:{handle.lower()}"


def _window(world: World, key: str, window: float) -> list[float]:
    now = world.now()
    stamps = [t for t in world.counters.get(key, []) if t > now - window]
    world.counters[key] = stamps
    return stamps


def check(world: World, line: str, handles: Iterable[str]) -> None:
    """Raise 429/1007 with the seconds until a slot frees, if this send would exceed a quota."""
    limits = world.config.limits
    now = world.now()
    for handle in handles:
        stamps = _window(world, _pair_key(line, handle), limits.pair_window)
        if len(stamps) >= limits.pair_messages:
            wait = math.ceil(stamps[len(stamps) - limits.pair_messages] + limits.pair_window - now)
            raise rate_limited(
                wait,
                f"Rate limit exceeded: {limits.pair_messages} messages per {int(limits.pair_window)} s "
                f"from {line} to {handle}. Try again in {max(1, wait)} seconds.",
            )
    day = _day(now)
    if limits.line_daily is not None and len(world.counters.get(f"line_day:{line}:{day}", [])) >= limits.line_daily:
        wait = _seconds_to_midnight(now)
        raise rate_limited(
            wait,
            f"Daily limit of {limits.line_daily} messages for {line} reached. Try again in {wait} seconds.",
        )
    if limits.account_daily is not None and len(world.counters.get(f"account_day:{day}", [])) >= limits.account_daily:
        wait = _seconds_to_midnight(now)
        raise rate_limited(
            wait,
            f"Sandbox daily limit of {limits.account_daily} messages reached. Try again in {wait} seconds.",
        )


def record(world: World, line: str, handles: Iterable[str]) -> None:
    """Count one committed send from ``line`` to each of ``handles``."""
    now = world.now()
    for handle in handles:
        world.counters.setdefault(_pair_key(line, handle), []).append(now)
    day = _day(now)
    for key in list(world.counters):
        if key.startswith(("line_day:", "account_day:")) and not key.endswith(day):
            del world.counters[key]
    world.counters.setdefault(f"line_day:{line}:{day}", []).append(now)
    world.counters.setdefault(f"account_day:{day}", []).append(now)
