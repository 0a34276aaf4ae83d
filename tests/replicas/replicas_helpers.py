"""Replicas as users run them: ``linq-mcp --transport http --stateless`` subprocesses in live mode
against one Linq sandbox subprocess, sharing one store and one ``LINQ_MCP_SECRET``.

The official ``mcp`` client reaches them through :class:`RoundRobin`, an HTTP transport that
sends each request to the next replica in turn (a load balancer in a few lines, and one that
records who answered what), so one client session's requests alternate between replicas.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from events_helpers import signed_delivery
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

LINE = "+15550100001"  # the sandbox's iMessage line
AVA = "+15551230001"  # iMessage, replies by keyword rules
SAM = "+15551230002"
SHARED_SECRET = "replicas-test-secret-" + "5f" * 16
WEBHOOK_SECRET = "whsec_" + __import__("base64").b64encode(b"linq-mcp replicas test secret 32").decode()
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINQ_", "COV"))}
    env.update(extra)
    return env


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, *, any_answer: bool = False) -> None:
    """Block until ``url`` answers 200 (any answer below 500 with ``any_answer``), or fail with the log."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url}: exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            status = httpx.get(url, timeout=2, trust_env=False).status_code
            if status == 200 or (any_answer and status < 500):
                return
        time.sleep(0.05)
    raise AssertionError(f"{url} not ready within {START_TIMEOUT:g} s:\n{log.read_text(errors='replace')}")


@dataclass
class Linq:
    """The sandbox subprocess standing in for Linq, with its admin API."""

    process: subprocess.Popen[bytes]
    port: int
    api_key: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/partner"

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        response = httpx.request(
            method, f"http://127.0.0.1:{self.port}{path}", headers=headers, trust_env=False, timeout=10, **kwargs
        )
        response.raise_for_status()
        return response.json()

    def delivered(self, text: str) -> int:
        """How many messages containing ``text`` reached a person's handset."""
        body = self.admin("GET", "/_sandbox/deliveries")
        return sum(1 for d in body["deliveries"] if text in str(d))


def start_linq(workdir: Path, config: str) -> Linq:
    from linq_mcp.sandbox.config import DEFAULT_API_KEY

    port = free_port()
    (workdir / "sandbox.toml").write_text(config)
    log = workdir / "sandbox.log"
    cmd = [sys.executable, "-m", "linq_mcp.sandbox", "--port", str(port), "--config", str(workdir / "sandbox.toml")]
    with open(log, "wb") as out:
        process = subprocess.Popen(cmd, env=clean_env(), stdout=out, stderr=subprocess.STDOUT)
    linq = Linq(process, port, DEFAULT_API_KEY)
    wait_http(f"http://127.0.0.1:{port}/_sandbox/health", process, log, any_answer=True)
    return linq


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as when a machine dies."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Fleet:
    """Replicas started by one test module (or test); all stopped at the end."""

    workdir: Path
    linq: Linq
    store_env: dict[str, str]
    replicas: list[Replica] = field(default_factory=list)

    def start(self, count: int = 1, *args: str, **env: str) -> list[Replica]:
        started = []
        for _ in range(count):
            name = f"replica{len(self.replicas) + 1}"
            port = free_port()
            log = self.workdir / f"{name}.log"
            full_env = clean_env(
                LINQ_API_KEY=self.linq.api_key,
                LINQ_API_V3_BASE_URL=self.linq.base_url,
                LINQ_MCP_SECRET=SHARED_SECRET,
                LINQ_WEBHOOK_SECRET=WEBHOOK_SECRET,
                LINQ_MCP_DATA_DIR=str(self.workdir / name),
                LINQ_MCP_LOG_LEVEL="warning",
            )
            full_env.update(self.store_env)
            full_env.update(env)
            cmd = [sys.executable, "-m", "linq_mcp", "--transport", "http", "--stateless", "--port", str(port), *args]
            with open(log, "wb") as out:
                process = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT)
            replica = Replica(name, port, process, log)
            self.replicas.append(replica)
            started.append(replica)
        for replica in started:
            wait_http(f"{replica.url}/readyz", replica.process, replica.log)
        return started

    def stop(self) -> None:
        for replica in self.replicas:
            with contextlib.suppress(Exception):
                replica.stop()
        self.replicas.clear()


class RoundRobin(httpx2.AsyncBaseTransport):
    """Sends each JSON-RPC request (or each one of the ``rotate_on`` methods) to the next replica in
    turn; notifications, GETs and DELETEs go with the request before them. Remembers who got what."""

    def __init__(self, replicas: Sequence[Replica], rotate_on: tuple[str, ...] | None = None) -> None:
        self.replicas = list(replicas)
        self.rotate_on = rotate_on
        self.inner = httpx2.AsyncHTTPTransport()
        self.turn = -1
        self.served: list[tuple[str, str]] = []  # (replica name, JSON-RPC method or HTTP method)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        method, is_request = request.method, False
        if request.method == "POST":
            body = json.loads(request.content)
            if isinstance(body, dict):
                method, is_request = str(body.get("method", method)), "id" in body
        if (is_request and (self.rotate_on is None or method in self.rotate_on)) or self.turn < 0:
            self.turn += 1
        replica = self.replicas[self.turn % len(self.replicas)]
        request.url = request.url.copy_with(port=replica.port)
        request.headers["host"] = f"127.0.0.1:{replica.port}"
        self.served.append((replica.name, method))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


@contextlib.asynccontextmanager
async def balanced(
    replicas: Sequence[Replica], era: str, rotate_on: tuple[str, ...] | None = None, **options: Any
) -> AsyncIterator[tuple[Client, RoundRobin]]:
    """One official client session whose requests alternate between ``replicas``."""
    balancer = RoundRobin(replicas, rotate_on)
    http = httpx2.AsyncClient(transport=balancer, timeout=httpx2.Timeout(60.0))
    url = f"{replicas[0].url}/mcp"
    async with http, Client(streamable_http_client(url, http_client=http), mode=era, **options) as client:
        yield client, balancer


@contextlib.asynccontextmanager
async def direct(replica: Replica, era: str = "auto", **options: Any) -> AsyncIterator[Client]:
    async with Client(f"{replica.url}/mcp", mode=era, **options) as client:
        yield client


def message(value: str) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def unique(text: str) -> str:
    return f"{text} [{uuid.uuid4().hex[:8]}]"


def data(result: Any) -> dict[str, Any]:
    assert not result.is_error, result.content[0].text
    return dict(result.structured_content or {})


def signed_webhook(chat_id: str, value: str, sender: str = AVA) -> tuple[bytes, dict[str, str], str]:
    """A Linq-style signed ``message.received`` delivery (2026-02-03), signed with the replicas' secret."""
    return signed_delivery(chat_id, value, sender, secret=WEBHOOK_SECRET)


async def post_webhook(replica: Replica, body: bytes, headers: dict[str, str]) -> int:
    async with httpx.AsyncClient(trust_env=False, timeout=10) as http:
        return (await http.post(f"{replica.url}/webhooks/linq", content=body, headers=headers)).status_code


async def eventually(predicate: Any, timeout: float = 10.0, interval: float = 0.1) -> None:
    with anyio.fail_after(timeout):
        while not await predicate():
            await anyio.sleep(interval)
