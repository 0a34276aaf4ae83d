"""Sandbox routes: the partner's lines (phone numbers), forwarding, reputation audits, rotation.

Lines live in ``world.lines`` (by line id, filled by ``setup.populate``). The API shapes
are projections: ``list_phone_numbers`` (SDK ``PhoneNumber``) and the deprecated
``/v3/phonenumbers`` shape. ``get_available_number`` rotates least-recently-used first
(healthier reputation first); sends elsewhere can count as use via :func:`mark_line_used`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..errors import LinqError, bad_phone, invalid, missing, not_found, rate_limited
from ..router import Ctx, Reply, Router
from ..state import World
from ..webhooks import emit_account_event
from .params import is_e164, is_email, own_line

router = Router()

REPUTATION_RANK = {"HEALTHY": 0, "AT_RISK": 1, "CRITICAL": 2}
AUDIT_TTL = 24 * 3600.0  # an audit stays readable this long
VCF_TTL = 3600.0


def line_type(line: dict[str, Any]) -> str | None:
    """The SDK's ``line_type`` (iMessage | RCS); None for a line type it does not model (SMS)."""
    value = line.get("line_type")
    return value if value in ("iMessage", "RCS") else None


def phone_number_view(line: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": line["id"],
        "phone_number": line["phone_number"],
        "reputation": dict(line["reputation"]),
        "forwarding_number": line.get("forwarding_number"),
        "line_type": line_type(line),
    }


def mark_line_used(world: World, line: dict[str, Any]) -> None:
    """Count a use of the line for the least-recently-used rotation."""
    world.count("lines.use_seq")
    line["_last_used"] = world.stats["lines.use_seq"]


def _line_by_id(world: World, phone_number_id: str) -> dict[str, Any]:
    line = world.lines.get(phone_number_id)
    if line is None:
        hint = " (use the line's id, not its number)" if world.line_by_number(phone_number_id) else ""
        raise not_found(2019, "Phone number", phone_number_id + hint)
    return line


@router.get("/v3/phone_numbers", "list_phone_numbers")
async def list_phone_numbers(ctx: Ctx) -> Reply:
    return Reply(200, {"phone_numbers": [phone_number_view(line) for line in ctx.world.lines.values()]})


@router.put("/v3/phone_numbers/{phone_number_id}", "update_phone_number")
async def update_phone_number(ctx: Ctx) -> Reply:
    world = ctx.world
    line = _line_by_id(world, ctx.path_params["phone_number_id"])
    body = ctx.body()
    if "forwarding_number" not in body:
        raise missing("forwarding_number")
    value = body["forwarding_number"]
    if value is not None and not isinstance(value, str):
        raise invalid("forwarding_number", "must be an E.164 string, null or empty")
    new = value or None
    if new is not None and not is_e164(new):
        raise bad_phone("forwarding_number", new)
    old = line.get("forwarding_number")
    line["forwarding_number"] = new
    if old != new:
        await emit_account_event(
            world,
            "phone_number.forwarding_updated",
            "Forwarding number cleared" if new is None else "Forwarding number updated",
            trace_id=ctx.trace_id,
            phone_number=line["phone_number"],
            change={"from": old, "to": new},
        )
    return Reply(200, {"id": line["id"], "phone_number": line["phone_number"], "forwarding_number": new})


@router.get("/v3/phonenumbers", "list_phone_numbers_legacy")
async def list_phone_numbers_legacy(ctx: Ctx) -> Reply:
    """The deprecated list: ``type`` and ``country_code`` are always null."""
    numbers = [
        {
            "id": line["id"],
            "phone_number": line["phone_number"],
            "type": None,
            "country_code": None,
            "capabilities": {"sms": True, "mms": True, "voice": False},
        }
        for line in ctx.world.lines.values()
    ]
    return Reply(200, {"phone_numbers": numbers})


# reputation audits ------------------------------------------------------------------------
def _audit_view(audit: dict[str, Any]) -> dict[str, Any]:
    view = {"audit_id": audit["audit_id"], "status": audit["status"], "phone": audit["phone"]}
    for key in ("generated_at", "report", "error"):
        if audit.get(key) is not None:
            view[key] = audit[key]
    return view


