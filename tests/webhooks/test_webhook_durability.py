"""Durability: every event the receiver acknowledged survives a SIGKILL of the receiver process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from webhook_helpers import PATH, SECRET, body_of, message, standard_headers

from linq_mcp.webhooks import EventStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "receiver exited"
        try:
            if (await client.get(f"{PATH}/health")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await anyio.sleep(0.05)
    raise AssertionError("receiver did not start")


async def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    db_path = tmp_path / "events.sqlite3"
    port = free_port()
    env = {**os.environ, "LINQ_WEBHOOK_SECRETS": SECRET}
    cmd = [sys.executable, "-m", "linq_mcp.webhooks", "serve", "--port", str(port), "--db", str(db_path)]
    proc = subprocess.Popen(cmd, env=env)
    acked: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            await wait_healthy(client, proc)
            payloads = [message(text=f"n{i}") for i in range(300)]

            async def sender(chunk: list[dict[str, object]]) -> None:
                for payload in chunk:
                    body = body_of(payload)
                    response = await client.post(PATH, content=body, headers=standard_headers(body))
                    if response.status_code == 200:
                        acked.append(str(payload["event_id"]))

            async with anyio.create_task_group() as tg:
                for k in range(8):
                    tg.start_soon(sender, payloads[k::8])
            proc.send_signal(signal.SIGKILL)  # right after the last acknowledgement
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and len(acked) == 300
    async with EventStore(db_path) as store:
        missing = [eid for eid in acked if await store.get(eid) is None]
    assert missing == []
