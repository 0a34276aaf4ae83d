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
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from linq_mcp.api.errors import OutcomeUnknownError, ValidationFailed, render_tool_error, tool_error
from linq_mcp.api.wire import wire_problems
from linq_mcp.store.base import Ledger, LedgerEntry, is_store_failure
from linq_mcp.tools.catalog import Catalog, Operation
from linq_mcp.tools.dialect import NO_ARGUMENTS
from linq_mcp.tools.ledger import KeyReused, SendLedger, fingerprint
from linq_mcp.tools.validation import ArgumentValidator, maps_from_pairs, without_nulls

if TYPE_CHECKING:
    from linq_mcp.api.client import LinqClient

log = logging.getLogger("linq_mcp.tools.runner")

# Arguments for linq-mcp itself, never sent to Linq.
CONTROL_ARGS = ("idempotency_key", "dry_run", "confirm_token")


@dataclass
class ToolResult:
    structured: dict[str, Any]
    is_error: bool = False
    note: str = ""  # a hand-written text block, instead of the rendering of ``structured``

    @property
    def text(self) -> str:
        if self.note:
            return self.note
        if self.is_error:
            return render_tool_error(self.structured)
        return json.dumps(self.structured, ensure_ascii=False, separators=(",", ":"))


class Settlement(Protocol):
    async def succeeded(self) -> None: ...
    async def failed(self) -> None: ...
    def request_arguments(self, args: dict[str, Any]) -> dict[str, Any]: ...


Observer = Callable[[str, dict[str, Any], dict[str, Any]], Awaitable[None]]


class Guard(Protocol):
    """The safety layer (``guard.SafetyGuard``): may stop a call, and sees every result."""

    async def before(self, tool: str, effect: str, args: dict[str, Any], context: Any) -> ToolResult | Settlement: ...

    async def filter_result(self, tool: str, result: dict[str, Any]) -> dict[str, Any]: ...


