"""The simulated people: their phones receive, acknowledge, type, react, reply and opt out.

Everything a person does is a timer on the world's scheduler, started by an outbound
send (:func:`schedule_outbound`), with the delays in ``config.timing``:

    pending --sent--> sent --delivered--> delivered --read--> read --reply--> their reply

``sent`` is when the device receives it (``world.deliveries``). Linq has delivery and
read receipts for iMessage 1:1 chats only: ``delivered`` there, and ``read`` when the
person sends read receipts. SMS, RCS and group messages stay at ``sent`` (the person
still reads and answers; nobody is told). Deleting a message removes Linq's record only:
its timeline runs on, the phone still receives it. A person then answers
by their ``replies`` rule — ``echo``, ``canned`` (cycled in order), ``rules`` (first
keyword found, else canned), ``stop`` (texts "STOP" and so opts out) or ``silent`` —
showing a typing bubble first when ``typing`` is on, and leaves their ``react``
tapback on what they read. No randomness: a seeded world replays identically.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from . import armed, failures, messaging, ratelimit
from .messaging import Doc

if TYPE_CHECKING:
    from .config import PersonConfig
    from .state import World


async def send(
    world: World,
    chat: Doc,
    content: messaging.Content | None,
    *,
    service: str,
    trace_id: str | None,
    parts: list[Doc] | None = None,
    kind: str = "message",
) -> Doc:
    """Commit an outbound message into ``chat`` and start its delivery timeline."""
    built = parts if parts is not None else messaging.build_parts(world, content) if content else []
    message = messaging.new_message(
        world,
        chat,
        parts=built,
        service=service,
        is_from_me=True,
        sender=chat["_line"],
        content=content,
        kind=kind,
    )
    message["_trace_id"] = trace_id  # a later message.failed carries the send's trace
    chat["_typing"] = False  # sending clears your typing bubble
    chat["_last_sent_ts"] = world.now()
    ratelimit.record(world, chat["_line"], messaging.other_handles(chat))
    world.count("messages.sent")
    schedule_outbound(world, chat, message, trace_id)
    return message


# outbound timeline ---------------------------------------------------------------------------
def schedule_outbound(world: World, chat: Doc, message: Doc, trace_id: str | None) -> None:
    world.scheduler.call_later(world.config.timing.sent, partial(_on_sent, world, chat, message, trace_id))


def _alive(world: World, message: Doc) -> bool:
    """A message's timeline stops only when the world is reset; deleting it does not recall it."""
    return message.get("chat_id") in world.chats


async def _emit_progress(world: World, stage: str, chat: Doc, message: Doc, trace_id: str | None) -> None:
    if message.get("_kind") == "poll":
        await world.emit(
            f"poll.{stage}", messaging.poll_event(world, chat, message), trace_id=trace_id, phone_number=chat["_line"]
        )
    else:
        await messaging.emit_message(world, f"message.{stage}", chat, message, trace_id)


async def _on_sent(world: World, chat: Doc, message: Doc, trace_id: str | None) -> None:
    if not _alive(world, message) or message["delivery_status"] != "pending":
        return
    failure = armed.take(world, "message", chat["id"])
    if failure is not None:  # accepted with 202, never reaches the phone
        await failures.fail_message(world, message, failure["code"], failure.get("reason"), trace_id)
        return
    now = world.iso()
    message.update(delivery_status="sent", sent_at=now, updated_at=now, _sent_ts=world.now())
    await _emit_progress(world, "sent", chat, message, trace_id)
    messaging.record_handsets_got(world, chat, message, now)
    if chat["is_group"]:
        return
    world.scheduler.call_later(world.config.timing.delivered, partial(_on_delivered, world, chat, message, trace_id))


async def _on_delivered(world: World, chat: Doc, message: Doc, trace_id: str | None) -> None:
    if not _alive(world, message) or message["delivery_status"] != "sent":
        return
    if messaging.has_receipts(chat, message):
        now = world.iso()
        message.update(delivery_status="delivered", is_delivered=True, delivered_at=now, updated_at=now)
        await _emit_progress(world, "delivered", chat, message, trace_id)
    recipient = messaging.other_handles(chat)
    person = world.person(recipient[0]) if recipient else None
    if person is None:
        return
    receipts = person.read_receipts and messaging.has_receipts(chat, message)
    world.scheduler.call_later(
        world.config.timing.read, partial(_on_read, world, chat, message, person, trace_id, receipts)
    )


