"""Polls, location sharing, contact cards, chat backgrounds and line changes, as the model sees them.

Each arrives as Linq's signed webhook (SDK 0.65 shapes) and is read back through ``list_events`` and
``linq://events/{id}``: what happened, who, which chat and the key facts, with every word another
person wrote inside ``untrusted_content``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import AVA, LINE, connected
from events_helpers import SECRET, read_json, settings_for, start_chat
from test_fence_attacks import deliver, envelope, hostile, markers_in, outside_fence, tool_doc, url

from linq_mcp.sandbox.app import Sandbox

CHAT = "chat-families"
OURS = {"handle": LINE, "is_me": True}
AVAS = {"handle": AVA, "is_me": False}
CHAT_REF = {"id": CHAT, "is_group": False, "owner_handle": OURS}


async def shown(sandbox: Sandbox, tmp_path: Path, event_type: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    """The event as ``list_events`` and ``linq://events/{id}`` show it (both, in that order)."""
    payload = envelope(event_type, data)
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3", webhook_secrets=(SECRET,))) as (client, _):
        await deliver(sandbox, payload)
        listed = tool_doc(await client.call_tool("list_events", {"since": "0", "types": [event_type]}))["events"]
        resource = await read_json(client, f"linq://events/{payload['event_id']}")
    [item] = [e for e in listed if e["event_id"] == payload["event_id"]]
    for marker in markers_in(data):
        for doc in (item, resource):
            assert list(outside_fence(doc, marker)) == [], f"{marker} outside the fence"
    assert item == resource
    return [item, resource]


def option(option_id: str, text: str, creator: dict[str, Any], voters: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"option_id": option_id, "text": text, "can_be_edited": False, "creator_handle": creator,
            "voters": [{"handle": v, "voted_at": "2026-02-03T10:00:01Z"} for v in voters]}  # fmt: skip


def fenced_words(doc: dict[str, Any]) -> str:
    return str(doc.get("untrusted_content"))


async def test_a_poll_someone_sends_us_shows_its_options_inside_the_fence(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"chat": CHAT_REF, "direction": "inbound", "message_id": "poll-1", "sender_handle": AVAS,
            "service": "iMessage", "received_at": "2026-02-03T10:00:00Z", "created_at": "2026-02-03T10:00:00Z",
            "updated_at": "2026-02-03T10:00:00Z",
            "poll": {"options": [option("o1", hostile("OPT1"), AVAS), option("o2", hostile("OPT2"), AVAS)],
                     "total_voters": 0}}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "poll.received", data):
        assert (doc["type"], doc["chat_id"], doc["message_id"], doc["from"]) == ("poll.received", CHAT, "poll-1", AVA)
        assert [o["option_id"] for o in doc["poll"]["options"]] == ["o1", "o2"]  # structure: usable to vote
        assert "ZQOPT1ZQ" in str(doc) and "ZQOPT2ZQ" in str(doc)


async def test_an_option_another_person_adds_to_our_poll_is_fenced_under_their_name(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    data = {"chat": CHAT_REF, "direction": "inbound", "message_id": "poll-1", "sender_handle": AVAS,
            "service": "iMessage", "added_options": [option("o3", hostile("ADDED"), AVAS)]}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "poll.updated", data):
        [added] = doc["poll"]["added_options"]
        assert added["option_id"] == "o3"
        assert "ZQADDEDZQ" in fenced_words(added) and added["untrusted_content"]["from"] == AVA


async def test_our_own_poll_shows_our_options_and_fences_the_one_someone_else_added(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    data = {"chat": CHAT_REF, "direction": "outbound", "message_id": "poll-1", "sender_handle": OURS,
            "service": "iMessage", "created_at": "2026-02-03T10:00:00Z", "updated_at": "2026-02-03T10:00:00Z",
            "sent_at": "2026-02-03T10:00:00Z", "delivered_at": "2026-02-03T10:00:01Z",
            "poll": {"options": [option("o1", "Pizza", OURS, (AVA,)), option("o2", hostile("THEIRS"), AVAS)],
                     "total_voters": 1}}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "poll.delivered", data):
        ours, theirs = doc["poll"]["options"]
        assert (ours["text"], ours["votes"], ours["voters"][0]["handle"]) == ("Pizza", 1, AVA)
        assert "ZQTHEIRSZQ" in fenced_words(theirs) and doc["poll"]["total_voters"] == 1


async def test_a_vote_says_who_voted_for_which_option(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"chat": CHAT_REF, "direction": "inbound", "message_id": "poll-1", "option_id": "o2",
            "sender_handle": AVAS, "service": "iMessage"}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "poll.vote.added", data):
        assert (doc["from"], doc["chat_id"], doc["message_id"], doc["vote"]) == (
            AVA,
            CHAT,
            "poll-1",
            {"option_id": "o2"},
        )


