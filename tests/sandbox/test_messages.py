"""Message operations through the official SDK: send, list, read, edit, delete, react, threads."""

from __future__ import annotations

from typing import Any

import linq
import pytest
from linq.types.chats.message_send_response import MessageSendResponse
from linq.types.message import Message
from linq.types.message_add_reaction_response import MessageAddReactionResponse
from linq.types.message_create_response import MessageCreateResponse

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox

LINE = "+15550100001"
AVA, SAM, RITA = "+15551230001", "+15551230002", "+15551230004"
STRANGER = "+15557770001"


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}], **extra}


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


async def new_chat(sdk: Any, to: str = STRANGER) -> tuple[str, str]:
    created = await sdk.chats.create(from_=LINE, to=[to], message=text("hello"))
    return created.chat.id, created.chat.message.id


async def code_of(call: Any, exc_type: type[Exception]) -> int:
    with pytest.raises(exc_type) as info:
        await call
    return int(info.value.body["code"])  # type: ignore[attr-defined]


async def test_send_message_returns_202_and_validates(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    raw = await sdk.chats.messages.with_raw_response.send(chat_id, message=text("next"))
    assert raw.http_response.status_code == 202
    sent = MessageSendResponse.model_validate(raw.http_response.json())
    assert sent.chat_id == chat_id


async def test_effect_is_kept_on_imessage(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    sent = await sdk.chats.messages.send(chat_id, message=text("yay", effect={"type": "screen", "name": "confetti"}))
    assert sent.message.effect is not None and sent.message.effect.name == "confetti"


async def test_unknown_effect_name_is_1005(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    call = sdk.chats.messages.send(chat_id, message=text("x", effect={"type": "screen", "name": "nope"}))
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_send_to_unknown_chat_is_404_2001(sdk: Any) -> None:
    call = sdk.chats.messages.send("00000000-0000-4000-8000-000000000000", message=text("x"))
    assert await code_of(call, linq.NotFoundError) == 2001


async def test_delivery_status_progresses_to_delivered(sdk: Any, sandbox: Sandbox) -> None:
    _, message_id = await new_chat(sdk)
    await advance_clock(sandbox.world, 2)
    message = await sdk.messages.retrieve(message_id)
    assert (message.delivery_status, message.is_delivered) == ("delivered", True)


async def test_list_messages_validates_and_walks_pages(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    for i in range(4):
        await sdk.chats.messages.send(chat_id, message=text(f"m{i}"))
    raw = await sdk.chats.messages.with_raw_response.list(chat_id, limit=2)
    body = raw.http_response.json()
    for item in body["messages"]:
        Message.model_validate(item)
    seen = [m async for m in sdk.chats.messages.list(chat_id, limit=2)]
    assert len(seen) == 5


async def test_list_messages_default_limit_is_50(sdk: Any, sandbox: Sandbox) -> None:
    sandbox.world.config.limits.pair_messages = 1000
    chat_id, _ = await new_chat(sdk)
    for i in range(51):
        await sdk.chats.messages.send(chat_id, message=text(f"m{i}"), override_optout=False)
    raw = await sdk.chats.messages.with_raw_response.list(chat_id)
    assert len(raw.http_response.json()["messages"]) == 50


async def test_bad_cursor_is_1005(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    assert await code_of(sdk.chats.messages.list(chat_id, cursor="garbage!"), linq.BadRequestError) == 1005


async def test_get_message_validates(sdk: Any) -> None:
    _, message_id = await new_chat(sdk)
    raw = await sdk.messages.with_raw_response.retrieve(message_id)
    assert Message.model_validate(raw.http_response.json()).is_from_me is True


async def test_unknown_message_is_404_2002(sdk: Any) -> None:
    call = sdk.messages.retrieve("00000000-0000-4000-8000-000000000000")
    assert await code_of(call, linq.NotFoundError) == 2002


async def test_edit_changes_the_text_and_emits_message_edited(sdk: Any, sandbox: Sandbox) -> None:
    _, message_id = await new_chat(sdk)
    raw = await sdk.messages.with_raw_response.update(message_id, text="hello, edited")
    edited = Message.model_validate(raw.http_response.json())
    assert edited.parts is not None and edited.parts[0].value == "hello, edited"  # type: ignore[union-attr]
    assert sandbox.world.events[-1].event_type == "message.edited"


async def test_sixth_edit_is_refused(sdk: Any) -> None:
    _, message_id = await new_chat(sdk)
    for i in range(5):
        await sdk.messages.update(message_id, text=f"v{i}")
    assert await code_of(sdk.messages.update(message_id, text="v6"), linq.ConflictError) == 2015


async def test_edit_after_fifteen_minutes_is_refused(sdk: Any, sandbox: Sandbox) -> None:
    _, message_id = await new_chat(sdk)
    await advance_clock(sandbox.world, 16 * 60)
    assert await code_of(sdk.messages.update(message_id, text="late"), linq.ConflictError) == 2015


async def test_editing_a_media_part_is_1005(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    sent = await sdk.chats.messages.send(
        chat_id, message={"parts": [{"type": "media", "url": "https://cdn.example/p.png"}]}
    )
    assert await code_of(sdk.messages.update(sent.message.id, text="x"), linq.BadRequestError) == 1005


async def test_delete_then_get_is_404(sdk: Any) -> None:
    _, message_id = await new_chat(sdk)
    raw = await sdk.messages.with_raw_response.delete(message_id)
    assert raw.http_response.status_code == 204
    assert await code_of(sdk.messages.retrieve(message_id), linq.NotFoundError) == 2002


async def test_reaction_add_validates_and_emits(sdk: Any, sandbox: Sandbox) -> None:
    _, message_id = await new_chat(sdk)
    raw = await sdk.messages.with_raw_response.add_reaction(message_id, operation="add", type="love")
    assert raw.http_response.status_code == 202
    MessageAddReactionResponse.model_validate(raw.http_response.json())
    event = sandbox.world.events[-1]
    assert (event.event_type, event.data["reaction_type"], event.data["is_from_me"]) == ("reaction.added", "love", True)


async def test_reaction_shows_on_the_part(sdk: Any) -> None:
    _, message_id = await new_chat(sdk)
    await sdk.messages.add_reaction(message_id, operation="add", type="like")
    message = await sdk.messages.retrieve(message_id)
    assert [r.type for r in message.parts[0].reactions] == ["like"]


async def test_reaction_remove_emits_removed(sdk: Any, sandbox: Sandbox) -> None:
    _, message_id = await new_chat(sdk)
    await sdk.messages.add_reaction(message_id, operation="add", type="laugh")
    await sdk.messages.add_reaction(message_id, operation="remove", type="laugh")
    assert sandbox.world.events[-1].event_type == "reaction.removed"


async def test_custom_reaction_needs_custom_emoji(sdk: Any) -> None:
    _, message_id = await new_chat(sdk)
    call = sdk.messages.add_reaction(message_id, operation="add", type="custom")
    assert await code_of(call, linq.BadRequestError) == 1001


async def test_sticker_cannot_be_removed(sdk: Any) -> None:
    _, message_id = await new_chat(sdk)
    call = sdk.messages.add_reaction(message_id, operation="remove", type="sticker", emoji="🎉")
    assert await code_of(call, linq.BadRequestError) == 1005


async def test_sticker_on_sms_is_409_2017(sdk: Any) -> None:
    _, message_id = await new_chat(sdk, SAM)
    call = sdk.messages.add_reaction(message_id, operation="add", type="sticker", emoji="🎉")
    assert await code_of(call, linq.ConflictError) == 2017


async def test_reply_to_unknown_message_is_404_2002(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    message = text("re", reply_to={"message_id": "00000000-0000-4000-8000-000000000000"})
    assert await code_of(sdk.chats.messages.send(chat_id, message=message), linq.NotFoundError) == 2002


async def test_thread_lists_root_and_replies_in_order(sdk: Any) -> None:
    chat_id, root = await new_chat(sdk)
    first = await sdk.chats.messages.send(chat_id, message=text("r1", reply_to={"message_id": root}))
    await sdk.chats.messages.send(chat_id, message=text("unrelated"))
    await sdk.chats.messages.send(chat_id, message=text("r2", reply_to={"message_id": first.message.id}))
    thread = [m async for m in sdk.messages.list_messages_thread(first.message.id, limit=1)]
    assert [m.parts[0].value for m in thread] == ["hello", "r1", "r2"]


async def test_thread_desc_order(sdk: Any) -> None:
    chat_id, root = await new_chat(sdk)
    await sdk.chats.messages.send(chat_id, message=text("r1", reply_to={"message_id": root}))
    page = await sdk.messages.list_messages_thread(root, order="desc")
    assert [m.parts[0].value for m in page.messages] == ["r1", "hello"]


async def test_send_to_handles_creates_a_chat_and_validates(sdk: Any) -> None:
    raw = await sdk.messages.with_raw_response.create(to=[STRANGER], message=text("see https://x.io"))
    assert raw.http_response.status_code == 202
    body = MessageCreateResponse.model_validate(raw.http_response.json())
    assert (body.created_new_chat, body.from_selection.reason) == (True, "new_best_number")


async def test_send_to_handles_reuses_the_active_chat(sdk: Any) -> None:
    chat_id, _ = await new_chat(sdk)
    body = await sdk.messages.create(to=[STRANGER], message=text("again"))
    assert (body.chat_id, body.from_selection.reason, body.created_new_chat) == (chat_id, "reused_active_chat", False)


async def test_send_to_handles_fails_over_from_a_flagged_line(sdk: Any, sandbox: Sandbox) -> None:
    chat_id, _ = await new_chat(sdk)
    sandbox.world.line_by_number(LINE)["status"] = "FLAGGED"  # type: ignore[index]
    body = await sdk.messages.create(
        to=[STRANGER], message=text("original"), continuation_message={"text": "Hi, new number!"}
    )
    assert (body.from_selection.reason, body.previous_chat_id, body.from_) == (
        "failover_flagged",
        chat_id,
        "+15550100002",
    )
    assert body.message.parts[0].value == "Hi, new number!"


async def test_excluding_every_line_is_400(sdk: Any) -> None:
    call = sdk.messages.create(to=[STRANGER], message=text("x"), exclude_from=["+15550100001", "+15550100002"])
    assert await code_of(call, linq.BadRequestError) == 1005
