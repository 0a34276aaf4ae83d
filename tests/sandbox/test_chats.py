"""Chat operations through the official SDK: shapes validate, errors carry Linq's codes."""

from __future__ import annotations

from typing import Any

import linq
import pytest
from linq.types.chat import Chat
from linq.types.chat_create_response import ChatCreateResponse
from linq.types.chat_send_voicememo_response import ChatSendVoicememoResponse
from linq.types.chat_update_response import ChatUpdateResponse
from linq.types.chats.participant_add_response import ParticipantAddResponse

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
RCS_LINE = "+15550100002"
AVA, SAM, STEVE, RITA = "+15551230001", "+15551230002", "+15551230003", "+15551230004"
OTHERS = ["+15557770001", "+15557770002", "+15557770003"]


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


async def create(sdk: Any, to: list[str], message: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    raw = await sdk.chats.with_raw_response.create(
        from_=kw.pop("from_", LINE), to=to, message=message or text("hi"), **kw
    )
    body: dict[str, Any] = raw.http_response.json()
    return body


async def code_of(call: Any, exc_type: type[Exception]) -> int:
    with pytest.raises(exc_type) as info:
        await call
    body = info.value.body  # type: ignore[attr-defined]
    assert body["status"] == info.value.status_code  # type: ignore[attr-defined]
    return int(body["code"])


async def test_create_chat_returns_201_and_validates(sdk: Any) -> None:
    raw = await sdk.chats.with_raw_response.create(from_=LINE, to=[AVA], message=text("hello"))
    assert raw.http_response.status_code == 201
    model = ChatCreateResponse.model_validate(raw.http_response.json())
    assert model.chat.message.delivery_status == "pending"
    assert model.chat.service == "iMessage"


async def test_handles_include_our_line_marked_is_me(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    mine = [h for h in body["chat"]["handles"] if h["is_me"]]
    assert [h["handle"] for h in mine] == [LINE]


async def test_repeating_create_reuses_the_chat(sdk: Any) -> None:
    first = await create(sdk, [AVA])
    second = await create(sdk, [AVA], text("again"))
    assert first["chat"]["id"] == second["chat"]["id"]


async def test_named_group_is_excluded_from_matching(sdk: Any, sandbox: Sandbox) -> None:
    first = await create(sdk, OTHERS[:2])
    await sdk.chats.update(first["chat"]["id"], display_name="Team")
    await advance_clock(sandbox.world, 1)
    second = await create(sdk, OTHERS[:2])
    assert second["chat"]["id"] != first["chat"]["id"]


async def test_changed_participants_give_a_new_chat(sdk: Any) -> None:
    first = await create(sdk, OTHERS)
    await sdk.chats.participants.add(first["chat"]["id"], handle="+15557770005")  # ends 0-5: takes iMessage
    second = await create(sdk, OTHERS)
    assert second["chat"]["id"] != first["chat"]["id"]


async def test_service_falls_back_to_sms_for_an_sms_only_person(sdk: Any) -> None:
    body = await create(sdk, [SAM])
    assert body["chat"]["service"] == "SMS"


async def test_rcs_person_gets_rcs(sdk: Any) -> None:
    body = await create(sdk, [RITA])
    assert body["chat"]["service"] == "RCS"


async def test_preferred_imessage_to_sms_only_person_is_422_4005(sdk: Any, sandbox: Sandbox) -> None:
    message = {**text("hi"), "preferred_service": "iMessage"}
    call = sdk.chats.create(from_=LINE, to=[SAM], message=message)
    assert await code_of(call, linq.UnprocessableEntityError) == 4005
    assert sandbox.world.chats == {}


async def test_link_part_in_first_message_is_1005(sdk: Any) -> None:
    call = sdk.chats.create(from_=LINE, to=[AVA], message={"parts": [{"type": "link", "value": "https://x.io"}]})
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_url_in_first_message_text_is_1005(sdk: Any) -> None:
    call = sdk.chats.create(from_=LINE, to=[AVA], message=text("see https://example.com"))
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_effect_in_first_message_is_1005(sdk: Any) -> None:
    message = {**text("hi"), "effect": {"type": "screen", "name": "confetti"}}
    assert await code_of(sdk.chats.create(from_=LINE, to=[AVA], message=message), linq.BadRequestError) == 1005


async def test_link_allowed_when_the_chat_already_exists(sdk: Any) -> None:
    await create(sdk, [AVA])
    body = await create(sdk, [AVA], text("see https://example.com"))
    assert body["chat"]["message"]["parts"][0]["value"].endswith("example.com")


async def test_bad_e164_is_1002(sdk: Any) -> None:
    assert await code_of(sdk.chats.create(from_=LINE, to=["5551234"], message=text("x")), linq.BadRequestError) == 1002


async def test_missing_to_is_1001(sdk: Any) -> None:
    assert await code_of(sdk.chats.create(from_=LINE, to=[], message=text("x")), linq.BadRequestError) == 1001


async def test_two_text_parts_in_a_row_is_1004(sdk: Any) -> None:
    message = {"parts": [{"type": "text", "value": "a"}, {"type": "text", "value": "b"}]}
    assert await code_of(sdk.chats.create(from_=LINE, to=[AVA], message=message), linq.BadRequestError) == 1004


async def test_from_not_our_line_is_403_2006(sdk: Any) -> None:
    call = sdk.chats.create(from_="+15559990000", to=[AVA], message=text("x"))
    assert await code_of(call, linq.PermissionDeniedError) == 2006


async def test_malformed_json_is_1003_not_500(http: Any) -> None:
    resp = await http.post("/v3/chats", content=b"{nope", headers={"content-type": "application/json"})
    assert (resp.status_code, resp.json()["error"]["code"]) == (400, 1003)


async def test_opted_out_recipient_is_403_2024(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.opted_out.add(AVA)
    assert await code_of(sdk.chats.create(from_=LINE, to=[AVA], message=text("x")), linq.PermissionDeniedError) == 2024


async def test_override_optout_sends_anyway(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.opted_out.add(AVA)
    body = await create(sdk, [AVA], override_optout=True)
    assert body["chat"]["message"]["id"] in sandbox.world.messages


async def test_groups_are_never_blocked_by_opt_out(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.opted_out.add(AVA)
    body = await create(sdk, [AVA, RITA])
    assert body["chat"]["is_group"] is True


async def test_blocked_handle_is_403_2026(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.blocked[AVA] = {"handle": AVA, "blocked_at": sandbox.world.iso()}
    assert await code_of(sdk.chats.create(from_=LINE, to=[AVA], message=text("x")), linq.PermissionDeniedError) == 2026


async def test_flagged_line_is_403_2027(sdk: Any, sandbox: Sandbox) -> None:
    next(iter(sandbox.world.lines.values()))["status"] = "FLAGGED"
    assert await code_of(sdk.chats.create(from_=LINE, to=[AVA], message=text("x")), linq.PermissionDeniedError) == 2027


async def test_mention_in_a_dm_is_409_2023(sdk: Any) -> None:
    message = {"parts": [{"type": "text", "value": "hey Ava", "mention": AVA}]}
    assert await code_of(sdk.chats.create(from_=LINE, to=[AVA], message=message), linq.ConflictError) == 2023


async def test_imessage_app_to_sms_person_is_422_4005(sdk: Any) -> None:
    """No service was forced, so the card fails on the recipient (4005), not on the service (2018)."""
    part = {
        "type": "imessage_app",
        "app": {"bundle_id": "com.x.app", "name": "X", "team_id": "ABCDE12345"},
        "layout": {"caption": "Play"},
    }
    call = sdk.chats.create(from_=LINE, to=[SAM], message={"parts": [part]})
    assert await code_of(call, linq.UnprocessableEntityError) == 4005


async def test_imessage_app_with_sms_forced_is_409_2018(sdk: Any) -> None:
    part = {
        "type": "imessage_app",
        "app": {"bundle_id": "com.x.app", "name": "X", "team_id": "ABCDE12345"},
        "layout": {"caption": "Play"},
    }
    call = sdk.chats.create(from_=LINE, to=[AVA], message={"parts": [part], "preferred_service": "SMS"})
    assert await code_of(call, linq.ConflictError) == 2018


async def test_unknown_chat_is_404_2001(sdk: Any) -> None:
    assert await code_of(sdk.chats.retrieve("00000000-0000-4000-8000-000000000000"), linq.NotFoundError) == 2001


async def test_get_chat_validates(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    raw = await sdk.chats.with_raw_response.retrieve(body["chat"]["id"])
    chat = Chat.model_validate(raw.http_response.json())
    assert chat.id == body["chat"]["id"]


async def test_list_chats_paginator_walks_every_page(sdk: Any) -> None:
    for handle in ["+15557770011", "+15557770012", "+15557770013", "+15557770014", "+15557770015"]:
        await create(sdk, [handle])
    seen = [chat async for chat in sdk.chats.list_chats(limit=2)]
    assert len({c.id for c in seen}) == 5


async def test_list_chats_items_validate_and_cursor_is_opaque_string(sdk: Any) -> None:
    await create(sdk, [AVA])
    await create(sdk, [RITA])
    raw = await sdk.chats.with_raw_response.list_chats(limit=1)
    body = raw.http_response.json()
    Chat.model_validate(body["chats"][0])
    assert isinstance(body["next_cursor"], str)


async def test_list_chats_filters_by_participant(sdk: Any) -> None:
    await create(sdk, [AVA])
    await create(sdk, [RITA])
    seen = [chat async for chat in sdk.chats.list_chats(to=RITA)]
    assert [h.handle for c in seen for h in c.handles if not h.is_me] == [RITA]


async def test_list_chats_limit_out_of_range_is_1005(sdk: Any) -> None:
    assert await code_of(sdk.chats.list_chats(limit=101), linq.BadRequestError) == 1005


async def test_update_dm_is_409_1006(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    assert await code_of(sdk.chats.update(body["chat"]["id"], display_name="x"), linq.ConflictError) == 1006


async def test_group_rename_is_pending_then_evented(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, OTHERS[:2])
    raw = await sdk.chats.with_raw_response.update(body["chat"]["id"], display_name="Crew")
    assert ChatUpdateResponse.model_validate(raw.http_response.json()).status == "pending"
    await advance_clock(sandbox.world, 1)
    renamed = [e for e in sandbox.world.events if e.event_type == "chat.group_name_updated"]
    assert renamed[0].data["new_value"] == "Crew"


async def test_leave_needs_four_participants(sdk: Any) -> None:
    body = await create(sdk, OTHERS[:2])
    assert await code_of(sdk.chats.leave_chat(body["chat"]["id"]), linq.ConflictError) == 2015


async def test_after_leaving_sends_are_409_2013(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, OTHERS)
    chat_id = body["chat"]["id"]
    await sdk.chats.leave_chat(chat_id)
    assert await code_of(sdk.chats.messages.send(chat_id, message=text("x")), linq.ConflictError) == 2013
    assert [e.event_type for e in sandbox.world.events].count("participant.removed") == 1


async def test_add_participant_validates_and_emits(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, OTHERS[:2])
    raw = await sdk.chats.participants.with_raw_response.add(body["chat"]["id"], handle=OTHERS[2])
    assert raw.http_response.status_code == 202
    ParticipantAddResponse.model_validate(raw.http_response.json())
    assert sandbox.world.events[-1].event_type == "participant.added"


async def test_adding_to_a_dm_is_refused(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    assert await code_of(sdk.chats.participants.add(body["chat"]["id"], handle=RITA), linq.ConflictError) == 2016


async def test_cross_service_add_is_refused(sdk: Any) -> None:
    body = await create(sdk, OTHERS[:2])
    assert await code_of(sdk.chats.participants.add(body["chat"]["id"], handle=SAM), linq.ConflictError) == 2017


async def test_remove_must_leave_three_participants(sdk: Any) -> None:
    body = await create(sdk, OTHERS[:2])
    call = sdk.chats.participants.remove(body["chat"]["id"], handle=OTHERS[0])
    assert await code_of(call, linq.ConflictError) == 2015


async def test_remove_participant_marks_them_removed(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, OTHERS)
    await sdk.chats.participants.remove(body["chat"]["id"], handle=OTHERS[0])
    handles = {h["handle"]: h["status"] for h in sandbox.world.chats[body["chat"]["id"]]["handles"]}
    assert handles[OTHERS[0]] == "removed"


async def test_typing_start_and_stop_are_204(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    started = await sdk.chats.typing.with_raw_response.start(body["chat"]["id"])
    stopped = await sdk.chats.typing.with_raw_response.stop(body["chat"]["id"])
    assert (started.http_response.status_code, stopped.http_response.status_code) == (204, 204)


async def test_mark_read_marks_inbound_messages_read(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, [AVA])
    await advance_clock(sandbox.world, 5)
    await sdk.chats.mark_as_read(body["chat"]["id"])
    inbound = [m for m in sandbox.world.messages.values() if not m["is_from_me"]]
    assert inbound and all(m["is_read"] for m in inbound)


async def test_voice_memo_by_url_validates(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    raw = await sdk.chats.with_raw_response.send_voicememo(
        body["chat"]["id"], voice_memo_url="https://cdn.example.com/memo.m4a"
    )
    assert raw.http_response.status_code == 202
    memo = ChatSendVoicememoResponse.model_validate(raw.http_response.json())
    assert memo.voice_memo.to == [AVA]


async def test_voice_memo_needs_exactly_one_source(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    call = sdk.chats.send_voicememo(
        body["chat"]["id"], voice_memo_url="https://x.io/a.m4a", attachment_id="00000000-0000-4000-8000-000000000000"
    )
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_voice_memo_unknown_attachment_is_404_2003(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    call = sdk.chats.send_voicememo(body["chat"]["id"], attachment_id="00000000-0000-4000-8000-000000000000")
    assert await code_of(call, linq.NotFoundError) == 2003


async def test_voice_memo_from_uploaded_attachment(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, [AVA])
    sandbox.world.attachments["a1"] = {
        "id": "a1",
        "filename": "memo.m4a",
        "content_type": "audio/x-m4a",
        "size_bytes": 32000,
        "download_url": "https://cdn.example/a1",
        "_uploaded": True,
    }
    memo = await sdk.chats.send_voicememo(body["chat"]["id"], attachment_id="a1")
    assert memo.voice_memo.voice_memo.id == "a1"


async def test_share_contact_card_without_card_is_404_2012(sdk: Any) -> None:
    body = await create(sdk, [AVA])
    assert await code_of(sdk.chats.share_contact_card(body["chat"]["id"]), linq.NotFoundError) == 2012


async def test_share_contact_card_once_per_five_minutes(sdk: Any, sandbox: Sandbox) -> None:
    body = await create(sdk, [AVA])
    sandbox.world.contact_cards[LINE] = {"phone_number": LINE, "first_name": "Linq", "is_active": True}
    await sdk.chats.share_contact_card(body["chat"]["id"])
    assert await code_of(sdk.chats.share_contact_card(body["chat"]["id"]), linq.RateLimitError) == 1007
    assert [d["kind"] for d in sandbox.world.deliveries].count("contact_card") == 1
