"""Send caps hold exactly across replicas: concurrent sends spread over replicas never pass the cap."""

from __future__ import annotations

import anyio
from replicas_helpers import LINE, Fleet, direct, message, unique

CAP = 10
SENDS = 32  # concurrent, split over the replicas


async def test_concurrent_sends_spread_over_replicas_stop_exactly_at_the_cap(fleet: Fleet) -> None:
    replicas = fleet.start(2, "--confirm", "never", "--max-sends-per-minute", str(CAP))
    text = unique("capped")
    outcomes: list[str] = []

    async def send(i: int) -> None:
        async with direct(replicas[i % len(replicas)]) as client:
            to = f"+1555777{i:04d}"  # a new person each: only the global cap can stop them
            result = await client.call_tool("create_chat", {"from": LINE, "to": [to], "message": message(text)})
        body = result.structured_content or {}
        outcomes.append("sent" if not result.is_error else str(body.get("rule") or body.get("error")))

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tg:
            for i in range(SENDS):
                tg.start_soon(send, i)
    await anyio.sleep(0.5)
    assert outcomes.count("sent") == CAP, outcomes
    assert fleet.linq.delivered(text) == CAP
    assert len(outcomes) == SENDS and set(outcomes) - {"sent"} == {"max_sends_per_minute"}, set(outcomes)
