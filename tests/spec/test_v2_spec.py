"""The shipped V2 description: fresh, complete against api-catalog.md section E, and shaped
like V3's (toolset v2, ``v2_`` names, honest effects, idempotency where V2 has it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from linq_mcp.api.request import Operation
from linq_mcp.tools.registry import load_registry
from linq_mcp.tools.tooldef import ToolDef

ROOT = Path(__file__).resolve().parents[2]

# api-catalog.md section E: the 29 V2 HTTP operations (the contact update answers to PUT and PATCH;
# one tool sends PATCH, and the sandbox serves both).
SECTION_E = {
    ("GET", "/chats"), ("POST", "/chats"), ("GET", "/chats/{chat_id}"), ("GET", "/chats/find"),
    ("PUT", "/chats/{chat_id}/mark_as_read"), ("POST", "/chats/{chat_id}/start_typing"),
    ("DELETE", "/chats/{chat_id}/stop_typing"), ("POST", "/chats/{chat_id}/share_contact"),
    ("GET", "/chats/{chat_id}/chat_messages"), ("POST", "/chats/{chat_id}/chat_messages"),
    ("GET", "/chats/{chat_id}/chat_messages/{id}"), ("DELETE", "/chats/{chat_id}/chat_messages/{id}"),
    ("POST", "/chats/{chat_id}/chat_messages/{id}/edit"), ("POST", "/chat_messages/{chat_message_id}/reactions"),
    ("GET", "/chat_message_reactions/{reaction_id}"), ("GET", "/contacts"), ("POST", "/contacts"),
    ("GET", "/contacts/{id}"), ("PATCH", "/contacts/{id}"), ("DELETE", "/contacts/{id}"), ("GET", "/contacts/find"),
    ("GET", "/phone_numbers"), ("PUT", "/phone_numbers/{id}"), ("GET", "/webhook_subscriptions"),
    ("POST", "/webhook_subscriptions"), ("PUT", "/webhook_subscriptions/{webhook_subscription_id}"),
    ("DELETE", "/webhook_subscriptions/{webhook_subscription_id}"), ("POST", "/i_message_availability/check"),
}  # fmt: skip


def test_the_v2_description_is_fresh() -> None:
    proc = subprocess.run([sys.executable, "tools/build_v2_spec.py", "--check"], cwd=ROOT, capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def tools_of(api: str) -> list[ToolDef]:
    return [t for t in load_registry() if t.operation is not None and t.operation.api == api]


def operation(tool: str) -> Operation:
    op = load_registry()[tool].operation
    assert op is not None
    return op


def test_every_operation_of_section_e_is_a_v2_tool() -> None:
    ops = {
        (t.operation.method, t.operation.path.removeprefix("/api/partner/v2")) for t in tools_of("v2") if t.operation
    }
    assert ops == SECTION_E


def test_every_v2_tool_is_named_v2_and_sits_in_the_v2_toolset() -> None:
    tools = tools_of("v2")
    assert tools and all(t.name.startswith("v2_") and t.toolset == "v2" for t in tools)
    assert not [t.name for t in tools_of("v3") if t.name.startswith("v2_")]


def test_the_v2_toolset_is_opt_in() -> None:
    assert "v2" in load_registry().opt_in_toolsets
    assert "v2" not in load_registry().resolve_toolsets(["all"])


def test_v2_sends_carry_the_message_idempotency_key() -> None:
    v2 = tools_of("v2")
    assert {t.name for t in v2 if t.effect == "send"} == {"v2_create_chat", "v2_send_chat_message", "v2_share_contact"}
    assert {t.name for t in v2 if t.operation and t.operation.idempotency == "message"} == {
        "v2_create_chat",
        "v2_send_chat_message",
    }
    request = operation("v2_send_chat_message").request({"chat_id": 7, "message": {"text": "hi"}}, key="key-1")
    assert request.form and request.api == "v2"
    assert request.json == {"message": {"text": "hi", "idempotency_key": "key-1"}}


def test_the_reaction_chat_id_is_checked_locally_and_never_sent() -> None:
    request = operation("v2_react_to_chat_message").request(
        {"chat_message_id": 5, "chat_id": 7, "type": "love", "operation": "add"}
    )
    assert request.path == "/api/partner/v2/chat_messages/5/reactions" and request.query == []
    assert request.json == {"type": "love", "operation": "add"}


def test_find_chat_sends_its_participants_as_a_rails_array() -> None:
    request = operation("v2_find_chat").request({"phone_number": "+15550100001", "phone_numbers": ["+1", "+2"]})
    assert request.query == [("phone_number", "+15550100001"), ("phone_numbers[]", "+1"), ("phone_numbers[]", "+2")]
