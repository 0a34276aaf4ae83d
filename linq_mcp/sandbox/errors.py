"""Linq's error envelope, as the sandbox answers it.

Every failure the sandbox reports goes through :class:`LinqError`, so that a client
sees exactly what the real API sends: ``{success:false, error:{status, code, message,
doc_url, retry_after}, trace_id}`` plus ``X-Trace-ID`` (and ``Retry-After`` on 429).
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

# Linq's wording for each code, from the same data file the client explains errors with.
_DATA: dict[str, Any] = json.loads(resources.files("linq_mcp").joinpath("spec/error-codes.json").read_text("utf-8"))
DOC_BASE: str = _DATA["doc_base"]
MESSAGES: dict[int, str] = {int(code): entry["title"] for code, entry in _DATA["codes"].items()}


def doc_url(code: int) -> str:
    return f"{DOC_BASE}/{code // 1000}xxx/{code}/"


class LinqError(Exception):
    """A failure to report to the client in Linq's envelope."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str | None = None,
        *,
        retry_after: int | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or MESSAGES.get(code, "Error")
        self.retry_after = retry_after
        super().__init__(f"{status}/{code}: {self.message}")

    def envelope(self, trace_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "doc_url": doc_url(self.code),
        }
        if self.retry_after is not None:
            error["retry_after"] = self.retry_after
        return {"success": False, "error": error, "trace_id": trace_id}


# Short constructors for the common cases keep the route code readable.


def missing(field: str) -> LinqError:
    return LinqError(400, 1001, f"Missing required field: {field}")


def invalid(field: str, why: str) -> LinqError:
    return LinqError(400, 1005, f"Invalid value for {field}: {why}")


def bad_phone(field: str, value: object) -> LinqError:
    return LinqError(400, 1002, f"{field} must be in E.164 format (e.g. +14155550123), got {value!r}")


def not_found(code: int, what: str, ident: object) -> LinqError:
    return LinqError(404, code, f"{what} not found: {ident}")


def conflict(code: int, message: str | None = None) -> LinqError:
    return LinqError(409, code, message)


def rate_limited(retry_after: int, message: str | None = None) -> LinqError:
    retry_after = max(1, int(retry_after))
    return LinqError(
        429, 1007, message or f"Rate limited. Try again in {retry_after} seconds.", retry_after=retry_after
    )
