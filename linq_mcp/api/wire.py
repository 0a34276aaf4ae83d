"""Arguments that become part of the request line or a header, checked before anything else.

An idempotency key travels as an HTTP header (``Idempotency-Key``) or in a message body,
and an id fills a URL path segment. A value that cannot be one (``café-key``, a newline,
``..``) must fail as the caller's mistake, naming the field, before the policy reserves a
send or the ledger records one: never as an internal error, and never as an "outcome
unknown" that counts against the caps while nothing left the process.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from linq_mcp.tools.catalog import Operation

__all__ = ["IDEMPOTENCY_KEY_PATTERN", "wire_problems"]

# Linq's documented rule for idempotency keys: ASCII letters, digits, hyphen, underscore;
# at most 255 characters (the V3 bodies' maxLength; the pattern is the API's own).
IDEMPOTENCY_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,255}")
KEY_EXPECTED = "1–255 characters, only ASCII letters, digits, '-' and '_'"
KEY_EXAMPLE = "order-1234_retry"
# Path segments that a URL resolver would treat as navigation, not as an id.
_DOT_SEGMENTS = frozenset({".", ".."})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _key_problem(path: str, value: Any) -> dict[str, Any] | None:
    if not isinstance(value, str) or IDEMPOTENCY_KEY_PATTERN.fullmatch(value):
        return None  # a wrong type is the schema's to report
    return {
        "path": path,
        "problem": f"{value!r} cannot be an idempotency key",
        "expected": KEY_EXPECTED,
        "example": KEY_EXAMPLE,
    }


def _path_problem(name: str, value: Any) -> dict[str, Any] | None:
    text = str(value)
    if text.strip() and text not in _DOT_SEGMENTS and not _CONTROL.search(text):
        return None
    return {
        "path": name,
        "problem": f"{text!r} cannot be an id in the request's URL",
        "expected": "the exact id another tool returned (no blank, '.', '..' or control characters)",
    }


def wire_problems(op: Operation, args: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Problems with the arguments that go into the URL path or a header, field by field."""
    problems: list[dict[str, Any]] = []
    for param in op.params:
        if param.location == "path" and param.name in args:
            problem = _path_problem(param.name, args[param.name])
            if problem is not None:
                problems.append(problem)
    if "idempotency_key" in args:
        problem = _key_problem("idempotency_key", args["idempotency_key"])
        if problem is not None:
            problems.append(problem)
    for holder in ("message", "poll"):
        container = args.get(holder)
        if isinstance(container, Mapping) and "idempotency_key" in container:
            problem = _key_problem(f"{holder}.idempotency_key", container["idempotency_key"])
            if problem is not None:
                problems.append(problem)
    return problems
