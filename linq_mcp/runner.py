"""The one call path for API tools: validate → policy → request → translate.

``ToolRunner.call`` never raises: every failure becomes a :class:`ToolResult` with
``is_error`` set and a ``structured`` payload an assistant can act on (see
``errors.tool_error``). Nothing here knows about MCP wire types; ``server.py`` wraps
the result.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, Operation
from .client import ApiRequest, LinqClient
from .errors import OutcomeUnknownError, ValidationFailed, render_tool_error, tool_error
from .ledger import KeyReused, SendLedger, fingerprint
from .validation import ArgumentValidator

log = logging.getLogger("linq_mcp.runner")

CONTROL_ARGS = ("idempotency_key",)


@dataclass
class ToolResult:
    structured: dict[str, Any]
    is_error: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        if not self.text:
            self.text = (
                render_tool_error(self.structured)
                if self.is_error
                else json.dumps(self.structured, ensure_ascii=False, separators=(",", ":"))
            )


# A hook between validation and the request: returns a ToolResult to stop the call
# (refused, needs confirmation, dry run) or None to go ahead.
PolicyHook = Callable[[Operation, dict[str, Any]], Awaitable[ToolResult | None]]
AfterSendHook = Callable[[Operation, dict[str, Any], dict[str, Any]], Awaitable[None]]
ResultFilter = Callable[[Operation, dict[str, Any]], Awaitable[dict[str, Any]]]


def _nested_key(op: Operation, args: Mapping[str, Any]) -> str | None:
    """A key the caller put where Linq reads it (``message.idempotency_key``) counts as theirs."""
    if op.idempotency in ("message", "poll"):
        container = args.get(op.idempotency)
        if isinstance(container, dict) and isinstance(container.get("idempotency_key"), str):
            return str(container["idempotency_key"])
    return None


def new_idempotency_key() -> str:
    return "lmcp_" + uuid.uuid4().hex


@dataclass
class ToolRunner:
    catalog: Catalog
    client: LinqClient
    ledger: SendLedger = field(default_factory=SendLedger)
    policy: PolicyHook | None = None
    after_send: AfterSendHook | None = None
    result_filter: ResultFilter | None = None
    _validators: dict[str, ArgumentValidator] = field(default_factory=dict)

    def validator(self, op: Operation) -> ArgumentValidator:
        v = self._validators.get(op.tool)
        if v is None:
            v = self._validators[op.tool] = ArgumentValidator(op.validation_schema or op.input_schema)
        return v

    async def call(self, tool: str, arguments: Mapping[str, Any] | None) -> ToolResult:
        op = self.catalog.by_tool[tool]
        args = dict(arguments or {})
        key: str | None = None
        try:
            problems = self.validator(op).problems(args)
            if problems:
                raise ValidationFailed(problems)
            if op.sends:
                key = args.get("idempotency_key") or _nested_key(op, args) or new_idempotency_key()
            if self.policy is not None:
                stop = await self.policy(op, args)
                if stop is not None:
                    if key is not None and not stop.is_error:
                        stop.structured.setdefault("idempotency_key", key)
                    return stop
            if key is not None:
                replay = self._check_ledger(op, key, args)
                if replay is not None:
                    return replay
            return await self._send(op, args, key)
        except Exception as exc:  # the one place nothing may escape
            if not isinstance(exc, ValidationFailed | KeyReused):
                log.warning("tool %s failed: %s", tool, type(exc).__name__)
            if isinstance(exc, KeyReused):
                exc = ValidationFailed(
                    [
                        {
                            "path": "idempotency_key",
                            "problem": "this idempotency_key was already used for a different call",
                            "expected": "a new key for a new message; the same key only to retry the same call",
                        }
                    ]
                )
            return self._error(op, exc, key)

    def _check_ledger(self, op: Operation, key: str, args: dict[str, Any]) -> ToolResult | None:
        fp = fingerprint(op.tool, args)
        entry = self.ledger.lookup(key, fp)  # raises KeyReused
        if entry is None:
            return None
        if entry.state == "done" and entry.result is not None:
            return ToolResult({**entry.result, "replayed": True})
        if op.idempotency != "none":
            return None  # Linq de-duplicates this key itself: sending again is safe
        state = "still in progress" if entry.state == "pending" else "unknown"
        return ToolResult(
            {
                "error": "outcome_unknown",
                "message": f"An earlier call with this idempotency_key has an {state} outcome, and "
                f"{op.tool} has no idempotency at Linq, so linq-mcp will not risk sending it twice.",
                "fix": "Check whether it arrived (e.g. list_messages on the chat). To send it anyway, "
                "call again with a new idempotency_key.",
                "retryable": False,
                "idempotency_key": key,
            },
            is_error=True,
        )

    async def _send(self, op: Operation, args: dict[str, Any], key: str | None) -> ToolResult:
        api_args = {k: v for k, v in args.items() if k not in CONTROL_ARGS}
        call = op.build_call(api_args, key)
        fp = fingerprint(op.tool, args) if key is not None else ""
        if key is not None:
            self.ledger.record(key, fp, "pending")
        request = ApiRequest(
            method=call.method,
            path=call.path,
            query=call.query,
            json=call.json,
            headers=call.headers,
            replay_safe=call.replay_safe,
        )
        try:
            response = await self.client.send(request)
        except OutcomeUnknownError:
            if key is not None:
                self.ledger.record(key, fp, "unknown")
            raise
        except Exception:
            if key is not None:
                self.ledger.forget(key)  # a definite failure: nothing was sent
            raise
        body = response.body
        structured: dict[str, Any] = dict(body) if isinstance(body, dict) else {"status": "ok"}
        if isinstance(body, list):
            structured = {"items": body}
        if self.result_filter is not None:
            structured = await self.result_filter(op, structured)
        if key is not None:
            structured["idempotency_key"] = key
            self.ledger.record(key, fp, "done", structured)
        if self.after_send is not None and op.effect in ("send", "visible"):
            try:
                await self.after_send(op, args, structured)
            except Exception as exc:  # bookkeeping must never turn a sent message into an error
                log.warning("after-send hook failed: %s", type(exc).__name__)
        return ToolResult(structured)

    def _error(self, op: Operation, exc: BaseException, key: str | None) -> ToolResult:
        linq_keyed = op.idempotency != "none"
        payload = tool_error(exc, idempotency_key=key if linq_keyed else None)
        if key is not None:
            payload["idempotency_key"] = key
        return ToolResult(payload, is_error=True)
