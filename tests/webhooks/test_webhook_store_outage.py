"""When the store cannot take an event the receiver answers 503, so Linq retries; nothing it
acknowledged before is lost, and the retried delivery is stored once the store is back."""

from __future__ import annotations

from pathlib import Path

from webhook_helpers import SECRET, body_of, message, standard_headers

from linq_mcp.webhooks import EventStore, WebhookReceiver


async def test_a_delivery_the_store_cannot_take_is_answered_503_and_stored_when_retried(tmp_path: Path) -> None:
    db = tmp_path / "events.sqlite3"
    before, during = message(text="before the outage"), message(text="during the outage")
    first = EventStore(db)
    receiver = WebhookReceiver(first, [SECRET])
    body = body_of(before)
    assert (await receiver.deliver(standard_headers(body), body))[0] == 200
    await first.aclose()  # the store goes away under the receiver

    retried = body_of(during)
    headers = standard_headers(retried)
    status, answer = await receiver.deliver(headers, retried)
    assert status == 503 and b"store_unavailable" in answer
    assert receiver.stats.rejected["store_unavailable"] == 1

    async with EventStore(db) as back:  # the store is back; Linq retries the same delivery
        receiver.store = back
        assert (await receiver.deliver(headers, retried))[0] == 200
        stored = {e.event_id for e in (await back.list()).events}
    assert stored == {before["event_id"], during["event_id"]}
