"""The rules the first audit left uncovered because the sandbox did not simulate them:
2009, 2022, 4010, 5002/5003/5007, the 10 MB cap on media URLs, another partner's
attachment, the typing bubble's lifetime, and idempotency retention and scope (G.5).

Each test states the catalog's rule (api-catalog.md, V3) and fails on a kinder sandbox.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sandbox_helpers import code, text

from linq_mcp.sandbox.admin import advance_clock
from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.sandbox.transport import SandboxTransport

LINE = "+15550100001"
AVA, RITA = "+15551230001", "+15551230004"
ADMIN = "http://sandbox.local/_sandbox"
OTHER_KEY = "linq_other_partner_key"
MB = 1024 * 1024


@pytest.fixture(autouse=True)
def frozen(sandbox: Sandbox) -> None:
    sandbox.world.clock.freeze()


def media(url: str) -> dict[str, Any]:
    return {"parts": [{"type": "media", "url": url}]}


async def create(http: httpx.AsyncClient, to: list[str]) -> dict[str, Any]:
    r = await http.post("/v3/chats", json={"from": LINE, "to": to, "message": text("hello")})
    assert r.status_code == 201, r.text
    chat: dict[str, Any] = r.json()["chat"]
    return chat


async def send(http: httpx.AsyncClient, chat_id: str, message: dict[str, Any]) -> httpx.Response:
    return await http.post(f"/v3/chats/{chat_id}/messages", json={"message": message})


async def arm(http: httpx.AsyncClient, kind: str, failure_code: int) -> None:
    r = await http.post(f"{ADMIN}/failures/next", json={"kind": kind, "code": failure_code})
    assert r.status_code == 200, r.text


async def on_the_web(http: httpx.AsyncClient, url: str, **resource: Any) -> None:
    r = await http.put(f"{ADMIN}/web", json={"url": url, **resource})
    assert r.status_code == 200, r.text


def outbound(sandbox: Sandbox, chat_id: str) -> list[str]:
    return [m["id"] for m in sandbox.world.messages.values() if m["chat_id"] == chat_id and m["is_from_me"]]


# 2009: a chat that is still being created --------------------------------------------------------
async def test_a_send_into_a_chat_still_being_created_is_409_2009(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.world.config.timing.chat_creation = 2.0
    chat = await create(http, [AVA])
    assert code(await send(http, chat["id"], text("again"))) == (409, 2009)


async def test_a_chat_takes_sends_once_it_is_created(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.world.config.timing.chat_creation = 2.0
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 2.0)
    assert (await send(http, chat["id"], text("again"))).status_code == 202


# 2022 / 4004: the contact card cannot be written to the line's device --------------------------------
@pytest.mark.parametrize(("failure_code", "status"), [(2022, 500), (4004, 503)])
async def test_a_contact_card_setup_that_fails_answers_its_code_and_creates_nothing(
    http: httpx.AsyncClient, failure_code: int, status: int
) -> None:
    await arm(http, "contact_card", failure_code)
    card = {"phone_number": LINE, "first_name": "Linq"}
    assert code(await http.post("/v3/contact_card", json=card)) == (status, failure_code)
    assert code(await http.get("/v3/contact_card", params={"phone_number": LINE})) == (404, 2012)
    assert (await http.post("/v3/contact_card", json=card)).status_code == 200  # transient: a retry works


# 4010: check_rcs could not run (503 means "unknown", not "unsupported") -----------------------------
async def test_a_check_rcs_that_could_not_run_is_503_4010(http: httpx.AsyncClient) -> None:
    await arm(http, "capability_check", 4010)
    r = await http.post("/v3/capability/check_rcs", json={"address": RITA, "from": LINE})
    assert code(r) == (503, 4010)


# media URLs: downloaded by Linq, at most 10 MB ---------------------------------------------------------
async def test_a_media_url_over_10_mb_is_400_5005(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    url = "https://files.example.com/big.mp4"
    await on_the_web(http, url, size_bytes=10 * MB + 1, content_type="video/mp4")
    assert code(await send(http, chat["id"], media(url))) == (400, 5005)
    assert len(outbound(sandbox, chat["id"])) == 1  # only the opening message


async def test_a_media_url_of_10_mb_is_sent_with_its_real_size_and_type(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    url = "https://files.example.com/clip"
    await on_the_web(http, url, size_bytes=10 * MB, content_type="video/mp4")
    r = await send(http, chat["id"], media(url))
    assert r.status_code == 202, r.text
    part = r.json()["message"]["parts"][0]
    assert (part["size_bytes"], part["mime_type"]) == (10 * MB, "video/mp4")


async def test_a_media_url_that_cannot_be_fetched_is_400_5007(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    r = await send(http, chat["id"], media("https://files.example.invalid/photo.jpg"))
    assert code(r) == (400, 5007)


async def test_a_failed_media_download_is_500_5002_and_sends_nothing(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    await arm(http, "media_download", 5002)
    assert code(await send(http, chat["id"], media("https://files.example.com/photo.jpg"))) == (500, 5002)
    assert len(outbound(sandbox, chat["id"])) == 1


async def test_a_voice_memo_url_over_10_mb_is_413_5001(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    url = "https://files.example.com/long.m4a"
    await on_the_web(http, url, size_bytes=10 * MB + 1, content_type="audio/x-m4a")
    r = await http.post(f"/v3/chats/{chat['id']}/voicememo", json={"voice_memo_url": url})
    assert code(r) == (413, 5001)


async def test_an_upload_url_that_could_not_be_generated_is_500_5003(http: httpx.AsyncClient) -> None:
    await arm(http, "upload_url", 5003)
    slot = {"filename": "a.png", "content_type": "image/png", "size_bytes": 10}
    assert code(await http.post("/v3/attachments", json=slot)) == (500, 5003)
    assert (await http.post("/v3/attachments", json=slot)).status_code == 200


# another partner's attachment_id → 404 --------------------------------------------------------------
async def _uploaded_png(http: httpx.AsyncClient) -> str:
    r = await http.post("/v3/attachments", json={"filename": "a.png", "content_type": "image/png", "size_bytes": 4})
    slot = r.json()
    put = await http.put(slot["upload_url"], content=b"\x89PNG", headers=slot["required_headers"])
    assert put.status_code in (200, 204), put.text
    return str(slot["attachment_id"])


def another_partner(sandbox: Sandbox) -> dict[str, str]:
    """A second partner's key on the same sandbox (``other_partners`` in the world config)."""
    sandbox.world.config.other_partners[OTHER_KEY] = "partner_other"
    return {"Authorization": f"Bearer {OTHER_KEY}"}


