"""The safety policy: whom the assistant may text, how often, and with whose agreement.

Typical wiring in the server::

    config = SafetyConfig.layered(settings.safety, os.environ, args)   # flags > env > file
    policy = Policy(config, db_path)
    decision = await policy.check(tool, effect, args, chat_participants=chat["handles"],
                                  confirm_supported=client_can_elicit)
    match decision:
        case Refused():              return error_result(decision.as_result())
        case ConfirmationRequired(): ask the person (via="elicitation", decision.prompt) and on
                                     "accept" check again with confirm_token=decision.token;
                                     or return decision.as_result() (via="token")
        case Allowed(dry_run=True):  return preview(tool, args, decision.reached)
        case Allowed():              call the API; on success, if decision.record:
                                     await policy.record_send(tool, decision.reached,
                                                              reservation=decision.reservation)
                                     on failure: await policy.release(decision)

``call_reach(tool, effect, args)`` says what to fetch first: with ``chat_id`` set, the
chat's ``handles`` are the ``chat_participants``; with ``message_id``, the chat of that
message. Inbound content goes through
``policy.redact_inbound`` and ``fence_untrusted``; ``policy.describe()`` belongs in the
server's instructions. Which tools exist at all (payments only when named, credentials
only when allowed) is ``linq_mcp.tools.inventory``'s job.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linq_mcp.policy.config import SafetyConfig, SafetyConfigError, add_arguments, describe
    from linq_mcp.policy.confirm import TOKEN_TTL_SECONDS
    from linq_mcp.policy.decision import Allowed, ConfirmationRequired, Decision, Refused
    from linq_mcp.policy.engine import Policy
    from linq_mcp.policy.handles import normalize_handle
    from linq_mcp.policy.lockdown import fence_untrusted, redact_inbound
    from linq_mcp.policy.previews import confirmation_prompt, preview
    from linq_mcp.policy.reach import CallReach, ToolReach, call_reach, tool_reach

    from_args = SafetyConfig.from_args

# Exports load on first use: a server answers ``initialize`` with only the config module
# imported; the engine, its store and the previews load when the first call needs them.
_WHERE = {
    "SafetyConfig": "config", "SafetyConfigError": "config", "add_arguments": "config", "describe": "config",
    "TOKEN_TTL_SECONDS": "confirm",
    "Allowed": "decision", "ConfirmationRequired": "decision", "Decision": "decision", "Refused": "decision",
    "Policy": "engine",
    "normalize_handle": "handles",
    "fence_untrusted": "lockdown", "redact_inbound": "lockdown",
    "confirmation_prompt": "previews", "preview": "previews",
    "CallReach": "reach", "ToolReach": "reach", "call_reach": "reach", "tool_reach": "reach",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "from_args":
        value: Any = __getattr__("SafetyConfig").from_args
    elif name in _WHERE:
        value = getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


__all__ = [
    "TOKEN_TTL_SECONDS",
    "Allowed",
    "CallReach",
    "ConfirmationRequired",
    "Decision",
    "Policy",
    "Refused",
    "SafetyConfig",
    "SafetyConfigError",
    "ToolReach",
    "add_arguments",
    "call_reach",
    "confirmation_prompt",
    "describe",
    "fence_untrusted",
    "from_args",
    "normalize_handle",
    "preview",
    "redact_inbound",
    "tool_reach",
]
