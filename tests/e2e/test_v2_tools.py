"""The legacy V2 toolset end to end: every V2 operation through the real server, against the
sandbox's ``/api/partner/v2`` over the same world as V3 (one test per operation)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
from e2e_helpers import AVA, LINE, PERMISSIVE, SAM, connected, data
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox import typing_bubble
from linq_mcp.sandbox.app import Sandbox

V2_ONLY = Settings(sandbox=True, toolsets=("v2",), safety=PERMISSIVE)


@asynccontextmanager
async def v2_client(sandbox: Sandbox) -> AsyncIterator[Client]:
    async with connected(sandbox, V2_ONLY) as (client, _):
        yield client


async def call(client: Client, tool: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(data(await client.call_tool(tool, args or {})))


async def error(client: Client, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, args)
    assert result.is_error, result.structured_content
    return dict(result.structured_content or {})


async def start_chat(client: Client, text: str = "Dinner on Friday?", to: str = AVA) -> dict[str, Any]:
    created = await call(
        client, "v2_create_chat", {"send_from": LINE, "chat": {"phone_numbers": [to]}, "message": {"text": text}}
    )
    return dict(created["data"])


def world_chat(sandbox: Sandbox, chat_id: int) -> dict[str, Any]:
    return sandbox.world.chats[sandbox.world.v2_refs[f"chat:{chat_id}"]]


async def replies(client: Client, chat_id: int, count: int = 1) -> list[dict[str, Any]]:
    """The chat's messages once ``count`` of them came from the other person (the sandbox's timers are fast)."""
    with anyio.fail_after(5):
        while True:
            listed = await call(client, "v2_list_chat_messages", {"chat_id": chat_id, "sort": "asc"})
            theirs = [m for m in listed["data"] if "untrusted_content" in m]
            if len(theirs) >= count:
                return list(listed["data"])
            await anyio.sleep(0.05)


# chats ---------------------------------------------------------------------------------
async def test_v2_create_chat_finds_the_same_chat_the_second_time(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        first = await start_chat(client, "Hello! This is my first message via the Linq API.")
        again = await start_chat(client, "And a second one")
        # A phone receives on the sandbox's "sent" timer, not at once: wait for both deliveries.
        with anyio.move_on_after(10):
            while len([d for d in sandbox.world.deliveries if d.get("kind") != "contact_card"]) < 2:
                await anyio.sleep(0.05)
    assert isinstance(first["id"], int) and again["id"] == first["id"]
    assert first["chat_messages"]["text"] == "Hello! This is my first message via the Linq API."
    assert [h["phone_number"] for h in first["chat_handles"]] == [AVA]
    assert [d["to"] for d in sandbox.world.deliveries if d.get("kind") != "contact_card"][:2] == [AVA, AVA]


async def test_v2_list_chats_pages_with_meta(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        await start_chat(client, to=AVA)
        await start_chat(client, to=SAM)
        page = await call(client, "v2_list_chats", {"phone_number": LINE, "per_page": 1, "page": 2})
    assert page["meta"] == {"page": 2, "total_pages": 2, "total_count": 2, "per_page": 1}
    assert len(page["data"]) == 1


async def test_v2_get_chat_is_the_v3_chat_with_an_integer_id(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        got = await call(client, "v2_get_chat", {"chat_id": chat["id"]})
    assert got["data"]["id"] == chat["id"]
    assert world_chat(sandbox, chat["id"])["handles"][1]["handle"] == AVA


async def test_v2_find_chat_is_null_until_the_chat_exists(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        before = await call(client, "v2_find_chat", {"phone_number": LINE, "phone_numbers": [AVA]})
        chat = await start_chat(client)
        after = await call(client, "v2_find_chat", {"phone_number": LINE, "phone_numbers": [AVA]})
    assert before["data"]["chat"] is None
    assert after["data"]["chat"]["id"] == chat["id"]


async def test_v2_mark_chat_read_marks_their_messages_read(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        await replies(client, chat["id"])
        await call(client, "v2_mark_chat_read", {"chat_id": chat["id"]})
        listed = await call(client, "v2_list_chat_messages", {"chat_id": chat["id"]})
    assert all(m["is_read"] for m in listed["data"] if "untrusted_content" in m)


async def test_v2_start_typing_shows_the_bubble(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        await call(client, "v2_start_typing", {"chat_id": chat["id"]})
        shown = typing_bubble.shown(sandbox.world, world_chat(sandbox, chat["id"]))
    assert shown


async def test_v2_stop_typing_hides_the_bubble(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        await call(client, "v2_start_typing", {"chat_id": chat["id"]})
        await call(client, "v2_stop_typing", {"chat_id": chat["id"]})
    assert not typing_bubble.shown(sandbox.world, world_chat(sandbox, chat["id"]))


async def test_v2_share_contact_delivers_the_lines_card(sandbox: Sandbox, http: httpx.AsyncClient) -> None:
    created = await http.post("/v3/contact_card", json={"phone_number": LINE, "first_name": "Pat"})
    assert created.status_code in (200, 201), created.text
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        await call(client, "v2_share_contact", {"chat_id": chat["id"]})
    cards = [d for d in sandbox.world.deliveries if d.get("kind") == "contact_card"]
    assert [(c["to"], c["parts"][0]["first_name"]) for c in cards] == [(AVA, "Pat")]


# chat messages ---------------------------------------------------------------------------
async def test_v2_list_chat_messages_sorts_and_pages(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client, "first")
        await call(client, "v2_send_chat_message", {"chat_id": chat["id"], "message": {"text": "second"}})
        oldest = await call(client, "v2_list_chat_messages", {"chat_id": chat["id"], "sort": "asc", "per_page": 1})
    assert oldest["data"][0]["text"] == "first"
    assert oldest["meta"]["per_page"] == 1 and oldest["meta"]["total_count"] >= 2


async def test_v2_send_chat_message_sends_text_and_attachment_urls(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        sent = await call(
            client,
            "v2_send_chat_message",
            {
                "chat_id": chat["id"],
                "message": {"text": "Check out this image!", "attachment_urls": ["https://cdn.example.com/i.jpg"]},
            },
        )
        ref = sandbox.world.v2_refs[f"message:{sent['data']['id']}"]
        with anyio.move_on_after(10):  # the phone receives on the sandbox's "sent" timer
            while not any(d.get("message_id") == ref for d in sandbox.world.deliveries):
                await anyio.sleep(0.05)
    message = sent["data"]
    assert message["text"] == "Check out this image!"
    assert [a["url"] for a in message["attachments"]] == ["https://cdn.example.com/i.jpg"]
    got = [
        d for d in sandbox.world.deliveries if d.get("message_id") == sandbox.world.v2_refs[f"message:{message['id']}"]
    ]
    assert got and got[0]["to"] == AVA


async def test_v2_send_chat_message_with_the_same_key_sends_once(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        args = {"chat_id": chat["id"], "message": {"text": "only once", "idempotency_key": "order-1234_retry"}}
        first = await call(client, "v2_send_chat_message", args)
        second = await call(client, "v2_send_chat_message", args)
    assert first["data"]["id"] == second["data"]["id"]
    texts = [m for m in sandbox.world.messages.values() if m["parts"] and m["parts"][0].get("value") == "only once"]
    assert len(texts) == 1


async def test_v2_get_chat_message_returns_one_message(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client, "look at me")
        message_id = chat["chat_messages"]["id"]
        got = await call(client, "v2_get_chat_message", {"chat_id": chat["id"], "id": message_id})
    assert got["data"]["id"] == message_id and got["data"]["text"] == "look at me"


async def test_v2_delete_chat_message_removes_it(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        message_id = chat["chat_messages"]["id"]
        await call(client, "v2_delete_chat_message", {"chat_id": chat["id"], "id": message_id})
        gone = await error(client, "v2_get_chat_message", {"chat_id": chat["id"], "id": message_id})
    assert gone["http_status"] == 404 and gone["code"] == "chat_message_not_found"


async def test_v2_edit_chat_message_replaces_the_text(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client, "typo hree")
        message_id = chat["chat_messages"]["id"]
        edited = await call(client, "v2_edit_chat_message", {"chat_id": chat["id"], "id": message_id, "text": "here"})
        got = await call(client, "v2_get_chat_message", {"chat_id": chat["id"], "id": message_id})
    assert edited["data"] == {"id": message_id, "text": "here"}
    assert got["data"]["text"] == "here" and got["data"]["edited_at"]


async def test_v2_react_to_chat_message_adds_a_tapback(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        message_id = chat["chat_messages"]["id"]
        args = {"chat_message_id": message_id, "chat_id": chat["id"], "type": "love", "operation": "add"}
        reaction = await call(client, "v2_react_to_chat_message", args)
    assert reaction["data"]["reaction"] == "love" and reaction["data"]["is_from_me"] is True
    assert reaction["data"]["chat_message_id"] == message_id


async def test_v2_get_reaction_reads_it_back(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        chat = await start_chat(client)
        args = {
            "chat_message_id": chat["chat_messages"]["id"],
            "chat_id": chat["id"],
            "type": "like",
            "operation": "add",
        }
        reaction = await call(client, "v2_react_to_chat_message", args)
        got = await call(client, "v2_get_reaction", {"reaction_id": reaction["data"]["id"]})
    assert got["data"] == reaction["data"]


# contacts ----------------------------------------------------------------------------------
async def new_contact(client: Client, **fields: str) -> dict[str, Any]:
    created = await call(client, "v2_create_contact", {"contact": fields or {"first_name": "Ann", "phone_number": AVA}})
    return dict(created["data"])


async def test_v2_create_contact_stores_it_with_an_owner(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        contact = await new_contact(client, first_name="Ann", last_name="Lee", email="ann@example.com")
    assert isinstance(contact["id"], int) and contact["full_name"] == "Ann Lee"
    assert contact["contact_owner"]["email"]


async def test_v2_create_contact_without_a_name_email_or_phone_is_refused(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        refused = await error(client, "v2_create_contact", {"contact": {"company": "Acme"}})
    assert refused["http_status"] == 422 and refused["code"] == "validation_failed"
    assert "first_name" in refused["message"] and refused["fix"]


async def test_v2_list_contacts_pages_with_its_own_pagination(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        for name in ("Ann", "Bo", "Cy"):
            await new_contact(client, first_name=name)
        page = await call(client, "v2_list_contacts", {"per_page": 2, "page": 2})
    assert page["pagination"] == {"current_page": 2, "per_page": 2, "total_pages": 2, "total_count": 3}
    assert [c["first_name"] for c in page["contacts"]] == ["Cy"]


async def test_v2_get_contact_reads_one(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        contact = await new_contact(client)
        got = await call(client, "v2_get_contact", {"id": contact["id"]})
    assert got["data"] == contact


async def test_v2_update_contact_changes_only_the_given_fields(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        contact = await new_contact(client)
        updated = await call(client, "v2_update_contact", {"id": contact["id"], "contact": {"company": "Acme"}})
    assert updated["data"]["company"] == "Acme" and updated["data"]["first_name"] == "Ann"


async def test_v2_delete_contact_removes_it(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        contact = await new_contact(client)
        await call(client, "v2_delete_contact", {"id": contact["id"]})
        gone = await error(client, "v2_get_contact", {"id": contact["id"]})
    assert gone["http_status"] == 404 and gone["code"] == "contact_not_found"


async def test_v2_find_contact_matches_a_normalised_phone_number(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        contact = await new_contact(client, first_name="Ann", phone_number="5551230001")
        found = await call(client, "v2_find_contact", {"phone_number": AVA})
        missing = await call(client, "v2_find_contact", {"email": "nobody@example.com"})
    assert found["id"] == contact["id"] and found["phone_number"] == AVA
    assert missing == {"contact": None}


# phone numbers ---------------------------------------------------------------------------
async def test_v2_list_phone_numbers_shows_the_lines(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        listed = await call(client, "v2_list_phone_numbers")
    numbers = [n["phone_number"] for n in listed["phone_numbers"]]
    assert LINE in numbers and all(isinstance(n["id"], int) for n in listed["phone_numbers"])


async def test_v2_update_phone_number_sets_and_clears_forwarding(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        line = next(
            n for n in (await call(client, "v2_list_phone_numbers"))["phone_numbers"] if n["phone_number"] == LINE
        )
        set_ = await call(client, "v2_update_phone_number", {"id": line["id"], "forwarding_number": "+15557654321"})
        cleared = await call(client, "v2_update_phone_number", {"id": line["id"], "forwarding_number": ""})
    assert set_["forwarding_number"] == "+15557654321"
    assert cleared["forwarding_number"] is None


# webhook subscriptions -------------------------------------------------------------------
SUBSCRIPTION = {"webhook_url": "https://your-app.example/webhooks/linq", "events": ["message.received"], "version": 2}


async def test_v2_create_webhook_subscription_keeps_the_secret_private(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        created = await call(
            client, "v2_create_webhook_subscription", {"webhook_subscription": {**SUBSCRIPTION, "secret": "s" * 24}}
        )
    sub = created["webhook_subscription"]
    assert sub["secret_configured"] is True and "secret" not in sub and isinstance(sub["id"], int)


async def test_v2_list_webhook_subscriptions_lists_them(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        created = await call(client, "v2_create_webhook_subscription", {"webhook_subscription": SUBSCRIPTION})
        listed = await call(client, "v2_list_webhook_subscriptions")
    assert [s["id"] for s in listed["webhook_subscriptions"]] == [created["webhook_subscription"]["id"]]


async def test_v2_update_webhook_subscription_pauses_it(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        created = await call(client, "v2_create_webhook_subscription", {"webhook_subscription": SUBSCRIPTION})
        sub_id = created["webhook_subscription"]["id"]
        updated = await call(
            client,
            "v2_update_webhook_subscription",
            {"webhook_subscription_id": sub_id, "webhook_subscription": {"active": False}},
        )
    assert updated["webhook_subscription"]["active"] is False


async def test_v2_delete_webhook_subscription_removes_it(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        created = await call(client, "v2_create_webhook_subscription", {"webhook_subscription": SUBSCRIPTION})
        await call(
            client, "v2_delete_webhook_subscription", {"webhook_subscription_id": created["webhook_subscription"]["id"]}
        )
        listed = await call(client, "v2_list_webhook_subscriptions")
    assert listed["webhook_subscriptions"] == []


# utilities -------------------------------------------------------------------------------
async def test_v2_check_imessage_availability_answers_then_limits_to_one_per_ten_seconds(sandbox: Sandbox) -> None:
    no_retries = Settings(sandbox=True, toolsets=("v2",), safety=PERMISSIVE, max_retries=0)  # show the 429
    async with connected(sandbox, no_retries) as (client, _):
        ava = await call(client, "v2_check_imessage_availability", {"phone_number": AVA})
        limited = await error(client, "v2_check_imessage_availability", {"phone_number": SAM})
    assert ava == {"available": True, "phone_number": AVA}
    assert limited["error"] == "rate_limited" and limited["code"] == "rate_limit_exceeded"
    assert limited["http_status"] == 429


# errors ----------------------------------------------------------------------------------
async def test_v2_errors_name_the_code_meaning_and_fix(sandbox: Sandbox) -> None:
    async with v2_client(sandbox) as client:
        missing = await error(client, "v2_get_chat", {"chat_id": 999999})
    assert missing["code"] == "chat_not_found" and missing["http_status"] == 404
    assert missing["meaning"] and missing["fix"] and missing["retryable"] is False
