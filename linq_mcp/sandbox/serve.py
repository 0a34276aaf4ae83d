"""Run the sandbox on a real socket: ``linq-mcp sandbox`` / ``python -m linq_mcp.sandbox``.

Imports stay lean (no SDK, no MCP) so the server is listening well under a second.
The base URL and the test API key go to stderr, so stdout stays free for a caller.
"""

from __future__ import annotations

import dataclasses
import sys

from .config import SandboxConfig


def load_config(config_path: str | None = None, seed: int | None = None) -> SandboxConfig:
    config = SandboxConfig.from_toml(config_path) if config_path else SandboxConfig()
    if seed is not None:
        config = dataclasses.replace(config, seed=seed)
    return config


def run(host: str = "127.0.0.1", port: int = 8900, config_path: str | None = None, seed: int | None = None) -> None:
    """Serve the sandbox with uvicorn until interrupted; the lifespan runs the world's timers."""
    import uvicorn

    from .app import create_sandbox

    config = load_config(config_path, seed)
    shown_host = f"[{host}]" if ":" in host else host
    if config.public_base_url == SandboxConfig().public_base_url:
        config = dataclasses.replace(config, public_base_url=f"http://{shown_host}:{port}")
    sandbox = create_sandbox(config)
    print(f"Linq sandbox listening on http://{shown_host}:{port}/api/partner", file=sys.stderr)
    print(f"API key: {sandbox.api_key}", file=sys.stderr)
    print(f"Admin API: http://{shown_host}:{port}/_sandbox (same key)", file=sys.stderr, flush=True)
    uvicorn.run(
        sandbox.served_app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        interface="asgi3",
        date_header=False,  # the app sends Date from the world's clock
    )
