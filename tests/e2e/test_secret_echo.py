"""Whatever Linq echoes, no tool result, resource or log line carries a secret.

The sandbox is made to echo the API key and a webhook signing secret where a real (or
compromised, or merely verbose) server could: an error's ``doc_url``, a 2xx body, a
header, and a message someone texts in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import mcp.types as types
from e2e_helpers import AVA, LINE, PERMISSIVE, connected
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from linq_mcp.config.settings import Settings
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.sandbox.transport import SandboxTransport

ECHO_CHAT = "3f6c2a6e-1f0b-4c8e-9a51-2d2c1c7e9b10"
WEBHOOK_SECRET = "whsec_canary_7f3a9c2e5b1d4f60"


def echoing(sandbox: Sandbox, reply: Any) -> None:
    """Answer ``GET /v3/chats/ECHO_CHAT`` with ``reply(api_key)`` (a Response); the rest as usual."""
    inner = sandbox.app

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(f"/v3/chats/{ECHO_CHAT}"):
            await reply(sandbox.api_key)(scope, receive, send)
            return
        await inner(scope, receive, send)

    sandbox.app = app  # type: ignore[method-assign]


def envelope(status: int, **error: Any) -> dict[str, Any]:
    return {"success": False, "error": {"status": status, "code": 2001, "message": "Chat not found", **error}}


def everything(result: types.CallToolResult) -> str:
    """All a client gets from a call: text blocks and structured content."""
    texts = [c.text for c in result.content if isinstance(c, types.TextContent)]
    return "\n".join(texts) + json.dumps(result.structured_content)


def settings() -> Settings:
    return Settings(sandbox=True, safety=PERMISSIVE, webhook_secrets=(WEBHOOK_SECRET,))


async def test_an_api_key_echoed_in_an_errors_doc_url_is_redacted(sandbox: Sandbox) -> None:
    echoing(
        sandbox,
        lambda key: Response(
            json.dumps(envelope(404, doc_url=f"https://docs.linqapp.com/errors/2001?api_key={key}")),
            status_code=404,
            media_type="application/json",
        ),
    )
    async with connected(sandbox, settings()) as (client, _):
        result = await client.call_tool("get_chat", {"chat_id": ECHO_CHAT})
    assert result.is_error
    seen = everything(result)
    assert sandbox.api_key not in seen
    assert "[redacted]" in seen and "docs.linqapp.com/errors/2001" in seen


async def test_an_api_key_echoed_in_a_2xx_body_is_redacted(sandbox: Sandbox) -> None:
    echoing(
        sandbox,
        lambda key: Response(
            json.dumps(
                {
                    "id": ECHO_CHAT,
                    "display_name": f"debug: authorized as {key}",
                    "handles": [],
                    "health_status": {},
                    "is_archived": False,
                    "is_group": False,
                    "created_at": "2026-11-23T12:00:00Z",
                    "updated_at": "2026-11-23T12:00:00Z",
                }
            ),
            media_type="application/json",
        ),
    )
    async with connected(sandbox, settings()) as (client, _):
        result = await client.call_tool("get_chat", {"chat_id": ECHO_CHAT})
    assert not result.is_error
    seen = everything(result)
    assert sandbox.api_key not in seen
    assert (result.structured_content or {})["display_name"] == "debug: authorized as [redacted]"


async def test_a_webhook_secret_echoed_in_a_header_or_body_is_redacted(sandbox: Sandbox) -> None:
    echoing(
        sandbox,
        lambda key: Response(
            json.dumps(envelope(404, message=f"bad signature, expected {WEBHOOK_SECRET}")),
            status_code=404,
            media_type="application/json",
            headers={"X-Trace-ID": WEBHOOK_SECRET},
        ),
    )
    async with connected(sandbox, settings()) as (client, _):
        result = await client.call_tool("get_chat", {"chat_id": ECHO_CHAT})
    seen = everything(result)
    assert result.is_error and "expected [redacted]" in seen
    assert WEBHOOK_SECRET not in seen


async def test_a_key_texted_in_by_someone_never_reaches_a_resource(sandbox: Sandbox, tmp_path: Path) -> None:
    async with connected(sandbox, Settings(**{**settings().__dict__, "db_path": str(tmp_path / "db")})) as (client, _):
        async with httpx.AsyncClient(
            transport=SandboxTransport(sandbox.app),
            base_url="http://sandbox.local",
            headers={"Authorization": f"Bearer {sandbox.api_key}"},
        ) as admin:
            sent = await admin.post(
                "/_sandbox/inbound", json={"from": AVA, "to": LINE, "text": f"your key is {sandbox.api_key}"}
            )
            sent.raise_for_status()
        event = await client.call_tool("wait_for_event", {"since": "0", "types": ["message.received"], "timeout": 5})
        inbox = await client.read_resource("linq://inbox")
    assert not event.is_error, everything(event)
    assert sandbox.api_key not in everything(event)
    body = "".join(c.text for c in inbox.contents if isinstance(c, types.TextResourceContents))
    assert "your key is [redacted]" in body
    assert sandbox.api_key not in body


def test_a_secret_in_a_debug_log_line_is_redacted() -> None:
    """Logging goes through the CLI's formatter: a key that reaches a log line (traceback included) is cut."""
    key = "sk_live_canary_4b9e1f7a2c3d"
    program = f"""
import logging
from linq_mcp.cli.main import configure_logging
from linq_mcp.api.client import make_http_client
configure_logging("debug")
make_http_client("https://api.example.com", {key!r})
log = logging.getLogger("linq_mcp.poller")
log.debug("Linq said: Bearer-less echo %s", {key!r})
try:
    raise ValueError("unexpected body: " + {key!r})
except ValueError:
    log.exception("polling round crashed")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINQ_")}
    proc = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Linq said" in proc.stderr and "unexpected body" in proc.stderr
    assert key not in proc.stderr
    assert proc.stderr.count("[redacted]") == 2
