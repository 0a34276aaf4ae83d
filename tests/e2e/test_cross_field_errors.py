"""Every rule that spans several fields is refused by naming the fields and the fix.

One violating call per cross-field rule in the tool schemas (``not``, ``oneOf`` of
alternatives, ``anyOf`` of requirements, ``if``/``then``/``else``, ``dependentRequired``),
made through the MCP client. Before, such refusals said ``path: "(arguments)"`` and
echoed the whole argument object back.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_helpers import AVA, LINE, connected, text_of

from linq_mcp.sandbox.app import Sandbox

ID = "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"
URL = "https://example.com/a.png"


def chat_with(part: dict[str, Any], **message: Any) -> dict[str, Any]:
    return {"from": LINE, "to": [AVA], "message": {"parts": [part], **message}}


TEXT = {"type": "text", "value": "hi"}

# (tool, arguments, the field the refusal must name, words its problem or fix must contain)
CASES: dict[str, tuple[str, dict[str, Any], str, str]] = {
    "voice memo with both sources": (
        "send_voice_memo",
        {"chat_id": ID, "attachment_id": ID, "voice_memo_url": "https://example.com/a.m4a"},
        "attachment_id",
        "voice_memo_url and attachment_id cannot be given together",
    ),
    "voice memo with no source": (
        "send_voice_memo",
        {"chat_id": ID},
        "voice_memo_url",
        "one of voice_memo_url or attachment_id is required",
    ),
    "subscription with an amount": (
        "create_payment_request",
        {"mode": "subscription", "price_id": "price_1", "amount": 500, "currency": "usd"},
        "amount",
        "when mode is 'subscription'",
    ),
    "subscription without a price": (
        "create_payment_request",
        {"mode": "subscription"},
        "price_id",
        "when mode is 'subscription'",
    ),
    "payment without a currency": (
        "create_payment_request",
        {"amount": 500},
        "currency",
        "unless mode is 'subscription'",
    ),
    "natural rail without a payer": (
        "create_payment_request",
        {"amount": 500, "currency": "usd", "rail": "natural", "from": LINE},
        "payer_handle",
        "when rail is 'natural'",
    ),
    "both trial settings": (
        "create_payment_request",
        {"amount": 500, "currency": "usd", "trial_end": "2026-12-24T00:00:00Z", "trial_period_days": 7},
        "trial_period_days",
        "trial_end and trial_period_days cannot be given together",
    ),
    "custom reaction without its emoji": (
        "react_to_message",
        {"message_id": ID, "operation": "add", "type": "custom"},
        "custom_emoji",
        "when type is 'custom'",
    ),
    "sticker reaction with two sources": (
        "react_to_message",
        {"message_id": ID, "operation": "add", "type": "sticker", "emoji": "🙂", "url": URL},
        "url",
        "emoji and url cannot be given together",
    ),
    "sticker reaction with no source": (
        "react_to_message",
        {"message_id": ID, "operation": "add", "type": "sticker"},
        "emoji",
        "one of emoji, url or attachment_id is required",
    ),
    "sticker reaction removed": (
        "react_to_message",
        {"message_id": ID, "operation": "remove", "type": "sticker", "emoji": "🙂"},
        "operation",
        "when type is 'sticker'",
    ),
    "photo background without an image": (
        "set_chat_background",
        {"chat_id": ID, "type": "photo"},
        "image_url",
        "when type is 'photo'",
    ),
    "dynamic background without a style": (
        "set_chat_background",
        {"chat_id": ID, "type": "dynamic", "variant": "light"},
        "style",
        "when type is 'dynamic'",
    ),
    "app card with url and experience": (
        "update_app_card",
        {"message_id": ID, "layout": {"caption": "c"}, "url": URL, "experience": {"name": "x", "action": "y"}},
        "experience",
        "url and experience cannot be given together",
    ),
    "app card layout with nothing to show": (
        "update_app_card",
        {"message_id": ID, "layout": {"image_title": "t"}},
        "layout.caption",
        "at least one of caption",
    ),
    "app card image title without an image": (
        "update_app_card",
        {"message_id": ID, "layout": {"caption": "c", "image_title": "t"}},
        "layout.image_url",
        "image_url is required when image_title is given",
    ),
    "media part with two sources": (
        "create_chat",
        chat_with({"type": "media", "url": URL, "attachment_id": ID}),
        "message.parts[0].attachment_id",
        "url and attachment_id cannot be given together",
    ),
    "message with parts and an experience": (
        "create_chat",
        chat_with(TEXT, experience={"name": "x", "action": "y"}),
        "message.experience",
        "parts and experience cannot be given together",
    ),
    "text part with a mention and stickers": (
        "create_chat",
        chat_with({**TEXT, "mention": AVA, "inline_stickers": [{"url": URL, "range": [0, 1]}]}),
        "message.parts[0].inline_stickers",
        "mention and inline_stickers cannot be given together",
    ),
    "inline sticker with two sources": (
        "create_chat",
        chat_with({**TEXT, "inline_stickers": [{"url": URL, "attachment_id": ID, "range": [0, 1]}]}),
        "message.parts[0].inline_stickers[0].attachment_id",
        "url and attachment_id cannot be given together",
    ),
    "text decoration with style and animation": (
        "create_chat",
        chat_with({**TEXT, "text_decorations": [{"style": "bold", "animation": "big", "range": [0, 1]}]}),
        "message.parts[0].text_decorations[0].animation",
        "style and animation cannot be given together",
    ),
    "screen effect named like a bubble effect": (
        "create_chat",
        chat_with(TEXT, effect={"type": "screen", "name": "slam"}),
        "message.effect.name",
        "when type is 'screen'",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_cross_field_rule_names_its_fields_and_the_fix(sandbox: Sandbox, case: str) -> None:
    tool, arguments, field, words = CASES[case]
    async with connected(sandbox) as (client, _):
        result = await client.call_tool(tool, arguments)
    assert result.is_error
    payload = dict(result.structured_content or {})
    assert payload["error"] == "invalid_arguments", payload
    problems = payload["problems"]
    assert all(p["path"] != "(arguments)" for p in problems), problems
    named = [p for p in problems if p["path"] == field]
    assert named, problems
    assert any(words in p["problem"] or words in p.get("expected", "") for p in named), named
    text = text_of(result)
    assert "{'" not in text and "should not be valid under" not in text  # the arguments are not echoed


async def test_an_empty_property_name_is_shown_as_such(sandbox: Sandbox) -> None:
    async with connected(sandbox) as (client, _):
        result = await client.call_tool("list_chats", {"": 1})
    problem = dict(result.structured_content or {})["problems"][0]
    assert problem["problem"] == "unknown field '' (an empty name)"
    assert "limit" in problem["expected"]
