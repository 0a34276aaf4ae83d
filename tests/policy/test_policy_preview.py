"""Previews show exactly what would be sent; describe() states the policy in force."""

from __future__ import annotations

from policy_helpers import SEND, to_handles

from linq_mcp.policy import SafetyConfig, confirmation_prompt, describe, preview


def test_a_preview_carries_recipients_service_and_exact_text() -> None:
    args = to_handles("+15550000001", text="Meet at 8", dry_run=True, idempotency_key="k")
    args["message"]["preferred_service"] = "SMS"
    out = preview(SEND, args, ["+15550000001"])
    assert out["recipients"] == ["+15550000001"] and out["service"] == "SMS"
    assert out["content"] == ['text: "Meet at 8"']
    assert out["payload"] == {"to": ["+15550000001"], "message": args["message"]}


def test_a_preview_shows_hidden_bidi_tricks_neutralised() -> None:
    out = preview(SEND, to_handles("+15550000001", text="abc\u202edef"), ["+15550000001"])
    assert out["content"] == ['text: "abcdef"']


def test_the_confirmation_prompt_names_recipients_service_and_text() -> None:
    prompt = confirmation_prompt("send_voice_memo", {"chat_id": "c1", "voice_memo_url": "https://x/m.m4a"}, ["a@b.com"])
    assert "To: a@b.com" in prompt and "voice memo: https://x/m.m4a" in prompt and "Service: auto" in prompt


def test_describe_states_the_rules_in_force() -> None:
    text = describe(
        SafetyConfig(allow_recipients=("+1555*",), inbound="allowlisted", max_sends_per_hour=40, confirm="always")
    )
    assert "+1555*" in text and "40/hour" in text and "withheld" in text and "confirm = always" in text
