"""A stdio server answers initialize and tools/list before it opens its runtime.

What it shows first (the Surface, from settings alone) must be exactly what the
assembled runtime serves: same tools, same instructions, same capabilities.
"""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from e2e_helpers import AVA, PERMISSIVE
from mcp import Client

from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig
from linq_mcp.server.app import OnDemand, assembled, surface
from linq_mcp.server.handlers import Surface, build_deferred_server, build_server
from linq_mcp.server.runtime import MissingApiKey, Runtime

SETTINGS = {
    "default sandbox": Settings(sandbox=True),
    "all toolsets with credentials": Settings(
        sandbox=True, toolsets=("all", "payments", "deprecated"), allow_payment_credentials=True
    ),
    "read-only": Settings(sandbox=True, toolsets=("all",), read_only=True),
    "chosen tools": Settings(sandbox=True, tools=("send_message", "list_events"), exclude_tools=("get_chat",)),
    "allowlist policy": Settings(
        sandbox=True, safety=SafetyConfig(allow_recipients=("+1555*",), confirm="always", inbound="allowlisted")
    ),
    "live mode": Settings(api_key="linq_live_not_used", db_path=None),
}


@pytest.mark.parametrize("name", list(SETTINGS))
async def test_the_surface_from_settings_is_what_the_assembled_runtime_serves(name: str, tmp_path: Any) -> None:
    settings = SETTINGS[name]
    if not settings.sandbox:
        from dataclasses import replace

        settings = replace(settings, db_path=str(tmp_path / "live.sqlite3"))
    shown = surface(settings)
    async with assembled(settings) as runtime:
        served = Surface.of(runtime)
    assert shown.exposed == served.exposed
    assert shown.extra_tools == served.extra_tools
    assert shown.handler_names == served.handler_names
    assert shown.policy_description == served.policy_description
    assert shown.sandbox == served.sandbox


async def test_the_deferred_server_lists_the_same_tools_and_instructions_as_the_assembled_one() -> None:
    settings = Settings(sandbox=True, toolsets=("all",))
    opener = OnDemand(settings)
    async with assembled(settings) as runtime, Client(build_server(runtime), mode="legacy") as eager:
        eager_tools = (await eager.list_tools()).tools
        eager_instructions, eager_capabilities = eager.instructions, eager.server_capabilities
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        async with Client(build_deferred_server(surface(settings), opener), mode="legacy") as lazy:
            assert [t.model_dump() for t in (await lazy.list_tools()).tools] == [t.model_dump() for t in eager_tools]
            assert lazy.instructions == eager_instructions
            assert lazy.server_capabilities == eager_capabilities
        opener.stop()


class CountingOpener:
    """Stands in for OnDemand: counts how often the runtime is asked for."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.calls = 0

    async def __call__(self) -> Runtime:
        self.calls += 1
        return self.runtime


async def test_initialize_and_tools_list_do_not_open_the_runtime() -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE)
    async with assembled(settings) as runtime:
        opener = CountingOpener(runtime)
        async with Client(build_deferred_server(surface(settings), opener), mode="legacy") as client:
            await client.list_tools()
            assert opener.calls == 0
            result = await client.call_tool("check_imessage", {"address": AVA})
            assert not result.is_error
            assert opener.calls == 1


async def test_reading_a_resource_opens_the_runtime_first() -> None:
    settings = Settings(sandbox=True, safety=PERMISSIVE)
    async with assembled(settings) as runtime:
        opener = CountingOpener(runtime)
        async with Client(build_deferred_server(surface(settings), opener), mode="legacy") as client:
            result = await client.read_resource("linq://inbox")
            assert result.contents
            assert opener.calls == 1


async def test_concurrent_first_requests_open_the_runtime_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import linq_mcp.server.app as app

    opened = 0
    real = app.assembled

    def counting(settings: Settings, **kw: Any) -> Any:
        nonlocal opened
        opened += 1
        return real(settings, **kw)

    monkeypatch.setattr(app, "assembled", counting)
    opener = OnDemand(Settings(sandbox=True, safety=PERMISSIVE))
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        runtimes: list[Runtime] = []

        async def ask() -> None:
            runtimes.append(await opener())

        async with anyio.create_task_group() as asks:
            for _ in range(5):
                asks.start_soon(ask)
        opener.stop()
    assert opened == 1
    assert len({id(r) for r in runtimes}) == 1


async def test_a_server_that_stops_before_any_request_never_opens_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    import linq_mcp.server.app as app

    def refuse(*args: Any, **kw: Any) -> Any:
        raise AssertionError("the runtime was opened")

    monkeypatch.setattr(app, "assembled", refuse)
    opener = OnDemand(Settings(sandbox=True))
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        tg.start_soon(opener.warm_up, 5.0)
        await anyio.sleep(0.01)
        opener.stop()


async def test_the_runtime_warms_up_unasked_after_the_delay() -> None:
    opener = OnDemand(Settings(sandbox=True))
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        tg.start_soon(opener.warm_up, 0.01)
        with anyio.fail_after(10):
            while opener.runtime is None:
                await anyio.sleep(0.01)
        opener.stop()


def test_live_mode_without_a_key_is_refused_before_serving() -> None:
    with pytest.raises(MissingApiKey):
        surface(Settings(api_key=None))


async def test_a_runtime_that_cannot_open_answers_every_call_with_the_reason(tmp_path: Any) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    settings = Settings(sandbox=True, db_path=str(blocker / "db.sqlite3"))
    opener = OnDemand(settings)
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        async with Client(build_deferred_server(surface(settings), opener), mode="legacy") as client:
            assert (await client.list_tools()).tools  # still listed: the surface needs nothing opened
            for _ in range(2):  # and it keeps answering
                result = await client.call_tool("list_phone_numbers", {})
                assert result.is_error
                assert result.structured_content is not None
                assert result.structured_content["error"] == "server_unavailable"
                assert "could not start" in result.structured_content["message"]
            with pytest.raises(Exception, match="could not start"):
                await client.read_resource("linq://inbox")
        opener.stop()
