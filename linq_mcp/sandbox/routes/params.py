"""Request-field checks shared by the route modules.

Each helper raises the :class:`LinqError` Linq answers for that mistake (1001 missing,
1002 not E.164, 1005 bad value), so a handler reads as a list of its fields.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import bad_phone, invalid, missing, not_found, rate_limited
from ..messaging import E164, EMAIL, require_handle

if TYPE_CHECKING:
    from ..state import World

UUID = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")


def is_e164(value: object) -> bool:
    return isinstance(value, str) and E164.match(value) is not None


def is_email(value: object) -> bool:
    return isinstance(value, str) and len(value) <= 254 and EMAIL.match(value) is not None


def get_str(
    body: dict[str, Any],
    key: str,
    *,
    required: bool = False,
    max_len: int | None = None,
    allow_empty: bool = False,
) -> str | None:
    """A string field: absent/null -> None (or 1001 when required); wrong type or length -> 1005."""
    value = body.get(key)
    if value is None:
        if required:
            raise missing(key)
        return None
    if not isinstance(value, str):
        raise invalid(key, "must be a string")
    if not value.strip() and not allow_empty:
        if required:
            raise missing(key)
        raise invalid(key, "must not be empty")
    if max_len is not None and len(value) > max_len:
        raise invalid(key, f"must be at most {max_len} characters")
    return value


def get_int(body: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = body.get(key)
    if value is None:
        if required:
            raise missing(key)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(key, "must be an integer")
    return value


def get_bool(body: dict[str, Any], key: str) -> bool | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid(key, "must be a boolean")
    return value


def phone_list(value: object, key: str) -> list[str]:
    """A list of E.164 numbers (None -> [])."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid(key, "must be an array of E.164 phone numbers")
    for item in value:
        if not is_e164(item):
            raise bad_phone(key, item)
    return list(dict.fromkeys(value))


def https_url(value: str, key: str, *, http_hosts: list[str] | None = None, max_len: int = 2048) -> str:
    """An absolute https URL (plain http only for ``http_hosts``)."""
    if len(value) > max_len:
        raise invalid(key, f"must be at most {max_len} characters")
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise invalid(key, "must be a valid URL") from None
    if not host:
        raise invalid(key, "must be an absolute URL")
    if parts.scheme == "https":
        return value
    if parts.scheme == "http" and http_hosts and (host in http_hosts or f"[{host}]" in http_hosts):
        return value
    raise invalid(key, "must be an HTTPS URL")


def uuid_param(value: str, what: str) -> str:
    if UUID.match(value) is None:
        raise invalid(what, "must be a UUID")
    return value.lower()


def own_line(world: World, phone_number: str, field: str = "phone_number") -> dict[str, Any]:
    """The partner's line with this number; 1002 when not E.164, 404/2019 when not theirs."""
    if not is_e164(phone_number):
        raise bad_phone(field, phone_number)
    line = world.line_by_number(phone_number)
    if line is None:
        raise not_found(2019, "Phone number", phone_number)
    return line


def check_window(world: World, key: str, limit: int, window: float, what: str) -> None:
    """A sliding-window budget in ``world.counters``; 429/1007 with Retry-After once spent."""
    now = world.now()
    stamps = [t for t in world.counters.get(key, []) if t > now - window]
    if len(stamps) >= limit:
        wait = math.ceil(stamps[0] + window - now)
        world.counters[key] = stamps
        raise rate_limited(
            wait,
            f"{what} rate limit reached ({limit} per {window:g} s). Try again in {max(1, wait)} seconds.",
        )
    stamps.append(now)
    world.counters[key] = stamps


def override_optout(body: dict[str, Any]) -> bool:
    """``override_optout`` (default false): send despite an opt-out."""
    value = body.get("override_optout", False)
    if not isinstance(value, bool):
        raise invalid("override_optout", "must be a boolean")
    return value


def recipients(body: dict[str, Any]) -> list[str]:
    to = body.get("to")
    if to is None or to == []:
        raise missing("to")
    if not isinstance(to, list) or len(to) > 31:
        raise invalid("to", "must be a list of 1-31 handles")
    handles: list[str] = []
    for i, raw in enumerate(to):
        handle = require_handle(f"to[{i}]", raw)
        if handle.lower() not in {h.lower() for h in handles}:
            handles.append(handle)
    return handles


def placement(value: object) -> dict[str, Any]:
    """A sticker's ``placement``: numbers for x, y, scale and rotation only."""
    if not isinstance(value, dict):
        raise invalid("placement", "must be an object with x, y, scale, rotation")
    for key, number in value.items():
        if key not in ("x", "y", "scale", "rotation"):
            raise invalid(f"placement.{key}", "is not a placement field")
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise invalid(f"placement.{key}", "must be a number")
    return dict(value)
