"""The HTTP server's edges: Host/Origin lists, half-sent requests, shutdown, refusals.

These run the real ``linq-mcp --transport http`` as a process on a loopback port
(or its app under uvicorn), as a client or an attacker would meet it.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import httpx
import pytest
from e2e_helpers import PERMISSIVE, free_port, http_server
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.server.app import assembled
from linq_mcp.server.transports import HEADER_TIMEOUT

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("LINQ_", "COV"))}
    base.update(extra)
    return base


@contextmanager
def served(*args: str, extra_env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """``linq-mcp --sandbox --transport http`` on a free loopback port, ready to answer."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "linq_mcp", "--sandbox", "--transport", "http", "--port", str(port), *args],
        env=env(**(extra_env or {})),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, proc.communicate()[1]
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)
        yield proc, port
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


# ---------------------------------------------------------------- Host / Origin


async def test_an_extra_allowed_host_keeps_127_0_0_1_working(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, allowed_hosts=("mcp.example.com",))
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient() as http:
            plain = await http.post(f"{base}/mcp", json=INITIALIZE, headers=MCP_HEADERS)
            named = await http.post(f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Host": "mcp.example.com"})
            other = await http.post(f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"})
    assert plain.status_code == 200, plain.text
    assert named.status_code == 200, named.text
    assert other.status_code == 421


async def test_an_extra_allowed_origin_keeps_loopback_origins_working(sandbox: Sandbox) -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE, allowed_origins=("https://app.example.com",))
    async with assembled(settings, sandbox=sandbox) as rt, http_server(rt) as base:
        async with httpx.AsyncClient() as http:
            local = await http.post(f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": base})
            named = await http.post(
                f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "https://app.example.com"}
            )
            other = await http.post(
                f"{base}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "https://evil.example"}
            )
        async with Client(f"{base}/mcp") as client:  # and the official client still connects
            assert (await client.list_tools()).tools
    assert local.status_code == 200, local.text
    assert named.status_code == 200, named.text
    assert other.status_code == 403


# ---------------------------------------------------------------- slow clients


def test_half_sent_request_heads_are_closed_within_the_deadline_even_before_the_bearer_check() -> None:
    """50 connections that never finish their headers are all closed by the server, in time."""
    with served(extra_env={"LINQ_MCP_AUTH_TOKEN": "tok-for-this-test-only"}) as (_, port):
        sockets = []
        started = time.monotonic()
        for i in range(50):
            sock = socket.create_connection(("127.0.0.1", port))
            head = b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n" if i % 2 else b"GET /healthz HTTP/1.1\r\nX-Slo"
            sock.sendall(head)
            sock.setblocking(False)
            sockets.append(sock)
        selector = selectors.DefaultSelector()
        for sock in sockets:
            selector.register(sock, selectors.EVENT_READ)
        open_ = set(sockets)
        deadline = started + HEADER_TIMEOUT + 5
        while open_ and time.monotonic() < deadline:
            for key, _ in selector.select(timeout=0.5):
                ready = key.fileobj
                assert isinstance(ready, socket.socket)
                try:
                    data = ready.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:  # closed by the server
                    selector.unregister(ready)
                    open_.discard(ready)
        elapsed = time.monotonic() - started
        for sock in sockets:
            sock.close()
        # and the server still serves
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    assert not open_, f"{len(open_)} of 50 half-sent connections still open after {elapsed:.1f}s"
    assert elapsed >= HEADER_TIMEOUT - 1  # a patient client is not cut off early


# ---------------------------------------------------------------- shutdown


def test_sigterm_lets_a_call_in_flight_finish_and_exits_0(tmp_path: Path) -> None:
    world = tmp_path / "slow.toml"
    world.write_text(
        '[faults]\nrate = 1.0\nkinds = { latency = 1.0 }\nlatency_ms = 2500\nonly_operations = ["list_chats"]\n'
    )
    with served("--sandbox-config", str(world)) as (proc, port):
        answers: list[httpx.Response] = []

        async def call_then_terminate() -> None:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                init = await http.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
                session = {**MCP_HEADERS, "mcp-session-id": init.headers["mcp-session-id"]}
                session["mcp-protocol-version"] = "2025-11-25"
                await http.post("/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
                call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "list_chats"}}

                async def send_call() -> None:
                    answers.append(await http.post("/mcp", json=call, headers=session))

                async with anyio.create_task_group() as tg:
                    tg.start_soon(send_call)
                    await anyio.sleep(0.8)  # the call is now waiting on the slow sandbox
                    proc.send_signal(signal.SIGTERM)

        started = time.monotonic()
        anyio.run(call_then_terminate)
        code = proc.wait(timeout=40)
        err = proc.stderr.read() if proc.stderr else ""
    assert time.monotonic() - started >= 2.0  # the answer waited for the slow call: it was not cut short
    data = [
        json.loads(line[5:]) for line in answers[0].text.splitlines() if line.startswith("data:") and line[5:].strip()
    ]
    result = next(m["result"] for m in data if m.get("id") == 2)
    assert not result.get("isError"), result
    assert "chats" in result["structuredContent"]
    assert code == 0, err
    assert "Traceback" not in err


