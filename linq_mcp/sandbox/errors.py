"""Linq's error envelope, as the sandbox answers it.

Every failure the sandbox reports goes through :class:`LinqError`, so that a client
sees exactly what the real API sends: ``{success:false, error:{status, code, message,
doc_url, retry_after}, trace_id}`` plus ``X-Trace-ID`` (and ``Retry-After`` on 429).
"""

from __future__ import annotations

from typing import Any

DOC_BASE = "https://docs.linqapp.com/error/codes"

# Default messages for the codes in api-catalog.md B.5.
MESSAGES: dict[int, str] = {
    1001: "Missing required field",
    1002: "Phone number must be in E.164 format",
    1003: "Invalid request body",
    1004: "Invalid message content",
    1005: "Invalid parameter value",
    1006: "Cannot update direct message chats",
    1007: "Rate limit exceeded",
    1008: "Invalid iMessage app message",
    2001: "Chat not found",
    2002: "Message not found",
    2003: "Attachment not found",
    2004: "Unauthorized",
    2005: "Access denied",
    2006: "Phone number permission denied",
    2007: "Attachment not ready",
    2008: "Recipient not allowed",
    2009: "Chat is still being created",
    2010: "Webhook subscription not found",
    2011: "Feature not available",
    2012: "Contact card not found",
    2013: "Chat unavailable",
    2014: "Contact card already exists",
    2015: "Operation conflicts with current state",
    2016: "Operation not supported in group chats",
    2017: "Operation not supported on this chat's service type",
    2018: "iMessage app messages can only be sent over iMessage",
    2019: "Phone number not found",
    2021: "Payment request not found",
    2022: "Contact card setup failed",
    2023: "Mentions are only supported in group chats",
    2024: "Recipient has opted out",
    2026: "Recipient handle is blocked",
    2027: "Sending line is not eligible",
    2028: "App Clip service unsupported",
    3001: "Server connection error",
    3002: "Server operation failed",
    3003: "Service connection error",
    3004: "Service operation failed",
    3005: "Network timeout",
    3006: "Internal server error",
    3007: "Maximum delivery attempts exceeded",
    4001: "Delivery failed",
    4002: "Phone not available",
    4004: "Service unavailable",
    4005: "Recipient does not support this message type",
    4009: "Line has no RCS account",
    4010: "Capability check could not run",
    5001: "File upload failed",
    5004: "Invalid file type",
    5005: "File too large",
    5006: "Content type mismatch",
    5007: "Failed to download image from URL",
}


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
