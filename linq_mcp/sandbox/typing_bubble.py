"""Your typing bubble, as the recipients see it.

Catalog B.3: one start call shows the bubble for about 85-90 s (refresh every 60 s to keep
it); sending a message clears it; before you have sent anything in the chat (about the last
5 minutes) delivery is best-effort. Read strictly: the bubble lasts 85 s, and it is not shown
at all unless you sent a message in the chat within the last 5 minutes. RCS/SMS never show
it. ``GET /_sandbox/chats/{id}/typing`` reports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import World

Doc = dict[str, Any]

LIFETIME = 85.0  # seconds one start call keeps the bubble up (the shorter end of 85-90 s)
RECENT_SEND = 300.0  # best-effort before you have sent in the chat this recently: not shown


def start(world: World, chat: Doc) -> None:
    """A start call: shown (iMessage, after a recent send of yours) until ``LIFETIME`` from now."""
    last_sent = chat.get("_last_sent_ts")
    recent = last_sent is not None and world.now() - float(last_sent) <= RECENT_SEND
    chat["_typing"] = chat["service"] == "iMessage" and recent
    chat["_typing_since"] = world.now()


def stop(chat: Doc) -> None:
    chat["_typing"] = False


def shown(world: World, chat: Doc) -> bool:
    since = chat.get("_typing_since")
    return bool(chat.get("_typing")) and since is not None and world.now() - float(since) < LIFETIME


def view(world: World, chat: Doc) -> Doc:
    up = shown(world, chat)
    since = chat.get("_typing_since")
    return {
        "chat_id": chat["id"],
        "shown": up,
        "expires_at": world.iso(float(since) + LIFETIME) if up and since is not None else None,
    }
