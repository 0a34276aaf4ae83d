"""A replica killed mid-send: the retry with the same key on another replica neither loses the
message nor sends it twice, and the dead replica's cap reservation is not counted twice."""

from __future__ import annotations

import contextlib
import uuid

import anyio
from replicas_helpers import LINE, Fleet, direct, message, unique

CAP = 3
LATENCY_MS = 2500


def _send(to: str, text: str, key: str | None = None) -> dict[str, object]:
    args: dict[str, object] = {"from": LINE, "to": [to], "message": message(text)}
    if key:
        args["idempotency_key"] = key
    return args


async def test_a_send_retried_elsewhere_after_its_replica_died_is_delivered_once_and_counted_once(
    fleet: Fleet,
) -> None:
    doomed, survivor = fleet.start(2, "--confirm", "never", "--max-sends-per-minute", str(CAP))
    text, key = unique("Sent while my replica died"), f"retry-{uuid.uuid4().hex}"
    fleet.linq.admin("PUT", "/_sandbox/faults", json={"latency_ms": LATENCY_MS})
    fleet.linq.admin("POST", "/_sandbox/faults/next", json={"kinds": ["latency"]})  # Linq is slow to answer

    async with anyio.create_task_group() as tg:

        async def in_flight() -> None:
            with contextlib.suppress(Exception):  # its replica dies under it
                async with direct(doomed) as client:
                    await client.call_tool("create_chat", _send("+15557770001", text, key))

        tg.start_soon(in_flight)
        await anyio.sleep(LATENCY_MS / 2000)  # the request is at Linq, its answer not back yet
        doomed.kill()
        tg.cancel_scope.cancel()

    async with direct(survivor) as client:
        retried = await client.call_tool("create_chat", _send("+15557770001", text, key))
        assert not retried.is_error, retried.content[0].text
        await anyio.sleep(LATENCY_MS / 1000 + 0.5)  # the dead replica's request has reached Linq by now
        assert fleet.linq.delivered(text) == 1
        others = [
            await client.call_tool("create_chat", _send(f"+1555777100{i}", unique("another"))) for i in range(CAP)
        ]
    assert [r.is_error for r in others] == [False] * (CAP - 1) + [True]  # the retried send counted once
    assert (others[-1].structured_content or {}).get("rule") == "max_sends_per_minute"