async def test_another_partners_attachment_is_404_2003_to_read_or_delete(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    other = another_partner(sandbox)
    attachment_id = await _uploaded_png(http)
    assert code(await http.get(f"/v3/attachments/{attachment_id}", headers=other)) == (404, 2003)
    assert code(await http.delete(f"/v3/attachments/{attachment_id}", headers=other)) == (404, 2003)
    assert (await http.get(f"/v3/attachments/{attachment_id}")).status_code == 200  # still the owner's


async def test_another_partners_attachment_cannot_be_sent(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    other = another_partner(sandbox)
    attachment_id = await _uploaded_png(http)
    chat = await create(http, [AVA])
    r = await http.post(
        f"/v3/chats/{chat['id']}/messages",
        json={"message": {"parts": [{"type": "media", "attachment_id": attachment_id}]}},
        headers=other,
    )
    assert code(r) == (404, 2003)


# the typing bubble: about 85-90 s per start, cleared by a send, best-effort before a recent send ----------
async def typing_shown(http: httpx.AsyncClient, chat_id: str) -> bool:
    r = await http.get(f"{ADMIN}/chats/{chat_id}/typing")
    assert r.status_code == 200, r.text
    return bool(r.json()["shown"])


async def test_a_typing_bubble_lasts_85_seconds(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    assert (await http.post(f"/v3/chats/{chat['id']}/typing")).status_code == 204
    await advance_clock(sandbox.world, 84)
    assert await typing_shown(http, chat["id"])
    await advance_clock(sandbox.world, 1)
    assert not await typing_shown(http, chat["id"])


async def test_a_typing_start_every_60_seconds_keeps_the_bubble(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    for _ in range(3):
        await http.post(f"/v3/chats/{chat['id']}/typing")
        await advance_clock(sandbox.world, 60)
    assert await typing_shown(http, chat["id"])


async def test_sending_a_message_clears_the_typing_bubble(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    await http.post(f"/v3/chats/{chat['id']}/typing")
    assert (await send(http, chat["id"], text("here it is"))).status_code == 202
    assert not await typing_shown(http, chat["id"])


async def test_typing_without_a_send_in_the_last_5_minutes_is_not_shown(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """Stricter reading of "best-effort": not shown at all."""
    chat = await create(http, [AVA])
    await advance_clock(sandbox.world, 301)
    assert (await http.post(f"/v3/chats/{chat['id']}/typing")).status_code == 204
    assert not await typing_shown(http, chat["id"])


# idempotency: retention and scope (G.5, read strictly) -------------------------------------------------
async def test_an_idempotency_key_is_forgotten_after_24_hours(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    chat = await create(http, [AVA])
    first = await send(http, chat["id"], text("ping", idempotency_key="k-1"))
    await advance_clock(sandbox.world, 24 * 3600)
    again = await send(http, chat["id"], text("ping", idempotency_key="k-1"))
    assert again.status_code == 202
    assert again.json()["message"]["id"] != first.json()["message"]["id"]


async def test_an_idempotency_key_reused_for_another_message_is_409_2015(http: httpx.AsyncClient) -> None:
    chat = await create(http, [AVA])
    assert (await send(http, chat["id"], text("first", idempotency_key="k-2"))).status_code == 202
    assert code(await send(http, chat["id"], text("second", idempotency_key="k-2"))) == (409, 2015)


async def test_an_idempotency_key_reused_in_another_chat_is_409_2015(http: httpx.AsyncClient) -> None:
    ava, rita = await create(http, [AVA]), await create(http, [RITA])
    assert (await send(http, ava["id"], text("same", idempotency_key="k-3"))).status_code == 202
    assert code(await send(http, rita["id"], text("same", idempotency_key="k-3"))) == (409, 2015)


# rules found uncovered on re-reading the catalog ---------------------------------------------------------
async def test_another_partners_webhook_subscription_is_403_2005(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """A.52: retrieve answers 403 besides 404/2010 — for a subscription that is not yours."""
    r = await http.post(
        "/v3/webhook-subscriptions",
        json={"target_url": "https://hooks.example.com/linq", "subscribed_events": ["message.sent"]},
    )
    assert r.status_code == 201, r.text
    other = another_partner(sandbox)
    sub_id = r.json()["id"]
    assert code(await http.get(f"/v3/webhook-subscriptions/{sub_id}", headers=other)) == (403, 2005)
    assert code(await http.delete(f"/v3/webhook-subscriptions/{sub_id}", headers=other)) == (403, 2005)
    listed = await http.get("/v3/webhook-subscriptions", headers=other)
    assert listed.json()["subscriptions"] == []


async def test_an_inline_sticker_url_must_be_a_linq_download_url(http: httpx.AsyncClient) -> None:
    """B.2: an inline sticker's ``url`` is a Linq ``download_url``, not any image on the web."""
    chat = await create(http, [AVA])
    sticker = {"range": [0, 1], "url": "https://images.example.com/smile.png"}
    r = await send(http, chat["id"], {"parts": [{"type": "text", "value": "hi", "inline_stickers": [sticker]}]})
    assert code(r) == (400, 1004)


async def test_send_to_handles_replays_an_idempotency_key_header_and_sends_nothing(
    http: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    """A.21: ``POST /v3/messages`` takes the key as the ``Idempotency-Key`` header."""
    body = {"to": [AVA], "message": text("once")}
    first = await http.post("/v3/messages", json=body, headers={"Idempotency-Key": "h-1"})
    again = await http.post("/v3/messages", json=body, headers={"Idempotency-Key": "h-1"})
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert len(outbound(sandbox, first.json()["chat_id"])) == 1


async def test_a_reputation_audit_is_readable_for_24_hours_only(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """A.38: an audit result stays readable for 24 h."""
    started = await http.post(f"/v3/phone_numbers/{LINE}/reputation_audit")
    assert started.status_code == 202, started.text
    path = f"/v3/phone_numbers/{LINE}/reputation_audit/{started.json()['audit_id']}"
    await advance_clock(sandbox.world, 24 * 3600 - 1)
    assert (await http.get(path)).status_code == 200
    await advance_clock(sandbox.world, 2)
    assert (await http.get(path)).status_code == 404


async def test_an_outbound_edit_on_a_zero_retention_line_has_empty_text_in_message_edited() -> None:
    """C.3: on a zero-retention line, ``message.edited`` carries an empty ``part.text`` for
    your own edits (the edit's response showed the text once)."""
    world = SandboxConfig.from_dict({"seed": 7, "lines": [{"phone_number": LINE, "zero_retention": True}]})
    sandbox = create_sandbox(world)
    sandbox.world.clock.freeze()
    async with httpx.AsyncClient(
        transport=SandboxTransport(sandbox.app),
        base_url="http://sandbox.local/api/partner",
        headers={"Authorization": f"Bearer {sandbox.api_key}"},
    ) as http:
        chat = await create(http, [AVA])
        edited = await http.patch(f"/v3/messages/{chat['message']['id']}", json={"text": "hello again"})
        assert edited.status_code == 200, edited.text
    event = next(e for e in sandbox.world.events if e.event_type == "message.edited")
    assert event.data["part"] == {"index": 0, "text": ""}
    assert event.data["zero_retention"] is True


async def test_stopping_a_location_share_ends_it_in_every_chat(http: httpx.AsyncClient, sandbox: Sandbox) -> None:
    """A.17: ``location.stop`` ends that contact's share in every chat, not only this one."""
    direct, group = await create(http, [AVA]), await create(http, [AVA, RITA])
    assert (await http.post(f"/v3/chats/{direct['id']}/location/request")).status_code == 200
    await advance_clock(sandbox.world, 1)
    features = (await http.get(f"/v3/chats/{group['id']}/location")).json()["data"]["features"]
    assert [f["properties"]["handle"] for f in features] == [AVA]
    stop = await http.request("DELETE", f"/v3/chats/{direct['id']}/location", json={"handle": AVA})
    assert stop.status_code == 202
    await advance_clock(sandbox.world, 1)
    assert (await http.get(f"/v3/chats/{group['id']}/location")).json()["data"]["features"] == []
