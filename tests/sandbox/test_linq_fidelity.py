"""Issue 17 items 1-9 (+ issue 11 item 13): wherever the sandbox was kinder than Linq.

Each test states Linq's documented behaviour (api-catalog.md) and failed on the old sandbox.
"""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import code, create, text
from sandbox_oas import event_errors

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
AVA, SAM, STEVE, RITA = "+15551230001", "+15551230002", "+15551230003", "+15551230004"
OUTSIDER_SMS_ONLY = "+15557770009"  # outside the cast, last digit 9: SMS only


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


def event_types(sandbox: Sandbox, message_id: str | None = None) -> list[str]:
    return [
        e.event_type
        for e in sandbox.world.events
        if message_id is None or message_id in (e.data.get("id"), e.data.get("message_id"))
    ]


# 1. delete removes Linq's record only ------------------------------------------------------------
async def test_deleting_a_pending_message_still_delivers_it(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    message_id = chat["message"]["id"]
    assert (await http.delete(f"/v3/messages/{message_id}")).status_code == 204
    await advance_clock(sandbox.world, 5)
    received = [d for d in sandbox.world.deliveries if d["message_id"] == message_id]
    assert [d["to"] for d in received] == [AVA]
    assert (await http.get(f"/v3/messages/{message_id}")).status_code == 404


# 3. the capability check and the send agree --------------------------------------------------------
async def test_imessage_only_send_to_a_number_the_check_says_lacks_imessage_fails(http: httpx.AsyncClient) -> None:
    check = await http.post("/v3/capability/check_imessage", json={"address": OUTSIDER_SMS_ONLY})
    assert check.json()["available"] is False
    r = await http.post(
        "/v3/chats", json={"from": LINE, "to": [OUTSIDER_SMS_ONLY], "message": text("hi", preferred_service="iMessage")}
    )
    assert code(r) == (422, 4005)


async def test_a_send_to_a_number_outside_the_cast_uses_the_service_the_check_selects(
    http: httpx.AsyncClient,
) -> None:
    check = await http.post("/v3/capability/check_imessage", json={"address": OUTSIDER_SMS_ONLY})
    chat = await create(http, [OUTSIDER_SMS_ONLY])
    assert chat["service"] == check.json()["selected_service"] == "SMS"


# 4. receipts only for iMessage 1:1 -------------------------------------------------------------------
async def test_sms_direct_chat_gets_no_delivered_receipt(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [SAM])
    await advance_clock(sandbox.world, 5)
    assert "message.delivered" not in event_types(sandbox, chat["message"]["id"])
    assert (await http.get(f"/v3/messages/{chat['message']['id']}")).json()["delivery_status"] == "sent"


async def test_rcs_direct_chat_gets_no_delivered_or_read_receipt(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [RITA])
    assert chat["service"] == "RCS"
    await advance_clock(sandbox.world, 5)
    seen = event_types(sandbox, chat["message"]["id"])
    assert "message.delivered" not in seen and "message.read" not in seen


async def test_imessage_direct_chat_gets_delivered_and_read(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 5)
    seen = event_types(sandbox, chat["message"]["id"])
    assert seen[:3] == ["message.sent", "message.delivered", "message.read"]


async def test_a_person_without_receipts_still_answers(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """No receipt is not no reply: Sam (SMS, echo) still answers."""
    await create(http, [SAM], text("ping"))
    await advance_clock(sandbox.world, 5)
    assert "message.received" in event_types(sandbox)


# 5. handles: ASCII digits only, no trailing newline -------------------------------------------------
@pytest.mark.parametrize(
    "handle",
    ["+1555123000\uff11", "+\u0661\u0665\u0665\u0665\u0661\u0662\u0663\u0660\u0660\u0660\u0661", "+15551239999\n",
     "bob@example.com\n"],
    ids=["fullwidth-digit", "arabic-indic-digits", "phone-newline", "email-newline"],
)  # fmt: skip
async def test_a_handle_with_unicode_digits_or_a_newline_is_400_1002(http: httpx.AsyncClient, handle: str) -> None:
    r = await http.post("/v3/chats", json={"from": LINE, "to": [handle], "message": text("hi")})
    assert code(r) == (400, 1002)


async def test_a_newline_handle_never_becomes_a_separate_chat(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await create(http, [AVA])
    await http.post("/v3/chats", json={"from": LINE, "to": [AVA + "\n"], "message": text("again")})
    assert len(sandbox.world.chats) == 1


async def test_a_sending_line_with_a_newline_is_400_1002_not_403(http: httpx.AsyncClient) -> None:
    r = await http.post("/v3/chats", json={"from": LINE + "\n", "to": [AVA], "message": text("hi")})
    assert code(r) == (400, 1002)


async def test_send_to_handles_refuses_unicode_digits(http: httpx.AsyncClient) -> None:
    r = await http.post("/v3/messages", json={"to": ["+1555123000\uff11"], "message": text("hi")})
    assert code(r) == (400, 1002)


async def test_add_participant_refuses_a_trailing_newline(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA, RITA, "+15557770001"])
    r = await http.post(f"/v3/chats/{chat['id']}/participants", json={"handle": "+15557770002\n"})
    assert code(r) == (400, 1002)


# 6. blocked handles: direct sends only --------------------------------------------------------------
async def test_a_group_send_that_includes_a_blocked_handle_goes_through(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    chat = await create(http, [AVA, "+15557770001"])
    await http.post("/v3/blocked_handles", json={"handle": "+15557770001"})
    r = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text("still the group")})
    assert r.status_code == 202


async def test_a_direct_send_to_a_blocked_handle_is_403_2026(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    await http.post("/v3/blocked_handles", json={"handle": AVA})
    r = await http.post(f"/v3/chats/{chat['id']}/messages", json={"message": text("hi")})
    assert code(r) == (403, 2026)


async def test_a_group_of_only_blocked_handles_is_refused(http: httpx.AsyncClient) -> None:
    """Our stricter reading: a group send must include at least one unblocked member."""
    for handle in (AVA, RITA):
        await http.post("/v3/blocked_handles", json={"handle": handle})
    r = await http.post("/v3/chats", json={"from": LINE, "to": [AVA, RITA], "message": text("hi")})
    assert code(r) == (403, 2026)


# 7. voice memos: 10 MB, seven formats -----------------------------------------------------------------
async def _audio_attachment(http: httpx.AsyncClient, size: int) -> str:
    r = await http.post(
        "/v3/attachments", json={"filename": "memo.m4a", "content_type": "audio/x-m4a", "size_bytes": size}
    )
    assert r.status_code == 200, r.text
    slot = r.json()
    put = await http.put(slot["upload_url"], content=b"\0" * size, headers=slot["required_headers"])
    assert put.status_code in (200, 204), put.text
    return str(slot["attachment_id"])


async def test_a_voice_memo_over_10_mb_is_413_5001(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    attachment_id = await _audio_attachment(http, 10 * 1024 * 1024 + 1)
    r = await http.post(f"/v3/chats/{chat['id']}/voicememo", json={"attachment_id": attachment_id})
    assert code(r) == (413, 5001)


async def test_a_voice_memo_of_10_mb_is_accepted(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    attachment_id = await _audio_attachment(http, 10 * 1024 * 1024)
    r = await http.post(f"/v3/chats/{chat['id']}/voicememo", json={"attachment_id": attachment_id})
    assert r.status_code == 202


@pytest.mark.parametrize("name", ["memo.ogg", "memo.flac", "memo", "memo.opus"])
async def test_a_voice_memo_url_in_another_format_is_400_5004(http: httpx.AsyncClient, name: str) -> None:
    chat = await create(http, [AVA])
    r = await http.post(f"/v3/chats/{chat['id']}/voicememo", json={"voice_memo_url": f"https://cdn.example/{name}"})
    assert code(r) == (400, 5004)


@pytest.mark.parametrize("ext", ["mp3", "m4a", "aac", "caf", "wav", "aiff", "amr"])
async def test_a_voice_memo_url_in_a_linq_format_is_accepted(http: httpx.AsyncClient, ext: str) -> None:
    chat = await create(http, [AVA])
    r = await http.post(f"/v3/chats/{chat['id']}/voicememo", json={"voice_memo_url": f"https://cdn.example/m.{ext}"})
    assert r.status_code == 202


# 8. editing is an iMessage feature --------------------------------------------------------------------
@pytest.mark.parametrize("person", [SAM, RITA], ids=["sms", "rcs"])
async def test_editing_an_sms_or_rcs_message_is_409_2017(
    http: httpx.AsyncClient, sandbox: Sandbox, person: str
) -> None:
    chat = await create(http, [person])
    await advance_clock(sandbox.world, 0.1)
    r = await http.patch(f"/v3/messages/{chat['message']['id']}", json={"text": "edited"})
    assert code(r) == (409, 2017)
    assert "message.edited" not in event_types(sandbox)


# 9. smaller ones ------------------------------------------------------------------------------------
APP_CARD = {
    "type": "imessage_app",
    "app": {"bundle_id": "com.x.app", "name": "X", "team_id": "ABCDE12345"},
    "layout": {"caption": "Play"},
}


async def test_an_app_card_to_a_recipient_without_imessage_is_422_4005(http: httpx.AsyncClient) -> None:
    r = await http.post("/v3/chats", json={"from": LINE, "to": [RITA], "message": {"parts": [APP_CARD]}})
    assert code(r) == (422, 4005)


async def test_an_sms_group_of_11_participants_is_refused(http: httpx.AsyncClient) -> None:
    to = [f"+15558880{i}9" for i in range(10)]  # 10 recipients + you; all end in 9: SMS only
    r = await http.post("/v3/chats", json={"from": LINE, "to": to, "message": text("hi all")})
    assert code(r) == (400, 1005)


async def test_an_sms_group_of_10_participants_is_accepted(http: httpx.AsyncClient) -> None:
    to = [f"+15558880{i}9" for i in range(9)]
    r = await http.post("/v3/chats", json={"from": LINE, "to": to, "message": text("hi all")})
    assert r.status_code == 201 and r.json()["chat"]["service"] == "SMS"


async def test_a_33rd_group_member_is_refused(http: httpx.AsyncClient) -> None:
    to = [f"+1555888{i:03d}0" for i in range(31)]  # 31 recipients + you; end in 0: iMessage
    chat = await create(http, to)
    assert len(chat["handles"]) == 32
    r = await http.post(f"/v3/chats/{chat['id']}/participants", json={"handle": "+15558889990"})
    assert code(r) == (409, 2015)


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "typing"), ("DELETE", "typing"), ("POST", "read")],
    ids=["start-typing", "stop-typing", "mark-read"],
)
async def test_typing_and_mark_read_on_a_flagged_line_are_403_2027(
    http: httpx.AsyncClient, sandbox: Sandbox, method: str, path: str
) -> None:
    chat = await create(http, [AVA])
    line = sandbox.world.line_by_number(LINE)
    assert line is not None
    line["status"] = "FLAGGED"
    r = await http.request(method, f"/v3/chats/{chat['id']}/{path}")
    assert code(r) == (403, 2027)


async def test_2025_message_payloads_match_the_documented_schema(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """MessagePayload.effect / .reply_to are objects: absent when unset, never null."""
    await create(http, [AVA], text("hi"))
    await advance_clock(sandbox.world, 5)
    message_events = [e for e in sandbox.world.events if e.event_type.startswith("message.")]
    assert {e.event_type for e in message_events} >= {"message.sent", "message.delivered", "message.received"}
    for event in message_events:
        assert event_errors(event, "2025-01-01") == [], event.event_type
