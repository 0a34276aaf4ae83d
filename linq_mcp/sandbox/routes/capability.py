"""Sandbox routes: iMessage / RCS capability checks.

Answers come from the simulated people's ``services`` (``world.person(handle)``). A handle
outside the cast gets a deterministic answer from :func:`services_for`:

- an email address: iMessage only;
- a phone number, by its **last digit**: 0–5 → iMessage, RCS and SMS; 6–8 → RCS and SMS;
  9 → SMS only.

Checks are rate limited per sending line (``limits.capability_checks`` per
``limits.capability_window`` seconds, shared by both checks) → 429/1007 with Retry-After.
"""

from __future__ import annotations

from typing import Any

from .. import armed
from ..errors import LinqError, bad_phone, missing
from ..messaging import person_services
from ..router import Ctx, Reply, Router
from ..state import World
from .params import check_window, get_str, is_e164, is_email

router = Router()


def services_for(world: World, handle: str) -> list[str]:
    """The services a handle can be reached on: the very rule sends use (``person_services``)."""
    return person_services(world, handle)


def _sending_line(ctx: Ctx, body: dict[str, Any]) -> dict[str, Any]:
    world = ctx.world
    sender = get_str(body, "from")
    if sender is not None:
        if not is_e164(sender):
            raise bad_phone("from", sender)
        line = world.line_by_number(sender)
        if line is None:
            raise LinqError(403, 2006, f"Phone number permission denied: {sender} is not one of your lines")
        return line
    active = [line for line in world.lines.values() if line.get("status", "ACTIVE") == "ACTIVE"]
    pool = active or list(world.lines.values())
    if not pool:
        raise LinqError(503, 4010, "Capability check could not run: no line on this account")
    return pool[0]


def _limit(world: World, line: dict[str, Any]) -> None:
    limits = world.config.limits
    check_window(
        world,
        f"capability:{line['phone_number']}",
        limits.capability_checks,
        limits.capability_window,
        "Capability check",
    )


def _answer(address: str, available: bool, selected: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {"address": address, "available": available}
    if not available:
        result["reason"] = "not_supported"
    if selected is not None:
        result["selected_service"] = selected
    return result


@router.post("/v3/capability/check_imessage", "check_imessage")
async def check_imessage(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    address = get_str(body, "address", required=True)
    assert address is not None
    if not (is_e164(address) or is_email(address)):
        raise bad_phone("address", address)  # Linq's code for a handle that is neither (400/1002)
    line = _sending_line(ctx, body)
    _limit(world, line)
    services = services_for(world, address)
    available = "iMessage" in services
    if available:
        selected: str | None = "iMessage"
    elif is_email(address):
        selected = None  # nothing else can reach an email address
    else:
        selected = "RCS" if "RCS" in services and line.get("line_type") != "SMS" else "SMS"
    return Reply(200, _answer(address, available, selected))


@router.post("/v3/capability/check_rcs", "check_rcs")
async def check_rcs(ctx: Ctx) -> Reply:
    world = ctx.world
    body = ctx.body()
    if body.get("address") is None:
        raise missing("address")
    address = get_str(body, "address", required=True)
    assert address is not None
    if not is_e164(address):
        raise bad_phone("address", address)  # RCS has no email addressing
    line = _sending_line(ctx, body)
    if line.get("line_type") == "SMS":
        raise LinqError(503, 4009, f"Line {line['phone_number']} has no RCS account; the answer is unknown")
    _limit(world, line)
    armed.refuse_if_armed(world, "capability_check")  # 503/4004 or 4010: the answer is unknown
    available = "RCS" in services_for(world, address)
    return Reply(200, _answer(address, available, "RCS" if available else "SMS"))
