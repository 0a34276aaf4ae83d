"""The send ledger: what this server already did with each idempotency key.

Linq itself de-duplicates sends that carry a key in ``message``/``poll``/the
``Idempotency-Key`` header. A few sending operations have no such mechanism (voice
memos, contact-card shares, location requests, app-card updates, payment-handle
connects); for those the ledger is the only guard, so a repeated call with the same
key replays the recorded result instead of sending again, and a key whose outcome is
unknown is not silently re-sent. The ledger also refuses a key reused for different
arguments — always a mistake.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from linq_mcp.store.base import KeyReused, LedgerEntry, LedgerState

__all__ = ["KeyReused", "SendLedger", "fingerprint"]

_IGNORED_ARGS = frozenset({"idempotency_key", "confirm_token", "dry_run"})


def fingerprint(tool: str, args: Mapping[str, Any]) -> str:
    """A stable digest of a call's meaning: the tool and its arguments, minus the controls."""
    payload = {k: v for k, v in args.items() if k not in _IGNORED_ARGS}
    text = json.dumps([tool, payload], sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SendLedger:
    """Bounded, in-process memory of recent keyed sends (LRU by insertion).

    The ``Ledger`` of a runner on its own (tests, embedding); a served runtime uses its
    store's ledger instead, which every process on the store shares.
    """

    def __init__(self, max_entries: int = 10_000, ttl: float = 24 * 3600) -> None:
        self._entries: OrderedDict[str, LedgerEntry] = OrderedDict()
        self.max_entries = max_entries
        self.ttl = ttl

    def _live(self, key: str, fp: str) -> LedgerEntry | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if time.time() - entry.at > self.ttl:
            del self._entries[key]
            return None
        if entry.fingerprint != fp:
            raise KeyReused(key)
        return entry

    async def lookup(self, key: str, fp: str) -> LedgerEntry | None:
        return self._live(key, fp)

    async def begin(self, key: str, fp: str) -> LedgerEntry | None:
        entry = self._live(key, fp)
        if entry is not None:
            return entry
        self._put(key, LedgerEntry(fp, "pending", None, time.time()))
        return None

    async def record(self, key: str, fp: str, state: LedgerState, result: dict[str, Any] | None = None) -> None:
        self._put(key, LedgerEntry(fp, state, result, time.time()))

    def _put(self, key: str, entry: LedgerEntry) -> None:
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def forget(self, key: str) -> None:
        self._entries.pop(key, None)
