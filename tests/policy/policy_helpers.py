"""Argument builders shared by the policy tests."""

from __future__ import annotations

from typing import Any

SEND = "send_message_to_handles"


def text_message(value: str = "hello") -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def to_handles(*handles: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    """Arguments for send_message_to_handles."""
    return {"to": list(handles), "message": text_message(text), **extra}
