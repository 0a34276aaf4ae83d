"""linq-mcp as users run it: a stdio subprocess and a real HTTP server, in both protocol eras."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import anyio
import httpx
import pytest
from e2e_helpers import AVA, LINE, PERMISSIVE, free_port, http_server, stdio_params, text_of
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.server.app import assembled
from linq_mcp.server.transports import UnsafeBind, create_http_app

CANARY = "sk_canary_9c1f7e3b5a_do_not_print"


def text(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


async def test_stdio_lists_and_calls_tools(era: str) -> None:
    async with Client(stdio_params("--sandbox"), mode=era) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert "send_message" in names
        result = await client.call_tool("check_imessage", {"address": AVA})
        assert not result.is_error and result.structured_content["available"] is True


async def test_http_lists_and_calls_tools(sandbox: Sandbox, era: str) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, transport="http", port=0)
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with Client(f"{base}/mcp", mode=era) as client:
            assert "create_chat" in [t.name for t in (await client.list_tools()).tools]
            created = await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")})
            assert not created.is_error, text_of(created)


async def test_stateless_http_serves_json(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, transport="http", stateless=True)
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with Client(f"{base}/mcp", mode="legacy") as client:
            result = await client.call_tool("list_phone_numbers", {})
            assert not result.is_error


async def test_healthz_answers_without_auth(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, transport="http", auth_token="t0k")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient() as http:
            health = (await http.get(f"{base}/healthz")).json()
    assert health["status"] == "ok" and health["mode"] == "sandbox"


async def test_auth_token_is_required_on_the_mcp_endpoint(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, transport="http", auth_token="s3cret-token")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient() as http:
            denied = await http.post(f"{base}/mcp", json={}, headers={"Authorization": "Bearer nope"})
        assert denied.status_code == 401
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        authed = httpx2.AsyncClient(headers={"Authorization": "Bearer s3cret-token"})
        async with authed, Client(streamable_http_client(f"{base}/mcp", http_client=authed), mode="legacy") as c:
            assert (await c.list_tools()).tools


async def test_foreign_origin_is_rejected(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, transport="http")
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient() as http:
            response = await http.post(
                f"{base}/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                headers={"Origin": "https://evil.example", "Accept": "application/json, text/event-stream"},
            )
    assert response.status_code == 403


async def test_non_loopback_bind_without_token_is_refused(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, transport="http", host="0.0.0.0")
    async with assembled(settings, sandbox=sandbox) as rt:
        with pytest.raises(UnsafeBind):
            create_http_app(rt)


def test_live_mode_without_a_key_exits_2_with_one_line() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    proc = subprocess.run(
        [sys.executable, "-m", "linq_mcp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "LINQ_API_V3_API_KEY" in lines[0] and "--sandbox" in lines[0]


async def rpc_session(args: list[str], env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]) -> tuple[str, str]:
    """Drive a stdio server with raw JSON-RPC lines; return everything it wrote to stdout and stderr."""
    messages: list[dict[str, Any]] = [
        {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    ]
    for i, (name, arguments) in enumerate(calls, start=2):
        messages.append(
            {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
        )
    payload = "".join(json.dumps(m) + "\n" for m in messages).encode()
    last_id = len(messages) - 2
    async with await anyio.open_process([sys.executable, "-m", "linq_mcp", *args], env=env) as proc:
        assert proc.stdin and proc.stdout and proc.stderr
        await proc.stdin.send(payload)
        out = b""
        expected = [f'"id":{i},'.encode() for i in range(last_id + 1)]
        with anyio.fail_after(60):  # requests run concurrently: wait for every answer, in any order
            while not all(marker in out.replace(b" ", b"") for marker in expected):
                out += await proc.stdout.receive()
        await proc.stdin.aclose()
        with anyio.fail_after(20):
            async for chunk in proc.stdout:
                out += chunk
        err = b""
        async for chunk in proc.stderr:
            err += chunk
    return out.decode(), err.decode()


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    env.update(extra)
    return env


async def test_stdout_carries_nothing_but_protocol() -> None:
    out, _ = await rpc_session(
        ["--sandbox", "--log-level", "debug"],
        _env(),
        [
            ("check_imessage", {"address": AVA}),
            ("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")}),
            ("get_chat", {"chat_id": "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"}),
            ("create_chat", {"from": "nope"}),
        ],
    )
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) >= 6
    for line in lines:
        assert json.loads(line)["jsonrpc"] == "2.0"


async def test_a_canary_api_key_never_appears_in_any_output() -> None:
    import uvicorn

    sandbox = create_sandbox(SandboxConfig(seed=7, api_keys=[CANARY]))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(sandbox.served_app, host="127.0.0.1", port=port, log_level="error"))
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        out, err = await rpc_session(
            ["--log-level", "debug"],
            _env(LINQ_API_V3_API_KEY=CANARY, LINQ_API_V3_BASE_URL=f"http://127.0.0.1:{port}/api/partner"),
            [
                ("list_phone_numbers", {}),
                ("create_chat", {"from": LINE, "to": [AVA], "message": text("hi")}),
                ("get_chat", {"chat_id": "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"}),
                ("create_chat", {"from": "bad"}),
            ],
        )
        server.should_exit = True
    assert '"phone_numbers"' in out  # the key worked against the live-mode base URL
    assert CANARY not in out
    assert CANARY not in err
    assert CANARY[:12] not in out + err
