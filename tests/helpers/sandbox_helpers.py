"""Requests the sandbox tests written against Linq's rules share: a text message, the (status, code)
of an error, and a chat created from the iMessage line."""

from __future__ import annotations

from typing import Any

import httpx

LINE = "+15550100001"


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"parts": [{"type": "text", "value": value}], **extra}


def code(response: httpx.Response) -> tuple[int, int]:
    return response.status_code, int(response.json()["error"]["code"])


async def create(http: httpx.AsyncClient, to: list[str], message: dict[str, Any] | None = None) -> dict[str, Any]:
    r = await http.post("/v3/chats", json={"from": LINE, "to": to, "message": message or text("hello")})
    assert r.status_code == 201, r.text
    chat: dict[str, Any] = r.json()["chat"]
    return chat
