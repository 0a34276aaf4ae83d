"""Argument builders shared by the policy tests."""

from __future__ import annotations

from typing import Any

SEND = "send_message_to_handles"


def text_message(value: str = "hello") -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}]}


def to_handles(*handles: str, text: str = "hello", **extra: Any) -> dict[str, Any]:
    """Arguments for send_message_to_handles."""
    return {"to": list(handles), "message": text_message(text), **extra}


class Clock:
    """Injected time: tests move it, nothing sleeps."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
