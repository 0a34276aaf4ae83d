"""Which people each call reaches, read from its arguments.

A tool reaches people directly (handles in ``to``, ``handle``, ``payer_handle``) or
through an existing chat (``chat_id``, or ``message_id`` whose chat it is); for the
latter the server fetches the chat (``get_chat``) and passes its participants in.
Each tool's reach is data (``spec/tools.toml``, read through the registry).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from linq_mcp.tools.registry import load_registry
from linq_mcp.tools.tooldef import ToolReach

__all__ = [
    "GATED_EFFECTS",
    "argument_at",
    "CallReach",
    "ToolReach",
    "call_reach",
    "direct_handles",
    "participant_handles",
    "tool_reach",
]

GATED_EFFECTS = frozenset({"send", "visible"})


def tool_reach(tool: str) -> ToolReach | None:
    """The reach of ``tool`` (the registry's), or ``None`` when it reaches nobody (reads, our own settings)."""
    return load_registry().reach(tool)


def argument_at(args: Mapping[str, Any], name: str) -> Any:
    """``args[name]``, where a dotted name reaches into an object (``chat.phone_numbers``)."""
    value: Any = args
    for part in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def direct_handles(reach: ToolReach, args: Mapping[str, Any]) -> list[Any]:
    """The raw handle values named in the arguments, in order (not yet normalised)."""
    out: list[Any] = []
    for name in reach.direct:
        value = argument_at(args, name)
        if value is None:
            continue
        if isinstance(value, list | tuple):
            out.extend(value)
        else:
            out.append(value)
    return out


def participant_handles(participants: Iterable[str | Mapping[str, Any]]) -> list[Any]:
    """Other people in a chat: plain handles, or the ``handles[]`` of a ``get_chat`` result.

    Our own line (``is_me``) and people who left or were removed are not reached.
    """
    out: list[Any] = []
    for item in participants:
        if isinstance(item, Mapping):
            if item.get("is_me") or item.get("status") in ("left", "removed"):
                continue
            out.append(item.get("handle"))
        else:
            out.append(item)
    return out


@dataclass(frozen=True)
class CallReach:
    """Whom one call reaches: the handles it names, and the chat or message it acts in.

    ``chat_id``/``message_id`` tell the server what to fetch (``get_chat``, or
    ``get_message`` then ``get_chat``) before ``Policy.check``; ``gated`` says the policy
    applies at all.
    """

    handles: tuple[Any, ...] = ()
    chat_id: str | None = None
    message_id: str | None = None
    gated: bool = False


def call_reach(tool: str, effect: str, args: Mapping[str, Any]) -> CallReach:
    """The people a call with these arguments reaches (handles as given, not yet normalised)."""
    reach = tool_reach(tool)
    if reach is None:
        return CallReach(gated=effect in GATED_EFFECTS)
    chat_id = args.get("chat_id") if reach.via_chat else None
    message_id = args.get(reach.message_arg) if reach.via_message else None
    return CallReach(
        handles=tuple(direct_handles(reach, args)),
        chat_id=_id_text(chat_id),
        message_id=_id_text(message_id),
        gated=True,
    )


def _id_text(value: Any) -> str | None:
    """An id as text: V3's are strings, V2's integers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) else None
