"""The safety layer in the call path: between validation and the request.

``SafetyGuard.before`` asks the policy (``linq_mcp.policy``) about one call. For tools
that act in an existing chat it first reads the chat's participants from the API (a
read, never a send). The answer is either a result to return at once (refused,
confirmation needed, dry-run preview, declined) or a :class:`Clearance` the runner
settles after the request: recorded on success, released on failure.

Confirmation is asked of the person directly where the connection allows it (form
elicitation on a 2025-11-25 connection with a back-channel); everywhere else the
assistant gets a preview and a single-use ``confirm_token`` bound to those arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog
from .client import ApiRequest, LinqClient
from .errors import LinqMCPError, tool_error
from .fence import fence_record, fence_result
from .policy import Allowed, ConfirmationRequired, Policy, Refused, call_reach, preview
from .runner import ToolResult, _nested_key

log = logging.getLogger("linq_mcp.guard")

CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean", "title": "Send it", "description": "Allow this exact message"}},
    "required": ["confirm"],
}


@dataclass
class Clearance:
    """Permission for one call; settle it once the outcome is known."""

    policy: Policy | None = None
    decision: Allowed | None = None
    handles: dict[str, Any] | None = None  # the handle arguments in the canonical form the policy checked

    def request_arguments(self, args: dict[str, Any]) -> dict[str, Any]:
        """What the request carries: ``args`` with each handle spelled as the policy checked it."""
        return {**args, **self.handles} if self.handles else args

    async def succeeded(self) -> None:
        if self.policy is not None and self.decision is not None and self.decision.record:
            await self.policy.record_send(
                self.decision.tool,
                self.decision.reached,
                reservation=self.decision.reservation,
                send_key=self.decision.send_key,
            )

    async def failed(self) -> None:
        if self.policy is not None and self.decision is not None and self.decision.record:
            await self.policy.release(self.decision)


NO_CHECK = Clearance()


class SafetyGuard:
    def __init__(self, policy: Policy, catalog: Catalog, client: LinqClient) -> None:
        self.policy = policy
        self.catalog = catalog
        self.client = client

    async def before(self, tool: str, effect: str, args: dict[str, Any], context: Any) -> ToolResult | Clearance:
        reach = call_reach(tool, effect, args)
        if not reach.gated:
            return NO_CHECK
        try:
            participants = await self._participants(reach.chat_id, reach.message_id)
        except LinqMCPError as exc:
            return ToolResult(tool_error(exc), is_error=True)
        can_ask = _can_elicit(context)
        key = self._deduplicated_key(tool, args)
        decision = await self.policy.check(
            tool, effect, args, chat_participants=participants, confirm_supported=can_ask, idempotency_key=key
        )
        if isinstance(decision, ConfirmationRequired) and decision.via == "elicitation":
            decision = await self._ask(tool, effect, args, participants, decision, context)
            if isinstance(decision, ToolResult):
                return decision
        if isinstance(decision, Refused):
            return ToolResult(_with_fix(decision.as_result()), is_error=True)
        if isinstance(decision, ConfirmationRequired):
            return ToolResult(decision.as_result(), is_error=True)
        if decision.dry_run:
            body: dict[str, Any] = {"dry_run": True, "sent": False, "would_send": preview(tool, args, decision.reached)}
            if decision.confirm_token:
                body["confirmation_required"] = True
                body["confirm_token"] = decision.confirm_token
            return ToolResult(body)
        return Clearance(self.policy, decision, self.policy.canonical_handles(tool, args))

    async def _ask(
        self,
        tool: str,
        effect: str,
        args: dict[str, Any],
        participants: list[Any] | None,
        decision: ConfirmationRequired,
        context: Any,
    ) -> Any:
        """Ask the person; on accept re-check with the token, otherwise stop or fall back."""
        try:
            answer = await context.session.elicit_form(
                decision.prompt, CONFIRM_SCHEMA, related_request_id=getattr(context, "request_id", None)
            )
        except Exception as exc:  # no back-channel after all: fall back to the token flow
            log.info("elicitation unavailable (%s); using a confirm_token", type(exc).__name__)
            return await self.policy.check(
                tool,
                effect,
                args,
                chat_participants=participants,
                confirm_supported=False,
                idempotency_key=self._deduplicated_key(tool, args),
            )
        accepted = answer.action == "accept" and bool((answer.content or {}).get("confirm"))
        if not accepted:
            return ToolResult(
                {
                    "error": "declined",
                    "message": "The person did not confirm this send, so nothing was sent. Do not retry "
                    "unless they ask you to.",
                    "retryable": False,
                },
                is_error=True,
            )
        return await self.policy.check(
            tool,
            effect,
            {**args, "confirm_token": decision.token},
            chat_participants=participants,
            confirm_supported=False,
            idempotency_key=self._deduplicated_key(tool, args),
        )

    def _deduplicated_key(self, tool: str, args: Mapping[str, Any]) -> str | None:
        """The caller's idempotency key, when Linq de-duplicates it: a retry with it is the same send."""
        op = self.catalog[tool]
        if op.idempotency == "none":
            return None
        key = args.get("idempotency_key") or _nested_key(op, args)
        return key if isinstance(key, str) and key else None

    async def _participants(self, chat_id: str | None, message_id: str | None) -> list[Any] | None:
        if chat_id is None and message_id is not None:
            message = await self._get("get_message", {"message_id": message_id})
            chat_id = message.get("chat_id") if isinstance(message, Mapping) else None
        if chat_id is None:
            return None
        chat = await self._get("get_chat", {"chat_id": chat_id})
        handles = chat.get("handles") if isinstance(chat, Mapping) else None
        return list(handles or [])

    async def _get(self, tool: str, args: dict[str, Any]) -> Any:
        call = self.catalog[tool].build_call(args)
        response = await self.client.send(
            ApiRequest(method=call.method, path=call.path, query=call.query, json=None, headers={}, replay_safe=True)
        )
        return response.body

    # inbound content ----------------------------------------------------------------
    async def filter_result(self, tool: str, result: dict[str, Any]) -> dict[str, Any]:
        """Fence every record in a result that someone else wrote; withhold strangers' under lockdown."""
        fenced = fence_result(result, self.policy)
        return dict(fenced) if isinstance(fenced, Mapping) else result


def sender_of(message: Mapping[str, Any]) -> str:
    handle = message.get("from_handle") or message.get("sender_handle")
    if isinstance(handle, Mapping) and handle.get("handle"):
        return str(handle["handle"])
    return str(message.get("from") or "unknown sender")


def fence_message(message: Mapping[str, Any], policy: Policy | None) -> dict[str, Any]:
    """An inbound message with everything its sender wrote moved into ``untrusted_content``."""
    return fence_record(message, ours=False, sender=sender_of(message), policy=policy)


def _can_elicit(context: Any) -> bool:
    session = getattr(context, "session", None)
    if session is None:
        return False
    try:
        caps = session.client_capabilities
        if caps is None or getattr(caps, "elicitation", None) is None:
            return False
        return bool(getattr(session, "can_send_request", False))
    except Exception:
        return False


def _with_fix(payload: dict[str, Any]) -> dict[str, Any]:
    payload.setdefault("fix", "This was refused by the operator's safety settings; only the user can change them.")
    payload.setdefault("retryable", False)
    return payload
