"""The rule-by-rule audit (issue 17, "what to build" 3): rules of api-catalog.md (V3) that no
other sandbox test held, each as a test that fails if the sandbox is kinder than the rule.

docs/sandbox.md ("Audit") maps every catalog rule to its test, here or elsewhere.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from sandbox_helpers import code, create, text
from sandbox_oas import event_errors, webhook_schema

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox

LINE, RCS_LINE = "+15550100001", "+15550100002"
AVA, SAM, STEVE, RITA = "+15551230001", "+15551230002", "+15551230003", "+15551230004"
OUT = "+15557770001"  # outside the cast, takes every service
ADMIN = "http://sandbox.local/_sandbox"
TRACE = re.compile(r"\A[0-9a-f]{32}\Z")


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


async def send(http: httpx.AsyncClient, chat_id: str, message: dict[str, Any], **body: Any) -> httpx.Response:
    return await http.post(f"/v3/chats/{chat_id}/messages", json={"message": message, **body})


def is_uuid(value: object) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


# B.1 ids, formats, timestamps --------------------------------------------------------------------
async def test_resource_and_event_ids_are_uuids(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    lines = (await http.get("/v3/phone_numbers")).json()["phone_numbers"]
    ids = [chat["id"], chat["message"]["id"], *(h["id"] for h in chat["handles"]), *(ln["id"] for ln in lines)]
    ids += [e.event_id for e in sandbox.world.events]
    assert ids and all(is_uuid(i) for i in ids), ids


async def test_every_response_carries_a_32_hex_trace_id_also_on_errors(http: httpx.AsyncClient) -> None:
    ok = await http.get("/v3/chats")
    bad = await http.get("/v3/chats/00000000-0000-4000-8000-000000000000")
    assert TRACE.match(ok.headers["X-Trace-ID"]) and TRACE.match(bad.headers["X-Trace-ID"])
    assert bad.json()["trace_id"] == bad.headers["X-Trace-ID"]


async def test_a_client_traceparent_is_replaced_by_a_server_trace(http: httpx.AsyncClient) -> None:
    client_trace = "0af7651916cd43dd8448eb211c80319c"
    r = await http.get("/v3/chats", headers={"traceparent": f"00-{client_trace}-b7ad6b7169203331-01"})
    assert TRACE.match(r.headers["X-Trace-ID"]) and r.headers["X-Trace-ID"] != client_trace


async def test_a_ten_digit_number_without_plus_is_1002(http: httpx.AsyncClient) -> None:
    """V2 assumed +1 for 10 digits; V3 does not."""
    r = await http.post("/v3/chats", json={"from": LINE, "to": ["5551230001"], "message": text("hi")})
    assert code(r) == (400, 1002)


async def test_list_chats_from_takes_the_looser_pattern_without_plus(http: httpx.AsyncClient) -> None:
    await create(http, [AVA])
    r = await http.get("/v3/chats", params={"from": LINE.lstrip("+")})
    assert r.status_code == 200 and len(r.json()["chats"]) == 1


async def test_timestamps_are_rfc3339(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 5)
    stamps = [
        chat["handles"][0]["joined_at"],
        chat["message"]["created_at"],
        *(e.created_at for e in sandbox.world.events),
    ]
    for stamp in stamps:
        assert datetime.fromisoformat(stamp.replace("Z", "+00:00")).tzinfo is not None, stamp


# B.2 MessageContent ----------------------------------------------------------------------------------
async def test_more_than_100_parts_is_1004(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    parts = [
        {"type": "text", "value": "a"} if i % 2 == 0 else {"type": "media", "url": f"https://cdn.example/{i}.png"}
        for i in range(101)
    ]
    assert code(await send(http, chat["id"], {"parts": parts})) == (400, 1004)


async def test_empty_parts_is_1001(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    assert code(await send(http, chat["id"], {"parts": []})) == (400, 1001)


async def test_parts_and_experience_together_are_1004(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    message = {**text("hi"), "experience": {"name": "link", "action": "open", "params": {}}}
    assert code(await send(http, chat["id"], message)) == (400, 1004)


async def test_text_media_text_is_allowed(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    parts = [
        {"type": "text", "value": "a"},
        {"type": "media", "url": "https://cdn.example/a.png"},
        {"type": "text", "value": "b"},
    ]
    assert (await send(http, chat["id"], {"parts": parts})).status_code == 202


async def test_41_public_url_media_parts_are_1004_but_attachments_do_not_count(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    urls = [{"type": "media", "url": f"https://cdn.example/{i}.png"} for i in range(41)]
    assert code(await send(http, chat["id"], {"parts": urls})) == (400, 1004)
    slot = (
        await http.post("/v3/attachments", json={"filename": "a.png", "content_type": "image/png", "size_bytes": 3})
    ).json()
    await http.put(slot["upload_url"], content=b"png", headers=slot["required_headers"])
    mixed = urls[:40] + [{"type": "media", "attachment_id": slot["attachment_id"]}]
    assert (await send(http, chat["id"], {"parts": mixed})).status_code == 202


async def test_a_media_part_with_both_url_and_attachment_is_1004(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    part = {"type": "media", "url": "https://cdn.example/a.png", "attachment_id": str(uuid.uuid4())}
    assert code(await send(http, chat["id"], {"parts": [part]})) == (400, 1004)


async def test_a_media_url_that_is_not_https_is_refused(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    r = await send(http, chat["id"], {"parts": [{"type": "media", "url": "http://cdn.example/a.png"}]})
    assert r.status_code == 400


async def test_text_over_10000_characters_is_1004(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    assert code(await send(http, chat["id"], text("x" * 10001))) == (400, 1004)


async def test_more_than_100_text_decorations_is_1004(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    decorations = [{"range": [0, 1], "style": "bold"}] * 101
    part = {"type": "text", "value": "hello", "text_decorations": decorations}
    assert code(await send(http, chat["id"], {"parts": [part]})) == (400, 1004)


async def test_decoration_ranges_count_utf16_code_units(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    value = "hi 👋"  # 4 code points, 5 UTF-16 code units
    fits = {"type": "text", "value": value, "text_decorations": [{"range": [3, 5], "style": "bold"}]}
    beyond = {"type": "text", "value": value, "text_decorations": [{"range": [3, 6], "style": "bold"}]}
    assert (await send(http, chat["id"], {"parts": [fits]})).status_code == 202
    assert code(await send(http, chat["id"], {"parts": [beyond]})) == (400, 1004)


async def test_a_decoration_with_both_style_and_animation_is_1004(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    deco = {"range": [0, 2], "style": "bold", "animation": "shake"}
    assert code(
        await send(http, chat["id"], {"parts": [{"type": "text", "value": "hey", "text_decorations": [deco]}]})
    ) == (
        400,
        1004,
    )


async def test_styles_may_overlap_but_an_animation_may_not_overlap_anything(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    styles = [{"range": [0, 4], "style": "bold"}, {"range": [2, 6], "style": "italic"}]
    animated = [{"range": [0, 4], "style": "bold"}, {"range": [2, 6], "animation": "shake"}]
    ok = {"type": "text", "value": "hello world", "text_decorations": styles}
    bad = {"type": "text", "value": "hello world", "text_decorations": animated}
    assert (await send(http, chat["id"], {"parts": [ok]})).status_code == 202
    assert code(await send(http, chat["id"], {"parts": [bad]})) == (400, 1004)


def _sticker(start: int, n: int) -> dict[str, Any]:
    return {"range": [start, start + 1], "url": f"https://cdn.linqapp.com/s/{n}.png"}


async def test_inline_stickers_may_not_overlap_each_other_or_a_decoration(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    value = "abcdefghij"
    overlapping = {"type": "text", "value": value, "inline_stickers": [_sticker(0, 1), {**_sticker(0, 2)}]}
    on_decoration = {
        "type": "text",
        "value": value,
        "inline_stickers": [_sticker(1, 1)],
        "text_decorations": [{"range": [0, 3], "style": "bold"}],
    }
    assert code(await send(http, chat["id"], {"parts": [overlapping]})) == (400, 1004)
    assert code(await send(http, chat["id"], {"parts": [on_decoration]})) == (400, 1004)


async def test_inline_stickers_use_at_most_10_distinct_images(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    value = "x" * 20
    eleven = {"type": "text", "value": value, "inline_stickers": [_sticker(i, i) for i in range(11)]}
    ten_reused = {"type": "text", "value": value, "inline_stickers": [_sticker(i, i % 10) for i in range(12)]}
    assert code(await send(http, chat["id"], {"parts": [eleven]})) == (400, 1004)
    assert (await send(http, chat["id"], {"parts": [ten_reused]})).status_code == 202


async def test_an_effect_is_dropped_on_sms(http: httpx.AsyncClient) -> None:
    chat = await create(http, [SAM])
    r = await send(http, chat["id"], text("hi", effect={"type": "bubble", "name": "slam"}))
    assert r.status_code == 202 and r.json()["message"]["effect"] is None


async def test_a_negative_reply_to_part_index_is_1005(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    message = text("re", reply_to={"message_id": chat["message"]["id"], "part_index": -1})
    assert code(await send(http, chat["id"], message)) == (400, 1005)


async def test_preferred_rcs_never_uses_imessage(http: httpx.AsyncClient) -> None:
    r = await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": text("hi", preferred_service="RCS")})
    assert r.json()["chat"]["service"] == "RCS"


async def test_preferred_rcs_falls_back_to_sms(http: httpx.AsyncClient) -> None:
    r = await http.post("/v3/chats", json={"from": LINE, "to": [SAM], "message": text("hi", preferred_service="RCS")})
    assert r.json()["chat"]["service"] == "SMS"


async def test_preferred_sms_is_sms_even_where_rcs_works(http: httpx.AsyncClient) -> None:
    """Stricter reading of the OAS's self-contradicting text (catalog G.11): SMS means SMS."""
    r = await http.post("/v3/chats", json={"from": LINE, "to": [RITA], "message": text("hi", preferred_service="SMS")})
    assert r.json()["chat"]["service"] == "SMS"


