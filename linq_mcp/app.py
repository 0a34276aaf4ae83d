"""The composition root: build the runtime, wire the optional layers, serve.

Every layer (safety, events) plugs into the runtime here and nowhere else, so the
call path stays one-way and each module stays ignorant of the others.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from .paths import default_db_path
from .policy import Policy, SafetyConfig
from .prompts import handler_factories as prompt_handlers
from .runtime import Runtime, open_runtime
from .settings import Settings


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


@contextlib.asynccontextmanager
async def assembled(settings: Settings, *, sandbox: object | None = None) -> AsyncIterator[Runtime]:
    """The runtime with every layer wired, ready to serve."""
    from .events import wire as wire_events
    from .guard import SafetyGuard

    safety = safety_config(settings)
    if safety.allow_payment_credentials and not settings.allow_payment_credentials:
        from dataclasses import replace

        settings = replace(settings, allow_payment_credentials=True)
    async with open_runtime(settings, sandbox=sandbox) as runtime:  # type: ignore[arg-type]
        db_path = database_path(settings)
        policy = Policy(safety, db_path)
        try:
            runtime.runner.guard = SafetyGuard(policy, runtime.catalog, runtime.client)
            runtime.policy_description = policy.describe()
            runtime.handler_factories.update(prompt_handlers())
            async with wire_events(runtime, db_path):
                runtime.compute_exposed()
                yield runtime
        finally:
            policy.close()


async def run_server(settings: Settings) -> None:
    from .transports import serve_http, serve_stdio

    async with assembled(settings) as runtime:
        if settings.transport == "http":
            await serve_http(runtime)
        else:
            await serve_stdio(runtime)