def _report(world: World, line: dict[str, Any]) -> dict[str, Any]:
    """A report from what the world knows: the line's status and its opted-out conversations."""
    number = line["phone_number"]
    severity = line["reputation"]["status"]
    opt_out_chats: list[dict[str, Any]] = []
    for chat in world.chats.values():
        handles = chat.get("handles") or []
        if not any(h.get("handle") == number and h.get("is_me") for h in handles if isinstance(h, dict)):
            continue
        health = chat.get("health_status") or {}
        if health.get("status") == "OPTED_OUT":
            opt_out_chats.append({"chat_id": chat["id"], "messages_after_stop": 0})
    drivers: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    if line.get("status") == "FLAGGED":
        drivers.append({"key": "flagged", "summary": "The line is currently restricted.", "metric": "FLAGGED"})
        actions.append(
            {
                "priority": len(actions) + 1,
                "title": "Move traffic to a healthy line",
                "detail": "Pause sends on this line and let it recover.",
                "expected_impact": "high",
            }
        )
    if opt_out_chats:
        drivers.append(
            {
                "key": "opt_out_handling",
                "summary": "Recipients asked this line to stop.",
                "metric": f"{len(opt_out_chats)} opted-out conversation(s)",
            }
        )
        actions.append(
            {
                "priority": len(actions) + 1,
                "title": "Honor stop requests",
                "detail": "Send nothing further to recipients who opted out.",
                "expected_impact": "high",
            }
        )
    if not actions:
        actions.append(
            {
                "priority": 1,
                "title": "Keep doing what you are doing",
                "detail": "Nothing on this line needs attention.",
                "expected_impact": "low",
            }
        )
    primary = drivers[0]["key"] if drivers else ""
    lines_md = [f"# Reputation audit for {number}", "", f"Severity: **{severity}**", ""]
    lines_md += [f"- {d['key']}: {d['summary']}" for d in drivers] or ["- No drivers: the line is in good standing."]
    return {
        "severity": severity,
        "primary_driver": primary,
        "drivers": drivers,
        "action_items": actions,
        "evidence": {"opt_out_chats": opt_out_chats, "unhealthy_chats": []},
        "summary_markdown": "\n".join(lines_md) + "\n",
    }


def _finish_audit(world: World, audit_id: str) -> None:
    audit = world.audits.get(audit_id)
    if audit is None or audit["status"] != "pending":
        return
    line = world.lines.get(audit["_line_id"])
    if line is None:
        audit.update(status="error", error="The line is no longer assigned to you.")
    else:
        audit.update(status="complete", generated_at=world.iso(), report=_report(world, line))
    audit["_finished_at"] = world.now()


def _line_audits(world: World, line_id: str) -> list[dict[str, Any]]:
    return [a for a in world.audits.values() if a.get("_line_id") == line_id]


@router.post("/v3/phone_numbers/{phone_number}/reputation_audit", "start_reputation_audit")
async def start_reputation_audit(ctx: Ctx) -> Reply:
    """One running audit per line (a second start returns it); then a cooldown (429)."""
    world = ctx.world
    line = own_line(world, ctx.path_params["phone_number"])
    audits = _line_audits(world, line["id"])
    running = [a for a in audits if a["status"] == "pending"]
    if running:
        return Reply(202, {"audit_id": running[0]["audit_id"], "status": "pending"})
    finished = [a["_finished_at"] for a in audits if a.get("_finished_at") is not None]
    cooldown = world.config.limits.reputation_audit_cooldown
    if finished and world.now() < max(finished) + cooldown:
        wait = int(max(finished) + cooldown - world.now() + 0.999)
        raise rate_limited(wait, f"A reputation audit ran recently for {line['phone_number']}. Try again in {wait} s.")
    audit_id = world.new_id()
    world.audits[audit_id] = {
        "audit_id": audit_id,
        "status": "pending",
        "phone": line["phone_number"],
        "_line_id": line["id"],
        "_started_at": world.now(),
        "_finished_at": None,
    }
    world.scheduler.call_later(world.config.timing.reputation_audit, lambda: _finish_audit(world, audit_id))
    return Reply(202, {"audit_id": audit_id, "status": "pending"})


@router.get("/v3/phone_numbers/{phone_number}/reputation_audit/{audit_id}", "get_reputation_audit")
async def get_reputation_audit(ctx: Ctx) -> Reply:
    world = ctx.world
    line = own_line(world, ctx.path_params["phone_number"])
    audit = world.audits.get(ctx.path_params["audit_id"])
    if audit is None or audit.get("_line_id") != line["id"] or world.now() > audit["_started_at"] + AUDIT_TTL:
        raise LinqError(404, 2001, f"Reputation audit not found: {ctx.path_params['audit_id']}")
    return Reply(200, _audit_view(audit))


