"""Everything a running server shares, built once per process.

:func:`open_base` opens what every layer stands on: the one ``httpx.AsyncClient``
(through :class:`LinqClient`) and, in sandbox mode, the embedded simulator the client
reaches over an in-process HTTP transport — exactly as it would reach Linq.
``app.assembled`` then builds the :class:`Runtime`, immutably, from the
:class:`Surface` (what a client sees, computed once from the settings) and a list of
:class:`Layer` values (API tools, events): each layer brings the handlers of the tools
it carries out and the HTTP routes it serves. The runtime lives outside MCP sessions so
that stateless HTTP serving does not build a client per request.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from linq_mcp.config.settings import Settings
from linq_mcp.tools.registry import Registry, ToolDef, load_registry

if TYPE_CHECKING:
    from linq_mcp.api.client import LinqClient
    from linq_mcp.events.hub import EventHub
    from linq_mcp.policy import SafetyConfig
    from linq_mcp.sandbox.app import Sandbox
    from linq_mcp.store.base import Store
    from linq_mcp.tools.pipeline import Pipeline
    from linq_mcp.tools.results import ToolResult

log = logging.getLogger("linq_mcp")

SANDBOX_BASE_URL = "http://sandbox.local/api/partner"
CLOSE_TIMEOUT = 5.0  # seconds the shared HTTP client gets to close its connections at shutdown

# How a layer carries out one tool: (the call's raw arguments, the MCP request context) -> result.
ToolHandler = Callable[[Mapping[str, Any] | None, Any], Awaitable["ToolResult"]]


class MissingApiKey(Exception):
    """Live mode without a key: the CLI turns this into a one-line hint and exit code 2."""


@dataclass(frozen=True)
class Surface:
    """What a client sees of the server before any call: tools, instructions, capabilities.

    Computed once, from the settings alone (``app.surface``); the runtime serves exactly it.
    """

    settings: Settings
    safety: SafetyConfig
    registry: Registry
    exposed: tuple[ToolDef, ...]
    policy_description: str | None

    @property
    def sandbox(self) -> bool:
        return self.settings.sandbox

    @property
    def exposed_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.exposed)


@dataclass(frozen=True)
class Base:
    """What every layer stands on: the settings, the registry, the client and (sandbox mode) the simulator."""

    settings: Settings
    registry: Registry
    client: LinqClient
    sandbox: Sandbox | None
    task_group: anyio.abc.TaskGroup


@dataclass(frozen=True)
class Layer:
    """What one layer adds to the runtime."""

    name: str
    tools: Mapping[str, ToolHandler] = field(default_factory=dict)  # the tools it carries out, by name
    http_routes: tuple[Any, ...] = ()  # Starlette routes the HTTP transport mounts before ``/``


class LayerError(Exception):
    """The layers do not carry out exactly the exposed tools, once each."""


@dataclass(frozen=True)
class Runtime:
    surface: Surface
    base: Base
    store: Store  # the shared state (events, policy, ledger; SQLite or PostgreSQL): ``health()``
    pipeline: Pipeline
    events: EventHub
    tools: Mapping[str, ToolHandler]  # one handler per exposed tool
    http_routes: tuple[Any, ...]

    @classmethod
    def of(
        cls, surface: Surface, base: Base, store: Store, pipeline: Pipeline, events: EventHub, layers: Sequence[Layer]
    ) -> Runtime:
        """The runtime the layers make up; every exposed tool must be carried out by exactly one layer."""
        handlers: dict[str, ToolHandler] = {}
        for layer in layers:
            for name, handler in layer.tools.items():
                if name in handlers:
                    raise LayerError(f"two layers carry out {name}")
                handlers[name] = handler
        missing = [t.name for t in surface.exposed if t.name not in handlers]
        if missing:
            raise LayerError(f"no layer carries out {', '.join(missing)}")
        exposed = set(surface.exposed_names)
        return cls(
            surface=surface,
            base=base,
            store=store,
            pipeline=pipeline,
            events=events,
            tools={name: h for name, h in handlers.items() if name in exposed},
            http_routes=tuple(route for layer in layers for route in layer.http_routes),
        )

    @property
    def settings(self) -> Settings:
        return self.surface.settings

    @property
    def policy_description(self) -> str | None:
        return self.surface.policy_description

    @property
    def client(self) -> LinqClient:
        return self.base.client

    @property
    def sandbox(self) -> Sandbox | None:
        return self.base.sandbox

    @property
    def mode(self) -> str:
        return "sandbox" if self.base.sandbox is not None else "live"


def api_layer(registry: Registry, pipeline: Pipeline) -> Layer:
    """Every API tool, carried out by the call pipeline."""

    def handler(name: str) -> ToolHandler:
        async def call(arguments: Mapping[str, Any] | None, context: Any) -> ToolResult:
            return await pipeline.call(name, arguments, context=context)

        return call

    return Layer("api", {t.name: handler(t.name) for t in registry if t.kind == "api"})


def require_api_key(settings: Settings) -> None:
    """Live mode needs a key; say so before serving rather than at the first call."""
    if not settings.sandbox and not settings.api_key:
        raise MissingApiKey(
            "no Linq API key: set LINQ_API_V3_API_KEY (or LINQ_API_KEY), run 'linq login' (Linq CLI), "
            "or run with --sandbox to try "
            "linq-mcp on the embedded simulator"
        )


def build_sandbox(settings: Settings) -> Sandbox:
    from linq_mcp.sandbox.app import create_sandbox
    from linq_mcp.sandbox.config import SandboxConfig

    config = SandboxConfig.from_toml(settings.sandbox_config) if settings.sandbox_config else SandboxConfig()
    if settings.sandbox_seed is not None:
        config.seed = settings.sandbox_seed
    return create_sandbox(config)


@contextlib.asynccontextmanager
async def open_base(settings: Settings, *, sandbox: Sandbox | None = None) -> AsyncIterator[Base]:
    """Open the client (and in sandbox mode the simulated world with its clock)."""
    from linq_mcp.api.client import LinqClient, make_http_client

    if settings.sandbox or sandbox is not None:
        from linq_mcp.sandbox.transport import SandboxTransport

        sandbox = sandbox or build_sandbox(settings)
        http = make_http_client(SANDBOX_BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox.app))
    else:
        require_api_key(settings)
        http = make_http_client(settings.base_url, settings.api_key or "")
    live = sandbox is None  # the sandbox answers V2 on its own origin, with its own key
    client = LinqClient(
        http,
        max_retries=settings.max_retries,
        v2_base_url=settings.v2_base_url if live else None,
        v2_token=settings.v2_token if live else None,
    )
    try:
        async with contextlib.AsyncExitStack() as stack:
            tg = await stack.enter_async_context(anyio.create_task_group())
            stack.callback(tg.cancel_scope.cancel)
            if sandbox is not None:
                await stack.enter_async_context(sandbox.running())
                print(
                    "linq-mcp: SANDBOX MODE — talking to the embedded Linq simulator; no real messages are sent.",
                    file=sys.stderr,
                )
            yield Base(settings, load_registry(), client, sandbox, tg)
    finally:
        # Shielded and bounded: this runs while the server is being cancelled too, and an
        # unshielded await would stop at its first checkpoint with the connections still open.
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await client.aclose()
