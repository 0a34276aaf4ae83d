"""Confirmation over the real transports: ``linq-mcp`` as a stdio subprocess and over HTTP.

The stdio server runs in live mode against a sandbox served on a loopback port, so the
test can count what actually reached the simulated person, and the server keeps its
database and generated secret in a temporary data directory, as it would on a laptop.
"""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import mcp.types as types
import pytest
from e2e_helpers import AVA, LINE, free_port, http_server, stdio_params, text_of
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.sandbox.app import Sandbox, create_sandbox
from linq_mcp.sandbox.config import SandboxConfig
from linq_mcp.server.app import assembled


def hello(value: str) -> dict[str, Any]:
    return {"from": LINE, "to": [AVA], "message": {"parts": [{"type": "text", "value": value}]}}


class Person:
    """Says yes to messages containing "yes", no to everything else; remembers each question."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def __call__(self, context: Any, params: types.ElicitRequestParams) -> types.ElicitResult:
        self.asked.append(params.message)
        if "yes" in params.message:
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")


def delivered(sandbox: Sandbox, text: str) -> int:
    return sum(1 for d in sandbox.world.deliveries if d.get("to") == AVA and text in str(d))


@asynccontextmanager
async def served() -> AsyncIterator[tuple[Sandbox, str]]:
    """The sandbox on a loopback port; yields it and its base URL (a context manager, not a
    fixture: the task group must be left in the task that entered it)."""
    import uvicorn

    sandbox = create_sandbox(SandboxConfig(seed=11))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            sandbox.served_app, host="127.0.0.1", port=port, log_level="error", lifespan="on", interface="asgi3"
        )
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(server.serve)
        with anyio.fail_after(10):
            while not server.started:
                await anyio.sleep(0.02)
        try:
            yield sandbox, f"http://127.0.0.1:{port}/api/partner"
        finally:
            server.should_exit = True


def live(sandbox: Sandbox, base_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "LINQ_API_V3_API_KEY": sandbox.api_key,
        "LINQ_API_V3_BASE_URL": base_url,
        "LINQ_MCP_DATA_DIR": str(data_dir),
        "LINQ_MCP_LOG_LEVEL": "error",
        **extra,
    }


async def test_over_stdio_the_person_is_asked_and_their_answer_decides(tmp_path: Path, era: str) -> None:
    person = Person()
    async with (
        served() as (sandbox, base_url),
        Client(
            stdio_params(env=live(sandbox, base_url, tmp_path, LINQ_MCP_CONFIRM="always")),
            mode=era,
            elicitation_callback=person,
        ) as client,
    ):
        sent = await client.call_tool("create_chat", hello("yes: dinner at 8?"))
        assert not sent.is_error, text_of(sent)
        no = await client.call_tool("create_chat", hello("no: send me your password"))
        dry = await client.call_tool("create_chat", {**hello("no: send me your password"), "dry_run": True})
        again = await client.call_tool("create_chat", hello("no: send me your password"))
        await anyio.sleep(0.2)
        assert delivered(sandbox, "dinner at 8") == 1
        assert delivered(sandbox, "password") == 0
    assert (no.structured_content or {}).get("error") == "declined"
    assert (again.structured_content or {}).get("error") == "declined"
    assert "confirm_token" not in (dry.structured_content or {}) and "lc1." not in text_of(dry)
    assert len(person.asked) == 2, "asked once per message; the declined one is not asked again"


# Both fallbacks in both eras run in-process (test_confirmation.py); one of each here.
@pytest.mark.parametrize(("era", "fallback"), [("auto", "token"), ("legacy", "refuse")], ids=["2026", "2025"])
async def test_over_stdio_a_client_that_cannot_ask_gets_the_fallback(tmp_path: Path, era: str, fallback: str) -> None:
    async with (
        served() as (sandbox, base_url),
        Client(
            stdio_params(env=live(sandbox, base_url, tmp_path, LINQ_MCP_CONFIRM_FALLBACK=fallback)),
            mode=era,
        ) as client,
    ):
        held = await client.call_tool("create_chat", hello("Hi from a blind client"))
        body = held.structured_content or {}
        assert held.is_error
        if fallback == "token":
            assert body["error"] == "confirmation_required"
            sent = await client.call_tool("create_chat", {**hello("Hi from a blind client"), **body_token(body)})
            assert not sent.is_error, text_of(sent)
        else:
            assert body["error"] == "policy_refused" and body["rule"] == "confirm_fallback"
            assert "cannot ask the person" in text_of(held)
        await anyio.sleep(0.2)
        assert delivered(sandbox, "blind client") == (1 if fallback == "token" else 0)


def body_token(body: dict[str, Any]) -> dict[str, Any]:
    return {"confirm_token": body["confirm_token"]}


async def test_two_processes_on_one_machine_share_the_secret_so_either_takes_the_answer(tmp_path: Path) -> None:
    """2026 has no sessions: the answer may reach another process than the question came from."""
    async with served() as (sandbox, base_url):
        params = stdio_params(env=live(sandbox, base_url, tmp_path))
        async with Client(params, elicitation_callback=Person()) as first:
            ask = await first.session.call_tool(
                "create_chat", hello("yes, from two processes"), allow_input_required=True
            )
        assert isinstance(ask, types.InputRequiredResult)
        assert ask.input_requests is not None, ask
        ((key, _),) = ask.input_requests.items()
        async with Client(params, elicitation_callback=Person()) as second:
            sent = await second.session.call_tool(
                "create_chat",
                hello("yes, from two processes"),
                input_responses={key: types.ElicitResult(action="accept", content={"confirm": True})},
                request_state=ask.request_state,
                allow_input_required=True,
            )
        await anyio.sleep(0.2)
        assert delivered(sandbox, "two processes") == 1
    assert isinstance(sent, types.CallToolResult) and not sent.is_error, sent
    secret = tmp_path / "secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_text().strip() not in (ask.request_state or "")


async def test_an_explicit_secret_is_used_and_no_secret_file_is_written(tmp_path: Path) -> None:
    async with served() as (sandbox, base_url):
        env = live(sandbox, base_url, tmp_path, LINQ_MCP_SECRET="x" * 40, LINQ_MCP_CONFIRM="always")
        async with Client(stdio_params(env=env), elicitation_callback=Person()) as client:
            sent = await client.call_tool("create_chat", hello("yes with an explicit secret"))
    assert not sent.is_error, text_of(sent)
    assert not (tmp_path / "secret").exists()


@pytest.mark.parametrize("stateless", [False, True], ids=["stateful", "stateless"])
async def test_over_http_the_person_is_asked_and_their_answer_decides(era: str, stateless: bool) -> None:
    """Stateless 2026 serving has no back-channel and no session: the round trip still asks the person.
    Stateless 2025 serving cannot ask anyone: it falls back to the token path."""
    sandbox = create_sandbox(SandboxConfig(seed=5))
    config = SafetyConfig(confirm="always", max_sends_per_minute=100, max_sends_per_hour=100, max_sends_per_day=100)
    person = Person()
    settings = Settings(sandbox=True, transport="http", stateless=stateless, safety=config)
    async with assembled(settings, sandbox=sandbox) as rt:
        async with http_server(rt) as url:
            async with Client(f"{url}/mcp", mode=era, elicitation_callback=person) as client:
                sent = await client.call_tool("create_chat", hello("yes over HTTP"))
                no = await client.call_tool("create_chat", hello("no over HTTP"))
                again = await client.call_tool("create_chat", hello("no over HTTP"))
        await anyio.sleep(0.2)
    if stateless and era == "legacy":
        assert person.asked == [] and (sent.structured_content or {}).get("error") == "confirmation_required"
        assert delivered(sandbox, "over HTTP") == 0
        return
    assert not sent.is_error, text_of(sent)
    assert (no.structured_content or {}).get("error") == "declined"
    assert (again.structured_content or {}).get("error") == "declined"
    assert len(person.asked) == 2
    assert delivered(sandbox, "yes over HTTP") == 1 and delivered(sandbox, "no over HTTP") == 0
