"""Inbound content as data, never as instructions.

``visible_text`` removes or makes visible the control and bidi-override characters in
text someone else wrote, so it cannot hide what it says (``fence.py`` applies it to
everything it fences). ``redact_inbound`` implements
``inbound = "allowlisted"``: content from senders outside ``allow_recipients`` is
withheld, while the fact that a message arrived (who, when, which chat) stays.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from linq_mcp.policy.config import SafetyConfig
from linq_mcp.policy.handles import first_match, normalize_handle

# Bidi embeddings/overrides/isolates and marks: they reorder what a reader sees.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
WITHHELD = "[withheld]"
# Keys that carry what a sender wrote or attached, anywhere in an inbound record.
CONTENT_KEYS = frozenset(
    "parts text body value fallback_text caption layout continuation_message custom_emoji sticker url "
    "attachments media poll options".split()
)


def visible_text(text: str) -> str:
    """``text`` with bidi controls and invisible format characters removed, other controls escaped.

    Newlines and tabs stay; every other C0/C1 control becomes a visible ``\\uXXXX``.
    """
    out: list[str] = []
    for ch in text:
        if ch in BIDI_CONTROLS or unicodedata.category(ch) == "Cf":
            continue
        if ch in "\n\t":
            out.append(ch)
        elif unicodedata.category(ch) == "Cc":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def sender_allowed(sender_handle: str, config: SafetyConfig) -> bool:
    """Whether ``inbound = "allowlisted"`` lets this sender's content through."""
    handle = normalize_handle(sender_handle, config.default_region)
    if handle is None:
        return False
    if first_match(handle, config.block_patterns) is not None:
        return False
    return not config.allow_patterns or first_match(handle, config.allow_patterns) is not None


def redact_inbound(record: Mapping[str, Any], sender_handle: str, config: SafetyConfig) -> dict[str, Any]:
    """``record`` unchanged (a copy) when content from this sender may be shown, else with content withheld."""
    if config.inbound == "all" or sender_allowed(sender_handle, config):
        return dict(record)
    out = _withhold(record)
    out["content_withheld"] = {
        "reason": "inbound = allowlisted",
        "note": (
            f"A message from {visible_text(sender_handle)} arrived, but its content is withheld because the "
            "sender is not in allow_recipients. Ask the operator to add them if the person needs to see it."
        ),
    }
    return out


def _withhold(value: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in CONTENT_KEYS and item is not None:
            out[key] = WITHHELD
        elif isinstance(item, Mapping):
            out[key] = _withhold(item)
        elif isinstance(item, list):
            out[key] = [_withhold(x) if isinstance(x, Mapping) else x for x in item]
        else:
            out[key] = item
    return out
