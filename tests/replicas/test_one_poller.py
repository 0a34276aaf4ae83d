"""One poller runs across all replicas (an advisory lock); when its holder dies another replica
takes the role over within seconds, and what arrives at Linq still reaches every replica."""

from __future__ import annotations

import time

import anyio
import httpx
from replicas_helpers import LINE, Fleet, Replica, data, direct, unique

TAKEOVER_SECONDS = 10.0


async def _pollers(replicas: list[Replica]) -> list[Replica]:
    """The replicas whose /healthz says they hold the poller role."""
    holding = []
    async with httpx.AsyncClient(trust_env=False, timeout=5) as http:
        for replica in replicas:
            if replica.process.poll() is not None:
                continue
            if "poller" in (await http.get(f"{replica.url}/healthz")).json()["roles"]:
                holding.append(replica)
    return holding


async def _one_poller(replicas: list[Replica], timeout: float) -> Replica:
    with anyio.fail_after(timeout):
        while len(holding := await _pollers(replicas)) != 1:
            await anyio.sleep(0.1)
    return holding[0]


async def test_one_replica_polls_and_another_takes_over_within_seconds_when_it_dies(fleet: Fleet) -> None:
    replicas = fleet.start(3, "--confirm", "never", "--poll-interval", "1")
    leader = await _one_poller(replicas, timeout=20)
    await anyio.sleep(2.5)  # a few rounds later, still exactly one
    assert await _pollers(replicas) == [leader]

    leader.kill()
    died = time.monotonic()
    survivors = [r for r in replicas if r is not leader]
    successor = await _one_poller(survivors, timeout=TAKEOVER_SECONDS)
    took_over = time.monotonic() - died
    assert took_over < TAKEOVER_SECONDS

    other = next(r for r in survivors if r is not successor)
    text = unique("Texted while the first poller was dead")  # no webhooks here: only polling brings it in
    async with direct(other) as client:  # the successor polls; the other replica is told
        cursor = data(await client.call_tool("list_events", {"limit": 1}))["cursor"]
        body = {"from": "+15557779999", "to": LINE, "text": text}
        chat_id = fleet.linq.admin("POST", "/_sandbox/inbound", json=body)["chat_id"]
        args = {"chat_id": chat_id, "since": cursor, "timeout": 20}
        woken = data(await client.call_tool("wait_for_event", args))
    assert woken["timed_out"] is False and text in str(woken["event"])
