"""An event stored by one replica wakes waiters and subscribers on every other replica."""

from __future__ import annotations

import time
import uuid
from typing import Any

import anyio
from replicas_helpers import Fleet, data, direct, post_webhook, signed_webhook, unique

EVENTS_URI = "linq://events"


async def test_a_webhook_received_by_one_replica_wakes_wait_for_event_on_another(fleet: Fleet) -> None:
    receiver, waiter = fleet.start(2, "--confirm", "never")
    chat_id, text = f"chat-{uuid.uuid4().hex[:8]}", unique("Are we still on for tonight?")
    body, headers, event_id = signed_webhook(chat_id, text)
    woken: dict[str, Any] = {}
    async with direct(waiter) as client, anyio.create_task_group() as tg:

        async def wait() -> None:
            woken.update(data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "timeout": 20})))

        tg.start_soon(wait)
        await anyio.sleep(1.0)  # the call is waiting on the other replica
        assert await post_webhook(receiver, body, headers) == 200
    assert woken.get("timed_out") is False and woken["event"]["event_id"] == event_id
    assert text in str(woken["event"])


async def test_a_webhook_received_by_one_replica_is_announced_on_another_as_resources_updated(fleet: Fleet) -> None:
    receiver, subscriber = fleet.start(2, "--confirm", "never")
    body, headers, _ = signed_webhook(f"chat-{uuid.uuid4().hex[:8]}", unique("hello"))
    updated: list[float] = []
    async with direct(subscriber) as client, anyio.create_task_group() as tg:
        listening = anyio.Event()

        async def listen() -> None:
            async with client.listen(resource_subscriptions=[EVENTS_URI]) as subscription:
                listening.set()
                async for event in subscription:
                    if str(getattr(event, "uri", "")) == EVENTS_URI:
                        updated.append(time.monotonic())
                        tg.cancel_scope.cancel()

        tg.start_soon(listen)
        with anyio.fail_after(10):
            await listening.wait()
        posted = time.monotonic()
        assert await post_webhook(receiver, body, headers) == 200
        with anyio.fail_after(10):
            while not updated:
                await anyio.sleep(0.01)
    assert updated[0] - posted < 5.0
