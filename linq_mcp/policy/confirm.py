"""Confirmation tokens: proof that the person saw and agreed to one exact call.

A token is ``lc1.<expiry>.<nonce>.<call digest>.<mac>``; the MAC (HMAC-SHA256 with the
server secret) covers all of it, so the call digest can be compared in the open and a
mismatch reported as "different arguments" rather than "forged". The digest covers
the tool name and the canonical JSON of the arguments minus bookkeeping
(``confirm_token``, ``idempotency_key``, ``dry_run``, and the idempotency keys the
server writes into ``message``/``poll``). Single use is enforced by the store
(persisted nonces), not here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from linq_mcp.policy.previews import BOOKKEEPING_ARGS

TOKEN_TTL_SECONDS = 600.0
_VERSION = "lc1"


def canonical_call(tool: str, args: Mapping[str, Any]) -> bytes:
    """The identity of a call: same bytes iff same tool and same content arguments."""
    clean: dict[str, Any] = {k: v for k, v in args.items() if k not in BOOKKEEPING_ARGS}
    for key in ("message", "poll"):
        inner = clean.get(key)
        if isinstance(inner, Mapping) and "idempotency_key" in inner:
            clean[key] = {k: v for k, v in inner.items() if k != "idempotency_key"}
    body = json.dumps(clean, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return tool.encode() + b"\0" + body.encode()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _digest(tool: str, args: Mapping[str, Any]) -> str:
    return _b64(hashlib.sha256(canonical_call(tool, args)).digest()[:18])


def _mac(secret: bytes, body: str) -> str:
    return _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())


def mint_token(secret: bytes, tool: str, args: Mapping[str, Any], now: float) -> tuple[str, float]:
    """A fresh token for exactly this call, and when it expires."""
    expires = int(now + TOKEN_TTL_SECONDS)
    body = f"{_VERSION}.{expires}.{secrets.token_hex(16)}.{_digest(tool, args)}"
    return f"{body}.{_mac(secret, body)}", float(expires)


@dataclass(frozen=True)
class TokenCheck:
    """A verified token (``nonce`` set) or the reason it is refused (``problem`` set)."""

    nonce: str | None = None
    expires_at: float = 0.0
    problem: str | None = None


def verify_token(secret: bytes, tool: str, args: Mapping[str, Any], token: object, now: float) -> TokenCheck:
    """Signature, call identity and expiry; the caller still has to spend the nonce once."""
    if not isinstance(token, str) or token.count(".") != 4 or not token.startswith(_VERSION + "."):
        return TokenCheck(problem="confirm_token is not a token this server issued.")
    body, _, mac = token.rpartition(".")
    _, expires_text, nonce, digest = body.split(".")
    if not hmac.compare_digest(_mac(secret, body), mac) or not expires_text.isdigit():
        return TokenCheck(problem="confirm_token is not valid (it was not issued by this server, or was altered).")
    if not hmac.compare_digest(digest, _digest(tool, args)):
        return TokenCheck(
            problem="confirm_token was issued for a different call: the tool or its arguments changed since "
            "the preview. Call again without confirm_token to get a preview of this call."
        )
    expires = float(expires_text)
    if now >= expires:
        return TokenCheck(problem="confirm_token has expired (tokens last 10 minutes). Call again without it.")
    return TokenCheck(nonce=nonce, expires_at=expires)
