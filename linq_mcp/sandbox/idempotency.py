"""Idempotent sends: a repeated key returns the first answer and sends nothing new.

Keys are scoped per operation (``create_chat:message:<key>``) and per account, so the same
string used with two different operations names two different sends. The stored value is
the original ``(status, body)``; a replay whose message has since been deleted is a
404/2002, as Linq documents ("a deleted message is never resent").

What the catalog leaves open (G.5), read strictly: a key is kept for
``limits.idempotency_retention`` seconds (24 h), after which the same key sends again; and
a key reused with a *different* request (another body, another chat) is 409/2015, never a
silent replay of the first answer in place of the new message.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import TYPE_CHECKING, Any

from .errors import LinqError, invalid
from .router import Reply

if TYPE_CHECKING:
    from .router import Ctx
    from .state import World

MAX_KEY_LENGTH = 255


def scope_key(operation: str, where: str, key: str) -> str:
    return f"{operation}:{where}:{key}"


def check_key(field: str, key: object) -> str | None:
    """The key as given, None when absent; 400/1005 when it is not a usable string."""
    if key is None:
        return None
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise invalid(field, f"must be a string of 1-{MAX_KEY_LENGTH} characters")
    return key


def header_key(ctx: Ctx) -> str | None:
    return check_key("Idempotency-Key", ctx.headers.get("idempotency-key"))


def message_id_of(body: Any) -> str | None:
    """The id of the message a stored send response describes (for the deleted-message rule)."""
    if not isinstance(body, dict):
        return None
    for path in (("message", "id"), ("chat", "message", "id"), ("voice_memo", "id"), ("message_id",)):
        node: Any = body
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str):
            return node
    return None


def fingerprint(ctx: Ctx) -> str:
    """What makes two requests "the same": the path (the chat) and the JSON body."""
    try:
        body = json.dumps(ctx.json(required=False), sort_keys=True)
    except LinqError:
        body = ctx.raw_body.decode(errors="replace")
    return hashlib.sha256(f"{ctx.path}\n{body}".encode()).hexdigest()


def replay(world: World, scopes: list[str], fingerprint: str | None = None) -> Reply | None:
    """The stored reply for the first scope that has one; None when this is a first send."""
    retention = world.config.limits.idempotency_retention
    for scope in scopes:
        stored = world.idempotency.get(scope)
        if stored is None:
            continue
        meta = world.idempotency_meta.get(scope)
        if meta is not None:
            stored_at, first = meta
            if world.now() - float(stored_at) >= retention:
                del world.idempotency[scope]  # expired: the same key sends again
                world.idempotency_meta.pop(scope, None)
                continue
            if fingerprint is not None and first and first != fingerprint:
                raise LinqError(
                    409,
                    2015,
                    "Operation conflicts with current state: this idempotency key was already used for a "
                    "different request; use a new key for a new message",
                )
        status, body = stored
        message_id = message_id_of(body)
        if message_id is not None and message_id not in world.messages:
            raise LinqError(404, 2002, "Message not found: the message sent with this idempotency key was deleted")
        world.count("idempotent_replays")
        return Reply(status, copy.deepcopy(body))
    return None


def remember(world: World, scopes: list[str], reply: Reply, fingerprint: str | None = None) -> None:
    for scope in scopes:
        world.idempotency[scope] = (reply.status, copy.deepcopy(reply.body))
        world.idempotency_meta[scope] = (world.now(), fingerprint or "")
