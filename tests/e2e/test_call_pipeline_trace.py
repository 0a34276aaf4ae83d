"""One send_message call, traced through the call pipeline: every stage once, in order.

The stages are the real functions (validation, the ledger, the safety gate and its
read of the chat, the request build, the client's send, the result, the settlement),
each wrapped to record that it ran; the call goes through the official MCP client to
an in-process server in front of the sandbox. A stage skipped, repeated or moved fails.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import pytest
from e2e_helpers import AVA, LINE, connected, data

from linq_mcp.api.client import LinqClient, path_for_log
from linq_mcp.api.request import ApiRequest
from linq_mcp.sandbox.app import Sandbox
from linq_mcp.tools import pipeline, results
from linq_mcp.tools.guard import SafetyGuard

TEXT = {"parts": [{"type": "text", "value": "See you at 7"}]}

SEND_MESSAGE_STAGES = [
    "validate",
    "ledger",
    "gate",
    "read get_chat",
    "send GET /v3/chats/{}",
    "build_request",
    "send POST /v3/chats/{}/messages",
    "result",
    "settle",
]


class Trace:
    def __init__(self) -> None:
        self.on = False
        self.stages: list[str] = []

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` recording ``name`` (or ``name(*args)``) each time it is called while tracing."""

        def note(*args: Any) -> None:
            if self.on:
                self.stages.append(name(*args) if callable(name) else name)

        if _is_async(fn):

            @wraps(fn)
            async def traced_async(*args: Any, **kwargs: Any) -> Any:
                note(*args)
                return await fn(*args, **kwargs)

            return traced_async

        @wraps(fn)
        def traced(*args: Any, **kwargs: Any) -> Any:
            note(*args)
            return fn(*args, **kwargs)

        return traced


def _is_async(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)


def _send_label(client: LinqClient, request: ApiRequest) -> str:
    return f"send {request.method} {path_for_log(request.path)}"


@pytest.fixture
def trace(monkeypatch: pytest.MonkeyPatch) -> Trace:
    t = Trace()
    monkeypatch.setattr(pipeline, "validate", t.wrap("validate", pipeline.validate))
    monkeypatch.setattr(pipeline.Pipeline, "_replayed", t.wrap("ledger", pipeline.Pipeline._replayed))
    monkeypatch.setattr(SafetyGuard, "decide", t.wrap("gate", SafetyGuard.decide))
    monkeypatch.setattr(pipeline.Pipeline, "read", t.wrap(lambda _, tool, *a: f"read {tool}", pipeline.Pipeline.read))
    monkeypatch.setattr(pipeline, "build_request", t.wrap("build_request", pipeline.build_request))
    monkeypatch.setattr(LinqClient, "send", t.wrap(_send_label, LinqClient.send))
    monkeypatch.setattr(pipeline, "success_result", t.wrap("result", results.success_result))
    monkeypatch.setattr(pipeline, "error_result", t.wrap("error", results.error_result))
    monkeypatch.setattr(pipeline, "_settle", t.wrap("settle", pipeline._settle))
    return t


async def test_send_message_passes_every_stage_once_in_order(sandbox: Sandbox, trace: Trace) -> None:
    async with connected(sandbox) as (client, _):
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": TEXT}))
        trace.on = True
        sent = data(await client.call_tool("send_message", {"chat_id": created["chat"]["id"], "message": TEXT}))
        trace.on = False
    assert sent["idempotency_key"].startswith("lmcp_")
    assert trace.stages == SEND_MESSAGE_STAGES


async def test_a_dry_run_stops_at_the_gate(sandbox: Sandbox, trace: Trace) -> None:
    async with connected(sandbox) as (client, _):
        created = data(await client.call_tool("create_chat", {"from": LINE, "to": [AVA], "message": TEXT}))
        trace.on = True
        args = {"chat_id": created["chat"]["id"], "message": TEXT, "dry_run": True}
        preview = data(await client.call_tool("send_message", args))
        trace.on = False
    assert preview["sent"] is False
    assert trace.stages == ["validate", "gate", "read get_chat", "send GET /v3/chats/{}"]


async def test_invalid_arguments_stop_at_validation(sandbox: Sandbox, trace: Trace) -> None:
    async with connected(sandbox) as (client, _):
        trace.on = True
        result = await client.call_tool("send_message", {"chat_id": "c1", "message": {"parts": []}})
        trace.on = False
    assert result.is_error
    assert trace.stages == ["validate", "error"]
