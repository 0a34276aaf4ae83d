"""Serving the MCP server: stdio, and Streamable HTTP at ``/mcp`` with ``/healthz`` and ``/readyz``.

``/healthz`` (liveness) answers 200 while the process serves and reports the store's
state; ``/readyz`` answers 503 while the store is unreachable, so a load balancer sends
requests to the replicas that can serve them and restarting this one would fix nothing.

HTTP binds 127.0.0.1 by default with the SDK's Host/Origin (DNS-rebinding) checks on.
A non-loopback bind is refused unless an auth token is set; then every request to
``/mcp`` needs ``Authorization: Bearer <token>``. ``--allowed-host``/``--allowed-origin``
add to the loopback defaults. A connection must send its request head within
``HEADER_TIMEOUT`` seconds (before any route or bearer check runs), and SIGTERM drains
the calls in flight, then exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import signal
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from linq_mcp import __version__
from linq_mcp.config.redact import redact_logs, register_secret
from linq_mcp.server.handlers import build_deferred_server, build_server
from linq_mcp.server.hosted import probe, roles
from linq_mcp.server.runtime import Runtime, Surface

if TYPE_CHECKING:
    import uvicorn

    from linq_mcp.config.settings import Settings

# What a loopback server accepts with no flags; --allowed-host/--allowed-origin add to these.
LOOPBACK_HOSTS: tuple[str, ...] = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS: tuple[str, ...] = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")
# Seconds a connection gets to send a request's head (line and headers).
HEADER_TIMEOUT = 10.0
# Seconds SIGTERM waits for calls in flight (and open streams) before cancelling them.
DRAIN_TIMEOUT = 30.0


class UnsafeBind(ValueError):
    """Serving on a non-loopback address without an auth token."""


class CannotListen(RuntimeError):
    """The HTTP port could not be bound (uvicorn has logged the reason)."""


def check_bind(settings: Settings) -> None:
    """Refuse a public bind without a token, and a blank token, before anything is opened."""
    if settings.auth_token is not None and not settings.auth_token.strip():
        raise UnsafeBind("the auth token is blank: set a real secret in LINQ_MCP_AUTH_TOKEN or --auth-token")
    if not settings.is_loopback and not settings.auth_token:
        raise UnsafeBind(
            f"refusing to serve on {settings.host} without an auth token: set --auth-token or LINQ_MCP_AUTH_TOKEN "
            "(or bind 127.0.0.1)"
        )


async def serve_stdio(surface: Surface, runtime: Callable[[], Awaitable[Runtime]]) -> None:
    """Serve over stdin/stdout; the runtime is opened by ``runtime()`` when first needed."""
    from mcp.server.stdio import stdio_server

    server = build_deferred_server(surface, runtime)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


class BearerAuth:
    """Requires ``Authorization: Bearer <token>`` on the MCP endpoint (constant-time check)."""

    def __init__(self, app: ASGIApp, token: str, protected_prefix: str = "/mcp") -> None:
        self.app = app
        self._token = token.encode()
        self.prefix = protected_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            header = dict(scope.get("headers", [])).get(b"authorization", b"")
            scheme, _, token = header.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(token.strip(), self._token):
                response = JSONResponse(
                    {"error": "unauthorized", "message": "Send Authorization: Bearer <LINQ_MCP_AUTH_TOKEN>."},
                    status_code=401,
                    headers={"WWW-Authenticate": 'Bearer realm="linq-mcp"'},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _loopback_security() -> Any:
    from mcp.server.transport_security import TransportSecuritySettings

    # The SDK's own default for a loopback /mcp: the same, for every other route.
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
        allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
    )


class HostGuard:
    """The Host/Origin (DNS-rebinding) checks ``/mcp`` gets from the SDK, for every other route.

    Without it ``/webhooks/linq`` and ``/healthz`` answered any Host, so a web page could
    reach them through a rebound name.
    """

    def __init__(self, app: ASGIApp, security: Any, sdk_prefix: str = "/mcp") -> None:
        from mcp.server.transport_security import TransportSecurityMiddleware

        self.app = app
        self.prefix = sdk_prefix
        self.check = TransportSecurityMiddleware(security) if security is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.check is not None and scope["type"] == "http" and not scope["path"].startswith(self.prefix):
            refusal = await self.check.validate_request(Request(scope), is_post=False)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_http_app(
    runtime: Runtime,
    *,
    extra_routes: list[BaseRoute] | None = None,
    on_startup: list[Callable[[], Any]] | None = None,
) -> ASGIApp:
    """The Starlette app for HTTP serving. Its lifespan runs the MCP session manager."""
    s = runtime.settings
    check_bind(s)
    if s.auth_token:
        register_secret(s.auth_token)
    server = build_server(runtime)
    security = None
    if s.allowed_hosts or s.allowed_origins:
        from mcp.server.transport_security import TransportSecuritySettings

        # Extra names widen what loopback accepts; they never take 127.0.0.1 away.
        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(dict.fromkeys([*LOOPBACK_HOSTS, *s.allowed_hosts])),
            allowed_origins=list(dict.fromkeys([*LOOPBACK_ORIGINS, *s.allowed_origins])),
        )
    mcp_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=s.stateless,
        json_response=s.stateless,
        transport_security=security,
        host=s.host if s.is_loopback else "0.0.0.0",
    )

    async def healthz(request: Request) -> Response:
        body = {
            "status": "ok",
            "version": __version__,
            "mode": runtime.mode,
            "tools": len(runtime.surface.exposed),
            "store": await probe(runtime.store),
            "roles": roles(runtime.store),
        }
        return Response(json.dumps(body), media_type="application/json")

    async def readyz(request: Request) -> Response:
        store = await probe(runtime.store)
        body = {"ready": bool(store["ok"]), "store": store}
        return Response(json.dumps(body), status_code=200 if store["ok"] else 503, media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            for hook in on_startup or []:
                hook()
            yield

    routes: list[BaseRoute] = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        *runtime.http_routes,
        *(extra_routes or []),
    ]
    routes.append(Mount("/", app=mcp_app))
    app: ASGIApp = Starlette(routes=routes, lifespan=lifespan)
    app = HostGuard(app, security or (_loopback_security() if s.is_loopback else None))
    if s.auth_token:
        app = BearerAuth(app, s.auth_token)
    return app


def _head_deadline(base: type[asyncio.Protocol]) -> type[asyncio.Protocol]:
    """``base`` (uvicorn's HTTP protocol) closing connections whose request head is late.

    uvicorn times out idle keep-alive connections only after a response; a client that
    opens a connection and sends half a request line would hold it (and a file
    descriptor) for ever, before any route or bearer check could refuse it.
    """

    class HeadDeadline(base):  # type: ignore[valid-type,misc]
        header_timeout = HEADER_TIMEOUT
        _head_timer: asyncio.TimerHandle | None = None
        _armed_for: Any = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            cycle = self.cycle
            awaiting_head = cycle is None or cycle.response_complete
            if awaiting_head and (self._head_timer is None or self._armed_for is not cycle):
                self._arm()  # a new head is starting: it gets the full deadline, once
            super().data_received(data)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
            self._armed_for = self.cycle
            self._head_timer = self.loop.call_later(self.header_timeout, self._head_late)

        def _head_late(self) -> None:
            self._head_timer = None
            if self.cycle is self._armed_for and not self.transport.is_closing():
                self.transport.close()  # still waiting for the same head

    HeadDeadline.__name__ = f"HeadDeadline{base.__name__}"
    return HeadDeadline


def http_protocol(header_timeout: float = HEADER_TIMEOUT) -> type[asyncio.Protocol]:
    """The HTTP protocol class uvicorn would pick, with the head deadline."""
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as base
    except ImportError:  # httptools is optional: h11 is always there
        from uvicorn.protocols.http.h11_impl import H11Protocol as base  # type: ignore[assignment]
    protocol = _head_deadline(base)
    protocol.header_timeout = header_timeout  # type: ignore[attr-defined]
    return protocol


class InFlight:
    """ASGI wrapper counting the requests that are doing work (POSTs: tool calls and the like)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        self.count += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.count -= 1


def make_uvicorn(
    app: ASGIApp,
    host: str,
    port: int,
    *,
    log_level: str = "warning",
    header_timeout: float = HEADER_TIMEOUT,
    drain_timeout: float = DRAIN_TIMEOUT,
    access_log: bool = True,
) -> uvicorn.Server:
    """A uvicorn server with the head deadline, secret-free logs and a draining SIGTERM."""
    import uvicorn

    in_flight = InFlight(app)
    config = uvicorn.Config(
        in_flight,
        host=host,
        port=port,
        log_level=log_level.lower(),
        lifespan="on",
        http=http_protocol(header_timeout),
        access_log=access_log,
    )
    redact_logs(("", "uvicorn", "uvicorn.error", "uvicorn.access"))  # Config has set up uvicorn's handlers
    server = _draining_server_class()(config)
    server.in_flight = in_flight  # type: ignore[attr-defined]
    server.drain_timeout = drain_timeout  # type: ignore[attr-defined]
    return server


def _draining_server_class() -> type[uvicorn.Server]:
    import uvicorn

    class DrainingServer(uvicorn.Server):
        """On SIGTERM/SIGINT: stop accepting, let calls in flight finish, close streams, exit 0.

        uvicorn alone gets this wrong for MCP twice over: sse-starlette ends every SSE
        response (a tool call's answer among them) the moment the server starts shutting
        down, and uvicorn raises the signal again once done, so the process dies with -15.
        Here the signal only sets ``should_exit``; the shutdown waits for POSTs in flight
        (up to ``drain_timeout``), then shuts the app down, which ends the sessions and
        their idle streams, and serving returns normally.
        """

        in_flight: InFlight
        drain_timeout: float

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            if threading.current_thread() is not threading.main_thread():
                yield
                return

            # A plain function, not a bound method: sse-starlette looks for the server
            # behind the SIGTERM handler to cut its streams early.
            def on_signal(sig: int, frame: Any) -> None:
                if self.should_exit and sig == signal.SIGINT:
                    self.force_exit = True  # a second Ctrl-C: stop waiting
                self.should_exit = True

            handled = (signal.SIGINT, signal.SIGTERM)
            original = {sig: signal.signal(sig, on_signal) for sig in handled}
            try:
                yield
            finally:
                for sig, handler in original.items():
                    signal.signal(sig, handler)

        async def shutdown(self, sockets: list[Any] | None = None) -> None:
            for listener in self.servers:
                listener.close()
            for sock in sockets or []:
                sock.close()
            for connection in list(self.server_state.connections):
                connection.shutdown()  # idle ones close now; busy ones after their response
            deadline = asyncio.get_running_loop().time() + self.drain_timeout
            while self.in_flight.count and not self.force_exit and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            if not self.force_exit:
                await self.lifespan.shutdown()  # ends the MCP sessions and their open streams
            while self.server_state.connections and not self.force_exit:
                if asyncio.get_running_loop().time() >= deadline + 5:
                    break
                await asyncio.sleep(0.05)
            for connection in list(self.server_state.connections):
                connection.transport.close()  # whatever is left after the deadline
            for task in self.server_state.tasks:
                task.cancel(msg="shutting down")
            for listener in self.servers:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(listener.wait_closed(), 5)

    return DrainingServer


async def serve_http(runtime: Runtime, *, extra_routes: list[BaseRoute] | None = None) -> None:
    s = runtime.settings
    app = create_http_app(runtime, extra_routes=extra_routes)
    try:
        await make_uvicorn(app, s.host, s.port, log_level=s.log_level).serve()
    except SystemExit:  # uvicorn exits when it cannot bind, after logging why
        raise CannotListen(f"cannot listen on {s.host}:{s.port} (is another server using that port?)") from None
