"""Cancelling the server (Ctrl-C, a host's shutdown) in the middle of a call still closes what it opened."""

from __future__ import annotations

from pathlib import Path

import anyio
from e2e_helpers import connected, data
from events_helpers import settings_for

from linq_mcp.sandbox.app import Sandbox


async def test_a_server_cancelled_mid_call_closes_its_event_database(sandbox: Sandbox, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    waiting = anyio.Event()

    async def serve() -> None:
        async with connected(sandbox, settings_for(db)) as (client, _):
            data(await client.call_tool("list_events", {"since": "0"}))  # the store is open and has been read
            waiting.set()
            await client.call_tool("wait_for_event", {"since": "0", "types": ["message.received"], "timeout": 30})

    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve)
            await waiting.wait()
            await anyio.sleep(0.2)  # the wait is in flight
            tg.cancel_scope.cancel()
    # SQLite removes the -wal and -shm files when the last connection closes: nothing was left open.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(db.name)) == [db.name]