# smart number assignment ------------------------------------------------------------------
def _chat_recipients(chat: dict[str, Any]) -> tuple[str | None, set[str]]:
    line, others = None, set()
    for h in chat.get("handles") or []:
        if not isinstance(h, dict):
            continue
        if h.get("is_me"):
            line = h.get("handle")
        elif h.get("status", "active") == "active":
            others.add(str(h.get("handle", "")).lower())
    return line, others


def _sticky_line(world: World, to: list[str], candidates: list[dict[str, Any]]) -> dict[str, Any] | None:
    wanted = {t.lower() for t in to}
    by_number = {line["phone_number"]: line for line in candidates}
    best: tuple[str, dict[str, Any]] | None = None
    for chat in world.chats.values():
        number, others = _chat_recipients(chat)
        if number in by_number and others == wanted:
            stamp = str(chat.get("updated_at") or chat.get("created_at") or "")
            if best is None or stamp > best[0]:
                best = (stamp, by_number[number])
    return best[1] if best else None


@router.get("/v3/available_number", "get_available_number")
async def get_available_number(ctx: Ctx) -> Reply:
    world = ctx.world
    to = ctx.query_lists.get("to", [])
    for handle in to:
        if not (is_e164(handle) or is_email(handle)):
            raise invalid("to", f"{handle!r} is not an E.164 phone number or an email address")
    exclude = ctx.query_lists.get("exclude_from", [])
    for number in exclude:
        if not is_e164(number):
            raise bad_phone("exclude_from", number)
    wanted = ctx.query.get("type")
    kind = None
    if wanted is not None:
        kind = {"rcs": "RCS", "imessage": "iMessage"}.get(wanted.lower())
        if kind is None:
            raise invalid("type", "must be RCS or iMessage")
    lines = [line for line in world.lines.values() if line.get("status", "ACTIVE") == "ACTIVE"]
    if kind is not None:
        lines = [line for line in lines if line_type(line) == kind]
        if not lines:
            raise LinqError(503, 4004, f"No available {kind} line on this account")
    if not lines:
        raise LinqError(503, 4004, "No available line on this account")
    candidates = [line for line in lines if line["phone_number"] not in set(exclude)]
    if not candidates:
        raise invalid("exclude_from", "every available line is excluded")
    chosen = _sticky_line(world, to, candidates) if to else None
    if chosen is None:
        order = {line_id: i for i, line_id in enumerate(world.lines)}
        chosen = min(
            candidates,
            key=lambda line: (
                REPUTATION_RANK.get(line["reputation"]["status"], 3),
                line.get("_last_used", 0),
                order[line["id"]],
            ),
        )
    mark_line_used(world, chosen)
    token = world.new_token()
    backups = [line["phone_number"] for line in candidates if line is not chosen]
    chosen.setdefault("_vcards", {})[token] = {"expires": world.now() + VCF_TTL, "backups": backups}
    base = world.config.public_base_url.rstrip("/")
    url = f"{base}/api/partner/_vcards/{chosen['id']}.vcf?token={quote(token)}"
    return Reply(200, {"phone_number": chosen["phone_number"], "vcf_url": url})


@router.get("/_vcards/{line_id}.vcf", "_public_vcard")
async def vcard(ctx: Ctx) -> Reply:
    """The time-limited vCard behind ``vcf_url``: the line's contact card, backups as extra TELs."""
    world = ctx.world
    line = world.lines.get(ctx.path_params["line_id"])
    grant = (line or {}).get("_vcards", {}).get(ctx.query.get("token", ""))
    if line is None or grant is None or world.now() > grant["expires"]:
        raise LinqError(403, 2005, "This vCard link is invalid or has expired")
    card = world.contact_cards.get(line["phone_number"]) or {}
    first, last = card.get("first_name") or "", card.get("last_name") or ""
    name = f"{first} {last}".strip() or line["phone_number"]
    rows = ["BEGIN:VCARD", "VERSION:3.0", f"N:{last};{first};;;", f"FN:{name}"]
    rows.append(f"TEL;TYPE=CELL,PREF:{line['phone_number']}")
    rows += [f"TEL;TYPE=CELL:{number}" for number in grant["backups"]]
    if card.get("image_url"):
        rows.append(f"PHOTO;VALUE=URI:{card['image_url']}")
    rows.append("END:VCARD")
    headers = {"Content-Type": "text/vcard; charset=utf-8"}
    return Reply(200, ("\r\n".join(rows) + "\r\n").encode(), headers)
