"""The composition root: build the runtime, wire the optional layers, serve.

Every layer (safety, events) plugs into the runtime here and nowhere else, so the
call path stays one-way and each module stays ignorant of the others.

Over stdio the server answers ``initialize`` and ``tools/list`` from the settings alone
(:func:`surface`) and opens the runtime — client, sandbox, stores, receivers — just
after, or as soon as a request needs it: a client connects as fast as to a bare server.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from linq_mcp.api.errors import ServerUnavailable
from linq_mcp.config.paths import default_db_path
from linq_mcp.config.redact import register_secret
from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig, describe
from linq_mcp.server.prompts import handler_factories as prompt_handlers
from linq_mcp.server.runtime import Runtime, exposed_names, open_runtime, require_api_key, tool_infos
from linq_mcp.store import open_store
from linq_mcp.tools.catalog import load_catalog

if TYPE_CHECKING:
    from linq_mcp.server.handlers import Surface

log = logging.getLogger("linq_mcp")

# How long a stdio server waits after it starts serving before it opens the runtime
# unasked: long enough for a client's initialize → tools/list exchange to be answered first.
WARM_UP_DELAY = 0.25


def database_path(settings: Settings) -> Path:
    """The durable store. The sandbox gets a throwaway one unless a path is given, so
    simulated sends never count against (or teach contacts to) the live configuration."""
    if settings.db_path:
        return Path(settings.db_path).expanduser()
    if settings.sandbox:
        return Path(tempfile.mkdtemp(prefix="linq-mcp-sandbox-")) / "linq-mcp.sqlite3"
    return default_db_path()


def safety_config(settings: Settings) -> SafetyConfig:
    """flags/env/file were merged by the CLI into ``settings.safety`` when given; else env + file."""
    if isinstance(settings.safety, SafetyConfig):
        return settings.safety
    return SafetyConfig.layered(dict(settings.safety) or None, os.environ)


def effective(settings: Settings) -> tuple[Settings, SafetyConfig]:
    """The settings with the safety file's say on payment credentials folded in."""
    safety = safety_config(settings)
    if safety.allow_payment_credentials and not settings.allow_payment_credentials:
        settings = replace(settings, allow_payment_credentials=True)
    return settings, safety


def surface(settings: Settings) -> Surface:
    """What the assembled server will show, from the settings alone (nothing opened)."""
    from linq_mcp.events.specs import HANDLER_NAMES, TOOL_SPECS
    from linq_mcp.server.handlers import Surface, ToolSpec

    settings, safety = effective(settings)
    require_api_key(settings)
    catalog = load_catalog()
    extra = {
        spec["name"]: ToolSpec(
            spec["toolset"], spec["description"], spec["input_schema"], spec["output_schema"], spec["annotations"]
        )
        for spec in TOOL_SPECS
    }
    infos = tool_infos(catalog, ((spec["name"], spec["toolset"], spec["effect"]) for spec in TOOL_SPECS))
    return Surface(
        settings=settings,
        catalog=catalog,
        exposed=tuple(exposed_names(settings, infos)),
        extra_tools=extra,
        sandbox=settings.sandbox,
        policy_description=describe(safety),
        handler_names=tuple(sorted({*prompt_handlers(), *HANDLER_NAMES})),
    )


@contextlib.asynccontextmanager
async def assembled(settings: Settings, *, sandbox: object | None = None) -> AsyncIterator[Runtime]:
    """The runtime with every layer wired, ready to serve."""
    from linq_mcp.config.secret import derive, server_secret
    from linq_mcp.events import wire as wire_events
    from linq_mcp.policy import Policy
    from linq_mcp.tools.guard import SafetyGuard

    settings, safety = effective(settings)
    async with open_runtime(settings, sandbox=sandbox) as runtime:  # type: ignore[arg-type]
        db_path = database_path(settings)
        secret = await anyio.to_thread.run_sync(server_secret, settings)
        register_secret(secret)  # the server secret behind confirm tokens and sealed requestState
        store = await open_store(settings.store_url, db_path)
        try:
            runtime.store = store
            runtime.runner.ledger = store.ledger
            policy = Policy(safety, store.policy, token_key=derive(secret, "confirm-token"))
            register_secret(policy.state_secret)  # keys handle hashes
            runtime.runner.guard = SafetyGuard(policy, runtime.catalog, runtime.client)
            runtime.policy_description = policy.describe()
            runtime.handler_factories.update(prompt_handlers())
            async with wire_events(runtime, store, db_path):
                runtime.compute_exposed()
                yield runtime
        finally:
            await store.aclose()


class OnDemand:
    """The assembled runtime, opened once: on the first request that needs it, or when warmed up.

    ``run()`` lives in the server's task group; ``stop()`` closes the runtime cleanly (or
    skips opening it) once serving ends. If opening fails, the server keeps answering: the
    reason goes to stderr and every request that needs the runtime gets it as an error
    (a stdio server cannot simply exit: its client would wait on a pipe nobody reads).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None
        self.failure: ServerUnavailable | None = None
        self._wanted = anyio.Event()
        self._ready = anyio.Event()
        self._stopping = anyio.Event()

    async def __call__(self) -> Runtime:
        self._wanted.set()
        await self._ready.wait()
        if self.failure is not None:
            raise self.failure
        assert self.runtime is not None
        return self.runtime

    async def warm_up(self, delay: float) -> None:
        with anyio.move_on_after(delay):
            await self._stopping.wait()
        self._wanted.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wanted.set()

    async def run(self) -> None:
        await self._wanted.wait()
        if self._stopping.is_set():
            return
        try:
            async with assembled(self.settings) as runtime:
                self.runtime = runtime
                self._ready.set()
                await self._stopping.wait()
        except Exception as exc:
            if self.runtime is not None:  # it failed while closing: nothing is waiting any more
                log.exception("closing the runtime failed")
                return
            self.failure = ServerUnavailable(exc)
            log.error("%s", self.failure)
            self._ready.set()


async def run_server(settings: Settings) -> None:
    from linq_mcp.server.hosted import check_hosted
    from linq_mcp.server.transports import check_bind, serve_http, serve_stdio

    if settings.transport == "http":
        check_bind(settings)  # a refusal is one line, before anything is opened
        check_hosted(settings)
        async with assembled(settings) as runtime:
            await serve_http(runtime)
        return
    shown = surface(settings)  # bad settings fail here, before serving, as they always have
    if settings.store_url:  # a shared store that cannot be reached is a start-up error, not a later one
        await (await open_store(settings.store_url, database_path(settings))).aclose()
    opener = OnDemand(settings)
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        tg.start_soon(opener.warm_up, WARM_UP_DELAY)
        try:
            await serve_stdio(shown, opener)
        finally:
            opener.stop()
