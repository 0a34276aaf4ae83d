"""The composition root: compute the surface, build the runtime from its layers, serve.

Every layer (the API tools behind the safety gate, events) is made here and given to
the runtime as a value, so the call path stays one-way and each module stays ignorant
of the others.

Over stdio the server answers ``initialize`` and ``tools/list`` from the settings alone
(:func:`surface`) and opens the runtime — client, sandbox, stores, receivers — just
after, or as soon as a request needs it: a client connects as fast as to a bare server.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import anyio

from linq_mcp.api.errors import ServerUnavailable
from linq_mcp.config.paths import default_db_path
from linq_mcp.config.redact import register_secret
from linq_mcp.config.settings import Settings
from linq_mcp.policy import SafetyConfig, describe
from linq_mcp.server.runtime import Runtime, Surface, api_layer, open_base, require_api_key
from linq_mcp.tools.registry import load_registry

if TYPE_CHECKING:
    from linq_mcp.sandbox.app import Sandbox

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


def effective(settings: Settings) -> tuple[Settings, SafetyConfig]:
    """The settings and their safety section (kept as a pair for the callers)."""
    return settings, settings.safety


def surface(settings: Settings) -> Surface:
    """What the assembled server will show, from the settings alone (nothing opened)."""
    settings, safety = effective(settings)
    require_api_key(settings)
    registry = load_registry()
    return Surface(
        settings=settings,
        safety=safety,
        registry=registry,
        exposed=registry.exposed(settings),
        policy_description=describe(safety),
    )


@contextlib.asynccontextmanager
async def assembled(
    settings: Settings, *, sandbox: Sandbox | None = None, shown: Surface | None = None
) -> AsyncIterator[Runtime]:
    """The runtime with every layer in place, ready to serve ``shown`` (default: the settings' surface)."""
    from linq_mcp.config.secret import derive, server_secret
    from linq_mcp.events.wiring import wire as wire_events
    from linq_mcp.policy import Policy
    from linq_mcp.store import open_store
    from linq_mcp.tools.guard import SafetyGuard
    from linq_mcp.tools.pipeline import Pipeline

    shown = shown or surface(settings)
    settings = shown.settings
    async with open_base(settings, sandbox=sandbox) as base:
        db_path = database_path(settings)
        secret = await anyio.to_thread.run_sync(server_secret, settings)
        register_secret(secret)  # the server secret behind confirm tokens and sealed requestState
        store = await open_store(settings.store_url, db_path)
        try:
            policy = Policy(shown.safety, store.policy, token_key=derive(secret, "confirm-token"))
            register_secret(policy.state_secret)  # keys handle hashes
            async with wire_events(base, store, db_path, policy) as events:
                pipeline = Pipeline(
                    base.registry,
                    base.client,
                    gate=SafetyGuard(policy),
                    observers=events.observers,
                    ledger=store.ledger,
                )
                layers = (api_layer(base.registry, pipeline), events.layer)
                yield Runtime.of(shown, base, store, pipeline, events.hub, layers)
        finally:
            await store.aclose()


class OnDemand:
    """The assembled runtime, opened once: on the first request that needs it, or when warmed up.

    ``run()`` lives in the server's task group; ``stop()`` closes the runtime cleanly (or
    skips opening it) once serving ends. If opening fails, the server keeps answering: the
    reason goes to stderr and every request that needs the runtime gets it as an error
    (a stdio server cannot simply exit: its client would wait on a pipe nobody reads).
    """

    def __init__(self, settings: Settings, *, shown: Surface | None = None) -> None:
        self.settings = settings
        self.shown = shown  # the surface already shown to the client, if any: served as it is
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
            async with assembled(self.settings, shown=self.shown) as runtime:
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
    from linq_mcp.server.transports import check_bind, serve_http, serve_stdio

    if settings.transport == "http":
        check_bind(settings)  # a refusal is one line, before anything is opened
        async with assembled(settings) as runtime:
            await serve_http(runtime)
        return
    shown = surface(settings)  # bad settings fail here, before serving, as they always have
    if settings.store_url:  # a shared store that cannot be reached is a start-up error, not a later one
        from linq_mcp.store import open_store

        await (await open_store(settings.store_url, database_path(settings))).aclose()
    opener = OnDemand(settings, shown=shown)
    async with anyio.create_task_group() as tg:
        tg.start_soon(opener.run)
        tg.start_soon(opener.warm_up, WARM_UP_DELAY)
        try:
            await serve_stdio(shown, opener)
        finally:
            opener.stop()