async def test_a_failed_poll_says_why_with_the_code_meaning_and_fix(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"chat": CHAT_REF, "direction": "outbound", "message_id": "poll-1", "sender_handle": OURS,
            "service": "iMessage", "error": {"code": 4001, "message": "Delivery failed"},
            "failed_at": "2026-02-03T10:00:02Z", "poll": {"options": [], "total_voters": 0}}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "poll.failed", data):
        failure = doc["failure"]
        assert (failure["code"], failure["at"]) == (4001, "2026-02-03T10:00:02Z")
        assert failure["meaning"] and failure["fix"]


async def test_a_sticker_on_a_poll_is_shown_as_their_reaction_fenced(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"chat_id": CHAT, "message_id": "poll-1", "is_from_me": False, "from_handle": AVAS,
            "reaction_type": "sticker", "service": "iMessage",
            "sticker": {"url": url("PSTICKER"), "file_name": hostile("PSTICKERFILE")}}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "poll.reaction.added", data):
        assert (doc["from"], doc["message_id"], doc["reaction"]["type"]) == (AVA, "poll-1", "sticker")
        assert "ZQPSTICKERZQ" in fenced_words(doc)


@pytest.mark.parametrize("status", ["started", "stopped"])
async def test_location_sharing_says_who_shares_with_which_line_and_when(
    sandbox: Sandbox, tmp_path: Path, status: str
) -> None:
    when = {"began_at": "2026-02-03T10:00:00Z", "ends_at": None} if status == "started" else {
        "began_at": "2026-02-03T10:00:00Z", "ended_at": "2026-02-03T11:00:00Z"}  # fmt: skip
    data = {"shared_by": AVA, "shared_with": LINE, "chat_id": CHAT, **when}
    for doc in await shown(sandbox, tmp_path, f"location.sharing.{status}", data):
        sharing = doc["location_sharing"]
        assert (doc["from"], doc["chat_id"], sharing["status"]) == (AVA, CHAT, status)
        assert (sharing["shared_by"], sharing["shared_with"]) == (AVA, LINE)
        assert sharing["began_at"] == "2026-02-03T10:00:00Z"


async def test_a_contact_card_someone_shares_is_fenced_under_their_name(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"first_name": hostile("FIRST"), "last_name": hostile("LAST"), "owner_handle": LINE,
            "sender_handle": AVA, "media_url": url("CARDPHOTO")}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "contact_card.received", data):
        assert doc["from"] == AVA and doc["untrusted_content"]["from"] == AVA
        card = doc["untrusted_content"]["untrusted_data"]["contact_card"]
        assert (
            "ZQFIRSTZQ" in card["first_name"]
            and "ZQLASTZQ" in card["last_name"]
            and "ZQCARDPHOTOZQ" in card["media_url"]
        )


async def test_a_chat_background_another_participant_set_is_fenced(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"chat": {**CHAT_REF, "is_group": True}, "actor_handle": AVAS,
            "background": {"type": "photo", "image_url": url("BGPHOTO")}}  # fmt: skip
    for doc in await shown(sandbox, tmp_path, "chat.background_updated", data):
        assert (doc["from"], doc["chat_id"]) == (AVA, CHAT)
        assert "ZQBGPHOTOZQ" in fenced_words(doc)


async def test_a_background_change_that_failed_says_why(sandbox: Sandbox, tmp_path: Path) -> None:
    data = {"chat_id": CHAT, "error_code": 4001, "failed_at": "2026-02-03T10:00:02Z"}
    for doc in await shown(sandbox, tmp_path, "chat.background_update_failed", data):
        assert (doc["chat_id"], doc["failure"]["code"]) == (CHAT, 4001) and doc["failure"]["fix"]


@pytest.mark.parametrize("status", ["assigned", "released"])
async def test_a_line_assigned_or_released_names_the_line(sandbox: Sandbox, tmp_path: Path, status: str) -> None:
    data = {"phone_number": "+15550100009", "changed_at": "2026-02-03T10:00:00Z"}
    for doc in await shown(sandbox, tmp_path, f"phone_number.{status}", data):
        assert doc["line"] == {"phone_number": "+15550100009", "status": status, "at": "2026-02-03T10:00:00Z"}


async def test_a_vote_on_our_poll_reaches_the_model_from_the_sandbox(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, settings_for(tmp_path / "db.sqlite3")) as (client, _):
        chat_id = await start_chat(client, "lunch?")
        poll = tool_doc(
            await client.call_tool(
                "create_poll", {"chat_id": chat_id, "poll": {"options": [{"text": "Pizza"}, {"text": "Sushi"}]}}
            )
        )
        got = tool_doc(
            await client.call_tool(
                "wait_for_event", {"chat_id": chat_id, "since": "0", "types": ["poll.vote.added"], "timeout": 5}
            )
        )
    assert not got["timed_out"], "Ava's vote never reached the server"
    vote = got["event"]
    assert (vote["from"], vote["message_id"]) == (AVA, poll["message_id"])
    assert vote["vote"] == {"option_id": poll["poll"]["options"][0]["option_id"]}  # she votes for the first
