"""Sandbox routes: the partner's blocklist.

``world.blocked`` is keyed by :func:`normalise_handle` (E.164 without spacing, emails
lowercased, short codes and sender IDs as given), so the send path can check
``normalise_handle(h) in world.blocked`` → 403/2026. Blocking is idempotent (the existing
entry comes back); unblocking a handle that is not blocked is a no-op 204.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import bad_phone, invalid
from ..router import Ctx, Reply, Router
from .params import get_str, is_e164, is_email

router = Router()

SHORT_CODE = re.compile(r"\A[0-9]{3,8}\Z")
SENDER_ID = re.compile(r"\A(?=.*[A-Za-z])[A-Za-z0-9 ._-]{1,11}\Z")
REASON_MAX = 500


def normalise_handle(handle: str) -> str:
    """The blocklist key for a handle; ValueError when it is none of the four kinds."""
    value = handle.strip()
    if value.startswith("+"):
        compact = re.sub(r"[\s().-]", "", value)
        if is_e164(compact):
            return compact
        raise ValueError("not an E.164 phone number")
    if "@" in value:
        if is_email(value):
            return value.lower()
        raise ValueError("not an email address")
    if SHORT_CODE.match(value) or SENDER_ID.match(value):
        return value
    raise ValueError("not a phone number, email, short code or sender ID")


def _handle(body: dict[str, Any]) -> str:
    raw = get_str(body, "handle", required=True)
    assert raw is not None
    try:
        return normalise_handle(raw)
    except ValueError as exc:
        if raw.strip().startswith("+") or raw.strip().isdigit():
            raise bad_phone("handle", raw) from None
        raise invalid("handle", str(exc)) from None


@router.get("/v3/blocked_handles", "list_blocked_handles")
async def list_blocked_handles(ctx: Ctx) -> Reply:
    entries = list(ctx.world.blocked.values())
    entries.reverse()  # insertion order is blocking order; newest first
    entries.sort(key=lambda e: e["blocked_at"], reverse=True)
    return Reply(200, {"blocked_handles": [dict(e) for e in entries]})


@router.post("/v3/blocked_handles", "block_handle")
async def block_handle(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    handle = _handle(body)
    reason = get_str(body, "reason", max_len=REASON_MAX, allow_empty=True)
    entry = world.blocked.get(handle)
    if entry is None:
        entry = {"handle": handle, "blocked_at": world.iso()}
        if reason:
            entry["reason"] = reason
        world.blocked[handle] = entry
    return Reply(200, {"blocked_handle": dict(entry)})


@router.delete("/v3/blocked_handles", "unblock_handle")
async def unblock_handle(ctx: Ctx) -> Reply:
    handle = _handle(ctx.body())
    ctx.world.blocked.pop(handle, None)
    return Reply(204)
