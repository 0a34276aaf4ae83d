"""Declines remembered: a send the person said no to stays refused for a while.

Without this, an assistant told "no" could simply ask again (and again) until the person
gives in or mis-taps. A decline is bound to the exact call (``confirm.canonical_call``:
the tool and its content arguments, not the idempotency key or dry_run) and stored as a
keyed hash in the shared store (``PolicyState.remember_decline``), so every process
sharing it honours it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

from linq_mcp.policy.confirm import canonical_call

DECLINE_TTL_SECONDS = 3600.0


def call_key(key: bytes, tool: str, args: Mapping[str, Any]) -> str:
    """The stored identity of a declined call: a keyed hash, so the store holds no message text."""
    return hmac.new(key, b"decline\0" + canonical_call(tool, args), hashlib.sha256).hexdigest()[:40]
