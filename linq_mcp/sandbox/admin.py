"""The sandbox's admin API under ``/_sandbox`` (documented in the README)."""

from __future__ import annotations

from ..sandbox.router import Ctx, Reply, Router

router = Router()


@router.get("/_sandbox/health", "_public_health")
async def health(ctx: Ctx) -> Reply:
    return Reply(200, {"ok": True})
