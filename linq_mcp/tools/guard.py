"""The safety layer in the call path: between validation and the request.

``SafetyGuard.decide`` asks the policy (``linq_mcp.policy``) about one call. For tools
that act in an existing chat it first reads the chat's participants through the
pipeline's ``read`` (a read, never a send; the guard holds no client). The answer is a
:class:`Stop` with the result to return at once (refused, confirmation needed, dry-run
preview, declined) or a :class:`Proceed` whose :class:`Clearance` the pipeline settles
after the request: recorded on success, released on failure.

Confirmation is asked of the person directly wherever the connection allows it (see
``asking``: elicitation mid-call on 2025-11-25, an ``InputRequiredResult`` round trip on
2026-07-28). There only the person's answer authorises a send: no confirm_token is
issued or accepted, and a declined call stays declined. Elsewhere the assistant gets a
preview and a single-use ``confirm_token`` bound to those arguments, or a refusal under
``confirm_fallback = "refuse"``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linq_mcp.api.errors import LinqMCPError
from linq_mcp.policy import Allowed, ConfirmationRequired, Policy, Refused, call_reach, preview
from linq_mcp.policy.fence import fence_result, fence_v2_result, is_v2_message
from linq_mcp.tools.asking import (
    CONFIRM_SCHEMA,
    answer_from,
    ask_mode,
    ask_person,
    could_not_ask_result,
    declined_result,
    dismissed_result,
)
from linq_mcp.tools.call import Call, Proceed, Read, Stop
from linq_mcp.tools.results import ToolResult, error_result
from linq_mcp.tools.tooldef import ToolDef

log = logging.getLogger("linq_mcp.tools.guard")


@dataclass
class Clearance:
    """Permission for one call; settle it once the outcome is known."""

    policy: Policy | None = None
    decision: Allowed | None = None

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


_DRY_RUN_CONFIRMATION = {
    True: "The person will be asked to confirm when you make this call without dry_run; no token is needed.",
    False: "This client cannot ask the person and confirm_fallback is refuse: the real call will be refused.",
}


class SafetyGuard:
    """The pipeline's gate: the policy's decision about each call, and the fence on every result."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._v2_lines: frozenset[str] | None = None  # our V2 lines, read once when first needed

    async def decide(self, call: Call, read: Read) -> Proceed | Stop:
        outcome = await self._decide(call, read)
        return Stop(outcome) if isinstance(outcome, ToolResult) else outcome

    async def _decide(self, call: Call, read: Read) -> ToolResult | Proceed:
        tool, effect, args, context = call.tool.name, call.tool.effect, call.identity, call.context
        reach = call_reach(tool, effect, args)
        if not reach.gated:
            return Proceed(call.args)
        try:
            if _api_of(call.tool) == "v2":
                participants = await _v2_participants(read, reach.chat_id, reach.message_id)
            else:
                participants = await _participants(read, reach.chat_id, reach.message_id)
        except LinqMCPError as exc:
            return error_result(exc)
        mode = ask_mode(context)
        if await self.policy.declined_at(tool, args) is not None:
            return declined_result()
        answered: str | None = None
        if mode == "input_required":
            answer = answer_from(context)
            if answer is not None and answer.action == "decline":
                await self.policy.record_decline(tool, args)
                return declined_result()
            if answer is not None and answer.action == "cancel":
                return dismissed_result()
            if answer is not None:
                answered = answer.token
        decision = await self.policy.check(
            tool,
            effect,
            args,
            chat_participants=participants,
            confirm_supported=mode is not None,
            answered_token=answered,
            idempotency_key=call.deduplicated_key,
        )
        if isinstance(decision, ConfirmationRequired) and decision.via == "elicitation":
            if mode == "input_required":
                return ask_person(decision.prompt, decision.token)
            decision = await self._ask(call, participants, decision)
            if isinstance(decision, ToolResult):
                return decision
        if isinstance(decision, Refused):
            return ToolResult(decision.as_result(), is_error=True)
        if isinstance(decision, ConfirmationRequired):
            return ToolResult(decision.as_result(), is_error=True)
        if decision.dry_run:
            body: dict[str, Any] = {"dry_run": True, "sent": False, "would_send": preview(tool, args, decision.reached)}
            if decision.needs_confirmation:
                body["confirmation_required"] = True
                if decision.confirm_token:
                    body["confirm_token"] = decision.confirm_token
                else:
                    body["confirmation"] = _DRY_RUN_CONFIRMATION[mode is not None]
            return ToolResult(body)
        handles = self.policy.canonical_handles(tool, args)
        return Proceed({**call.args, **handles} if handles else call.args, Clearance(self.policy, decision))

    async def _ask(self, call: Call, participants: list[Any] | None, decision: ConfirmationRequired) -> Any:
        """Ask the person over the back-channel; only an accept lets the call go on."""
        tool, args, context = call.tool.name, call.identity, call.context
        try:
            answer = await context.session.elicit_form(
                decision.prompt, CONFIRM_SCHEMA, related_request_id=getattr(context, "request_id", None)
            )
        except Exception as exc:  # no token fallback here: the person could be asked, so only they decide
            log.info("asking the person failed (%s); nothing sent", type(exc).__name__)
            return could_not_ask_result(type(exc).__name__)
        if answer.action == "cancel":
            return dismissed_result()
        if not (answer.action == "accept" and (answer.content or {}).get("confirm") is True):
            await self.policy.record_decline(tool, args)
            return declined_result()
        return await self.policy.check(
            tool,
            call.tool.effect,
            args,
            chat_participants=participants,
            confirm_supported=True,
            answered_token=decision.token,
            idempotency_key=call.deduplicated_key,
        )

    # inbound content ----------------------------------------------------------------
    async def inbound(self, tool: ToolDef, result: dict[str, Any], read: Read) -> dict[str, Any]:
        """Fence every record in a result that someone else wrote; withhold strangers' under lockdown."""
        if _api_of(tool) == "v2":
            lines = await self._our_v2_lines(read) if _has_v2_message(result) else None
            return dict(fence_v2_result(result, lines, self.policy))
        fenced = fence_result(result, self.policy)
        return dict(fenced) if isinstance(fenced, Mapping) else result

    async def _our_v2_lines(self, read: Read) -> frozenset[str] | None:
        """Our lines, to tell our V2 messages from theirs; None (all fenced) when they cannot be read."""
        if self._v2_lines is None:
            try:
                listed = await read("v2_list_phone_numbers", {})
            except LinqMCPError:
                return None
            numbers = listed.get("phone_numbers") if isinstance(listed, Mapping) else None
            self._v2_lines = frozenset(
                str(n["phone_number"]) for n in numbers or [] if isinstance(n, Mapping) and n.get("phone_number")
            )
        return self._v2_lines


