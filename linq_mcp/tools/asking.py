"""Asking the person, in both protocol eras.

Whether a connection can put a question to the person decides who may confirm a send:

- ``"request"``: a 2025-11-25 connection whose client declared form elicitation and that
  has a back-channel (stdio, stateful HTTP). The server sends ``elicitation/create``
  mid-call and waits for the answer.
- ``"input_required"``: a 2026-07-28 connection whose client declared form elicitation.
  There is no back-channel; the tool call returns an ``InputRequiredResult`` holding the
  question and a ``requestState``, the client asks the person and repeats the call with
  the answer and the state. The state carries the server-held confirm_token for exactly
  this call; the SDK's ``RequestStateBoundary`` seals it (AES-GCM under the server
  secret), binds it to the tool and its arguments and expires it, so neither the model
  nor the client can read, alter or move it.
- ``None``: nobody can be asked; the policy's ``confirm_fallback`` decides (a
  confirm_token relayed by the assistant, or a refusal).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mcp_types.version import is_version_at_least

from linq_mcp.api.errors import NotConfirmed
from linq_mcp.tools.results import ToolResult, error_result

log = logging.getLogger("linq_mcp.tools.asking")

AskMode = Literal["request", "input_required"]

MODERN_ERA = "2026-07-28"
INPUT_KEY = "linq_confirm_send"  # the key of our question in input_requests / input_responses
STATE_VERSION = "linq-confirm/1"
REQUEST_STATE_TTL_SECONDS = 600.0  # as long as the confirm_token the state holds

CONFIRM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"confirm": {"type": "boolean", "title": "Send it", "description": "Allow this exact message"}},
    "required": ["confirm"],
}


def ask_mode(context: Any) -> AskMode | None:
    """How (whether) this request's client can ask the person; never raises."""
    try:
        session = getattr(context, "session", None)
        if session is None:
            return None
        caps = session.client_capabilities
        elicitation = getattr(caps, "elicitation", None) if caps is not None else None
        # a bare ``elicitation: {}`` (before modes existed) means form; url-only does not
        if elicitation is None or (elicitation.form is None and elicitation.url is not None):
            return None
        version = getattr(context, "protocol_version", None)
        if isinstance(version, str) and is_version_at_least(version, MODERN_ERA):
            return "input_required"
        return "request" if bool(getattr(session, "can_send_request", False)) else None
    except Exception:
        return None


@dataclass
class AskPerson(ToolResult):
    """Not a tool result: the server answers ``InputRequiredResult`` with this question."""

    prompt: str = ""
    state: str = ""


def ask_person(prompt: str, token: str) -> AskPerson:
    state = json.dumps({"v": STATE_VERSION, "token": token}, separators=(",", ":"))
    return AskPerson({}, prompt=prompt, state=state)


@dataclass(frozen=True)
class Answer:
    """The person's answer to our question on this round, with the token the question held."""

    action: Literal["accept", "decline", "cancel"]
    token: str


def answer_from(context: Any) -> Answer | None:
    """The answer a 2026 client brought back with our (boundary-verified) state, if any.

    ``requestState`` reaching the handler is plaintext the server minted: the boundary
    unsealed and checked it (or refused the request). An answer without our state, or a
    state without an answer, counts as no answer: the person is asked again.
    """
    params = getattr(context, "params", None)
    if not isinstance(params, Mapping):
        return None
    raw_state, responses = params.get("requestState"), params.get("inputResponses")
    if not isinstance(raw_state, str) or not isinstance(responses, Mapping):
        return None
    try:
        state = json.loads(raw_state)
    except ValueError:
        return None
    if not isinstance(state, dict) or state.get("v") != STATE_VERSION or not isinstance(state.get("token"), str):
        return None
    response = responses.get(INPUT_KEY)
    if not isinstance(response, Mapping):
        return None
    action = response.get("action")
    content = response.get("content")
    if action == "accept":
        confirmed = isinstance(content, Mapping) and content.get("confirm") is True
        return Answer("accept" if confirmed else "decline", state["token"])
    if action in ("decline", "cancel"):
        return Answer(action, state["token"])
    return None


def declined_result() -> ToolResult:
    """The person said no: this exact call stays declined for an hour."""
    return error_result(NotConfirmed("declined"))


def dismissed_result() -> ToolResult:
    return error_result(NotConfirmed("dismissed"))


def could_not_ask_result(reason: str) -> ToolResult:
    return error_result(NotConfirmed("unavailable", reason=reason))
