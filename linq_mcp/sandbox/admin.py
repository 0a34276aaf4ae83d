"""The sandbox's admin API under ``/_sandbox`` (documented in docs/sandbox.md).

It drives the simulated world from outside: inject a message from a person, see what
their phones received and which events fired, move virtual time, inject faults, reset.
Same Bearer key as the API; never faulted; ``/_sandbox/health`` needs no key.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import weakref
from typing import TYPE_CHECKING, Any

from . import armed, failures, messaging, setup, typing_bubble, web
from .errors import LinqError, invalid, missing
from .faults import KINDS
from .router import Ctx, Reply, Router
from .state import World

if TYPE_CHECKING:
    from .app import Sandbox
    from .state import Event

router = Router()

_SANDBOXES: weakref.WeakValueDictionary[int, Sandbox] = weakref.WeakValueDictionary()


def attach(sandbox: Sandbox) -> None:
    """Let the admin handlers reach the sandbox that owns a world (faults, reset)."""
    _SANDBOXES[id(sandbox.world)] = sandbox


def _sandbox(world: World) -> Sandbox:
    found = _SANDBOXES.get(id(world))
    if found is None:
        raise LinqError(500, 3006, "Sandbox admin is not attached to this world")
    return found


# helpers usable from tests too ------------------------------------------------------------------
async def advance_clock(world: World, seconds: float) -> int:
    """Move virtual time forward, firing every timer that falls due on the way, in order."""
    if seconds < 0:
        raise invalid("advance", "must be >= 0 seconds")
    target = world.now() + seconds
    ran = 0
    while (due := world.scheduler.next_due()) is not None and due <= target:
        world.clock.advance(max(0.0, due - world.now()))
        ran += await world.scheduler.run_due()
    world.clock.advance(max(0.0, target - world.now()))
    ran += await world.scheduler.run_due()
    return ran


def reset(sandbox: Sandbox) -> None:
    """A fresh world with the same config, in place (hooks, clock and scheduler are kept)."""
    world = sandbox.world
    world.scheduler.clear()
    fresh = World(world.config)
    setup.add_lines(fresh)
    keep = {"config", "clock", "scheduler", "event_hooks"}
    for spec in dataclasses.fields(world):
        if spec.name not in keep:
            setattr(world, spec.name, getattr(fresh, spec.name))
    sandbox.faults.queued.clear()


def event_view(event: Event) -> dict[str, Any]:
    return {
        "event_id": event.event_id,
        "event_type": event.event_type,
        "created_at": event.created_at,
        "trace_id": event.trace_id,
        "phone_number": event.phone_number,
        "data": event.data,
        "data_v2025": event.data_v2025,
    }


def _clock_state(world: World) -> dict[str, Any]:
    return {
        "now": world.iso(),
        "epoch": world.now(),
        "frozen": world.clock.frozen,
        "pending_timers": world.scheduler.pending(),
    }


def _faults_state(sandbox: Sandbox) -> dict[str, Any]:
    cfg = sandbox.world.config.faults
    return {
        "rate": cfg.rate,
        "kinds": dict(cfg.kinds),
        "latency_ms": cfg.latency_ms,
        "retry_after": cfg.retry_after,
        "only_operations": list(cfg.only_operations),
        "queued": list(sandbox.faults.queued),
    }


# routes ---------------------------------------------------------------------------------------
@router.get("/_sandbox/health", "_public_health")
async def health(ctx: Ctx) -> Reply:
    return Reply(200, {"ok": True})


@router.post("/_sandbox/inbound", "_admin_inbound")
async def inbound(ctx: Ctx) -> Reply:
    """A person texts one of our lines: ``{from, to, text | parts, chat_id?}``."""
    world = ctx.world
    body = ctx.body()
    sender = messaging.require_handle("from", body.get("from"))
    chat = None
    if body.get("chat_id") is not None:
        chat = messaging.get_chat(world, str(body["chat_id"]))
        if sender.lower() not in {h.lower() for h in messaging.other_handles(chat)}:
            raise invalid("from", f"{sender} is not a participant of chat {chat['id']}")
        line_number = str(body.get("to") or chat["_line"])
        if line_number != chat["_line"]:
            raise invalid("to", "is not the line of that chat")
    else:
        line_number = messaging.require_phone("to", body.get("to"))
    messaging.line_for(world, line_number, "to")
    text, parts = body.get("text"), body.get("parts")
    if text is None and parts is None:
        raise missing("text or parts")
    raw_parts = [{"type": "text", "value": text}] if text is not None else parts
    content = messaging.validate_content({"parts": raw_parts}, "parts")
    built = messaging.build_parts(world, content)
    message = await messaging.receive(world, line_number, sender, built, chat=chat, trace_id=ctx.trace_id)
    if message is None:
        return Reply(200, {"dropped": True, "reason": "blocked", "message": None, "chat_id": None})
    return Reply(
        200, {"dropped": False, "chat_id": message["chat_id"], "message": messaging.message_view(world, message)}
    )


@router.get("/_sandbox/deliveries", "_admin_deliveries")
async def deliveries(ctx: Ctx) -> Reply:
    to = ctx.query.get("to")
    chat_id = ctx.query.get("chat_id")
    found = [
        d
        for d in ctx.world.deliveries
        if (not to or d["to"].lower() == to.lower()) and (not chat_id or d["chat_id"] == chat_id)
    ]
    return Reply(200, {"deliveries": found})


@router.get("/_sandbox/events", "_admin_events")
async def events(ctx: Ctx) -> Reply:
    """Every event produced, oldest first; ``type`` is exact or a glob (``message.*``)."""
    kind = ctx.query.get("type")
    chat_id = ctx.query.get("chat_id")
    found = []
    for event in ctx.world.events:
        if kind and not fnmatch.fnmatchcase(event.event_type, kind):
            continue
        data = event.data
        if chat_id and chat_id not in (data.get("chat_id"), (data.get("chat") or {}).get("id"), data.get("id")):
            continue
        found.append(event_view(event))
    return Reply(200, {"events": found})


@router.get("/_sandbox/clock", "_admin_clock_get")
async def clock_get(ctx: Ctx) -> Reply:
    return Reply(200, _clock_state(ctx.world))


@router.post("/_sandbox/clock", "_admin_clock")
async def clock(ctx: Ctx) -> Reply:
    """``{advance: seconds}`` runs every timer that falls due; ``{frozen: bool}`` too."""
    world = ctx.world
    body = ctx.body(required=False)
    frozen = body.get("frozen")
    if frozen is not None:
        if not isinstance(frozen, bool):
            raise invalid("frozen", "must be a boolean")
        world.clock.freeze() if frozen else world.clock.unfreeze()
    ran = 0
    advance = body.get("advance")
    if advance is not None:
        if isinstance(advance, bool) or not isinstance(advance, int | float):
            raise invalid("advance", "must be a number of seconds")
        ran = await advance_clock(world, float(advance))
    return Reply(200, {**_clock_state(world), "ran": ran})


@router.post("/_sandbox/clock/freeze", "_admin_freeze")
async def freeze(ctx: Ctx) -> Reply:
    ctx.world.clock.freeze()
    return Reply(200, _clock_state(ctx.world))


@router.post("/_sandbox/clock/unfreeze", "_admin_unfreeze")
async def unfreeze(ctx: Ctx) -> Reply:
    ctx.world.clock.unfreeze()
    ctx.world.scheduler.poke()
    return Reply(200, _clock_state(ctx.world))


@router.post("/_sandbox/reset", "_admin_reset")
async def reset_route(ctx: Ctx) -> Reply:
    reset(_sandbox(ctx.world))
    return Reply(200, {"ok": True, "lines": [line["phone_number"] for line in ctx.world.lines.values()]})


@router.get("/_sandbox/faults", "_admin_faults_get")
async def faults_get(ctx: Ctx) -> Reply:
    return Reply(200, _faults_state(_sandbox(ctx.world)))


@router.put("/_sandbox/faults", "_admin_faults_put")
async def faults_put(ctx: Ctx) -> Reply:
    """Set any of ``rate`` (0-1), ``kinds`` ({kind: weight}), ``latency_ms``, ``retry_after``,
    ``only_operations``; fields left out keep their value."""
    sandbox = _sandbox(ctx.world)
    cfg = ctx.world.config.faults
    body = ctx.body()
    if "rate" in body:
        rate = body["rate"]
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise invalid("rate", "must be a number between 0 and 1")
        cfg.rate = float(rate)
    if "kinds" in body:
        kinds = body["kinds"]
        if isinstance(kinds, list):
            kinds = {k: 1.0 for k in kinds}
        if not isinstance(kinds, dict) or any(k not in KINDS for k in kinds):
            raise invalid("kinds", f"must map fault kinds ({', '.join(KINDS)}) to weights")
        cfg.kinds = {k: float(w) for k, w in kinds.items()}
    for key in ("latency_ms", "retry_after"):
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise invalid(key, "must be a non-negative integer")
            setattr(cfg, key, value)
    if "only_operations" in body:
        ops = body["only_operations"] or []
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise invalid("only_operations", "must be a list of operation names")
        cfg.only_operations = list(ops)
    return Reply(200, _faults_state(sandbox))


@router.post("/_sandbox/faults/next", "_admin_faults_next")
async def faults_next(ctx: Ctx) -> Reply:
    """Queue one-shot faults: the next API requests fail in these ways, in order."""
    sandbox = _sandbox(ctx.world)
    kinds = ctx.body().get("kinds")
    if kinds is None:
        raise missing("kinds")
    if not isinstance(kinds, list) or any(k not in KINDS for k in kinds):
        raise invalid("kinds", f"must be a list of fault kinds: {', '.join(KINDS)}")
    sandbox.faults.queued.extend(kinds)
    return Reply(200, _faults_state(sandbox))


@router.get("/_sandbox/stats", "_admin_stats")
async def stats(ctx: Ctx) -> Reply:
    world = ctx.world
    faults = {k[len("fault.") :]: v for k, v in world.stats.items() if k.startswith("fault.")}
    return Reply(
        200,
        {
            "stats": dict(world.stats),
            "faults_injected": faults,
            "chats": len(world.chats),
            "messages": len(world.messages),
            "events": len(world.events),
            "deliveries": len(world.deliveries),
            "opted_out": sorted(world.opted_out),
            "pending_timers": world.scheduler.pending(),
        },
    )


@router.get("/_sandbox/people", "_admin_people")
async def people_route(ctx: Ctx) -> Reply:
    world = ctx.world
    cast = []
    for person in world.config.people:
        doc = dataclasses.asdict(person)
        doc["opted_out"] = person.handle in world.opted_out
        cast.append(doc)
    return Reply(200, {"people": cast, "lines": [dict(line) for line in world.lines.values()]})


# failures on demand (sandbox/failures.py) ---------------------------------------------------------
def _failures_state(world: World) -> dict[str, Any]:
    return {"armed": [dict(a) for a in world.armed_failures], "config": dataclasses.asdict(world.config.failures)}


def _code(body: dict[str, Any], kind: str) -> int:
    default = armed.codes_for(kind)[0] if kind in armed.REQUEST_CODES else 4001
    return armed.check_code(kind, body.get("code", default))


def _reason(body: dict[str, Any]) -> str | None:
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise invalid("reason", "must be a string")
    return reason


@router.get("/_sandbox/failures", "_admin_failures_get")
async def failures_get(ctx: Ctx) -> Reply:
    return Reply(200, _failures_state(ctx.world))


@router.post("/_sandbox/failures/next", "_admin_failures_next")
async def failures_next(ctx: Ctx) -> Reply:
    """Arm one failure: ``{kind, code, reason?, chat_id?}``. ``message|group_name|group_icon``:
    the next such outcome (in that chat, if given) fails after its 202; ``contact_card``,
    ``capability_check``, ``media_download``, ``upload_url``: the next such request is refused."""
    world = ctx.world
    body = ctx.body()
    kind = body.get("kind", "message")
    if kind not in armed.KINDS:
        raise invalid("kind", f"must be one of {', '.join(armed.KINDS)}")
    chat_id = body.get("chat_id")
    if chat_id is not None:
        chat_id = messaging.get_chat(world, str(chat_id))["id"]
    armed.arm(world, kind, _code(body, kind), reason=_reason(body), chat_id=chat_id)
    return Reply(200, _failures_state(world))


@router.post("/_sandbox/messages/{message_id}/fail", "_admin_fail_message")
async def fail_message(ctx: Ctx) -> Reply:
    """Fail an outbound message still on its way (pending or sent), now: ``{code, reason?,
    then_delivered?}``."""
    world = ctx.world
    body = ctx.body(required=False)
    then_delivered = body.get("then_delivered", False)
    if not isinstance(then_delivered, bool):
        raise invalid("then_delivered", "must be a boolean")
    message = await failures.fail_message_now(
        world, ctx.path_params["message_id"], _code(body, "message"), _reason(body), then_delivered=then_delivered
    )
    return Reply(200, {"message": messaging.message_view(world, message), "event": event_view(world.events[-1])})


@router.post("/_sandbox/lines/{phone_number}/status", "_admin_line_status")
async def line_status(ctx: Ctx) -> Reply:
    """Flag, unflag or restrict a line: ``{status?: ACTIVE|FLAGGED, reputation?: HEALTHY|AT_RISK|CRITICAL}``."""
    world = ctx.world
    body = ctx.body()
    number = ctx.path_params["phone_number"]
    line = world.line_by_number(number)
    if line is None:
        raise LinqError(404, 2019, f"Phone number not found: {number} is not one of your lines")
    if body.get("status") is None and body.get("reputation") is None:
        raise missing("status or reputation")
    await failures.set_line_status(world, line, body.get("status"), body.get("reputation"))
    return Reply(200, {"line": dict(line)})


@router.post("/_sandbox/calls", "_admin_call")
async def call(ctx: Ctx) -> Reply:
    """A person called one of our lines and the call ended: ``{from, to, duration?}`` (seconds).

    Only the legacy V2 API reports calls (``call.completed``); V3's ``call.*`` are not simulated.
    """
    from . import v2

    world = ctx.world
    body = ctx.body()
    caller = messaging.require_phone("from", body.get("from"))
    line = messaging.line_for(world, messaging.require_phone("to", body.get("to")), "to")
    duration = body.get("duration", 30)
    if not isinstance(duration, int) or isinstance(duration, bool) or duration < 0:
        raise invalid("duration", "must be a whole number of seconds, 0 or more")
    ended = world.now()
    data = {
        "id": v2.new_v2_id(world, "call"),
        "from": caller,
        "to": line["phone_number"],
        "direction": "inbound",
        "status": "completed" if duration else "missed",
        "duration": duration,
        "started_at": world.iso(ended - duration),
        "ended_at": world.iso(ended),
    }
    event = await world.emit("call.completed", data, trace_id=ctx.trace_id, phone_number=line["phone_number"])
    return Reply(200, {"event": event_view(event)})


@router.post("/_sandbox/opt-out", "_admin_opt_out")
async def opt_out(ctx: Ctx) -> Reply:
    """A person opts out by texting a keyword: ``{handle, to?: your line, keyword?: "STOP"}``."""
    world = ctx.world
    body = ctx.body()
    handle = messaging.require_handle("handle", body.get("handle"))
    line_number = body.get("to")
    if line_number is not None:
        messaging.line_for(world, messaging.require_phone("to", line_number), "to")
    keyword = body.get("keyword", "STOP")
    if not isinstance(keyword, str):
        raise invalid("keyword", "must be a string")
    message = await failures.opt_out(world, handle, line_number, keyword)
    if message is None:
        return Reply(200, {"dropped": True, "reason": "blocked", "opted_out": False})
    return Reply(200, {"dropped": False, "opted_out": handle in world.opted_out, "chat_id": message["chat_id"]})


# the simulated web (sandbox/web.py) ---------------------------------------------------------------
@router.get("/_sandbox/web", "_admin_web_get")
async def web_get(ctx: Ctx) -> Reply:
    return Reply(200, {"resources": [web.resource(ctx.world, url) for url in ctx.world.web]})


@router.put("/_sandbox/web", "_admin_web_put")
async def web_put(ctx: Ctx) -> Reply:
    """Say what a URL is when Linq downloads it: ``{url, size_bytes?, content_type?, reachable?}``."""
    return Reply(200, web.register(ctx.world, ctx.body()))


@router.get("/_sandbox/chats/{chat_id}/typing", "_admin_typing")
async def typing_get(ctx: Ctx) -> Reply:
    """Whether the recipients see your typing bubble now (sandbox/typing_bubble.py)."""
    chat = messaging.get_chat(ctx.world, ctx.path_params["chat_id"])
    return Reply(200, typing_bubble.view(ctx.world, chat))
