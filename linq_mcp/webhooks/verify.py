"""Signature verification for Linq webhook deliveries (Standard Webhooks, legacy, and V2).

Linq signs every delivery twice: the Standard Webhooks headers (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``) and the legacy ``X-Webhook-Timestamp`` /
``X-Webhook-Signature`` pair. We prefer the standard scheme whenever its headers are
present and never fall back to legacy after a standard failure (no downgrade). The
legacy key form is undocumented (catalog G.2), so both plausible keys are tried.

The legacy V2 API signs only with ``X-Webhook-Signature: sha256=<hex HMAC-SHA256(secret,
raw body)>`` and no timestamp, keyed with the secret *you* gave the subscription (as
UTF-8). A delivery is read as V2 only when it carries no timestamp header at all; it has
no replay window, so a replayed V2 delivery is caught by its ``event_id`` (stored once).

Nothing here logs or returns a secret or a signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

__all__ = [
    "DEFAULT_TOLERANCE",
    "RejectReason",
    "VerifiedDelivery",
    "WebhookVerificationError",
    "WebhookVerifier",
    "sign_legacy",
    "sign_standard",
    "sign_v2",
    "verify",
]

DEFAULT_TOLERANCE = 300  # seconds, both directions (Linq and Standard Webhooks: 5 minutes)

RejectReason = Literal["missing_headers", "bad_signature", "stale_timestamp", "no_secret"]
Scheme = Literal["standard", "legacy", "v2"]

_STD_ID, _STD_TS, _STD_SIG = "webhook-id", "webhook-timestamp", "webhook-signature"
_LEG_TS, _LEG_SIG = "x-webhook-timestamp", "x-webhook-signature"
_WHSEC = "whsec_"


class WebhookVerificationError(Exception):
    """A delivery that must not be trusted; ``reason`` says why (for counters and 401s)."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason: RejectReason = reason


@dataclass(frozen=True, slots=True)
class VerifiedDelivery:
    """What a successful verification established about a delivery."""

    scheme: Scheme
    webhook_id: str | None  # the Standard Webhooks message id; None for legacy-only deliveries
    timestamp: int
    secret_index: int  # which configured secret matched (rotation bookkeeping; never the secret)
    legacy_key_form: Literal["utf8", "whsec_decoded"] | None = None


@dataclass(frozen=True, slots=True)
class _Keys:
    standard: bytes | None  # base64-decoded part after "whsec_"
    legacy: tuple[tuple[bytes, Literal["utf8", "whsec_decoded"]], ...]


@lru_cache(maxsize=64)
def _derive(secret: str) -> _Keys:
    """Derive the HMAC keys for one secret (cached: key derivation sits on the hot path)."""
    encoded = secret[len(_WHSEC) :] if secret.startswith(_WHSEC) else secret
    decoded: bytes | None
    try:
        decoded = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        decoded = None
    if decoded == b"":
        decoded = None
    legacy: list[tuple[bytes, Literal["utf8", "whsec_decoded"]]] = [(secret.encode("utf-8"), "utf8")]
    if decoded is not None and decoded != legacy[0][0]:
        legacy.append((decoded, "whsec_decoded"))
    return _Keys(standard=decoded, legacy=tuple(legacy))


