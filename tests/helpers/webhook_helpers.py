"""Helpers for webhook tests: secrets, Linq-style signing, fixture payloads."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

from linq_mcp.webhooks import sign_legacy, sign_standard

FIXTURES = Path(__file__).resolve().parents[1] / "webhooks" / "fixtures"
SECRET = "whsec_" + base64.b64encode(b"linq-mcp test signing key 32 by!").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the previous key, before rotate").decode()
PATH = "/webhooks/linq"


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.json") if not p.name.startswith("_"))


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def envelope(event_type: str = "message.received", data: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A 2026-02-03 envelope with a fresh event id."""
    return {
        "api_version": "v3",
        "webhook_version": "2026-02-03",
        "event_type": event_type,
        "event_id": str(uuid.uuid4()),
        "created_at": "2026-02-05T19:31:13.736Z",
        "trace_id": uuid.uuid4().hex,
        "partner_id": "test-partner",
        "data": data if data is not None else {},
        **extra,
    }


def message(
    direction: str = "inbound",
    *,
    chat_id: str = "chat-1",
    message_id: str | None = None,
    text: str = "hi",
    event_type: str | None = None,
    sent_at: str = "2026-02-05T19:31:13.074Z",
    delivered_at: str | None = None,
    read_at: str | None = None,
) -> dict[str, Any]:
    """A 2026-02-03 message event envelope."""
    ours = {"handle": "+12025551234", "is_me": True}
    theirs = {"handle": "+12025559876", "is_me": False}
    kind = event_type or ("message.received" if direction == "inbound" else "message.sent")
    return envelope(
        kind,
        {
            "chat": {"id": chat_id, "is_group": False, "owner_handle": ours},
            "id": message_id or str(uuid.uuid4()),
            "direction": direction,
            "sender_handle": theirs if direction == "inbound" else ours,
            "parts": [{"type": "text", "value": text}],
            "sent_at": sent_at,
            "delivered_at": delivered_at,
            "read_at": read_at,
            "service": "iMessage",
        },
    )


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def standard_headers(
    body: bytes, *, secret: str = SECRET, webhook_id: str | None = None, ts: int | None = None
) -> dict[str, str]:
    wid = webhook_id or f"msg_{uuid.uuid4().hex}"
    stamp = int(time.time()) if ts is None else ts
    return {
        "content-type": "application/json",
        "webhook-id": wid,
        "webhook-timestamp": str(stamp),
        "webhook-signature": sign_standard(secret, wid, stamp, body),
    }


def legacy_headers(body: bytes, *, secret: str = SECRET, ts: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if ts is None else ts
    return {
        "content-type": "application/json",
        "X-Webhook-Event": "message.received",
        "X-Webhook-Timestamp": str(stamp),
        "X-Webhook-Signature": sign_legacy(secret, stamp, body),
    }
