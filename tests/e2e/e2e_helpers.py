"""End-to-end helpers: the real linq-mcp server, driven by the official ``mcp`` client,
in front of the sandbox — in-process (both protocol eras), over real loopback HTTP,
and as a stdio subprocess."""

from __future__ import annotations

import socket
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextContent

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.server.app import assembled
from linq_mcp.server.handlers import build_server
from linq_mcp.server.runtime import Runtime

# Tests of everything but safety run with a policy that never asks and never caps.
PERMISSIVE = SafetyConfig(
    confirm="never",
    max_sends_per_minute=10_000,
    max_sends_per_hour=10_000,
    max_sends_per_day=10_000,
    max_sends_per_recipient_per_hour=10_000,
    max_group_size=31,
)

LINE = "+15550100001"  # the sandbox's iMessage line
AVA = "+15551230001"  # iMessage, replies by keyword rules
SAM = "+15551230002"  # SMS only, echoes
STEVE = "+15551230003"  # replies STOP


def policy(**overrides: Any) -> SafetyConfig:
    """A careful policy (only Ava allowed, first contact confirmed) with generous caps."""
    base: dict[str, Any] = {
        "allow_recipients": (AVA,),
        "confirm": "first_contact",
        "max_sends_per_minute": 100,
        "max_sends_per_hour": 100,
        "max_sends_per_day": 100,
        "max_sends_per_recipient_per_hour": 100,
    }
    base.update(overrides)
    return SafetyConfig.from_mapping(base)


@asynccontextmanager
async def connected(
    sandbox: Sandbox, settings: Settings | None = None, era: str = "auto", **client_options: Any
) -> AsyncIterator[tuple[Client, Runtime]]:
    """The official client on an in-process linq-mcp server in front of ``sandbox``.

    A context manager rather than a fixture: the runtime's task group must be entered
    and left in the same task, which async-generator fixtures do not guarantee.
    """
    settings = settings or Settings(
        sandbox=True, toolsets=("all", "payments", "deprecated"), allow_payment_credentials=True, safety=PERMISSIVE
    )
    async with assembled(settings, sandbox=sandbox) as rt, Client(build_server(rt), mode=era, **client_options) as c:
        yield c, rt


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def http_server(runtime: Runtime) -> AsyncIterator[str]:
    """linq-mcp's real HTTP app under uvicorn on a loopback port; yields the /mcp URL."""
    import uvicorn

    from linq_mcp.server.transports import create_http_app

    port = free_port()
    config = uvicorn.Config(create_http_app(runtime), host="127.0.0.1", port=port, log_level="error", lifespan="on")
    server = uvicorn.Server(config)
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True


def stdio_params(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith(("LINQ_", "COV"))}
    base.update(env or {})
    return StdioServerParameters(command=sys.executable, args=["-m", "linq_mcp", *args], env=base)


ClientFactory = Callable[..., AbstractAsyncContextManager[Client]]


def data(result: Any) -> dict[str, Any]:
    """The structured content of a successful result (fails the test on an error result)."""
    assert not result.is_error, result.content[0].text
    return dict(result.structured_content or {})


def text_of(result: CallToolResult) -> str:
    """The text of a result's first content block (fails the test if that block is not text)."""
    first = result.content[0]
    assert isinstance(first, TextContent), first
    return first.text
