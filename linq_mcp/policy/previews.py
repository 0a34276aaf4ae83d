"""What a call would send, for dry runs and for the person asked to confirm it.

The preview carries the exact payload (the arguments minus server bookkeeping) next
to a readable summary; the text shown is made visible (no bidi tricks) so the person
reads what the recipient will read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from linq_mcp.policy.lockdown import visible_text
from linq_mcp.policy.reach import tool_reach

# Arguments that steer the server, not the message.
BOOKKEEPING_ARGS = frozenset({"confirm_token", "idempotency_key", "dry_run"})
AUTO_SERVICE = "auto (iMessage, else RCS, else SMS)"


def action_of(tool: str) -> str:
    """What the tool does, as the person reads it."""
    reach = tool_reach(tool)
    return (reach.action if reach is not None else None) or tool.replace("_", " ")


def payload(args: Mapping[str, Any]) -> dict[str, Any]:
    """The arguments that shape what is sent."""
    return {k: v for k, v in args.items() if k not in BOOKKEEPING_ARGS}


def summary_lines(tool: str, args: Mapping[str, Any]) -> list[str]:
    """The content, one readable line per piece (exact text, quoted)."""
    lines: list[str] = []
    message = args.get("message")
    if isinstance(message, Mapping):
        lines.extend(_message_lines(message))
    cont = args.get("continuation_message")
    if isinstance(cont, Mapping) and isinstance(cont.get("text"), str):
        lines.append(f"then text: {_quote(cont['text'])}")
    if tool == "send_voice_memo":
        lines.append(f"voice memo: {args.get('voice_memo_url') or args.get('attachment_id')}")
    poll = args.get("poll")
    if isinstance(poll, Mapping):
        if isinstance(poll.get("title"), str):
            lines.append(f"poll: {_quote(poll['title'])}")
        for option in poll.get("options") or ():
            if isinstance(option, Mapping) and isinstance(option.get("text"), str):
                lines.append(f"option: {_quote(option['text'])}")
    if tool == "update_app_card":
        layout = args.get("layout")
        if isinstance(layout, Mapping):
            for key in ("caption", "subcaption", "trailing_caption", "trailing_subcaption", "image_title"):
                if isinstance(layout.get(key), str):
                    lines.append(f"card {key}: {_quote(layout[key])}")
        if isinstance(args.get("fallback_text"), str):
            lines.append(f"fallback text: {_quote(args['fallback_text'])}")
    return lines


def _message_lines(message: Mapping[str, Any]) -> list[str]:
    lines: list[str] = []
    if isinstance(message.get("text"), str):  # V2: {text, attachment_urls}
        lines.append(f"text: {_quote(message['text'])}")
    for url in message.get("attachment_urls") or ():
        lines.append(f"media: {url}")
    for part in message.get("parts") or ():
        if not isinstance(part, Mapping):
            continue
        kind = part.get("type")
        if kind == "text" and isinstance(part.get("value"), str):
            lines.append(f"text: {_quote(part['value'])}")
        elif kind == "media":
            lines.append(f"media: {part.get('url') or part.get('attachment_id')}")
        elif kind in ("link", "app_clip"):
            lines.append(f"{kind}: {part.get('value')}")
        else:
            lines.append(f"{kind} part")
    experience = message.get("experience")
    if isinstance(experience, Mapping):
        lines.append(f"experience: {experience.get('name')} / {experience.get('action')}")
    effect = message.get("effect")
    if isinstance(effect, Mapping):
        lines.append(f"effect: {effect.get('type')} {effect.get('name')}")
    return lines


def _quote(text: str) -> str:
    return '"' + visible_text(text) + '"'


def service_of(args: Mapping[str, Any]) -> str:
    message = args.get("message")
    if isinstance(message, Mapping) and isinstance(message.get("preferred_service"), str):
        return str(message["preferred_service"])
    return AUTO_SERVICE


def preview(tool: str, args: Mapping[str, Any], reached_handles: Sequence[str]) -> dict[str, Any]:
    """What this call would do, to whom, with what content; nothing is sent to build it."""
    reach = tool_reach(tool)
    out: dict[str, Any] = {
        "tool": tool,
        "action": action_of(tool),
        "recipients": list(reached_handles),
        "sends_message": bool(reach and reach.sends),
    }
    if reach and reach.sends:
        out["service"] = service_of(args)
    for key in ("chat_id", "message_id", "chat_message_id"):
        if key in args:
            out[key] = args[key]
    out["content"] = summary_lines(tool, args)
    out["payload"] = payload(args)
    return out


def confirmation_prompt(tool: str, args: Mapping[str, Any], reached_handles: Sequence[str] = ()) -> str:
    """The question put to the person (form elicitation): who, how, and the exact content."""
    who = ", ".join(reached_handles) if reached_handles else "the participants of this chat"
    lines = [f"The assistant wants to {action_of(tool)}.", f"To: {who}"]
    reach = tool_reach(tool)
    if reach and reach.sends:
        lines.append(f"Service: {service_of(args)}")
    lines.extend(summary_lines(tool, args))
    lines.append("Allow it?")
    return "\n".join(lines)