def sign_standard(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (``v1,<base64>``) Linq would send; for tests and tools."""
    key = _derive(secret).standard
    if key is None:
        raise ValueError("secret is not a base64 whsec_ secret")
    return "v1," + _standard_digest(key, webhook_id, timestamp, body)


def sign_legacy(secret: str, timestamp: int, body: bytes) -> str:
    """The legacy ``X-Webhook-Signature`` (hex, key = the secret string as UTF-8)."""
    return _legacy_digest(secret.encode("utf-8"), timestamp, body)


def _standard_digest(key: bytes, webhook_id: str, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)
    return base64.b64encode(mac.digest()).decode("ascii")


def _legacy_digest(key: bytes, timestamp: int | str, body: bytes) -> str:
    mac = hmac.new(key, f"{timestamp}.".encode(), hashlib.sha256)
    mac.update(body)
    return mac.hexdigest()


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _timestamp(raw: str, now: float, tolerance: int) -> int:
    try:
        ts = int(raw.strip())
    except ValueError:
        raise WebhookVerificationError("missing_headers", "malformed webhook timestamp") from None
    if abs(now - ts) > tolerance:
        raise WebhookVerificationError("stale_timestamp", "webhook timestamp outside the tolerance window")
    return ts


def _verify_standard(
    h: dict[str, str], body: bytes, keys: Sequence[_Keys], now: float, tolerance: int
) -> VerifiedDelivery:
    webhook_id, ts_raw, sig_header = h.get(_STD_ID), h.get(_STD_TS), h.get(_STD_SIG)
    if not webhook_id or not ts_raw or not sig_header:
        raise WebhookVerificationError("missing_headers", "incomplete Standard Webhooks headers")
    ts = _timestamp(ts_raw, now, tolerance)
    offered = [entry[3:] for entry in sig_header.split() if entry.startswith("v1,") and len(entry) > 3]
    if not offered:
        raise WebhookVerificationError("bad_signature", "no v1 signature offered")
    for index, k in enumerate(keys):
        if k.standard is None:
            continue
        expected = _standard_digest(k.standard, webhook_id, ts_raw.strip(), body).encode("ascii")
        matched = False
        for candidate in offered:  # compare against every entry; no early exit per entry
            matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
        if matched:
            return VerifiedDelivery("standard", webhook_id, ts, index)
    raise WebhookVerificationError("bad_signature", "signature does not match")


def _verify_legacy(
    h: dict[str, str], body: bytes, keys: Sequence[_Keys], now: float, tolerance: int
) -> VerifiedDelivery:
    ts_raw, sig_header = h.get(_LEG_TS), h.get(_LEG_SIG)
    if not ts_raw or not sig_header:
        raise WebhookVerificationError("missing_headers", "no webhook signature headers")
    ts = _timestamp(ts_raw, now, tolerance)
    offered = [s.removeprefix("sha256=").lower() for s in sig_header.replace(",", " ").split()]
    for index, k in enumerate(keys):
        for key, form in k.legacy:
            expected = _legacy_digest(key, ts_raw.strip(), body).encode("ascii")
            matched = False
            for candidate in offered:
                matched |= hmac.compare_digest(expected, candidate.encode("ascii", "replace"))
            if matched:
                return VerifiedDelivery("legacy", None, ts, index, form)
    raise WebhookVerificationError("bad_signature", "signature does not match")


def sign_v2(secret: str, body: bytes) -> str:
    """The V2 ``X-Webhook-Signature`` (``sha256=`` + hex HMAC-SHA256 over the raw body)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _verify_v2(h: dict[str, str], body: bytes, secrets: Sequence[str], now: float) -> VerifiedDelivery:
    offered = h.get(_LEG_SIG, "").strip()
    candidate = offered.removeprefix("sha256=").lower().encode("ascii", "replace")
    for index, secret in enumerate(secrets):
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
        if hmac.compare_digest(expected, candidate):
            return VerifiedDelivery("v2", None, int(now), index)
    raise WebhookVerificationError("bad_signature", "signature does not match")


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secrets: Sequence[str],
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE,
) -> VerifiedDelivery:
    """Check a delivery's signature against any of ``secrets`` (several during rotation).

    Raises ``WebhookVerificationError`` with ``reason`` in missing_headers, bad_signature,
    stale_timestamp or no_secret.
    """
    if not secrets:
        raise WebhookVerificationError("no_secret", "no webhook signing secret configured")
    keys = [_derive(s) for s in secrets]
    h = _lower(headers)
    current = time.time() if now is None else now
    if _STD_ID in h or _STD_TS in h or _STD_SIG in h:
        return _verify_standard(h, body, keys, current, tolerance)
    if _LEG_TS not in h and h.get(_LEG_SIG, "").strip().startswith("sha256="):
        return _verify_v2(h, body, secrets, current)
    return _verify_legacy(h, body, keys, current, tolerance)


class WebhookVerifier:
    """``verify`` bound to a set of secrets, so callers never pass secrets around."""

    __slots__ = ("_secrets", "tolerance")

    def __init__(self, secrets: Sequence[str], *, tolerance: int = DEFAULT_TOLERANCE) -> None:
        self._secrets = tuple(s for s in secrets if s)
        self.tolerance = tolerance

    def __repr__(self) -> str:  # never show secrets
        return f"WebhookVerifier(<{len(self._secrets)} secret(s)>, tolerance={self.tolerance})"

    @property
    def configured(self) -> bool:
        return bool(self._secrets)

    def __call__(self, body: bytes, headers: Mapping[str, str], *, now: float | None = None) -> VerifiedDelivery:
        return verify(body, headers, self._secrets, now=now, tolerance=self.tolerance)
