"""Which people each tool reaches, read from its arguments.

A tool reaches people directly (handles in ``to``, ``handle``, ``payer_handle``) or
through an existing chat (``chat_id``, or ``message_id`` whose chat it is); for the
latter the server fetches the chat (``get_chat``) and passes its participants in.
Arguments that name handles without reaching them are deliberately absent:
``from`` and ``exclude_from`` are our own lines, ``address`` on capability checks is
a read, ``to`` on ``list_chats``/``get_available_number`` is a filter, and
``block_handle`` tells nobody. Destructive tools (``remove_participant``,
``leave_chat``) only ever shrink who is reached, so they are not held back here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GATED_EFFECTS = frozenset({"send", "visible"})


@dataclass(frozen=True)
class ToolReach:
    """How one tool reaches people, and which safety rules follow from that."""

    direct: tuple[str, ...] = ()  # argument names holding a handle or a list of handles
    via_chat: bool = False  # acts in args["chat_id"]: its participants see it
    via_message: bool = False  # acts on args["message_id"]: its chat's participants see it
    sends: bool = False  # delivers a message or prompt: counts toward the send caps
    confirms: bool = False  # first contact (or every call, with confirm = always) needs a yes
    new_group: bool = False  # the direct handles become one chat: max_group_size applies
    joins_group: bool = False  # adds the direct handles to the chat: participants + new ≤ max_group_size
    message_arg: str = "message_id"  # the argument naming the message (V2: chat_message_id)

    @property
    def needs_participants(self) -> bool:
        return self.via_chat or self.via_message


_SEND_TO_CHAT = ToolReach(via_chat=True, sends=True, confirms=True)
_SEEN_IN_CHAT = ToolReach(via_chat=True)
_SEEN_ON_MESSAGE = ToolReach(via_message=True)

TOOL_REACH: Mapping[str, ToolReach] = {
    # sends that name their recipients
    "create_chat": ToolReach(direct=("to",), sends=True, confirms=True, new_group=True),
    "send_message_to_handles": ToolReach(direct=("to",), sends=True, confirms=True, new_group=True),
    "connect_payment_handle": ToolReach(direct=("handle",), sends=True, confirms=True),
    # sends into an existing chat
    "send_message": _SEND_TO_CHAT,
    "send_voice_memo": _SEND_TO_CHAT,
    "share_contact_card": _SEND_TO_CHAT,
    "request_location": _SEND_TO_CHAT,
    "create_poll": _SEND_TO_CHAT,
    "update_app_card": ToolReach(via_message=True, sends=True, confirms=True),
    # visible to the chat's participants
    "update_chat": _SEEN_IN_CHAT,
    "mark_chat_read": _SEEN_IN_CHAT,
    "start_typing": _SEEN_IN_CHAT,
    "stop_typing": _SEEN_IN_CHAT,
    "set_chat_background": _SEEN_IN_CHAT,
    "remove_chat_background": _SEEN_IN_CHAT,
    "stop_location_sharing": ToolReach(direct=("handle",), via_chat=True),
    "add_participant": ToolReach(direct=("handle",), via_chat=True, confirms=True, joins_group=True),
    "edit_message": _SEEN_ON_MESSAGE,
    "react_to_message": _SEEN_ON_MESSAGE,
    "update_sticker_placement": _SEEN_ON_MESSAGE,
    "add_poll_options": _SEEN_ON_MESSAGE,
    "vote_in_poll": _SEEN_ON_MESSAGE,
    # money asked of / paid to a person: recipient rules apply though the effect is "create"
    "create_payment": ToolReach(direct=("handle",)),
    "create_payment_request": ToolReach(direct=("payer_handle",)),
    # the legacy V2 API (toolset v2): the same rules, V2's argument names; ids are integers
    "v2_create_chat": ToolReach(direct=("chat.phone_numbers",), sends=True, confirms=True, new_group=True),
    "v2_send_chat_message": _SEND_TO_CHAT,
    "v2_share_contact": _SEND_TO_CHAT,
    "v2_mark_chat_read": _SEEN_IN_CHAT,
    "v2_start_typing": _SEEN_IN_CHAT,
    "v2_stop_typing": _SEEN_IN_CHAT,
    "v2_edit_chat_message": _SEEN_IN_CHAT,
    # V2 names the message without its chat; the caller names the chat too, and the guard checks both
    "v2_react_to_chat_message": ToolReach(via_chat=True, via_message=True, message_arg="chat_message_id"),
}


def tool_reach(tool: str) -> ToolReach | None:
    """The reach of ``tool``, or ``None`` when it reaches nobody (reads, our own settings)."""
    return TOOL_REACH.get(tool)


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
