"""Serving the MCP server: stdio, and Streamable HTTP at ``/mcp`` with ``/healthz``.

HTTP binds 127.0.0.1 by default with the SDK's Host/Origin (DNS-rebinding) checks on.
A non-loopback bind is refused unless an auth token is set; then every request to
``/mcp`` needs ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import contextlib
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from . import __version__
from .runtime import Runtime
from .server import Surface, build_deferred_server, build_server


class UnsafeBind(ValueError):
    """Serving on a non-loopback address without an auth token."""


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


LOOPBACK_SECURITY = _loopback_security()


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
    if not s.is_loopback and not s.auth_token:
        raise UnsafeBind(
            f"refusing to serve on {s.host} without an auth token: set --auth-token or LINQ_MCP_AUTH_TOKEN "
            "(or bind 127.0.0.1)"
        )
    server = build_server(runtime)
    security = None
    if s.allowed_hosts or s.allowed_origins:
        from mcp.server.transport_security import TransportSecuritySettings

        security = TransportSecuritySettings(
            enable_dns_rebinding_protection=True,
            allowed_hosts=list(s.allowed_hosts) or ["127.0.0.1:*", "localhost:*", "[::1]:*"],
            allowed_origins=list(s.allowed_origins),
        )
    mcp_app = server.streamable_http_app(
        streamable_http_path="/mcp",
        stateless_http=s.stateless,
        json_response=s.stateless,
        transport_security=security,
        host=s.host if s.is_loopback else "0.0.0.0",
    )

    async def healthz(request: Request) -> Response:
        body = {"status": "ok", "version": __version__, "mode": runtime.mode, "tools": len(runtime.exposed)}
        return Response(json.dumps(body), media_type="application/json")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with server.session_manager.run():
            for hook in on_startup or []:
                hook()
            yield

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"]), *runtime.http_routes, *(extra_routes or [])]
    routes.append(Mount("/", app=mcp_app))
    app: ASGIApp = Starlette(routes=routes, lifespan=lifespan)
    app = HostGuard(app, security or (LOOPBACK_SECURITY if s.is_loopback else None))
    if s.auth_token:
        app = BearerAuth(app, s.auth_token)
    return app


async def serve_http(runtime: Runtime, *, extra_routes: list[BaseRoute] | None = None) -> None:
    import uvicorn

    s = runtime.settings
    app = create_http_app(runtime, extra_routes=extra_routes)
    config = uvicorn.Config(app, host=s.host, port=s.port, log_level=s.log_level.lower(), lifespan="on")
    server = uvicorn.Server(config)
    await server.serve()
