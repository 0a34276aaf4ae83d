"""Everything a running server shares, built once per process.

The runtime owns the one ``httpx.AsyncClient`` (through :class:`LinqClient`), the
compiled catalog, the tool runner and, in sandbox mode, the embedded simulator that
the client reaches over an in-process HTTP transport — exactly as it would reach
Linq. It lives outside MCP sessions so that stateless HTTP serving does not build a
client per request.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from linq_mcp.config.settings import Settings
from linq_mcp.tools.catalog import Catalog, load_catalog
from linq_mcp.tools.inventory import ToolInfo, select

if TYPE_CHECKING:
    from linq_mcp.api.client import LinqClient
    from linq_mcp.sandbox.app import Sandbox
    from linq_mcp.store.base import Store
    from linq_mcp.tools.runner import ToolRunner

log = logging.getLogger("linq_mcp")

SANDBOX_BASE_URL = "http://sandbox.local/api/partner"
CLOSE_TIMEOUT = 5.0  # seconds the shared HTTP client gets to close its connections at shutdown


class MissingApiKey(Exception):
    """Live mode without a key: the CLI turns this into a one-line hint and exit code 2."""


@dataclass
class ExtraTool:
    """A tool that is not an API operation (events, diagnostics), with its own handler."""

    name: str
    toolset: str
    effect: str
    title: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None
    annotations: dict[str, bool]
    handler: Callable[[dict[str, Any], Any], Awaitable[Any]]


@dataclass
class Runtime:
    settings: Settings
    catalog: Catalog
    client: LinqClient
    runner: ToolRunner
    sandbox: Sandbox | None = None
    extra_tools: dict[str, ExtraTool] = field(default_factory=dict)
    exposed: list[str] = field(default_factory=list)
    task_group: anyio.abc.TaskGroup | None = None
    # Further low-level Server handlers (resources, subscriptions, completions), by kwarg name;
    # each factory gets the runtime and returns the handler.
    handler_factories: dict[str, Callable[[Runtime], Any]] = field(default_factory=dict)
    policy_description: str | None = None
    # Starlette routes the HTTP transport mounts before ``/`` (e.g. the webhook receiver).
    http_routes: list[Any] = field(default_factory=list)
    # The shared state (events, policy, ledger; SQLite or PostgreSQL), once assembled: ``health()``.
    store: Store | None = None

    def server_handlers(self) -> dict[str, Any]:
        return {name: factory(self) for name, factory in self.handler_factories.items()}

    @property
    def mode(self) -> str:
        return "sandbox" if self.sandbox is not None else "live"

    def add_tool(self, tool: ExtraTool) -> None:
        self.extra_tools[tool.name] = tool

    def compute_exposed(self) -> list[str]:
        extra = ((t.name, t.toolset, t.effect) for t in self.extra_tools.values())
        self.exposed = exposed_names(self.settings, tool_infos(self.catalog, extra))
        return self.exposed


def tool_infos(catalog: Catalog, extra: Iterable[tuple[str, str, str]]) -> list[ToolInfo]:
    """Every tool as (name, toolset, effect): the API operations, then the extra tools."""
    return [ToolInfo(op.tool, op.toolset, op.effect) for op in catalog.operations] + [ToolInfo(*e) for e in extra]


def exposed_names(settings: Settings, infos: list[ToolInfo]) -> list[str]:
    """The tools these settings expose (the one filter behind tools/list, tools/call and the table)."""
    return select(
        infos,
        toolsets=settings.toolsets,
        include=settings.tools,
        exclude=settings.exclude_tools,
        read_only=settings.read_only,
        allow_payment_credentials=settings.allow_payment_credentials,
    )


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
async def open_runtime(settings: Settings, *, sandbox: Sandbox | None = None) -> AsyncIterator[Runtime]:
    """Build the shared runtime; in sandbox mode also run the simulated world's clock."""
    from linq_mcp.api.client import LinqClient, make_http_client
    from linq_mcp.tools.runner import ToolRunner

    catalog = load_catalog()
    if settings.sandbox or sandbox is not None:
        from linq_mcp.sandbox.transport import SandboxTransport

        sandbox = sandbox or build_sandbox(settings)
        http = make_http_client(SANDBOX_BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox.app))
    else:
        require_api_key(settings)
        http = make_http_client(settings.base_url, settings.api_key or "")
    client = LinqClient(http, max_retries=settings.max_retries)
    runner = ToolRunner(catalog, client)
    runtime = Runtime(settings=settings, catalog=catalog, client=client, runner=runner, sandbox=sandbox)
    try:
        async with contextlib.AsyncExitStack() as stack:
            tg = await stack.enter_async_context(anyio.create_task_group())
            runtime.task_group = tg
            stack.callback(tg.cancel_scope.cancel)
            if sandbox is not None:
                await stack.enter_async_context(sandbox.running())
                print(
                    "linq-mcp: SANDBOX MODE — talking to the embedded Linq simulator; no real messages are sent.",
                    file=sys.stderr,
                )
            yield runtime
    finally:
        # Shielded and bounded: this runs while the server is being cancelled too, and an
        # unshielded await would stop at its first checkpoint with the connections still open.
        with anyio.move_on_after(CLOSE_TIMEOUT, shield=True):
            await client.aclose()
