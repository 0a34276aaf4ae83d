"""Asynchronous failures: what goes wrong *after* Linq accepted a request.

A send answered 202 can still end in ``message.failed``; a group rename answered
``pending`` can end in ``chat.group_name_update_failed``; a line can be flagged (then every
new activity on it is 403/2027) and a person can opt out. Linq produces these on its own
time; the sandbox produces them on demand (the admin API, ``admin.py``) or at a seeded
rate (``[failures]`` in the world config), with the webhooks and statuses Linq would.

Failures are armed per kind (``message``, ``group_name``, ``group_icon``); the outbound
timeline (``people._on_sent``) and the group-update timers (``routes/chats.py``) ask
:func:`take` whether theirs fails.
"""

from __future__ import annotations

import random
from functools import partial
from typing import TYPE_CHECKING, Any

from . import messaging
from .errors import LinqError, invalid

if TYPE_CHECKING:
    from .state import World

Doc = dict[str, Any]

# SDK 0.65: message.failed / poll.failed carry 3007, 4001, 4002, 4005, 4006, 4007 or 4008;
# the group update failure events carry 3007 or 4001.
MESSAGE_CODES = (3007, 4001, 4002, 4005, 4006, 4007, 4008)
GROUP_UPDATE_CODES = (3007, 4001)
# Failures Linq answers on the request itself (a 5xx with the documented code), armed the
# same way: the next such request is refused and nothing is committed.
REQUEST_CODES: dict[str, dict[int, int]] = {
    "contact_card": {2022: 500, 4004: 503},  # contact_card create/update: setup failed, upstream busy
    "capability_check": {4004: 503, 4010: 503},  # check_rcs: "unknown", not "unsupported"
    "media_download": {5002: 500},  # Linq could not download a media / voice memo URL
    "upload_url": {5003: 500},  # attachments.create could not generate the upload URL
}
KINDS = ("message", "group_name", "group_icon", *REQUEST_CODES)
REASONS = {
    3007: "Maximum delivery attempts exceeded",
    4001: "Delivery failed",
    4002: "Phone not available",
    4005: "Recipient does not support this message type",
    4006: "Delivery failed (4006)",
    4007: "Delivery failed (4007)",
    4008: "Delivery failed (4008)",
}
STATUSES = ("ACTIVE", "FLAGGED")
REPUTATIONS = ("HEALTHY", "AT_RISK", "CRITICAL")


def codes_for(kind: str) -> tuple[int, ...]:
    if kind in REQUEST_CODES:
        return tuple(REQUEST_CODES[kind])
    return MESSAGE_CODES if kind == "message" else GROUP_UPDATE_CODES


def refuse_if_armed(world: World, kind: str) -> None:
    """Raise the armed request failure of ``kind`` (one-shot), if there is one."""
    for i, armed in enumerate(world.armed_failures):
        if armed["kind"] == kind:
            world.armed_failures.pop(i)
            code = int(armed["code"])
            raise LinqError(REQUEST_CODES[kind][code], code, armed.get("reason"))


def check_code(kind: str, code: object) -> int:
    allowed = codes_for(kind)
    if isinstance(code, bool) or not isinstance(code, int) or code not in allowed:
        raise invalid("code", f"a {kind} failure carries one of {', '.join(map(str, allowed))}")
    return code


def _rng(world: World) -> random.Random:
    """A stream of its own, so a failure rate never shifts the world's ids."""
    rng: random.Random | None = getattr(world, "_failure_rng", None)
    if rng is None:
        rng = random.Random(world.config.seed ^ 0xFA11)
        world._failure_rng = rng  # type: ignore[attr-defined]
    return rng


def arm(world: World, kind: str, code: int, *, reason: str | None = None, chat_id: str | None = None) -> Doc:
    """The next ``kind`` outcome (in ``chat_id``, when given) fails with ``code``."""
    armed: Doc = {"kind": kind, "code": code, "reason": reason, "chat_id": chat_id}
    world.armed_failures.append(armed)
    return armed


def take(world: World, kind: str, chat_id: str) -> Doc | None:
    """The failure this outcome meets, if any: an armed one first, else the configured rate."""
    for i, armed in enumerate(world.armed_failures):
        if armed["kind"] == kind and armed.get("chat_id") in (None, chat_id):
            return world.armed_failures.pop(i)
    cfg = world.config.failures
    rate = cfg.rate if kind == "message" else cfg.group_update_rate
    if rate <= 0:
        return None
    rng = _rng(world)
    if rng.random() >= rate:
        return None
    weights = cfg.codes if kind == "message" else cfg.group_update_codes
    allowed = codes_for(kind)
    choices = [(int(c), float(w)) for c, w in weights.items() if int(c) in allowed and float(w) > 0]
    if not choices:
        return None
    pick = rng.random() * sum(w for _, w in choices)
    code = choices[-1][0]
    for candidate, weight in choices:
        pick -= weight
        if pick <= 0:
            code = candidate
            break
    return {"kind": kind, "code": code, "reason": None, "chat_id": chat_id}