async def _settle(settlement: Settlement | None, *, sent: bool) -> None:
    """Tell the safety layer how the call ended; its bookkeeping never turns a send into an error.

    Shielded: it also runs while the call is being cancelled, when an unshielded await
    would raise again and leave the send neither recorded nor released.
    """
    if settlement is None:
        return
    with anyio.CancelScope(shield=True):
        try:
            await (settlement.succeeded() if sent else settlement.failed())
        except Exception as exc:
            log.warning("safety bookkeeping failed: %s", type(exc).__name__)


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
    ledger: Ledger = field(default_factory=SendLedger)  # the store's shared ledger when served
    guard: Guard | None = None
    # Told about every successful API call (tool, arguments, result); e.g. the events layer
    # clears a chat's inbox when mark_chat_read succeeds. Their failures are only logged.
    observers: list[Observer] = field(default_factory=list)
    _validators: dict[str, ArgumentValidator] = field(default_factory=dict)

    def validator(self, op: Operation) -> ArgumentValidator:
        v = self._validators.get(op.tool)
        if v is None:
            v = self._validators[op.tool] = ArgumentValidator(op.validation_schema or op.input_schema)
        return v

    async def call(self, tool: str, arguments: Mapping[str, Any] | None, *, context: Any = None) -> ToolResult:
        op = self.catalog.by_tool[tool]
        schema = op.validation_schema or op.input_schema
        args = maps_from_pairs(without_nulls(arguments or {}, schema), schema)  # null means absent
        if NO_ARGUMENTS not in {p.name for p in op.params}:
            args.pop(NO_ARGUMENTS, None)  # the placeholder a no-argument tool lists for strict converters
        for control in ("idempotency_key", "confirm_token"):
            if args.get(control) == "":  # strict mode cannot omit a string: "" is its "none"
                del args[control]
        key: str | None = None
        try:
            # Header and URL-path values too: a bad one fails here, before the ledger or the policy.
            problems = self.validator(op).problems(args) or wire_problems(op, args)
            if problems:
                raise ValidationFailed(problems)
            if op.sends:
                key = args.get("idempotency_key") or _nested_key(op, args) or new_idempotency_key()
            if key is not None and not args.get("dry_run"):
                replay = await self._check_ledger(op, key, args)
                if replay is not None:
                    return replay
            settlement: Settlement | None = None
            if self.guard is not None:
                # The key this call will carry, generated or not: a retry with it is the same send.
                seen = args if key is None or args.get("idempotency_key") == key else {**args, "idempotency_key": key}
                verdict = await self.guard.before(op.tool, op.effect, seen, context)
                if isinstance(verdict, ToolResult):
                    if key is not None:
                        verdict.structured.setdefault("idempotency_key", key)
                    return verdict
                settlement = verdict
            try:
                sent_args = settlement.request_arguments(args) if settlement is not None else args
                result = await self._send(op, args, key, sent_args)
            except OutcomeUnknownError:
                await _settle(settlement, sent=True)  # it may have gone out: count it
                raise
            except anyio.get_cancelled_exc_class():
                await _settle(settlement, sent=True)  # cancelled mid-flight: it may have gone out too
                raise
            except BaseException:
                await _settle(settlement, sent=False)
                raise
            await _settle(settlement, sent=True)
            return result
        except Exception as exc:  # the one place nothing may escape
            if not isinstance(exc, ValidationFailed | KeyReused):
                log.warning("tool %s failed: %s", tool, type(exc).__name__)
            if is_store_failure(exc):  # only the checks before sending let one through (see _send)
                return self._store_unavailable(op, key)
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

    async def _check_ledger(self, op: Operation, key: str, args: dict[str, Any]) -> ToolResult | None:
        entry = await self.ledger.lookup(key, fingerprint(op.tool, args))  # raises KeyReused
        return None if entry is None else self._replay(op, key, entry)

    @staticmethod
    def _replay(op: Operation, key: str, entry: LedgerEntry) -> ToolResult | None:
        """What an earlier call with this key means for this one: its result, a refusal, or go ahead."""
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

    async def _send(
        self, op: Operation, args: dict[str, Any], key: str | None, sent_args: dict[str, Any] | None = None
    ) -> ToolResult:
        """``args`` identify the call (ledger); ``sent_args`` (default ``args``) build the request."""
        from linq_mcp.api.client import ApiRequest

        api_args = {k: v for k, v in (sent_args or args).items() if k not in CONTROL_ARGS}
        call = op.build_call(api_args, key)
        fp = fingerprint(op.tool, args) if key is not None else ""
        if key is not None:
            # Claimed atomically: a twin call (here or on another replica) since the check is seen now.
            earlier = await self.ledger.begin(key, fp)
            replay = self._replay(op, key, earlier) if earlier is not None else None
            if replay is not None:
                return replay
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
                try:  # the outcome is what the caller must hear, even if the store is down too
                    await self.ledger.record(key, fp, "unknown")
                except Exception as exc:
                    log.warning("send ledger: recording %s failed: %s", op.tool, type(exc).__name__)
            raise
        except anyio.get_cancelled_exc_class():
            if key is not None:
                with anyio.CancelScope(shield=True):  # cancelled in flight: Linq may have it
                    await self.ledger.record(key, fp, "unknown")
            raise
        except Exception:
            if key is not None:
                await self.ledger.forget(key)  # a definite failure: nothing was sent
            raise
        body = response.body
        structured: dict[str, Any] = dict(body) if isinstance(body, dict) else {"status": "ok"}
        if isinstance(body, list):
            structured = {"items": body}
        if self.guard is not None:
            structured = await self.guard.filter_result(op.tool, structured)
        if key is not None:
            structured["idempotency_key"] = key
            try:  # it went out: a ledger that cannot write now must not turn the send into an error
                await self.ledger.record(key, fp, "done", structured)
            except Exception as exc:
                log.warning("send ledger: recording %s failed: %s", op.tool, type(exc).__name__)
        for observer in self.observers:
            try:
                await observer(op.tool, api_args, structured)
            except Exception as exc:
                log.warning("observer of %s failed: %s", op.tool, type(exc).__name__)
        return ToolResult(structured)

    @staticmethod
    def _store_unavailable(op: Operation, key: str | None) -> ToolResult:
        """The store failed before anything went to Linq: the deployment's problem, and worth a retry."""
        payload: dict[str, Any] = {
            "error": "store_unavailable",
            "message": f"linq-mcp cannot reach its store right now, so {op.tool} was stopped before anything "
            "was sent to Linq.",
            "fix": "Try again in a few seconds (with the same idempotency_key, if there is one); if it keeps "
            "failing, tell the user the server's database needs attention.",
            "retryable": True,
        }
        if key is not None:
            payload["idempotency_key"] = key
        return ToolResult(payload, is_error=True)

    def _error(self, op: Operation, exc: BaseException, key: str | None) -> ToolResult:
        linq_keyed = op.idempotency != "none"
        payload = tool_error(exc, idempotency_key=key if linq_keyed else None)
        if key is not None:
            payload["idempotency_key"] = key
        return ToolResult(payload, is_error=True)