async def _on_read(
    world: World, chat: Doc, message: Doc, person: PersonConfig, trace_id: str | None, receipt: bool
) -> None:
    if not _alive(world, message):
        return
    if receipt and message["delivery_status"] == "delivered":
        now = world.iso()
        message.update(delivery_status="read", is_read=True, read_at=now, updated_at=now)
        await _emit_progress(world, "read", chat, message, trace_id)
    if message.get("_kind") == "poll":
        await _vote(world, chat, message, person, trace_id)
        return
    if person.react and receipt and message.get("parts"):
        await react(world, chat, message, person.handle, person.react, trace_id)
    if person.replies == "silent":
        return
    delay = person.reply_delay if person.reply_delay is not None else world.config.timing.reply
    if person.typing:
        world.scheduler.call_later(delay / 2, partial(_typing, world, chat, person.handle, True, trace_id))
    world.scheduler.call_later(delay, partial(_reply, world, chat, message, person, trace_id))


async def _typing(world: World, chat: Doc, handle: str, started: bool, trace_id: str | None) -> None:
    actor = next((h for h in messaging.others(chat) if h["handle"] == handle), None)
    if actor is None or chat.get("_left"):
        return
    kind = "started" if started else "stopped"
    await world.emit(
        f"chat.typing_indicator.{kind}",
        {"chat_id": chat["id"], "actor_handle": dict(actor)},
        trace_id=trace_id,
        phone_number=chat["_line"],
    )


def reply_text(world: World, person: PersonConfig, message: Doc) -> str | None:
    """What ``person`` answers to ``message`` (None: nothing)."""
    text = " ".join(p["value"] for p in message.get("parts") or [] if p.get("type") == "text")
    mode = person.replies
    if mode == "silent":
        return None
    if mode == "stop":
        return "STOP"
    if mode == "echo":
        return text or "👍"
    if mode == "rules":
        lowered = text.lower()
        for rule in person.rules:
            if rule.keyword.lower() in lowered:
                return rule.reply
    canned = person.canned or ["OK"]
    said = sum(
        1 for m in world.messages.values() if not m["is_from_me"] and str(m["from"]).lower() == person.handle.lower()
    )
    return canned[said % len(canned)]


async def _reply(world: World, chat: Doc, message: Doc, person: PersonConfig, trace_id: str | None) -> None:
    if chat.get("_left") or person.handle not in messaging.other_handles(chat):
        return
    text = reply_text(world, person, message)
    if person.typing:
        await _typing(world, chat, person.handle, False, trace_id)
    if text is None:
        return
    await messaging.receive(
        world, chat["_line"], person.handle, [{"type": "text", "value": text, "reactions": []}], chat=chat
    )


# reactions and polls -------------------------------------------------------------------------
async def react(world: World, chat: Doc, message: Doc, handle: str, kind: str, trace_id: str | None) -> Doc:
    """``handle`` leaves a tapback on part 0 of ``message`` (replacing their previous one)."""
    who = next((h for h in chat["handles"] if h["handle"] == handle), None) or messaging.make_handle(
        world, handle, message["service"]
    )
    part = message["parts"][0]
    reactions: list[Doc] = part.setdefault("reactions", [])
    reactions[:] = [r for r in reactions if not (r["handle"]["handle"] == handle and r["type"] != "sticker")]
    reaction = {
        "id": world.new_id(),
        "is_me": False,
        "handle": dict(who),
        "type": kind,
        "custom_emoji": None,
        "sticker": None,
    }
    reactions.append(reaction)
    await world.emit(
        "reaction.added",
        reaction_event(world, chat, message, reaction, 0),
        trace_id=trace_id,
        phone_number=chat["_line"],
    )
    return reaction


def reaction_event(world: World, chat: Doc, message: Doc, reaction: Doc, part_index: int) -> Doc:
    return {
        "reaction_type": reaction["type"],
        "is_from_me": reaction["is_me"],
        "chat_id": chat["id"],
        "from": reaction["handle"]["handle"],
        "from_handle": dict(reaction["handle"]),
        "message_id": message["id"],
        "part_index": part_index,
        "custom_emoji": reaction.get("custom_emoji"),
        "service": message["service"],
        "reacted_at": world.iso(),
        "reaction_id": reaction["id"],
        "sticker": reaction.get("sticker"),
    }


async def _vote(world: World, chat: Doc, message: Doc, person: PersonConfig, trace_id: str | None) -> None:
    """A person who answers messages also votes: for the first option of a poll they read."""
    if person.replies == "silent" or not message["_poll"]["options"]:
        return
    option = message["_poll"]["options"][0]
    if any(v["handle"] == person.handle for v in option["voters"]):
        return
    option["voters"].append({"handle": person.handle, "voted_at": world.iso()})
    message["updated_at"] = world.iso()
    sender = next(h for h in chat["handles"] if h["handle"] == person.handle)
    await world.emit(
        "poll.vote.added",
        {
            "chat": messaging.chat_ref(chat),
            "direction": "inbound",
            "message_id": message["id"],
            "option_id": option["option_id"],
            "sender_handle": dict(sender),
            "service": message["service"],
        },
        trace_id=trace_id,
        phone_number=chat["_line"],
    )