async def fail_message(world: World, message: Doc, code: int, reason: str | None, trace_id: str | None) -> None:
    """The message fails: ``delivery_status: failed`` and one ``message.failed`` (a poll:
    ``poll.failed``, whose ``error`` is ``{code, message}``)."""
    chat = messaging.get_chat(world, message["chat_id"])
    text = reason or REASONS[code]
    if message.get("_kind") != "poll":
        await messaging.fail(world, chat, message, code, text, trace_id)
        return
    from .people import poll_event

    message["delivery_status"] = "failed"
    message["updated_at"] = world.iso()
    data = poll_event(world, chat, message)
    for key in ("sent_at", "delivered_at", "read_at", "created_at", "updated_at"):
        data.pop(key, None)
    data.update(error={"code": code, "message": text}, failed_at=world.iso())
    await world.emit("poll.failed", data, trace_id=trace_id, phone_number=chat["_line"])


async def fail_message_now(
    world: World, message_id: str, code: int, reason: str | None, *, then_delivered: bool = False
) -> Doc:
    """Admin: fail an outbound message that is still on its way (pending or sent).

    ``then_delivered``: the rare case SDK 0.65 warns of — the phone gets it after all, and
    (iMessage 1:1) a ``message.delivered`` follows the ``message.failed``."""
    message = messaging.get_message(world, message_id)
    if not message["is_from_me"]:
        raise invalid("message_id", "only messages you sent can fail")
    if message["delivery_status"] not in ("pending", "queued", "sent"):
        raise LinqError(409, 2015, f"Message {message_id} is already {message['delivery_status']}")
    await fail_message(world, message, code, reason, message.get("_trace_id"))
    if then_delivered:
        world.scheduler.call_later(
            world.config.timing.delivered, partial(_delivered_after_all, world, message, message.get("_trace_id"))
        )
    return message


async def _delivered_after_all(world: World, message: Doc, trace_id: str | None) -> None:
    from .people import has_receipts

    chat = world.chats.get(message["chat_id"])
    if chat is None:
        return
    now = world.iso()
    messaging.record_handsets_got(world, chat, message, now)
    if has_receipts(chat, message):
        message.update(
            delivery_status="delivered",
            is_delivered=True,
            delivered_at=now,
            sent_at=message.get("sent_at") or now,
            updated_at=now,
        )
        await messaging.emit_message(world, "message.delivered", chat, message, trace_id)


async def group_update_failed(world: World, chat: Doc, field: str, code: int, trace_id: str | None) -> None:
    event = "chat.group_name_update_failed" if field == "group_name" else "chat.group_icon_update_failed"
    await world.emit(
        event,
        {"chat_id": chat["id"], "error_code": code, "failed_at": world.iso()},
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


async def set_line_status(world: World, line: Doc, status: str | None, reputation: str | None) -> Doc:
    """Flag, unflag or restrict a line; one ``phone_number.status_updated`` when anything changed."""
    if status is not None and status not in STATUSES:
        raise invalid("status", f"must be one of {', '.join(STATUSES)}")
    if reputation is not None and reputation not in REPUTATIONS:
        raise invalid("reputation", f"must be one of {', '.join(REPUTATIONS)}")
    old_status = line.get("status", "ACTIVE")
    old_reputation = line["reputation"]["status"]
    new_status = status or old_status
    new_reputation = reputation or old_reputation
    line["status"] = new_status
    line["reputation"]["status"] = new_reputation
    if (old_status, old_reputation) != (new_status, new_reputation):
        await world.emit(
            "phone_number.status_updated",
            {
                "phone_number": line["phone_number"],
                "previous_status": old_status,
                "new_status": new_status,
                "changed_at": world.iso(),
                "previous_reputation": old_reputation,
                "new_reputation": new_reputation,
            },
            phone_number=line["phone_number"],
        )
    return line


async def opt_out(world: World, handle: str, line_number: str | None, keyword: str) -> Doc | None:
    """The person texts an opt-out keyword to a line, exactly as Linq would see it arrive."""
    from .people import is_optout_keyword

    if not is_optout_keyword(keyword):
        raise invalid("keyword", "must be STOP, UNSUBSCRIBE, OPTOUT, CANCEL, END, QUIT or OPT OUT")
    if line_number is None:
        direct = [
            c
            for c in world.chats.values()
            if not c["is_group"] and handle.lower() in {h.lower() for h in messaging.other_handles(c)}
        ]
        if direct:
            line_number = max(direct, key=lambda c: float(c.get("_last_activity", 0.0)))["_line"]
        else:
            line_number = next(iter(world.lines.values()))["phone_number"]
    return await messaging.receive(world, line_number, handle, [{"type": "text", "value": keyword, "reactions": []}])
