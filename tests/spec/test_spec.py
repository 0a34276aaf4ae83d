"""The shipped OpenAPI document: complete, self-consistent, and as strict as the Linq API."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "linq_mcp" / "spec" / "linq-v3.openapi.json"
TSV_COPY = ROOT / "linq_mcp" / "spec" / "operations.tsv"
SHARED_TSV = ROOT.parent / "shared" / "linq-api" / "operations.tsv"
METHODS = {"get", "post", "put", "patch", "delete"}

EXPECTED_IDEMPOTENCY = {
    "create_chat": "message",
    "send_message": "message",
    "create_poll": "poll",
    "send_message_to_handles": "header",
    "create_payment_request": "header",
    "create_payment": "header",
}
EXPECTED_STATUS = {
    "create_chat": "201",
    "send_message": "202",
    "send_message_to_handles": "202",
    "send_voice_memo": "202",
    "add_participant": "202",
    "remove_participant": "202",
    "react_to_message": "202",
    "mark_chat_read": "204",
    "start_typing": "204",
    "stop_typing": "204",
    "share_contact_card": "204",
    "delete_message": "204",
    "delete_attachment": "204",
    "delete_webhook_subscription": "204",
    "create_webhook_subscription": "201",
    "create_attachment": "200",
    "get_chat": "200",
}


@cache
def spec() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return document


@cache
def tsv_rows() -> tuple[dict[str, str], ...]:
    with TSV_COPY.open(newline="") as fh:
        return tuple(csv.DictReader(fh, delimiter="\t"))


def operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    out = {}
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                out[op["operationId"]] = (method.upper(), path, op)
    return out


def body_validator(tool: str) -> Draft202012Validator:
    _, _, op = operations()[tool]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec()["components"]}, format_checker=FormatChecker())


def sdk_body(params_type: Any, params: dict[str, Any]) -> Any:
    """Serialise kwargs exactly as linq-python 0.65 puts them on the wire (aliases applied)."""
    from linq._utils import maybe_transform

    return json.loads(json.dumps(maybe_transform(params, params_type)))


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def resolve(ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = spec()
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


# --------------------------------------------------------------------------- coverage


def test_document_has_exactly_70_operations() -> None:
    assert len(operations()) == 70


def test_document_is_openapi_3_1_with_the_partner_server() -> None:
    assert spec()["openapi"].startswith("3.1")
    assert spec()["servers"][0]["url"] == "https://api.linqapp.com/api/partner"
    assert spec()["components"]["securitySchemes"]["BearerAuth"]["scheme"] == "bearer"


@pytest.mark.parametrize("row", tsv_rows(), ids=lambda r: r["tool"])
def test_every_tsv_row_has_its_operation(row: dict[str, str]) -> None:
    method, path, op = operations()[row["tool"]]
    assert (method, path) == (row["method"], row["path"])
    assert op["x-linq-toolset"] == row["toolset"]
    assert op["x-linq-effect"] == row["effect"]
    assert op["x-linq-sdk-name"] == row["sdk_name"]


def test_shipped_tsv_equals_the_shared_one() -> None:
    if not SHARED_TSV.exists():
        pytest.skip("/work/shared is not available")
    assert TSV_COPY.read_text() == SHARED_TSV.read_text()


def test_my_cards_operations_are_gone() -> None:
    assert not [p for p in spec()["paths"] if "my_cards" in p]


# --------------------------------------------------------------------------- structure


def test_every_ref_resolves() -> None:
    refs = {n["$ref"] for n in walk(spec()) if isinstance(n.get("$ref"), str)}
    assert refs
    for ref in refs:
        resolve(ref)


def test_every_component_schema_is_valid_draft_2020_12() -> None:
    for name, schema in spec()["components"]["schemas"].items():
        try:
            Draft202012Validator.check_schema(schema)
        except Exception as exc:  # pragma: no cover - the message names the culprit
            pytest.fail(f"{name}: {exc}")


def test_every_parameter_and_body_schema_is_valid_draft_2020_12() -> None:
    for _, _, op in operations().values():
        for param in op.get("parameters", []):
            Draft202012Validator.check_schema(param["schema"])
        if "requestBody" in op:
            Draft202012Validator.check_schema(op["requestBody"]["content"]["application/json"]["schema"])


def test_path_template_params_match_declared_path_params() -> None:
    for tool, (_, path, op) in operations().items():
        declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        assert declared == re.findall(r"{(\w+)}", path), tool
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path"), tool


def test_parameter_names_are_snake_case_api_names() -> None:
    for tool, (_, _, op) in operations().items():
        for param in op.get("parameters", []):
            if param["in"] in ("path", "query"):
                assert re.fullmatch(r"[a-z][a-z0-9_]*", param["name"]), (tool, param["name"])


def test_no_body_property_collides_with_a_parameter() -> None:
    for tool, (_, _, op) in operations().items():
        if "requestBody" not in op:
            continue
        body = resolve(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
        params = {p["name"] for p in op.get("parameters", []) if p["in"] in ("path", "query")}
        assert not params & set(body["properties"]), tool


def test_nullable_fields_use_anyof_not_type_arrays() -> None:
    assert not [n for n in walk(spec()["components"]["schemas"]) if isinstance(n.get("type"), list)]


def test_generated_schemas_carry_no_pydantic_titles() -> None:
    assert not [n for n in walk(spec()["paths"]) if "title" in n and isinstance(n["title"], str)]


def test_every_operation_has_summary_description_and_one_success_status() -> None:
    for tool, (_, _, op) in operations().items():
        assert 0 < len(op["summary"].split()) <= 10, tool
        assert op["description"], tool
        success = [s for s in op["responses"] if s.startswith("2")]
        assert len(success) == 1, tool


@pytest.mark.parametrize("tool,status", sorted(EXPECTED_STATUS.items()))
def test_success_status_is_the_one_the_api_returns(tool: str, status: str) -> None:
    assert status in operations()[tool][2]["responses"]


def test_empty_success_bodies_declare_no_content() -> None:
    for tool in ("mark_chat_read", "start_typing", "delete_message", "unblock_handle"):
        responses = operations()[tool][2]["responses"]
        status = next(s for s in responses if s.startswith("2"))
        assert "content" not in responses[status], tool


def test_delete_with_body_operations_take_a_json_body() -> None:
    for tool in ("remove_participant", "unblock_handle", "stop_location_sharing"):
        method, _, op = operations()[tool]
        assert method == "DELETE"
        assert "application/json" in op["requestBody"]["content"], tool


def test_delete_message_has_no_body() -> None:
    assert "requestBody" not in operations()["delete_message"][2]


# --------------------------------------------------------------------------- extensions


def test_idempotency_extension_on_every_operation() -> None:
    for tool, (_, _, op) in operations().items():
        assert op["x-linq-idempotency"] == EXPECTED_IDEMPOTENCY.get(tool, "none"), tool


def test_header_idempotency_operations_declare_the_header() -> None:
    for tool, (_, _, op) in operations().items():
        headers = [p["name"] for p in op.get("parameters", []) if p["in"] == "header"]
        assert (headers == ["Idempotency-Key"]) == (op["x-linq-idempotency"] == "header"), tool


def test_pagination_extension() -> None:
    paginated = {t: op.get("x-linq-pagination") for t, (_, _, op) in operations().items() if "x-linq-pagination" in op}
    assert paginated == {
        "list_chats": "cursor",
        "list_messages": "cursor",
        "list_thread_messages": "cursor",
        "list_payment_requests": "offset",
    }


# --------------------------------------------------------------------------- request schemas


def test_create_chat_accepts_an_sdk_shaped_request() -> None:
    from linq.types.chat_create_params import ChatCreateParams

    body = sdk_body(
        ChatCreateParams,
        {
            "from_": "+12223334444",
            "to": ["+13334445555", "friend@example.com"],
            "message": {
                "parts": [
                    {
                        "type": "text",
                        "value": "Hello",
                        "text_decorations": [{"range": [0, 5], "style": "bold"}],
                    },
                    {"type": "media", "url": "https://cdn.example.com/a.png"},
                ],
                "preferred_service": "iMessage",
                "idempotency_key": "k-1",
            },
            "override_optout": False,
        },
    )
    assert body["from"] == "+12223334444"
    body_validator("create_chat").validate(body)


def test_create_chat_rejects_a_missing_message() -> None:
    body = {"from": "+12223334444", "to": ["+13334445555"]}
    assert not body_validator("create_chat").is_valid(body)


def test_create_chat_rejects_a_non_e164_from() -> None:
    body = {
        "from": "2223334444",
        "to": ["+13334445555"],
        "message": {"parts": [{"type": "text", "value": "hi"}]},
    }
    assert not body_validator("create_chat").is_valid(body)


def test_create_chat_rejects_more_than_31_recipients() -> None:
    to = [f"+1555000{i:04d}" for i in range(32)]
    body = {"from": "+12223334444", "to": to, "message": {"parts": [{"type": "text", "value": "hi"}]}}
    assert not body_validator("create_chat").is_valid(body)


def test_create_chat_rejects_the_sdk_python_name_from_underscore() -> None:
    body = {
        "from_": "+12223334444",
        "to": ["+13334445555"],
        "message": {"parts": [{"type": "text", "value": "hi"}]},
    }
    assert not body_validator("create_chat").is_valid(body)


def test_send_message_accepts_an_experience_instead_of_parts() -> None:
    from linq.types.chats.message_send_params import MessageSendParams

    body = sdk_body(
        MessageSendParams,
        {"message": {"experience": {"name": "agentcard", "action": "attach_card", "params": {"title": "Hi"}}}},
    )
    body_validator("send_message").validate(body)


def test_send_message_accepts_an_effect_and_a_reply() -> None:
    body = {
        "message": {
            "parts": [{"type": "text", "value": "Congrats!"}],
            "effect": {"type": "screen", "name": "confetti"},
            "reply_to": {"message_id": "550e8400-e29b-41d4-a716-446655440000", "part_index": 0},
        }
    }
    body_validator("send_message").validate(body)


def test_send_message_rejects_parts_and_experience_together() -> None:
    body = {"message": {"parts": [{"type": "text", "value": "x"}], "experience": {"name": "a", "action": "b"}}}
    assert not body_validator("send_message").is_valid(body)


def test_send_message_rejects_a_legacy_screen_effect_object() -> None:
    body = {"message": {"parts": [{"type": "text", "value": "x"}], "effect": {"screen_effect": "confetti"}}}
    assert not body_validator("send_message").is_valid(body)


def test_send_message_rejects_a_bubble_name_on_a_screen_effect() -> None:
    body = {"message": {"parts": [{"type": "text", "value": "x"}], "effect": {"type": "screen", "name": "slam"}}}
    assert not body_validator("send_message").is_valid(body)


def test_send_message_rejects_empty_text() -> None:
    body = {"message": {"parts": [{"type": "text", "value": ""}]}}
    assert not body_validator("send_message").is_valid(body)


def test_send_message_rejects_text_over_10000_chars() -> None:
    body = {"message": {"parts": [{"type": "text", "value": "x" * 10001}]}}
    assert not body_validator("send_message").is_valid(body)


def test_send_message_rejects_media_with_url_and_attachment_id() -> None:
    part = {
        "type": "media",
        "url": "https://x.example/a.png",
        "attachment_id": "550e8400-e29b-41d4-a716-446655440000",
    }
    assert not body_validator("send_message").is_valid({"message": {"parts": [part]}})


def test_send_message_rejects_plain_http_media_url() -> None:
    part = {"type": "media", "url": "http://x.example/a.png"}
    assert not body_validator("send_message").is_valid({"message": {"parts": [part]}})


def test_send_message_rejects_an_unknown_part_type() -> None:
    assert not body_validator("send_message").is_valid({"message": {"parts": [{"type": "video", "url": "https://a"}]}})


def test_send_message_rejects_an_idempotency_key_over_255_chars() -> None:
    body = {"message": {"parts": [{"type": "text", "value": "x"}], "idempotency_key": "k" * 256}}
    assert not body_validator("send_message").is_valid(body)


def test_send_message_accepts_an_imessage_app_part() -> None:
    part = {
        "type": "imessage_app",
        "app": {"bundle_id": "com.example.app.ext", "name": "Example", "team_id": "ABCDE12345"},
        "layout": {"caption": "Order #42"},
        "url": "https://example.com/order/42",
    }
    body_validator("send_message").validate({"message": {"parts": [part]}})


def test_send_message_to_handles_accepts_an_sdk_shaped_request_without_the_header_key() -> None:
    from linq.types.message_create_params import MessageCreateParams

    body = sdk_body(
        MessageCreateParams,
        {
            "to": ["+13334445555"],
            "message": {"parts": [{"type": "link", "value": "https://linqapp.com"}]},
            "continuation_message": {"text": "Hi, new number here"},
            "exclude_from": ["+12223334444"],
        },
    )
    body_validator("send_message_to_handles").validate(body)
    assert not body_validator("send_message_to_handles").is_valid({**body, "Idempotency-Key": "k"})


def test_send_message_to_handles_rejects_an_empty_recipient_list() -> None:
    body = {"to": [], "message": {"parts": [{"type": "text", "value": "hi"}]}}
    assert not body_validator("send_message_to_handles").is_valid(body)


def test_send_voice_memo_takes_exactly_one_source() -> None:
    validator = body_validator("send_voice_memo")
    assert validator.is_valid({"voice_memo_url": "https://cdn.example.com/memo.m4a"})
    assert validator.is_valid({"attachment_id": "550e8400-e29b-41d4-a716-446655440000"})
    assert not validator.is_valid({})
    both = {
        "voice_memo_url": "https://cdn.example.com/m.m4a",
        "attachment_id": "550e8400-e29b-41d4-a716-446655440000",
    }
    assert not validator.is_valid(both)


def test_send_voice_memo_has_no_from() -> None:
    assert not body_validator("send_voice_memo").is_valid({"from": "+12223334444", "voice_memo_url": "https://a/b.m4a"})


def test_react_to_message_accepts_sdk_shaped_tapback_and_sticker() -> None:
    from linq.types.message_add_reaction_params import MessageAddReactionParams

    validator = body_validator("react_to_message")
    validator.validate(sdk_body(MessageAddReactionParams, {"operation": "add", "type": "love", "part_index": 0}))
    sticker = {
        "operation": "add",
        "type": "sticker",
        "emoji": "🎉",
        "placement": {"x": 0.5, "y": 0.5, "scale": 1.0},
    }
    validator.validate(sdk_body(MessageAddReactionParams, sticker))


def test_react_to_message_rejects_an_unknown_reaction_type() -> None:
    assert not body_validator("react_to_message").is_valid({"operation": "add", "type": "wow"})


def test_react_to_message_requires_custom_emoji_for_custom() -> None:
    validator = body_validator("react_to_message")
    assert not validator.is_valid({"operation": "add", "type": "custom"})
    assert validator.is_valid({"operation": "add", "type": "custom", "custom_emoji": "🔥"})


def test_react_to_message_rejects_a_sticker_with_two_sources() -> None:
    body = {"operation": "add", "type": "sticker", "emoji": "🎉", "url": "https://cdn.linqapp.com/s.png"}
    assert not body_validator("react_to_message").is_valid(body)


def test_react_to_message_rejects_removing_a_sticker() -> None:
    assert not body_validator("react_to_message").is_valid({"operation": "remove", "type": "sticker", "emoji": "🎉"})


def test_create_webhook_subscription_accepts_an_sdk_shaped_request() -> None:
    from linq.types.webhook_subscription_create_params import WebhookSubscriptionCreateParams

    body = sdk_body(
        WebhookSubscriptionCreateParams,
        {
            "target_url": "https://hooks.example.com/linq?version=2026-02-03",
            "subscribed_events": ["message.received", "message.delivered"],
            "phone_numbers": ["+12223334444"],
            "routing_key_header": "X-Tenant",
        },
    )
    body_validator("create_webhook_subscription").validate(body)


def test_create_webhook_subscription_rejects_an_unknown_event() -> None:
    body = {"target_url": "https://hooks.example.com/x", "subscribed_events": ["message.exploded"]}
    assert not body_validator("create_webhook_subscription").is_valid(body)


def test_create_webhook_subscription_rejects_no_events() -> None:
    body = {"target_url": "https://hooks.example.com/x", "subscribed_events": []}
    assert not body_validator("create_webhook_subscription").is_valid(body)


def test_create_poll_accepts_an_sdk_shaped_request() -> None:
    from linq.types.chats.poll_create_params import PollCreateParams

    body = sdk_body(
        PollCreateParams,
        {"poll": {"options": [{"text": "Pizza"}, {"text": "Tacos"}], "idempotency_key": "poll-1"}},
    )
    body_validator("create_poll").validate(body)


def test_create_poll_rejects_a_single_option() -> None:
    assert not body_validator("create_poll").is_valid({"poll": {"options": [{"text": "Only"}]}})


def test_edit_message_rejects_empty_text() -> None:
    assert not body_validator("edit_message").is_valid({"text": ""})


def test_create_attachment_rejects_an_unsupported_content_type() -> None:
    body = {"filename": "a.flac", "content_type": "audio/flac", "size_bytes": 10}
    assert not body_validator("create_attachment").is_valid(body)


def test_create_attachment_rejects_files_over_100_mb() -> None:
    body = {"filename": "a.mp4", "content_type": "video/mp4", "size_bytes": 104857601}
    assert not body_validator("create_attachment").is_valid(body)


def test_update_phone_number_accepts_clearing_the_forwarding_number() -> None:
    validator = body_validator("update_phone_number")
    for value in ("+12223334444", "", None):
        assert validator.is_valid({"forwarding_number": value}), value
    assert not validator.is_valid({"forwarding_number": "555-1234"})


def test_list_chats_limit_is_bounded() -> None:
    _, _, op = operations()["list_chats"]
    limit = next(p for p in op["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 100)
    assert not any(p["required"] for p in op["parameters"])


def test_update_contact_card_takes_phone_number_in_the_query_only() -> None:
    _, _, op = operations()["update_contact_card"]
    assert [p["name"] for p in op["parameters"] if p["in"] == "query"] == ["phone_number"]
    body = resolve(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    assert "phone_number" not in body["properties"]


def test_update_sticker_placement_body_is_only_the_placement() -> None:
    _, _, op = operations()["update_sticker_placement"]
    body = resolve(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
    assert list(body["properties"]) == ["placement"]


# --------------------------------------------------------------------------- response schemas


def response_validator(tool: str) -> Draft202012Validator:
    _, _, op = operations()[tool]
    ok = next(v for s, v in op["responses"].items() if s.startswith("2"))
    schema = ok["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec()["components"]})


CHAT = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "display_name": None,
    "service": "iMessage",
    "is_group": False,
    "is_archived": False,
    "created_at": "2026-02-05T19:31:13Z",
    "updated_at": "2026-02-05T19:31:13Z",
    "health_status": {
        "status": "HEALTHY",
        "doc_url": "https://docs.linqapp.com/x",
        "updated_at": "2026-02-05T19:31:13Z",
    },
    "handles": [
        {
            "id": "6f1c2d3e-0000-4000-8000-000000000001",
            "handle": "+12223334444",
            "service": "iMessage",
            "status": "active",
            "joined_at": "2026-02-05T19:31:13Z",
            "is_me": True,
        },
        {
            "id": "6f1c2d3e-0000-4000-8000-000000000002",
            "handle": "+13334445555",
            "service": "iMessage",
            "status": "active",
            "joined_at": "2026-02-05T19:31:13Z",
            "is_me": False,
            "brand_new_field": 1,
        },
    ],
}


def test_get_chat_response_accepts_an_api_chat_with_unknown_fields() -> None:
    response_validator("get_chat").validate({**CHAT, "some_future_field": {"x": 1}})


def test_list_chats_response_accepts_a_last_page() -> None:
    response_validator("list_chats").validate({"chats": [CHAT], "next_cursor": None})


def test_update_chat_response_is_the_pending_status() -> None:
    response_validator("update_chat").validate({"chat_id": CHAT["id"], "status": "pending"})


# --------------------------------------------------------------------------- reproducibility


def test_sync_spec_check_passes() -> None:
    if not SHARED_TSV.exists():
        pytest.skip("/work/shared is not available")
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "sync_spec.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


# --------------------------------------------------------------------------- against the snapshot

SNAPSHOT = ROOT.parent / "shared" / "linq-api" / "openapi-v3.2026-03.yaml"
# The OAS examples send {screen_effect: ...} / {bubble_effect: ...}; the schema, docs and SDK
# all use {type, name} (api-catalog.md B.2), so those examples are known to be wrong.
LEGACY_EFFECT_EXAMPLES = {
    "chatWithConfettiEffect",
    "chatWithInvisibleInk",
    "with_confetti",
    "with_slam",
    "with_invisible_ink",
}
# SDK 0.65 requires PhoneNumber.reputation; the March snapshot's example predates the field.
STALE_RESPONSE_EXAMPLES = {("list_phone_numbers", "example")}


def snapshot_examples(kind: str) -> list[tuple[str, str, Any]]:
    """(tool, example name, value) for every JSON example of the 30 kept snapshot operations."""
    import yaml

    snap = yaml.safe_load(SNAPSHOT.read_text())
    by_key = {(m.lower(), p): op["operationId"] for t, (m, p, op) in operations().items()}
    out = []
    for path, item in snap["paths"].items():
        api_path = re.sub(r"{(\w+)}", lambda m: "{" + re.sub(r"(?<!^)([A-Z])", r"_\1", m.group(1)).lower() + "}", path)
        for method, op in item.items():
            tool = by_key.get((method, api_path))
            if tool is None:
                continue
            if kind == "request":
                media = [op.get("requestBody", {}).get("content", {}).get("application/json", {})]
            else:
                media = [
                    r.get("content", {}).get("application/json", {})
                    for s, r in op["responses"].items()
                    if s.startswith("2")
                ]
            for m in media:
                if "example" in m:
                    out.append((tool, "example", m["example"]))
                for name, ex in (m.get("examples") or {}).items():
                    out.append((tool, name, ex["value"]))
    return out


@pytest.mark.skipif(not SNAPSHOT.exists(), reason="/work/shared is not available")
def test_snapshot_request_examples_are_accepted_except_legacy_effects() -> None:
    examples = snapshot_examples("request")
    assert len(examples) > 10
    for tool, name, value in examples:
        if tool == "delete_message":  # OAS sent {chat_id}; SDK 0.65 sends no body
            assert "requestBody" not in operations()[tool][2]
            continue
        ok = body_validator(tool).is_valid(value)
        assert ok == (name not in LEGACY_EFFECT_EXAMPLES), (tool, name)


@pytest.mark.skipif(not SNAPSHOT.exists(), reason="/work/shared is not available")
def test_snapshot_response_examples_are_accepted() -> None:
    examples = [e for e in snapshot_examples("response") if (e[0], e[1]) not in STALE_RESPONSE_EXAMPLES]
    assert len(examples) >= 5
    for tool, name, value in examples:
        errors = [e.message for e in response_validator(tool).iter_errors(value)]
        assert not errors, (tool, name, errors[:3])


# --------------------------------------------------------------------------- against linq-python 0.65


@cache
def sync_spec_module() -> Any:
    import importlib.util

    spec_ = importlib.util.spec_from_file_location("sync_spec", ROOT / "tools" / "sync_spec.py")
    assert spec_ is not None and spec_.loader is not None
    module = importlib.util.module_from_spec(spec_)
    sys.modules.setdefault("sync_spec", module)  # dataclasses look their module up
    spec_.loader.exec_module(module)
    return module


def sdk_calls() -> dict[str, Any]:
    mod = sync_spec_module()
    client = mod._sdk_client()
    return {row["tool"]: mod.sdk_call(client, row["sdk_name"]) for row in tsv_rows()}


def wire_names(typed_dict: type) -> set[str]:
    import typing

    mod = sync_spec_module()
    hints = typing.get_type_hints(typed_dict, include_extras=True)
    return {mod._alias_of(hint) or name for name, hint in hints.items()}


def test_every_sdk_body_field_is_a_body_property_or_a_parameter() -> None:
    for tool, call in sdk_calls().items():
        _, _, op = operations()[tool]
        params = {p["name"] for p in op.get("parameters", [])}
        if call.body is None:
            assert "requestBody" not in op, tool
            continue
        body = resolve(op["requestBody"]["content"]["application/json"]["schema"]["$ref"])
        sdk_fields = wire_names(call.body) - {"messageId"}  # update_sticker_placement's path param
        assert set(body["properties"]) | (sdk_fields & params) == sdk_fields, tool


def test_every_sdk_response_field_is_declared_with_the_same_required_set() -> None:
    for tool, call in sdk_calls().items():
        if call.response is None or call.response is type(None) or call.page_items:
            continue
        _, _, op = operations()[tool]
        ok = next(v for s, v in op["responses"].items() if s.startswith("2"))
        schema = resolve(ok["content"]["application/json"]["schema"]["$ref"])
        fields = call.response.model_fields
        assert set(schema["properties"]) == {f.alias or n for n, f in fields.items()}, tool
        assert set(schema.get("required", [])) == {f.alias or n for n, f in fields.items() if f.is_required()}, tool


def test_response_objects_stay_open_to_new_fields() -> None:
    response_refs = set()
    for _, _, op in operations().values():
        for status, response in op["responses"].items():
            for media in response.get("content", {}).values():
                if status.startswith("2"):
                    response_refs |= {n["$ref"] for n in walk(media["schema"]) if "$ref" in n}
    seen: set[str] = set()
    todo = list(response_refs)
    while todo:
        ref = todo.pop()
        if ref in seen:
            continue
        seen.add(ref)
        schema = resolve(ref)
        assert schema.get("additionalProperties", True) is not False, ref
        todo += [n["$ref"] for n in walk(schema) if "$ref" in n]
    assert len(seen) > 20


def test_webhooks_section_is_the_snapshot_one() -> None:
    import yaml

    if not SNAPSHOT.exists():
        pytest.skip("/work/shared is not available")
    snap = yaml.safe_load(SNAPSHOT.read_text())
    assert list(spec()["webhooks"]) == list(snap["webhooks"])
    assert len(spec()["webhooks"]) == 34


def test_set_chat_background_photo_requires_an_image_url() -> None:
    validator = body_validator("set_chat_background")
    assert not validator.is_valid({"type": "photo"})
    assert validator.is_valid({"type": "photo", "image_url": "https://cdn.linqapp.com/u/bg.jpg"})


def test_create_payment_request_modes_require_their_fields() -> None:
    validator = body_validator("create_payment_request")
    assert validator.is_valid({"amount": 500, "currency": "usd"})
    assert not validator.is_valid({"currency": "usd"})
    assert validator.is_valid({"mode": "subscription", "price_id": "price_1"})
    assert not validator.is_valid({"mode": "subscription", "price_id": "price_1", "amount": 500})
    assert not validator.is_valid({"amount": 500, "currency": "usd", "rail": "natural"})


def test_a_link_part_must_be_the_only_part() -> None:
    validator = body_validator("send_message")
    link = {"type": "link", "value": "https://linqapp.com"}
    assert validator.is_valid({"message": {"parts": [link]}})
    assert not validator.is_valid({"message": {"parts": [{"type": "text", "value": "see"}, link]}})


def test_legacy_phone_number_list_is_marked_deprecated() -> None:
    assert operations()["list_phone_numbers_legacy"][2]["deprecated"] is True