async def _participants(read: Read, chat_id: str | None, message_id: str | None) -> list[Any] | None:
    """The people in the chat a call acts on (through the message it names, if that is all it names)."""
    if chat_id is None and message_id is not None:
        message = await read("get_message", {"message_id": message_id})
        chat_id = message.get("chat_id") if isinstance(message, Mapping) else None
    if chat_id is None:
        return None
    chat = await read("get_chat", {"chat_id": chat_id})
    handles = chat.get("handles") if isinstance(chat, Mapping) else None
    return list(handles or [])


async def _v2_participants(read: Read, chat_id: str | None, message_id: str | None) -> list[Any] | None:
    """V2 names a reaction's message without its chat: the caller names the chat, and the
    message must be in it (a 404 here refuses the call), so nobody outside it is reached."""
    if chat_id is None:
        return None
    if message_id is not None:
        await read("v2_get_chat_message", {"chat_id": chat_id, "id": message_id})
    chat = await read("v2_get_chat", {"chat_id": chat_id})
    data = chat.get("data") if isinstance(chat, Mapping) else None
    handles = data.get("chat_handles") if isinstance(data, Mapping) else None
    return [h.get("phone_number") for h in handles or [] if isinstance(h, Mapping)]


def _api_of(tool: ToolDef) -> str:
    return tool.operation.api if tool.operation is not None else "v3"


def _has_v2_message(value: Any) -> bool:
    if isinstance(value, list):
        return any(_has_v2_message(item) for item in value)
    if isinstance(value, Mapping):
        return is_v2_message(value) or any(_has_v2_message(item) for item in value.values())
    return False
