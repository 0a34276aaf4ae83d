"""Presigned, expiring download URLs for media parts (catalog B.2: "presigned, valid 1 h").

A message view hands out ``{download_url}?Expires=…&Signature=…``: signed with the file's own
random secret, expiring on the virtual clock, so a client that keeps a part's URL past the hour
is caught, and re-reading the message gives a fresh one. The attachment's bare
``download_url`` has no stated lifetime and keeps working (persistent tier, B.3).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from .errors import LinqError
from .state import World

MEDIA_URL_TTL = 3600.0
_FILES = "/api/partner/_files/"


def _signature(attachment: Mapping[str, Any], expires: int) -> str:
    key = str(attachment.get("_upload_token") or attachment["id"]).encode()
    return hmac.new(key, f"{attachment['id']}:{expires}".encode(), hashlib.sha256).hexdigest()


def media_url(world: World, url: object) -> object:
    """``url`` presigned for an hour if it is one of the sandbox's own files; else unchanged."""
    prefix = world.config.public_base_url.rstrip("/") + _FILES
    if not isinstance(url, str) or not url.startswith(prefix) or urlparse(url).query:
        return url
    attachment = world.attachments.get(url[len(prefix) :].split("/", 1)[0])
    if attachment is None:
        return url
    expires = int(world.now() + MEDIA_URL_TTL)
    return f"{url}?Expires={expires}&Signature={_signature(attachment, expires)}"


def check(world: World, attachment: Mapping[str, Any], query: Mapping[str, str]) -> None:
    """Refuse a presigned URL that is forged or past its expiry: 403, as object stores do
    (the catalog names no code for it; 2005 is the sandbox's 403 for presigned URLs)."""
    if "Expires" not in query and "Signature" not in query:
        return  # the attachment's own download_url
    raw = query.get("Expires", "")
    expires = int(raw) if raw.isdigit() else -1
    if not hmac.compare_digest(query.get("Signature", ""), _signature(attachment, expires)):
        raise LinqError(403, 2005, "Download URL signature does not match; re-read the message for a fresh URL")
    if world.now() > expires:
        raise LinqError(403, 2005, "Download URL has expired (media URLs last 1 hour); re-read the message")
