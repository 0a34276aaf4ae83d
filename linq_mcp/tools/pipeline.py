"""The one call path for API tools, as a pipeline of decisions.

    validate → (replay) → gate → build the request → send → result

1. :func:`validate` checks the arguments and decides the idempotency key, once, into a :class:`Call`;
2. the send ledger answers a repeated keyed call without sending again;
3. the gate (the safety layer) returns :class:`Proceed` or :class:`Stop`; it may read
   (``get_chat``) through the pipeline's ``read``, never holding a client itself;
4. :func:`build_request` makes the one :class:`ApiRequest`, the key placed where Linq reads it;
5. the client sends it; the gate's settlement records or releases the send;
6. ``results`` turns the answer, or any exception, into the :class:`ToolResult`.

``Pipeline.call`` never raises: every failure becomes a result an assistant can act on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio

from linq_mcp.api.client import LinqClient
from linq_mcp.api.errors import EarlierOutcomeUnknown, OutcomeUnknownError, StoreUnreachable, ValidationFailed
from linq_mcp.api.request import ApiRequest
from linq_mcp.api.wire import wire_problems
from linq_mcp.store.base import Ledger, LedgerEntry, is_store_failure
from linq_mcp.tools.call import Call, Gate, Observer, Proceed, Settlement, Stop
from linq_mcp.tools.dialect import NO_ARGUMENTS
from linq_mcp.tools.ledger import KeyReused, SendLedger, fingerprint
from linq_mcp.tools.registry import Registry
from linq_mcp.tools.results import ToolResult, error_result, stopped_result, structured_of, success_result
from linq_mcp.tools.tooldef import ToolDef
from linq_mcp.tools.validation import ArgumentValidator, maps_from_pairs, without_nulls

__all__ = ["CONTROL_ARGS", "Pipeline", "build_request", "new_idempotency_key", "validate"]

log = logging.getLogger("linq_mcp.tools.pipeline")

# Arguments for linq-mcp itself, never sent to Linq.
CONTROL_ARGS = ("idempotency_key", "dry_run", "confirm_token")


def new_idempotency_key() -> str:
    return "lmcp_" + uuid.uuid4().hex


def validate(tool: ToolDef, arguments: Mapping[str, Any] | None, validator: ArgumentValidator, context: Any) -> Call:
    """Stage 1: the arguments checked (raises ``ValidationFailed``) and the key decided."""
    op = tool.operation
    assert op is not None, f"{tool.name} is not an API tool"
    schema = tool.validation_schema
    args = maps_from_pairs(without_nulls(arguments or {}, schema), schema)  # null means absent
    if NO_ARGUMENTS not in {p.name for p in op.params}:
        args.pop(NO_ARGUMENTS, None)  # the placeholder a no-argument tool lists for strict converters
    for control in ("idempotency_key", "confirm_token"):
        if args.get(control) == "":  # strict mode cannot omit a string: "" is its "none"
            del args[control]
    # Header and URL-path values too: a bad one fails here, before the ledger or the policy.
    problems = validator.problems(args) or wire_problems(op, args)
    if problems:
        raise ValidationFailed(problems)
    key: str | None = None
    if tool.sends:
        key = args.get("idempotency_key") or op.caller_key(args) or new_idempotency_key()
    return Call(tool, args, key, context)


def build_request(call: Call, args: Mapping[str, Any]) -> ApiRequest:
    """Stage 4: the one request, from the arguments the gate let through and the call's key."""
    api_args = {k: v for k, v in args.items() if k not in CONTROL_ARGS}
    return call.operation.request(api_args, key=call.key, repeat_harmless=call.tool.repeat_harmless)


def _replay(call: Call, entry: LedgerEntry) -> ToolResult | None:
    """What an earlier call with this key means for this one: its result, a refusal, or go ahead."""
    if entry.state == "done" and entry.result is not None:
        return ToolResult({**entry.result, "replayed": True})
    if call.operation.deduplicated:
        return None  # Linq de-duplicates this key itself: sending again is safe
    raise EarlierOutcomeUnknown(call.tool.name, "still in progress" if entry.state == "pending" else "unknown")


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


