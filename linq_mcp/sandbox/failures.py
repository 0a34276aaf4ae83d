"""Asynchronous failures: what goes wrong *after* Linq accepted a request.

A send answered 202 can still end in ``message.failed``; a group rename answered
``pending`` can end in ``chat.group_name_update_failed``; a line can be flagged (then every
new activity on it is 403/2027) and a person can opt out. Linq produces these on its own
time; the sandbox produces them on demand (the admin API, ``admin.py``) or at a seeded
rate (``[failures]`` in the world config), with the webhooks and statuses Linq would.

Failures are armed per kind (``message``, ``group_name``, ``group_icon``); the outbound
timeline (``people._on_sent``) and the group-update timers (``routes/chats.py``) ask
``armed.take`` whether theirs fails.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from . import messaging
from .errors import MESSAGES, LinqError, invalid

if TYPE_CHECKING:
    from .state import World

Doc = dict[str, Any]

STATUSES = ("ACTIVE", "FLAGGED")
REPUTATIONS = ("HEALTHY", "AT_RISK", "CRITICAL")


async def fail_message(world: World, message: Doc, code: int, reason: str | None, trace_id: str | None) -> None:
    """The message fails: ``delivery_status: failed`` and one ``message.failed`` (a poll:
    ``poll.failed``, whose ``error`` is ``{code, message}``)."""
    chat = messaging.get_chat(world, message["chat_id"])
    text = reason or MESSAGES[code]
    if message.get("_kind") != "poll":
        await messaging.fail(world, chat, message, code, text, trace_id)
        return
    message["delivery_status"] = "failed"
    message["updated_at"] = world.iso()
    data = messaging.poll_event(world, chat, message)
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
    chat = world.chats.get(message["chat_id"])
    if chat is None:
        return
    now = world.iso()
    messaging.record_handsets_got(world, chat, message, now)
    if messaging.has_receipts(chat, message):
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
    if not messaging.is_optout_keyword(keyword):
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
