"""The composition root: build the runtime, wire the optional layers, serve.

Every layer (events, safety) plugs into the runtime here and nowhere else, so the
call path stays one-way and each module stays ignorant of the others.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from .runtime import Runtime, open_runtime
from .settings import Settings


@contextlib.asynccontextmanager
async def assembled(settings: Settings) -> AsyncIterator[Runtime]:
    """The runtime with every layer wired, ready to serve."""
    async with open_runtime(settings) as runtime:
        runtime.compute_exposed()
        yield runtime


async def run_server(settings: Settings) -> None:
    from .transports import serve_http, serve_stdio

    async with assembled(settings) as runtime:
        if settings.transport == "http":
            await serve_http(runtime)
        else:
            await serve_stdio(runtime)