async def test_a_link_part_must_be_the_only_part(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    parts = [{"type": "link", "value": "https://linqapp.com"}, {"type": "media", "url": "https://cdn.example/a.png"}]
    assert code(await send(http, chat["id"], {"parts": parts})) == (400, 1004)


async def test_a_link_over_2048_characters_is_refused(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    r = await send(http, chat["id"], {"parts": [{"type": "link", "value": "https://x.example/" + "a" * 2048}]})
    assert r.status_code == 400


APP = {"bundle_id": "com.x.app", "name": "X", "team_id": "ABCDE12345"}


@pytest.mark.parametrize(
    ("part", "expected"),
    [
        ({"app": {**APP, "bundle_id": "com:x"}, "layout": {"caption": "c"}}, 1008),
        ({"app": {**APP, "name": ""}, "layout": {"caption": "c"}}, 1008),
        ({"app": APP, "layout": {"image_title": "t"}}, 1004),
        ({"app": APP, "layout": {"caption": "c", "image_title": "t"}}, 1004),
        ({"app": APP, "layout": {"caption": "c"}, "url": "http://x.example"}, 1005),
    ],
    ids=["bundle-colon", "no-name", "no-visible-layout", "image-title-without-image", "url-not-https"],
)
async def test_imessage_app_part_rules(http: httpx.AsyncClient, part: dict[str, Any], expected: int) -> None:
    chat = await create(http, [AVA])
    r = await send(http, chat["id"], {"parts": [{"type": "imessage_app", **part}]})
    assert code(r) == (400, expected)


async def test_an_imessage_app_part_must_be_the_only_part(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    parts = [{"type": "imessage_app", "app": APP, "layout": {"caption": "c"}}, {"type": "text", "value": "x"}]
    assert code(await send(http, chat["id"], {"parts": parts})) == (400, 1004)


async def test_an_app_clip_is_never_downgraded(http: httpx.AsyncClient) -> None:
    chat = await create(http, [SAM])
    r = await send(http, chat["id"], {"parts": [{"type": "app_clip", "value": "https://appclip.apple.com/x"}]})
    assert code(r) == (409, 2028)


async def test_a_reply_in_the_first_message_of_a_new_chat_is_1005(http: httpx.AsyncClient) -> None:
    first = await create(http, [AVA])
    message = text("re", reply_to={"message_id": first["message"]["id"]})
    r = await http.post("/v3/chats", json={"from": LINE, "to": [RITA], "message": message})
    assert code(r) == (400, 1005)


async def test_send_to_handles_allows_a_link_in_a_new_chat(http: httpx.AsyncClient) -> None:
    r = await http.post(
        "/v3/messages", json={"to": [AVA], "message": {"parts": [{"type": "link", "value": "https://linqapp.com"}]}}
    )
    assert r.status_code == 202 and r.json()["created_new_chat"] is True


# B.3 resources and state rules -------------------------------------------------------------------
async def test_a_new_chats_display_name_is_its_handles_comma_joined(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA, RITA])
    assert chat["display_name"] == f"{AVA}, {RITA}"


async def test_an_opted_out_person_is_refused_on_any_chat_and_any_line(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await create(http, [STEVE])
    await advance_clock(sandbox.world, 5)  # Steve answers STOP
    r = await http.post("/v3/chats", json={"from": RCS_LINE, "to": [STEVE], "message": text("other line")})
    assert code(r) == (403, 2024)
    by_handles = await http.post("/v3/messages", json={"to": [STEVE], "message": text("any line")})
    assert code(by_handles) == (403, 2024)


async def test_is_delivered_stays_true_once_read(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 5)
    message = (await http.get(f"/v3/messages/{chat['message']['id']}")).json()
    assert (message["delivery_status"], message["is_delivered"], message["is_read"]) == ("read", True, True)


async def test_a_group_you_left_is_not_reused_by_create(http: httpx.AsyncClient) -> None:
    to = [AVA, STEVE, OUT]
    group = await create(http, to)
    assert (await http.post(f"/v3/chats/{group['id']}/leave")).status_code == 202
    again = await create(http, to)
    assert again["id"] != group["id"]


async def test_more_than_31_recipients_is_refused(http: httpx.AsyncClient) -> None:
    to = [f"+1555888{i:03d}0" for i in range(32)]
    r = await http.post("/v3/chats", json={"from": LINE, "to": to, "message": text("hi")})
    assert r.status_code == 400


async def test_group_messages_get_no_receipts(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    group = await create(http, [AVA, OUT])
    await advance_clock(sandbox.world, 5)
    message = (await http.get(f"/v3/messages/{group['message']['id']}")).json()
    assert message["delivery_status"] == "sent"
    assert not [e for e in sandbox.world.events if e.event_type in ("message.delivered", "message.read")]


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_typing_in_a_group_is_refused(http: httpx.AsyncClient, method: str) -> None:
    """Stricter reading of catalog G.3 (OAS: not supported; one docs page: 403)."""
    group = await create(http, [AVA, OUT])
    assert (await http.request(method, f"/v3/chats/{group['id']}/typing")).status_code == 403


async def test_send_to_handles_with_no_eligible_line_is_409(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    for line in sandbox.world.lines.values():
        line["status"] = "FLAGGED"
    r = await http.post("/v3/messages", json={"to": [AVA], "message": text("hi")})
    assert r.status_code == 409


# B.4 error envelope ------------------------------------------------------------------------------
async def test_the_error_envelope_has_status_code_message_doc_url_and_no_retry_after(http: httpx.AsyncClient) -> None:
    r = await http.get("/v3/chats/00000000-0000-4000-8000-000000000000")
    body = r.json()
    assert body["success"] is False and TRACE.match(body["trace_id"])
    assert set(body["error"]) == {"status", "code", "message", "doc_url"}
    assert body["error"]["status"] == r.status_code == 404
    assert body["error"]["doc_url"].startswith("https://docs.linqapp.com/error/codes/")


async def test_a_missing_or_wrong_token_is_401_2004(sandbox: Sandbox) -> None:
    from linq_mcp.sandbox.transport import SandboxTransport

    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app), base_url="http://sandbox.local/api/partner"
    ) as anon:
        missing = await anon.get("/v3/chats")
        wrong = await anon.get("/v3/chats", headers={"Authorization": "Bearer nope"})
    assert code(missing) == (401, 2004) and code(wrong) == (401, 2004)


# B.6 rate limits -------------------------------------------------------------------------------
async def test_a_group_send_counts_against_every_recipients_pair(http: httpx.AsyncClient) -> None:
    """Stricter reading of catalog G.12: a group message uses each sender-recipient pair."""
    group = await create(http, [AVA, OUT])
    for i in range(29):
        assert (await send(http, group["id"], text(f"g{i}"))).status_code == 202
    direct = await http.post("/v3/chats", json={"from": LINE, "to": [AVA], "message": text("31st to Ava")})
    assert code(direct) == (429, 1007)


async def test_location_requests_are_limited_per_chat(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [OUT])
    first = await http.post(f"/v3/chats/{chat['id']}/location/request")
    second = await http.post(f"/v3/chats/{chat['id']}/location/request")
    assert first.status_code == 200 and code(second) == (429, 1007)
    assert "Retry-After" in second.headers


# C webhooks ---------------------------------------------------------------------------------------
async def _every_documented_event(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """Drive the world through the 17 event types the OAS documents."""
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 5)
    message_id = chat["message"]["id"]
    await http.post(
        f"/v3/messages/{message_id}/reactions", json={"operation": "add", "type": "custom", "custom_emoji": "🎉"}
    )
    await http.post(
        f"/v3/messages/{message_id}/reactions", json={"operation": "remove", "type": "custom", "custom_emoji": "🎉"}
    )
    group = await create(http, [AVA, STEVE, OUT])
    await http.put(
        f"/v3/chats/{group['id']}", json={"display_name": "Club", "group_chat_icon": "https://x.example/i.png"}
    )
    await advance_clock(sandbox.world, 1)
    await http.post(f"{ADMIN}/failures/next", json={"kind": "group_name", "code": 3007})
    await http.post(f"{ADMIN}/failures/next", json={"kind": "group_icon", "code": 4001})
    await http.put(f"/v3/chats/{group['id']}", json={"display_name": "X", "group_chat_icon": "https://x.example/j.png"})
    await http.post(f"/v3/chats/{group['id']}/participants", json={"handle": "+15557770002"})
    await http.request("DELETE", f"/v3/chats/{group['id']}/participants", json={"handle": "+15557770002"})
    await http.post(f"{ADMIN}/failures/next", json={"code": 4001})
    reply = text("re", reply_to={"message_id": message_id}, effect={"type": "bubble", "name": "slam"})
    await send(http, chat["id"], reply)
    await advance_clock(sandbox.world, 5)
    await http.post(f"{ADMIN}/lines/{RCS_LINE}/status", json={"status": "FLAGGED"})


async def test_every_documented_event_matches_its_oas_schema_in_both_versions(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await _every_documented_event(http, sandbox)
    documented = {e.event_type for e in sandbox.world.events if webhook_schema(e.event_type, "2026-02-03")}
    assert len(documented) == 17, sorted(documented)
    for event in sandbox.world.events:
        for version in ("2025-01-01", "2026-02-03"):
            assert event_errors(event, version) == [], (event.event_type, version)


async def test_v2026_message_timestamps_follow_the_event(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """sent/received: sent_at only; delivered: + delivered_at; read: all three."""
    await create(http, [AVA])
    await advance_clock(sandbox.world, 5)
    expected = {
        "message.sent": (True, False, False),
        "message.received": (True, False, False),
        "message.delivered": (True, True, False),
        "message.read": (True, True, True),
    }
    seen = set()
    for event in sandbox.world.events:
        if event.event_type in expected:
            d = event.data
            got = (d["sent_at"] is not None, d["delivered_at"] is not None, d["read_at"] is not None)
            assert got == expected[event.event_type], event.event_type
            seen.add(event.event_type)
    assert seen == set(expected)


# A: per-operation rules no other test held -------------------------------------------------------
async def test_an_edit_over_10000_characters_is_refused(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 0.1)
    r = await http.patch(f"/v3/messages/{chat['message']['id']}", json={"text": "x" * 10001})
    assert r.status_code == 400


async def test_an_upload_url_expires_after_15_minutes(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    slot = (
        await http.post("/v3/attachments", json={"filename": "a.png", "content_type": "image/png", "size_bytes": 3})
    ).json()
    await advance_clock(sandbox.world, 15 * 60 + 1)
    put = await http.put(slot["upload_url"], content=b"png", headers=slot["required_headers"])
    assert put.status_code == 403


async def test_leaving_a_direct_chat_is_409(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    assert (await http.post(f"/v3/chats/{chat['id']}/leave")).status_code == 409


async def test_check_rcs_from_a_line_without_rcs_is_503_4009() -> None:
    from linq_mcp.sandbox.app import create_sandbox
    from linq_mcp.sandbox.config import LineConfig, SandboxConfig
    from linq_mcp.sandbox.transport import SandboxTransport

    box = create_sandbox(SandboxConfig(lines=[LineConfig(phone_number="+15550100009", line_type="SMS")]))
    async with httpx.AsyncClient(
        transport=SandboxTransport(box.app),
        base_url="http://sandbox.local/api/partner",
        headers={"Authorization": f"Bearer {box.api_key}"},
    ) as http:
        r = await http.post("/v3/capability/check_rcs", json={"address": AVA, "from": "+15550100009"})
    assert code(r) == (503, 4009)


async def test_a_poll_is_delivered_as_poll_events_not_message_events(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 5)
    before = len(sandbox.world.events)
    r = await http.post(f"/v3/chats/{chat['id']}/polls", json={"poll": {"options": [{"text": "a"}, {"text": "b"}]}})
    await advance_clock(sandbox.world, 5)
    kinds = [e.event_type for e in sandbox.world.events[before:] if e.data.get("message_id") == r.json()["message_id"]]
    assert "poll.sent" in kinds and not any(k.startswith("message.") for k in kinds)


async def test_an_inline_sticker_needs_one_source_and_no_mention(http: httpx.AsyncClient) -> None:
    group = await create(http, [AVA, OUT])
    both = {"range": [0, 1], "url": "https://cdn.linqapp.com/s/1.png", "attachment_id": str(uuid.uuid4())}
    two_sources = {"type": "text", "value": "hey", "inline_stickers": [both]}
    with_mention = {
        "type": "text",
        "value": "hey",
        "inline_stickers": [_sticker(0, 1)],
        "mention": AVA,
        "mention_range": [1, 3],
    }
    assert code(await send(http, group["id"], {"parts": [two_sources]})) == (400, 1004)
    assert code(await send(http, group["id"], {"parts": [with_mention]})) == (400, 1004)


def _sdk_models() -> dict[str, Any]:
    """SDK 0.65's webhook event models by event type (``chat.typing_indicator.started`` ->
    ``ChatTypingIndicatorStartedWebhookEvent``)."""
    import typing

    from linq.types import UnwrapWebhookEvent

    members = typing.get_args(typing.get_args(UnwrapWebhookEvent)[0])
    return {m.__name__: m for m in members}


def _model_name(event_type: str) -> str:
    return "".join(w.capitalize() for w in re.split(r"[._]", event_type)) + "WebhookEvent"


async def test_every_event_the_sandbox_emits_validates_as_the_sdk_model(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """SDK 0.65 as the oracle for the events the OAS does not document (polls, location, ...)."""
    from linq_mcp.sandbox.webhooks import envelope

    await _every_documented_event(http, sandbox)
    chat = await create(http, [AVA], text("more"))
    await advance_clock(sandbox.world, 5)
    await http.patch(f"/v3/messages/{chat['message']['id']}", json={"text": "edited"})
    poll = await http.post(f"/v3/chats/{chat['id']}/polls", json={"poll": {"options": [{"text": "a"}, {"text": "b"}]}})
    await http.post(f"/v3/messages/{poll.json()['message_id']}/poll/options", json={"options": [{"text": "c"}]})
    await http.post(f"/v3/chats/{chat['id']}/location/request")
    await http.post(f"/v3/chats/{chat['id']}/background", json={"type": "color", "shades": ["#000000", "#ffffff"]})
    await advance_clock(sandbox.world, 5)
    await http.request("DELETE", f"/v3/chats/{chat['id']}/location", json={"handle": AVA})
    await http.post("/v3/contact_card", json={"phone_number": LINE, "first_name": "Linq"})
    await advance_clock(sandbox.world, 5)
    models = _sdk_models()
    checked = set()
    for event in sandbox.world.events:
        model = models.get(_model_name(event.event_type))
        assert model is not None, f"the SDK has no model for {event.event_type}"
        model.model_validate(envelope(event, "2026-02-03", "partner_sandbox"))
        checked.add(event.event_type)
    assert {
        "poll.sent",
        "poll.updated",
        "location.sharing.started",
        "message.edited",
        "contact_card.created",
    } <= checked


@pytest.fixture
async def strict_sdk(sandbox: Sandbox) -> Any:
    """linq-python 0.65 with strict response validation: every response must parse as its model."""
    from linq import AsyncLinqAPIV3

    from linq_mcp.sandbox.transport import SandboxTransport

    client = AsyncLinqAPIV3(
        api_key=sandbox.api_key,
        base_url="http://sandbox.local/api/partner",
        http_client=httpx.AsyncClient(transport=SandboxTransport(sandbox.app)),
        max_retries=0,
        _strict_response_validation=True,
    )
    try:
        yield client
    finally:
        await client.close()


async def test_responses_parse_strictly_as_the_sdk_models(strict_sdk: Any, sandbox: Sandbox) -> None:
    """SDK 0.65 as the oracle for response shapes, across the messaging, group, rich and line operations."""
    sdk = strict_sdk
    created = await sdk.chats.create(from_=LINE, to=[AVA], message=text("hello"))
    chat_id, message_id = created.chat.id, created.chat.message.id
    await advance_clock(sandbox.world, 5)
    await sdk.chats.list_chats(from_=LINE)
    await sdk.chats.retrieve(chat_id)
    await sdk.chats.messages.send(chat_id, message=text("two"))
    await sdk.chats.messages.list(chat_id)
    await sdk.messages.retrieve(message_id)
    await sdk.messages.update(message_id, text="edited")
    await sdk.messages.add_reaction(message_id, operation="add", type="like")
    await sdk.messages.list_messages_thread(message_id)
    await sdk.messages.create(to=[RITA], message=text("by handles"))
    group = await sdk.chats.create(from_=LINE, to=[AVA, STEVE, OUT], message=text("group"))
    await sdk.chats.update(group.chat.id, display_name="Club")
    await sdk.chats.participants.add(group.chat.id, handle="+15557770002")
    await sdk.chats.participants.remove(group.chat.id, handle="+15557770002")
    poll = await sdk.chats.polls.create(chat_id, poll={"options": [{"text": "a"}, {"text": "b"}]})
    await sdk.messages.poll.retrieve(poll.message_id)
    await sdk.messages.poll.add_options(poll.message_id, options=[{"text": "c"}])
    await sdk.messages.poll.vote(poll.message_id, operation="add", option_id=poll.poll.options[0].option_id)
    await sdk.chats.location.request(chat_id)
    await advance_clock(sandbox.world, 5)
    await sdk.chats.location.retrieve(chat_id)
    await sdk.chats.send_voicememo(chat_id, voice_memo_url="https://cdn.example/m.m4a")
    await sdk.capability.check_i_message(address=AVA)
    await sdk.capability.check_RCS(address=RITA)
    lines = await sdk.phone_numbers.list()
    await sdk.phone_numbers.update(lines.phone_numbers[0].id, forwarding_number="+15551110000")
    audit = await sdk.phone_numbers.start_reputation_audit(LINE)
    await sdk.phone_numbers.get_reputation_audit(audit.audit_id, phone_number=LINE)
    await sdk.available_number.retrieve()
    await sdk.contact_card.create(phone_number=LINE, first_name="Linq")
    await sdk.contact_card.retrieve()
    await sdk.blocked_handles.block(handle="+15559990000")
    await sdk.blocked_handles.list()
    await sdk.experiences.list()
    await sdk.webhook_events.list()
    attachment = await sdk.attachments.create(filename="a.png", content_type="image/png", size_bytes=3)
    await sdk.attachments.retrieve(attachment.attachment_id)


@pytest.mark.parametrize("address", ["not a handle", "+1555123000\uff11", "+15551230001\n", "5551230001"])
async def test_check_imessage_refuses_a_handle_that_is_neither_e164_nor_email_with_1002(
    http: httpx.AsyncClient, address: str
) -> None:
    r = await http.post("/v3/capability/check_imessage", json={"address": address})
    assert code(r) == (400, 1002)
