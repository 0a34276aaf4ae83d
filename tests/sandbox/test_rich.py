"""Polls, app cards, stickers, location and backgrounds through the official SDK."""

from __future__ import annotations

from typing import Any

import linq
import pytest
from linq.types.chats.get_chat_location_response import GetChatLocationResponse
from linq.types.chats.location_request_response import LocationRequestResponse
from linq.types.chats.poll_envelope import PollEnvelope
from linq.types.message_update_app_card_response import MessageUpdateAppCardResponse
from linq.types.message_update_sticker_placement_response import MessageUpdateStickerPlacementResponse

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
AVA, SAM, RITA = "+15551230001", "+15551230002", "+15551230004"
SILENT = "+15557770001"
APP_CARD = {
    "type": "imessage_app",
    "app": {"bundle_id": "com.example.game", "name": "Game", "team_id": "ABCDE12345"},
    "layout": {"caption": "Your move"},
    "url": "https://example.com/game/1",
}


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


async def chat_with(sdk: Any, to: list[str]) -> str:
    created = await sdk.chats.create(from_=LINE, to=to, message=text("hello"))
    return str(created.chat.id)


def last(sandbox: Sandbox, event_type: str) -> Any:
    return [e for e in sandbox.world.events if e.event_type == event_type][-1]


async def code_of(call: Any, exc_type: type[Exception]) -> int:
    with pytest.raises(exc_type) as info:
        await call
    return int(info.value.body["code"])  # type: ignore[attr-defined]


async def poll_in(sdk: Any, chat_id: str, **poll: Any) -> dict[str, Any]:
    raw = await sdk.chats.polls.with_raw_response.create(
        chat_id, poll={"options": [{"text": "Pizza"}, {"text": "Tacos"}], **poll}
    )
    body: dict[str, Any] = raw.http_response.json()
    return body


