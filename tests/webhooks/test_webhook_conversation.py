"""Conversation view: each message once, with its latest delivery/read state and reactions."""

from __future__ import annotations

import uuid
from typing import Any

from webhook_helpers import envelope, load_fixture, message

from linq_mcp.webhooks import EventStore, normalise


def reaction(
    kind: str, message_id: str, *, chat_id: str = "chat-1", rtype: str = "love", sender: str = "+12025559876"
) -> dict[str, Any]:
    payload: dict[str, Any] = envelope(
        f"reaction.{kind}",
        {
            "chat_id": chat_id,
            "message_id": message_id,
            "reaction_type": rtype,
            "is_from_me": False,
            "from_handle": {"handle": sender, "is_me": False},
            "part_index": 0,
            "reacted_at": "2026-02-05T19:40:00Z",
        },
    )
    return payload


async def add_all(store: EventStore, *payloads: dict[str, Any]) -> None:
    for p in payloads:
        await store.add(normalise(p))


async def test_sent_delivered_read_merge_into_one_read_message(store: EventStore) -> None:
    mid = str(uuid.uuid4())
    await add_all(
        store,
        message("outbound", message_id=mid, text="hello"),
        message("outbound", message_id=mid, event_type="message.delivered", delivered_at="2026-02-05T19:31:14Z"),
        message(
            "outbound", message_id=mid, event_type="message.read",
            delivered_at="2026-02-05T19:31:14Z", read_at="2026-02-05T19:31:20Z",
        ),
    )  # fmt: skip
    conv = await store.conversation("chat-1")
    assert [(m.message_id, m.text, m.status, m.read_at) for m in conv.messages] == [
        (mid, "hello", "read", "2026-02-05T19:31:20Z")
    ]


async def test_out_of_order_delivery_does_not_regress_the_state(store: EventStore) -> None:
    mid = str(uuid.uuid4())
    await add_all(
        store,
        message(
            "outbound",
            message_id=mid,
            event_type="message.read",
            read_at="2026-02-05T19:31:20Z",
            delivered_at="2026-02-05T19:31:14Z",
        ),
        message("outbound", message_id=mid, text="hello"),
    )
    (msg,) = (await store.conversation("chat-1")).messages
    assert (msg.status, msg.delivered_at) == ("read", "2026-02-05T19:31:14Z")


async def test_messages_are_ordered_by_sent_time(store: EventStore) -> None:
    await add_all(
        store,
        message(text="second", sent_at="2026-02-05T19:31:20.5Z"),
        message("outbound", text="first", sent_at="2026-02-05T19:31:20.123456789Z"),
    )
    assert [m.text for m in (await store.conversation("chat-1")).messages] == ["first", "second"]


async def test_reactions_are_attached_and_removals_applied(store: EventStore) -> None:
    mid = str(uuid.uuid4())
    await add_all(
        store,
        message("outbound", message_id=mid),
        reaction("added", mid, rtype="love"),
        reaction("added", mid, rtype="laugh"),
        reaction("removed", mid, rtype="love"),
    )
    (msg,) = (await store.conversation("chat-1")).messages
    assert [(r.type, r.sender) for r in msg.reactions] == [("laugh", "+12025559876")]


async def test_failed_message_shows_its_failure(store: EventStore) -> None:
    mid = str(uuid.uuid4())
    failed = envelope(
        "message.failed", {"chat_id": "chat-1", "message_id": mid, "code": 4001, "failed_at": "2026-02-05T19:32:00Z"}
    )
    await add_all(store, message("outbound", message_id=mid), failed)
    (msg,) = (await store.conversation("chat-1")).messages
    assert msg.status == "failed" and msg.failure is not None and msg.failure.code == 4001


async def test_edit_replaces_the_text_of_the_edited_part(store: EventStore) -> None:
    mid = str(uuid.uuid4())
    edited = envelope(
        "message.edited",
        {
            "id": mid,
            "chat": {"id": "chat-1"},
            "direction": "outbound",
            "sender_handle": {"handle": "+12025551234"},
            "edited_at": "2026-02-05T19:35:00Z",
            "part": {"index": 0, "text": "hello, fixed"},
        },
    )
    await add_all(store, message("outbound", message_id=mid, text="helo"), edited)
    (msg,) = (await store.conversation("chat-1")).messages
    assert (msg.text, msg.edited_at) == ("hello, fixed", "2026-02-05T19:35:00Z")


async def test_both_payload_versions_of_one_message_merge(store: EventStore) -> None:
    sent = load_fixture("message.sent.v2025")
    delivered = load_fixture("message.delivered.v2026")
    await add_all(store, sent, delivered)
    conv = await store.conversation("0c961e93-e7bf-4db2-bf7b-ea06826bcab4")
    assert [(m.message_id, m.status, m.text) for m in conv.messages] == [
        ("347d62c2-2170-4754-8d30-c76d0c727d96", "delivered", "Hello from Linq!")
    ]
    assert conv.our_line == "+12025551234"


async def test_other_chats_are_not_included(store: EventStore) -> None:
    await add_all(store, message(chat_id="chat-1"), message(chat_id="chat-2"))
    assert len((await store.conversation("chat-1")).messages) == 1


async def test_conversation_limit_keeps_the_latest_messages(store: EventStore) -> None:
    for i in range(5):
        await store.add(normalise(message(text=str(i), sent_at=f"2026-02-05T19:31:1{i}Z")))
    assert [m.text for m in (await store.conversation("chat-1", limit=2)).messages] == ["3", "4"]
