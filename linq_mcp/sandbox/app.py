"""The sandbox as an ASGI application: Linq's V3 API, simulated.

``create_sandbox(config)`` builds a :class:`Sandbox`: its ``world`` (all state) and
``app`` (the ASGI callable). Requests under ``/api/partner`` go to the API routers and
``/_sandbox`` to the admin routers, both listed in one place: ``sandbox/routes/__init__.py``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import anyio
import anyio.abc
import httpx
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from . import admin, persistence, routes, setup, webhooks
from .config import SandboxConfig
from .errors import LinqError
from .faults import DroppedConnection, FaultPlan
from .router import CompiledRoute, Ctx, Reply
from .state import CURRENT_PARTNER, World

log = logging.getLogger("linq_mcp.sandbox")

API_PREFIX = "/api/partner"
V2_PREFIX = "/v2/"  # under API_PREFIX: the legacy V2 API (sandbox/routes/v2.py)
ADMIN_PREFIX = "/_sandbox"


MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
JSON = "application/json"


@dataclass
class Sandbox:
    world: World
    api_routes: list[CompiledRoute] = field(default_factory=list)
    admin_routes: list[CompiledRoute] = field(default_factory=list)
    faults: FaultPlan = field(init=False)
    after_mutation: list[Callable[[World], None]] = field(default_factory=list)
    # Outbound webhook deliveries go through this transport (None = the real network), so an
    # embedding process can route them to its own in-process receiver.
    webhook_transport: httpx.AsyncBaseTransport | None = None
    # Set while a lifespan or ``running()`` is active: background work (webhook POSTs) runs here.
    task_group: anyio.abc.TaskGroup | None = None
    # Routes by path-segment count, built on first use (tables are fixed once the sandbox is made).
    _index: dict[tuple[int, int], dict[int, list[CompiledRoute]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.faults = FaultPlan(self.world)

    @property
    def api_key(self) -> str:
        return self.world.config.api_keys[0]

    def http_date(self) -> str:
        """The ``Date`` header, on the world's clock: moving the clock skews it as a real server's would be."""
        from email.utils import formatdate

        return formatdate(self.world.clock.now(), usegmt=True)

    # ASGI ---------------------------------------------------------------------------
    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        status, headers, body = await self.dispatch(
            request.method, request.url.path, request.url.query, request.headers, await request.body()
        )
        headers = {**headers, "Date": self.http_date()}
        await Response(body, status_code=status, headers=headers)(scope, receive, send)

    async def served_app(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app behind a real socket: a dropped connection becomes a reset mid-body."""
        try:
            await self.app(scope, receive, send)
        except DroppedConnection:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"4096")]})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            raise

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as tg:
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.task_group = tg
                    tg.start_soon(self.world.scheduler.run)
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    self.task_group = None
                    tg.cancel_scope.cancel()
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Sandbox]:
        """Run the world's timers in real time (for in-process use, where no lifespan runs)."""
        async with anyio.create_task_group() as tg:
            self.task_group = tg
            tg.start_soon(self.world.scheduler.run)
            try:
                yield self
            finally:
                self.task_group = None
                tg.cancel_scope.cancel()

    # dispatch -----------------------------------------------------------------------
    async def dispatch(
        self, method: str, path: str, query_string: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request, transport-free: (status, headers, body).

        The ASGI app and the in-process transport both come here, so a request means the
        same thing whether it arrived over a socket or not. Raises ``DroppedConnection``
        when a fault drops the connection (each transport shows that its own way).
        """
        world = self.world
        trace_id = world.trace_id()
        try:
            await world.scheduler.run_due()
            if path.startswith(ADMIN_PREFIX):
                table, rel = self.admin_routes, path
            elif path.startswith(API_PREFIX):
                table, rel = self.api_routes, path[len(API_PREFIX) :]
            else:
                raise LinqError(404, 2001, f"Not found: {path}")
            compiled, params = self._match(table, method, rel)
            if not compiled.public:
                self._authenticate(headers, v2=rel.startswith(V2_PREFIX))
            query = parse_qs(query_string, keep_blank_values=True)
            ctx = Ctx(
                world=world,
                method=method,
                path=rel,
                path_params=params,
                query={k: v[-1] for k, v in query.items()},
                query_lists=query,
                headers=headers,
                raw_body=body,
                trace_id=trace_id,
                operation=compiled.route.operation,
            )
            is_api = table is self.api_routes and not compiled.public
            kind = self.faults.choose(compiled.route.operation) if is_api else None
            if is_api:
                world.count("requests")
                world.count(f"op.{compiled.route.operation}")
            await self.faults.before(ctx, kind)
            reply = await compiled.route.handler(ctx)
            if method in MUTATING:
                for hook in self.after_mutation:
                    hook(world)
            self.faults.after(kind)
            world.scheduler.poke()
            return self._respond(reply, trace_id)
        except LinqError as exc:
            error_headers = {"X-Trace-ID": trace_id, "Content-Type": JSON}
            if exc.retry_after is not None:
                error_headers["Retry-After"] = str(exc.retry_after)
            rel_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX) else path
            if rel_path.startswith(V2_PREFIX):  # the legacy API answers in its own formats
                from .v2 import error_body

                return exc.status, error_headers, json.dumps(error_body(exc, rel_path)).encode()
            return exc.status, error_headers, json.dumps(exc.envelope(trace_id)).encode()
        except DroppedConnection:
            raise
        except Exception:  # never a stack trace to the client
            log.exception("sandbox handler failed (trace %s)", trace_id)
            err = LinqError(500, 3006, "Internal server error")
            return 500, {"X-Trace-ID": trace_id, "Content-Type": JSON}, json.dumps(err.envelope(trace_id)).encode()

    def _match(self, table: list[CompiledRoute], method: str, path: str) -> tuple[CompiledRoute, dict[str, str]]:
        allowed = False
        for compiled in self._candidates(table, path.count("/") + 1):
            params = compiled.pattern.match(path)
            if params is None:
                continue
            if compiled.route.method == method:
                return compiled, params
            allowed = True
        if allowed:
            raise LinqError(405, 1005, f"Method {method} is not allowed on {path}")
        raise LinqError(404, 2001, f"Not found: {path}")

    def _candidates(self, table: list[CompiledRoute], segments: int) -> list[CompiledRoute]:
        """The routes of ``table`` with this many path segments, in table order."""
        key = (id(table), len(table))
        index = self._index.get(key)
        if index is None:
            index = {}
            for compiled in table:
                index.setdefault(len(compiled.pattern.segments), []).append(compiled)
            self._index[key] = index
        return index.get(segments, [])

    def _authenticate(self, headers: Mapping[str, str], *, v2: bool = False) -> None:
        """V3: ``Authorization: Bearer``; V2: ``X-LINQ-INTEGRATION-TOKEN`` (the same token values)."""
        if v2:
            token = headers.get("x-linq-integration-token", "")
            if not token.strip():
                raise LinqError(401, 2004, "Unauthorized: missing X-LINQ-INTEGRATION-TOKEN header")
        else:
            header = headers.get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise LinqError(401, 2004, "Unauthorized: missing Bearer token in the Authorization header")
        config = self.world.config
        if token.strip() in config.api_keys:
            CURRENT_PARTNER.set(config.partner_id)
        elif token.strip() in config.other_partners:
            CURRENT_PARTNER.set(config.other_partners[token.strip()])
        else:
            raise LinqError(401, 2004, "Unauthorized: invalid API token")

    @staticmethod
    def _respond(reply: Reply, trace_id: str) -> tuple[int, dict[str, str], bytes]:
        headers = {"X-Trace-ID": trace_id, **reply.headers}
        if isinstance(reply.body, bytes):
            return reply.status, headers, reply.body
        if reply.body is None:
            return reply.status, headers, b""
        headers.setdefault("Content-Type", JSON)
        return reply.status, headers, json.dumps(reply.body).encode()


def create_sandbox(config: SandboxConfig | None = None) -> Sandbox:
    """Build a fresh sandbox world and its app. Cheap: no I/O unless ``db_path`` is set."""
    config = config or SandboxConfig()
    world = World(config)
    setup.add_lines(world)
    sandbox = Sandbox(
        world,
        api_routes=[CompiledRoute.of(route) for router in routes.API_ROUTERS for route in router.routes],
        admin_routes=[CompiledRoute.of(route) for router in routes.ADMIN_ROUTERS for route in router.routes],
    )
    webhooks.install(sandbox)
    admin.attach(sandbox)
    if config.db_path:
        persistence.attach(sandbox)
    return sandbox
