"""In-process transport: an ``httpx`` client talks to the sandbox with no port.

Given the sandbox (or its ``app``), requests go straight to ``Sandbox.dispatch`` — the
same core the ASGI app serves over a socket — without emulating ASGI in between. Any
other ASGI app goes through ``httpx.ASGITransport``. Either way an injected dropped
connection surfaces as the ``httpx`` error a real network would give
(``RemoteProtocolError``), not as an application exception.
"""

from __future__ import annotations

from typing import Any

import httpx

from .app import Sandbox
from .faults import DroppedConnection


def _sandbox_of(target: Any) -> Sandbox | None:
    if isinstance(target, Sandbox):
        return target
    owner = getattr(target, "__self__", None)  # ``sandbox.app``, a bound method
    if isinstance(owner, Sandbox) and getattr(target, "__func__", None) is Sandbox.app:
        return owner
    return None


class SandboxTransport(httpx.AsyncBaseTransport):
    def __init__(self, target: Any) -> None:
        self._sandbox = _sandbox_of(target)
        self._inner = None if self._sandbox is not None else httpx.ASGITransport(app=target)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            if self._inner is not None:
                return await self._inner.handle_async_request(request)
            assert self._sandbox is not None
            url = request.url
            status, headers, body = await self._sandbox.dispatch(
                request.method,
                url.path,
                url.query.decode("ascii"),
                request.headers,
                await request.aread(),
            )
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request) from exc
        headers = {**headers, "Date": self._sandbox.http_date()}
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def aclose(self) -> None:
        if self._inner is not None:
            await self._inner.aclose()
