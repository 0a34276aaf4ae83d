"""``linq-mcp webhooks setup | status | serve`` as a user runs them (subprocesses)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
from e2e_helpers import connected, data, free_port
from events_helpers import SECRET, Updates, settings_for, signed_delivery, start_chat, subscribed
from events_helpers import wait_until_listening as listening

from linq_mcp.events.secrets import read_secrets, subscription_of
from linq_mcp.sandbox.app import Sandbox


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LINQ_", "COV"))}
    return subprocess.run(
        [sys.executable, "-m", "linq_mcp", "webhooks", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**base, **(env or {})},
    )


def test_setup_saves_the_secret_0600_and_never_prints_it(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    done = run("setup", "--sandbox", "--db-path", str(db), "--url", "https://hooks.example.com/webhooks/linq")
    assert done.returncode == 0, done.stderr
    secret_file = tmp_path / "webhook-secrets"
    secrets = read_secrets(secret_file)
    assert len(secrets) == 1 and secrets[0].startswith("whsec_")
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert secrets[0] not in done.stdout + done.stderr and "whsec_" not in done.stdout + done.stderr
    assert "Created webhook subscription" in done.stdout
    assert "https://hooks.example.com/webhooks/linq?version=2026-02-03" in done.stdout
    subscription = subscription_of(secret_file)
    assert subscription and subscription in done.stdout


def test_setup_refuses_a_plain_http_public_url(tmp_path: Path) -> None:
    done = run("setup", "--sandbox", "--db-path", str(tmp_path / "db"), "--url", "http://hooks.example.com/x")
    assert done.returncode == 2 and "https" in done.stderr
    assert not (tmp_path / "webhook-secrets").exists()


async def test_status_reports_last_event_counts_and_sources(sandbox: Sandbox, tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    async with connected(sandbox, settings_for(db)) as (client, _):
        chat_id = await start_chat(client)
        data(await client.call_tool("wait_for_event", {"chat_id": chat_id, "since": "0", "timeout": 5}))
    done = await anyio.to_thread.run_sync(lambda: run("status", "--sandbox", "--db-path", str(db), "--port", "1"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "Subscriptions:" in out and f"Event store: {db}" in out
    assert "last event received: message." in out or "last event received: reaction." in out
    assert "by source: webhook" in out and "message.received 1" in out
    assert "unread inbound messages: 1" in out
    assert "Receiver: none answering" in out


async def test_serve_in_another_process_feeds_this_servers_subscribers(
    sandbox: Sandbox, era: str, tmp_path: Path
) -> None:
    db = tmp_path / "db.sqlite3"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINQ_", "COV"))}
    env["LINQ_WEBHOOK_SECRET"] = SECRET
    proc = subprocess.Popen(
        [sys.executable, "-m", "linq_mcp", "webhooks", "serve", "--db-path", str(db), "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        await listening(f"http://127.0.0.1:{port}/webhooks/linq/health")
        updates = Updates()
        async with connected(sandbox, settings_for(db), era=era, message_handler=updates.handler) as (client, _):
            async with subscribed(client, era, updates, "linq://inbox"):
                body, headers, event_id = signed_delivery("chat-elsewhere", "seen across processes")
                async with httpx.AsyncClient(trust_env=False) as http:
                    posted = await http.post(f"http://127.0.0.1:{port}/webhooks/linq", content=body, headers=headers)
                await updates.next("linq://inbox")
                got = data(await client.call_tool("list_events", {"chat_id": "chat-elsewhere"}))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert posted.status_code == 200
    assert [e["event_id"] for e in got["events"]] == [event_id]
    assert SECRET not in (proc.stderr.read().decode() if proc.stderr else "")