@dataclass(frozen=True)
class Pipeline:
    """The call path of every API tool, with everything it needs given at construction."""

    registry: Registry
    client: LinqClient
    gate: Gate | None = None
    # e.g. the events layer clears a chat's inbox when mark_chat_read succeeds
    observers: tuple[Observer, ...] = ()
    ledger: Ledger = field(default_factory=SendLedger)  # the store's shared ledger when served
    _validators: dict[str, ArgumentValidator] = field(default_factory=dict, repr=False, compare=False)

    def validator(self, tool: ToolDef) -> ArgumentValidator:
        v = self._validators.get(tool.name)
        if v is None:
            v = self._validators[tool.name] = ArgumentValidator(tool.validation_schema)
        return v

    async def call(self, name: str, arguments: Mapping[str, Any] | None, *, context: Any = None) -> ToolResult:
        tool = self.registry[name]
        call: Call | None = None
        try:
            call = validate(tool, arguments, self.validator(tool), context)
            if call.key is not None and not call.args.get("dry_run"):
                replayed = await self._replayed(call)
                if replayed is not None:
                    return replayed
            verdict = await self.gate.decide(call, self.read) if self.gate is not None else Proceed(call.args)
            if isinstance(verdict, Stop):
                return stopped_result(verdict.result, key=call.key)
            request = build_request(call, verdict.args)
            return await self._send(call, request, verdict)
        except Exception as exc:  # the one place nothing may escape
            if not isinstance(exc, ValidationFailed | KeyReused):
                log.warning("tool %s failed: %s", name, type(exc).__name__)
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
            if is_store_failure(exc):  # only the checks before sending let one through (see _send)
                exc = StoreUnreachable(name, exc)
            if call is None:
                return error_result(exc)
            return error_result(exc, key=call.key, deduplicated=call.operation.deduplicated)

    async def read(self, tool: str, args: dict[str, Any]) -> Any:
        """A read for the gate (``get_chat``, ``get_message``): the answer's body."""
        op = self.registry[tool].operation
        assert op is not None and op.method == "GET", f"{tool} is not a read"
        return (await self.client.send(op.request(args))).body

    async def _inbound(self, call: Call, body: Any) -> dict[str, Any]:
        """The answer, with the gate's fence over what others wrote in it."""
        structured = structured_of(body)
        return structured if self.gate is None else await self.gate.inbound(call.tool, structured, self.read)

    # ---- the ledger ---------------------------------------------------------------------

    async def _replayed(self, call: Call) -> ToolResult | None:
        """A keyed call already made (here or by another process on the store): its recorded
        result, or why it is not sent again (``KeyReused`` when the key was used for a different call)."""
        assert call.key is not None
        entry = await self.ledger.lookup(call.key, fingerprint(call.tool.name, call.args))
        return None if entry is None else _replay(call, entry)

    # ---- send and settle ------------------------------------------------------------------

    async def _send(self, call: Call, request: ApiRequest, verdict: Proceed) -> ToolResult:
        key = call.key
        fp = fingerprint(call.tool.name, call.args) if key is not None else ""
        if key is not None:
            # Claimed atomically: a twin call (here or on another replica) since the check is seen now.
            try:
                earlier = await self.ledger.begin(key, fp)
                replay = _replay(call, earlier) if earlier is not None else None
            except BaseException:
                await _settle(verdict.settlement, sent=False)  # nothing was sent
                raise
            if replay is not None:
                await _settle(verdict.settlement, sent=False)
                return replay
        try:
            response = await self.client.send(request)
        except OutcomeUnknownError:
            if key is not None:
                try:  # the outcome is what the caller must hear, even if the store is down too
                    await self.ledger.record(key, fp, "unknown")
                except Exception as exc:
                    log.warning("send ledger: recording %s failed: %s", call.tool.name, type(exc).__name__)
            await _settle(verdict.settlement, sent=True)  # it may have gone out: count it
            raise
        except anyio.get_cancelled_exc_class():
            with anyio.CancelScope(shield=True):
                if key is not None:
                    await self.ledger.record(key, fp, "unknown")  # cancelled in flight: Linq may have it
                await _settle(verdict.settlement, sent=True)  # it may have gone out too
            raise
        except BaseException:
            if key is not None:
                await self.ledger.forget(key)  # a definite failure: nothing was sent
            await _settle(verdict.settlement, sent=False)
            raise
        try:
            result = success_result(await self._inbound(call, response.body), key=key)
            if key is not None:
                try:  # it went out: a ledger that cannot write now must not turn the send into an error
                    await self.ledger.record(key, fp, "done", result.structured)
                except Exception as exc:
                    log.warning("send ledger: recording %s failed: %s", call.tool.name, type(exc).__name__)
        finally:
            await _settle(verdict.settlement, sent=True)
        api_args = {k: v for k, v in verdict.args.items() if k not in CONTROL_ARGS}
        for observer in self.observers:
            try:
                await observer(call.tool.name, api_args, result.structured)
            except Exception as exc:
                log.warning("observer of %s failed: %s", call.tool.name, type(exc).__name__)
        return result