# ---------------------------------------------------------------- refusals on the command line


def run_cli(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linq_mcp", *args],
        env=env(**(extra_env or {})),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "SANDBOX MODE" not in ln]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_a_public_bind_without_a_token_is_one_line_and_exit_2() -> None:
    proc = run_cli("--sandbox", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port()))
    assert proc.returncode == 2
    assert "auth token" in one_line(proc)


@pytest.mark.parametrize("blank", ["   ", "\t\n"])
def test_a_blank_auth_token_is_refused_clearly(blank: str) -> None:
    proc = run_cli(
        "--sandbox", "--transport", "http", "--port", str(free_port()), extra_env={"LINQ_MCP_AUTH_TOKEN": blank}
    )
    assert proc.returncode == 2
    assert "blank" in one_line(proc)


def test_a_busy_port_is_one_line_and_exit_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = run_cli("--sandbox", "--transport", "http", "--port", str(port))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--sandbox", "--sandbox-config", "/nonexistent/world.toml", "--transport", "http"),
        ("sandbox", "--config", "/nonexistent/world.toml"),
        ("--sandbox", "--db-path", "/proc/no/such/dir/db.sqlite3", "--transport", "http"),
    ],
    ids=["serve with a missing sandbox config", "sandbox with a missing config", "a database path that cannot exist"],
)
def test_a_bad_path_is_one_line_and_exit_2(args: tuple[str, ...]) -> None:
    proc = run_cli(*args, "--port", str(free_port()))
    assert proc.returncode == 2
    assert "/nonexistent" in one_line(proc) or "/proc/no" in one_line(proc)


def test_webhooks_setup_on_an_api_failure_is_one_line(tmp_path: Path) -> None:
    closed = free_port()  # nothing listens here: every attempt is refused
    proc = run_cli(
        "webhooks",
        "setup",
        "--url",
        "https://example.com/webhooks/linq",
        "--db-path",
        str(tmp_path / "db.sqlite3"),
        extra_env={
            "LINQ_API_V3_API_KEY": "sk_test_x",
            "LINQ_API_V3_BASE_URL": f"http://127.0.0.1:{closed}/api/partner",
        },
    )
    assert proc.returncode == 1
    assert "webhooks setup failed" in one_line(proc)


def test_webhooks_serve_with_a_database_path_that_cannot_exist_is_one_line(tmp_path: Path) -> None:
    proc = run_cli(
        "webhooks",
        "serve",
        "--db-path",
        "/proc/no/such/dir/db.sqlite3",
        "--port",
        str(free_port()),
        extra_env={"LINQ_WEBHOOK_SECRET": "whsec_for_this_test"},
    )
    assert proc.returncode == 2
    assert "/proc/no" in one_line(proc)