# polls ----------------------------------------------------------------------------------------
async def test_create_poll_validates_as_poll_envelope(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    envelope = PollEnvelope.model_validate(await poll_in(sdk, chat_id))
    assert [o.text for o in envelope.poll.options] == ["Pizza", "Tacos"]


async def test_poll_needs_two_options(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    call = sdk.chats.polls.create(chat_id, poll={"options": [{"text": "Only"}]})
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_poll_is_imessage_only(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SAM])
    call = sdk.chats.polls.create(chat_id, poll={"options": [{"text": "a"}, {"text": "b"}]})
    assert await code_of(call, linq.ConflictError) == 2017


async def test_poll_cannot_be_the_first_message(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    sandbox.world.chats[chat_id]["_message_ids"].clear()
    call = sdk.chats.polls.create(chat_id, poll={"options": [{"text": "a"}, {"text": "b"}]})
    assert await code_of(call, linq.ConflictError) == 2015


async def test_poll_idempotency_key_returns_the_same_poll(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    first = await poll_in(sdk, chat_id, idempotency_key="poll-1")
    second = await poll_in(sdk, chat_id, idempotency_key="poll-1")
    assert first == second
    assert [m["_kind"] for m in sandbox.world.messages.values()].count("poll") == 1


async def test_vote_add_and_remove_toggle_our_vote(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    poll = await poll_in(sdk, chat_id)
    option = poll["poll"]["options"][0]["option_id"]
    added = await sdk.messages.poll.vote(poll["message_id"], operation="add", option_id=option)
    assert added.poll.total_voters == 1
    removed = await sdk.messages.poll.vote(poll["message_id"], operation="remove", option_id=option)
    assert removed.poll.total_voters == 0
    kinds = [e.event_type for e in sandbox.world.events]
    assert kinds[-2:] == ["poll.vote.added", "poll.vote.removed"]


async def test_vote_for_unknown_option_is_1005(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    poll = await poll_in(sdk, chat_id)
    call = sdk.messages.poll.vote(poll["message_id"], operation="add", option_id="nope")
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_add_poll_options_appends(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    poll = await poll_in(sdk, chat_id)
    raw = await sdk.messages.poll.with_raw_response.add_options(poll["message_id"], options=[{"text": "Sushi"}])
    envelope = PollEnvelope.model_validate(raw.http_response.json())
    assert [o.text for o in envelope.poll.options][-1] == "Sushi"
    assert sandbox.world.events[-1].event_type == "poll.updated"


async def test_get_poll_of_a_plain_message_is_404(sdk: Any) -> None:
    created = await sdk.chats.create(from_=LINE, to=[SILENT], message=text("hi"))
    assert await code_of(sdk.messages.poll.retrieve(created.chat.message.id), linq.NotFoundError) == 2002


async def test_ava_votes_for_the_first_option_after_reading(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [AVA])
    poll = await poll_in(sdk, chat_id)
    await advance_clock(sandbox.world, 3)
    envelope = await sdk.messages.poll.retrieve(poll["message_id"])
    assert [v.handle for v in envelope.poll.options[0].voters] == [AVA]
    assert "poll.sent" in [e.event_type for e in sandbox.world.events]


# app cards and stickers -------------------------------------------------------------------------
async def test_update_app_card_after_sent_validates(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    card = await sdk.chats.messages.send(chat_id, message={"parts": [APP_CARD]})
    await advance_clock(sandbox.world, 1)
    raw = await sdk.messages.with_raw_response.update_app_card(card.message.id, layout={"caption": "Moved"})
    body = MessageUpdateAppCardResponse.model_validate(raw.http_response.json())
    assert body.message.id != card.message.id
    assert body.message.parts[0].layout.caption == "Moved"  # type: ignore[union-attr]


async def test_update_app_card_before_sent_is_409(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    card = await sdk.chats.messages.send(chat_id, message={"parts": [APP_CARD]})
    call = sdk.messages.update_app_card(card.message.id, layout={"caption": "Too soon"})
    assert await code_of(call, linq.ConflictError) == 2015


async def test_update_app_card_on_a_text_message_is_400(sdk: Any) -> None:
    created = await sdk.chats.create(from_=LINE, to=[SILENT], message=text("hi"))
    call = sdk.messages.update_app_card(created.chat.message.id, layout={"caption": "x"})
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_invalid_app_team_id_is_1008(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    bad = {**APP_CARD, "app": {**APP_CARD["app"], "team_id": "lower"}}  # type: ignore[dict-item]
    assert await code_of(sdk.chats.messages.send(chat_id, message={"parts": [bad]}), linq.BadRequestError) == 1008


async def test_sticker_placement_update_validates(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[SILENT], message=text("hi"))
    message_id = created.chat.message.id
    await sdk.messages.add_reaction(message_id, operation="add", type="sticker", emoji="🎉", placement={"x": 0.1})
    reaction_id = sandbox.world.events[-1].data["reaction_id"]
    raw = await sdk.messages.with_raw_response.update_sticker_placement(
        reaction_id, message_id=message_id, placement={"scale": 2.0}
    )
    assert MessageUpdateStickerPlacementResponse.model_validate(raw.http_response.json()).success is True
    stored = sandbox.world.messages[message_id]["parts"][0]["reactions"][0]["_placement"]
    assert stored == {"x": 0.1, "scale": 2.0}


async def test_moving_a_tapback_is_refused(sdk: Any, sandbox: Sandbox) -> None:
    created = await sdk.chats.create(from_=LINE, to=[SILENT], message=text("hi"))
    message_id = created.chat.message.id
    await sdk.messages.add_reaction(message_id, operation="add", type="love")
    reaction_id = sandbox.world.events[-1].data["reaction_id"]
    call = sdk.messages.update_sticker_placement(reaction_id, message_id=message_id, placement={"x": 1})
    assert await code_of(call, linq.BadRequestError) == 1005


# location -------------------------------------------------------------------------------------
async def test_location_request_in_group_is_409_2016(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [AVA, RITA])
    assert await code_of(sdk.chats.location.request(chat_id), linq.ConflictError) == 2016


async def test_location_request_on_sms_is_409_2017(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SAM])
    assert await code_of(sdk.chats.location.request(chat_id), linq.ConflictError) == 2017


async def test_ava_shares_location_after_a_request(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [AVA])
    raw = await sdk.chats.location.with_raw_response.request(chat_id)
    LocationRequestResponse.model_validate(raw.http_response.json())
    await advance_clock(sandbox.world, 1)
    got = await sdk.chats.location.with_raw_response.retrieve(chat_id)
    body = GetChatLocationResponse.model_validate(got.http_response.json())
    assert body.data.features[0].geometry.coordinates == [-122.4194, 37.7749]
    assert "location.sharing.started" in [e.event_type for e in sandbox.world.events]


async def test_request_while_sharing_is_409(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [AVA])
    await sdk.chats.location.request(chat_id)
    await advance_clock(sandbox.world, 61)
    assert await code_of(sdk.chats.location.request(chat_id), linq.ConflictError) == 2015


async def test_stop_sharing_ends_it_with_an_event(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [AVA])
    await sdk.chats.location.request(chat_id)
    await advance_clock(sandbox.world, 1)
    raw = await sdk.chats.location.with_raw_response.stop(chat_id, handle=AVA)
    assert raw.http_response.status_code == 202
    await advance_clock(sandbox.world, 1)
    assert last(sandbox, "location.sharing.stopped").data["shared_by"] == AVA
    assert (await sdk.chats.location.retrieve(chat_id)).data.features == []


async def test_stop_when_not_sharing_is_404(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [AVA])
    assert await code_of(sdk.chats.location.stop(chat_id, handle=AVA), linq.NotFoundError) == 2001


# backgrounds ----------------------------------------------------------------------------------
async def test_background_set_is_async_with_an_event(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    raw = await sdk.chats.background.with_raw_response.set(chat_id, type="dynamic", style="sky", variant="dusk")
    assert raw.http_response.status_code == 202
    await advance_clock(sandbox.world, 1)
    assert last(sandbox, "chat.background_updated").data["background"]["style"] == "sky"


async def test_background_on_sms_is_accepted_without_an_event(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SAM])
    await sdk.chats.background.set(chat_id, type="color", variant="mango")
    await advance_clock(sandbox.world, 1)
    assert "chat.background_updated" not in [e.event_type for e in sandbox.world.events]


async def test_custom_color_needs_two_shades(sdk: Any) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    call = sdk.chats.background.set(chat_id, type="color", shades=["#FFFFFF"])
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_background_remove_emits_a_null_background(sdk: Any, sandbox: Sandbox) -> None:
    chat_id = await chat_with(sdk, [SILENT])
    await sdk.chats.background.remove(chat_id)
    await advance_clock(sandbox.world, 1)
    assert last(sandbox, "chat.background_updated").data["background"] is None
