"""The receiver app: signature first, durable before 2xx, and nothing stored on any rejection."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route
from webhook_helpers import OLD_SECRET, PATH, SECRET, body_of, legacy_headers, message, standard_headers

from linq_mcp.webhooks import EventStore, WebhookReceiver, create_receiver_app


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(PATH, content=body, headers=headers)


async def test_standard_signed_delivery_is_stored(client: httpx.AsyncClient, store: EventStore) -> None:
    payload = message()
    body = body_of(payload)
    response = await post(client, body, standard_headers(body))
    assert response.status_code == 200 and await store.get(payload["event_id"]) is not None


async def test_legacy_signed_delivery_is_stored(client: httpx.AsyncClient, store: EventStore) -> None:
    payload = message()
    body = body_of(payload)
    response = await post(client, body, legacy_headers(body))
    assert response.status_code == 200 and await store.get(payload["event_id"]) is not None


async def test_acknowledged_event_is_already_committed(client: httpx.AsyncClient, db_path: Path) -> None:
    payload = message()
    body = body_of(payload)
    assert (await post(client, body, standard_headers(body))).status_code == 200
    with sqlite3.connect(db_path) as conn:
        row = conn.execute("SELECT raw_json FROM webhook_events WHERE event_id = ?", (payload["event_id"],)).fetchone()
    assert row == (body.decode(),)


async def test_old_secret_still_accepted_during_rotation(store: EventStore) -> None:
    app = create_receiver_app(store, [SECRET, OLD_SECRET], path=PATH)
    body = body_of(message())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        assert (await post(c, body, standard_headers(body, secret=OLD_SECRET))).status_code == 200


def _without(headers: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in names}


REJECTIONS: dict[str, Callable[[bytes], dict[str, str]]] = {
    "missing_headers": lambda b: {"content-type": "application/json"},
    "missing_signature_header": lambda b: _without(standard_headers(b), "webhook-signature"),
    "bad_signature": lambda b: {**standard_headers(b), "webhook-signature": "v1,bm90IGEgc2lnbmF0dXJl"},
    "tampered_body": lambda b: standard_headers(b.replace(b'"hi"', b'"ho"')),
    "wrong_secret": lambda b: standard_headers(b, secret=OLD_SECRET),
    "legacy_wrong_secret": lambda b: legacy_headers(b, secret=OLD_SECRET),
    "stale_timestamp": lambda b: standard_headers(b, ts=int(time.time()) - 600),
    "future_timestamp": lambda b: standard_headers(b, ts=int(time.time()) + 600),
}


@pytest.mark.parametrize("case", sorted(REJECTIONS))
async def test_untrusted_delivery_is_401_and_stores_nothing(
    case: str, client: httpx.AsyncClient, store: EventStore
) -> None:
    body = body_of(message())
    response = await post(client, body, REJECTIONS[case](body))
    assert (response.status_code, await store.count()) == (401, 0)


async def test_malformed_json_is_400_and_stores_nothing(client: httpx.AsyncClient, store: EventStore) -> None:
    body = b'{"event_id": "x", "event_type": '
    response = await post(client, body, standard_headers(body))
    assert (response.status_code, response.json()["error"], await store.count()) == (400, "malformed_json", 0)


async def test_non_envelope_json_is_400_and_stores_nothing(client: httpx.AsyncClient, store: EventStore) -> None:
    body = b'{"hello": "world"}'
    response = await post(client, body, standard_headers(body))
    assert (response.status_code, response.json()["error"], await store.count()) == (400, "not_envelope", 0)


async def test_signature_is_checked_before_json(client: httpx.AsyncClient) -> None:
    response = await post(client, b"not json", {"content-type": "application/json"})
    assert response.status_code == 401


async def test_oversize_body_is_413_and_stores_nothing(client: httpx.AsyncClient, store: EventStore) -> None:
    payload = message(text="x" * 70_000)
    body = body_of(payload)
    response = await post(client, body, standard_headers(body))
    assert (response.status_code, await store.count()) == (413, 0)


async def test_oversize_streamed_body_without_length_is_413(client: httpx.AsyncClient, store: EventStore) -> None:
    body = body_of(message(text="y" * 70_000))

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    response = await client.post(PATH, content=chunks(), headers=standard_headers(body))
    assert (response.status_code, await store.count()) == (413, 0)


async def test_duplicate_event_is_200_and_stored_once(client: httpx.AsyncClient, store: EventStore) -> None:
    body = body_of(message())
    first = await post(client, body, standard_headers(body))
    retry = await post(client, body, standard_headers(body))  # Linq's retry: a new attempt, same event
    assert (first.status_code, retry.status_code, retry.json().get("duplicate"), await store.count()) == (
        200,
        200,
        True,
        1,
    )


async def test_replayed_delivery_has_no_effect(client: httpx.AsyncClient, store: EventStore) -> None:
    body = body_of(message())
    headers = standard_headers(body, webhook_id="msg_replayed")
    await post(client, body, headers)
    replay = await post(client, body, headers)
    assert (replay.status_code, await store.count()) == (200, 1)


async def test_receiver_keeps_accepting_after_rejections(client: httpx.AsyncClient, store: EventStore) -> None:
    bad = body_of(message())
    await post(client, bad, {"content-type": "application/json"})
    await post(client, b"{", standard_headers(b"{"))
    good = body_of(message())
    assert (await post(client, good, standard_headers(good))).status_code == 200 and await store.count() == 1


async def test_rejections_are_counted_by_reason(client: httpx.AsyncClient) -> None:
    body = body_of(message())
    await post(client, body, standard_headers(body, secret=OLD_SECRET))
    await post(client, body, standard_headers(body, secret=OLD_SECRET))
    await post(client, body, standard_headers(body, ts=int(time.time()) - 900))
    await post(client, b"[", standard_headers(b"["))
    await post(client, body, standard_headers(body))
    health = (await client.get(f"{PATH}/health")).json()
    assert health["rejected"] == {"bad_signature": 2, "stale_timestamp": 1, "malformed_json": 1}
    assert (health["accepted"], health["ok"]) == (1, True)


async def test_health_reveals_no_secret(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{PATH}/health")
    assert response.status_code == 200 and SECRET not in response.text and SECRET[6:] not in response.text


async def test_receiver_without_secret_refuses_with_503(store: EventStore) -> None:
    app = create_receiver_app(store, [], path=PATH)
    body = body_of(message())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        response = await post(c, body, standard_headers(body))
    assert (response.status_code, await store.count()) == (503, 0)


async def test_routes_mount_in_another_app(store: EventStore) -> None:
    app = Starlette(routes=WebhookReceiver(store, [SECRET]).routes("/hooks/linq"))
    body = body_of(message())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as c:
        response = await c.post("/hooks/linq", content=body, headers=standard_headers(body))
    assert response.status_code == 200 and await store.count() == 1


async def test_secrets_can_be_rotated_without_restart(client: httpx.AsyncClient) -> None:
    receiver: WebhookReceiver = client.app.state.receiver  # type: ignore[attr-defined]
    receiver.set_secrets([OLD_SECRET])
    body = body_of(message())
    assert (await post(client, body, standard_headers(body))).status_code == 401
    assert (await post(client, body, standard_headers(body, secret=OLD_SECRET))).status_code == 200


async def _custom_route_client(store: EventStore) -> httpx.AsyncClient:
    receiver = WebhookReceiver(store, [SECRET], max_body_bytes=64_000)
    app = Starlette(routes=[Route("/custom", receiver.handle, methods=["POST"])])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r")


async def test_route_function_stores_a_signed_delivery(store: EventStore) -> None:
    body = body_of(message())
    async with await _custom_route_client(store) as c:
        response = await c.post("/custom", content=body, headers=standard_headers(body))
    assert (response.status_code, await store.count()) == (200, 1)


async def test_route_function_refuses_a_bad_signature(store: EventStore) -> None:
    body = body_of(message())
    async with await _custom_route_client(store) as c:
        response = await c.post("/custom", content=body, headers=standard_headers(body, secret=OLD_SECRET))
    assert (response.status_code, await store.count()) == (401, 0)


async def test_route_function_refuses_an_oversize_body(store: EventStore) -> None:
    body = body_of(message(text="z" * 70_000))
    async with await _custom_route_client(store) as c:
        response = await c.post("/custom", content=body, headers=standard_headers(body))
    assert (response.status_code, await store.count()) == (413, 0)


async def test_get_on_the_delivery_path_is_not_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.get(PATH)).status_code == 405


async def test_a_receiver_whose_host_cancels_its_lifespan_still_closes_the_database(db_path: Path) -> None:
    app = create_receiver_app(EventStore(db_path), [SECRET], path=PATH)
    received = anyio.Event()

    async def host() -> None:  # an ASGI host running the app's lifespan in a task, as anyio-based servers do
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://receiver") as http:
                body = body_of(message())
                assert (await post(http, body, standard_headers(body))).status_code == 200
            received.set()
            await anyio.sleep_forever()

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(host)
            await received.wait()
            tg.cancel_scope.cancel()
    # SQLite removes the -wal and -shm files when the last connection closes: nothing was left open.
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith(db_path.name)) == [db_path.name]
