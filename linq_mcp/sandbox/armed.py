"""Failures armed to happen next: which request or outcome fails, and with which code.

The admin API arms one (``POST /_sandbox/failures/next``) or ``[failures]`` in the world
config sets a seeded rate; the code paths that can fail ask here. Pure world state: what
a failure then *does* (events, statuses) is ``failures.py``.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

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
