"""In-process transport: an ``httpx`` client talks to the sandbox with no port.

Wraps ``httpx.ASGITransport`` so that an injected dropped connection surfaces as
the same ``httpx`` error a real network would give (``RemoteProtocolError``),
instead of an application exception.
"""

from __future__ import annotations

import httpx

from .faults import DroppedConnection


class SandboxTransport(httpx.AsyncBaseTransport):
    def __init__(self, app: object) -> None:
        self._inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await self._inner.handle_async_request(request)
        except DroppedConnection as exc:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from exc

    async def aclose(self) -> None:
        await self._inner.aclose()
