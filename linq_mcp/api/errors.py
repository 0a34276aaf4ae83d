"""Every failure linq-mcp can report, and how each one is explained to the model.

Errors are translated once, at the boundary where they happen (HTTP responses and
transport failures in ``client.py``, tool arguments in validation, the safety layer in
``policy/``). Everything above that boundary only sees this tree::

    LinqMCPError
    ├── LinqAPIError                 Linq answered with an error (status, code, message, trace_id)
    │   ├── BadRequestError          400
    │   ├── AuthenticationError      401
    │   ├── PermissionDeniedError    403
    │   ├── NotFoundError            404
    │   ├── ConflictError            409
    │   ├── UnprocessableEntityError 422
    │   ├── RateLimitError           429 (retry_after)
    │   └── InternalServerError      >= 500
    ├── LinqConnectionError          no answer from Linq
    │   └── LinqTimeoutError
    ├── OutcomeUnknownError          the request may have reached Linq; the answer was lost
    ├── ValidationFailed             bad tool arguments (a list of problems)
    ├── PolicyError                  refused by the safety layer (rule, handle, detail)
    └── CatalogError                 the API description is broken (a startup bug)

``tool_error`` turns any exception into the ``structuredContent`` of an MCP error
result, and ``render_tool_error`` into its short text twin. Neither ever contains the
API key, request headers, message bodies or phone numbers: Linq's own messages are
scrubbed of handles, and unexpected exceptions are reported by class name only.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

__all__ = [
    "ERROR_CODES",
    "ERROR_FIELDS",
    "AuthenticationError",
    "BadRequestError",
    "CatalogError",
    "ConflictError",
    "ErrorInfo",
    "InternalServerError",
    "LinqAPIError",
    "LinqConnectionError",
    "LinqMCPError",
    "LinqTimeoutError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "PolicyError",
    "RateLimitError",
    "UnprocessableEntityError",
    "ValidationFailed",
    "api_error_from_response",
    "error_info",
    "parse_retry_after",
    "render_tool_error",
    "scrub",
    "tool_error",
]

MAX_MESSAGE_CHARS = 200


# --------------------------------------------------------------------------- tree


class LinqMCPError(Exception):
    """Root of every error linq-mcp raises on purpose."""


class LinqAPIError(LinqMCPError):
    """Linq answered with a non-2xx status; fields come from its error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: int | None = None,
        doc_url: str | None = None,
        retry_after: int | None = None,
        trace_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.doc_url = doc_url
        self.retry_after = retry_after
        self.trace_id = trace_id
        super().__init__(status, message)

    def __str__(self) -> str:
        code = f", code {self.code}" if self.code is not None else ""
        trace = f" [trace {self.trace_id}]" if self.trace_id else ""
        return f"HTTP {self.status}{code}: {self.message}{trace}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, code={self.code}, trace_id={self.trace_id!r})"


class BadRequestError(LinqAPIError):
    """400: the request is malformed; fix it before trying again."""


class AuthenticationError(LinqAPIError):
    """401: the API key is missing or wrong."""


class PermissionDeniedError(LinqAPIError):
    """403: the key may not do this (line, recipient, opt-out, block…)."""


class NotFoundError(LinqAPIError):
    """404: no such resource for this account."""


class ConflictError(LinqAPIError):
    """409: the resource's state does not allow this now."""


class UnprocessableEntityError(LinqAPIError):
    """422: understood but cannot be done (e.g. the recipient cannot take this type)."""


class RateLimitError(LinqAPIError):
    """429: Linq refused before doing anything; wait ``retry_after`` seconds."""


class InternalServerError(LinqAPIError):
    """>= 500: Linq (or its upstream) failed; whether it acted depends on the code."""


_STATUS_CLASSES: dict[int, type[LinqAPIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _class_for_status(status: int) -> type[LinqAPIError]:
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, LinqAPIError)


class LinqConnectionError(LinqMCPError):
    """No response from Linq. ``sent`` says whether the request could have left us."""

    def __init__(self, message: str, *, sent: bool = False) -> None:
        self.sent = sent
        super().__init__(message)


class LinqTimeoutError(LinqConnectionError):
    """Linq did not answer in time (connect, pool or, for reads, read timeout)."""


class OutcomeUnknownError(LinqMCPError):
    """The request may have reached Linq and acted, but its response was lost.

    ``keyed`` is True when repeating the request cannot act twice (it carries an
    idempotency key, or is naturally idempotent like a PUT); ``idempotency_key`` is
    the key itself when the client could see it.
    """

    def __init__(
        self,
        *,
        keyed: bool,
        idempotency_key: str | None = None,
        cause: str | None = None,
        attempts: int = 1,
    ) -> None:
        self.keyed = keyed
        self.idempotency_key = idempotency_key
        self.cause = cause
        self.attempts = attempts
        via = f" ({cause})" if cause else ""
        super().__init__(f"Outcome unknown: the connection failed after the request may have been sent{via}")


class ValidationFailed(LinqMCPError):
    """Tool arguments failed validation; each problem is ``{path, problem, expected, example}``."""

    def __init__(self, problems: Sequence[Mapping[str, Any]], message: str | None = None) -> None:
        self.problems: list[dict[str, Any]] = [dict(p) for p in problems]
        if message is None:
            n = len(self.problems)
            message = f"{n} invalid argument{'s' if n != 1 else ''}"
        super().__init__(message)


class PolicyError(LinqMCPError):
    """The safety layer refused the call. ``handle`` is kept for logic, never shown."""

    def __init__(self, rule: str, detail: str, *, handle: str | None = None) -> None:
        self.rule = rule
        self.detail = detail
        self.handle = handle
        super().__init__(f"Refused by policy {rule}: {scrub(detail)}")


class CatalogError(LinqMCPError):
    """The bundled API description is inconsistent; raised at startup."""


class ServerUnavailable(LinqMCPError):
    """The runtime (client, stores, sandbox) could not be opened; every call that needs it says why."""

    def __init__(self, cause: BaseException) -> None:
        while isinstance(cause, BaseExceptionGroup) and cause.exceptions:  # the task groups' wrapping
            cause = cause.exceptions[0]
        self.cause = cause
        super().__init__(f"linq-mcp could not start: {type(cause).__name__}: {scrub(str(cause))}")


# --------------------------------------------------------------------------- scrubbing

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_PLUS = re.compile(r"\+\d[\d\s().-]{5,}\d")
_PHONE_BARE = re.compile(r"(?<![\w.:/-])\d{10,15}(?![\w.:/-])")
_BEARER = re.compile(r"(?i)\bbearer\s+\S+")
_TAGS = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def scrub(text: str, secrets: Iterable[str] = (), *, limit: int = MAX_MESSAGE_CHARS) -> str:
    """Make outside text safe to show: no secrets, tokens, handles; one line; bounded."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _BEARER.sub("Bearer [redacted]", text)
    text = _EMAIL.sub("[email]", text)
    text = _PHONE_PLUS.sub("[phone]", text)
    text = _PHONE_BARE.sub("[phone]", text)
    text = _SPACE.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


# --------------------------------------------------------------------------- envelope


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is not None:
        return value
    lower = name.lower()
    for key, val in headers.items():
        if key.lower() == lower:
            return val
    return None


def parse_retry_after(value: object) -> int | None:
    """Seconds from a ``Retry-After`` header or ``retry_after`` field (int, float or HTTP date)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return max(0, math.ceil(value)) if math.isfinite(value) else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        return max(0, math.ceil(when.timestamp() - time.time()))
    return max(0, math.ceil(seconds)) if math.isfinite(seconds) else None


def _decode_body(body: bytes | str | Any) -> Any:
    if isinstance(body, bytes | bytearray):
        body = bytes(body).decode("utf-8", errors="replace")
    if isinstance(body, str):
        if not body.strip():
            return None
        try:
            return json.loads(body)
        except ValueError:
            return body
    return body


def _fallback_message(status: int, body: Any) -> str:
    from http import HTTPStatus

    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    base = f"HTTP {status} {reason}"
    detail: str | None = None
    if isinstance(body, str):
        text = _TAGS.sub(" ", body)
        detail = text if text.strip() else None
    elif isinstance(body, Mapping):
        for key in ("message", "detail", "error_description", "error", "title"):
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                detail = value
                break
    if not detail:
        return base
    return f"{base}: {detail}"


def api_error_from_response(
    status: int,
    body: bytes | str | Any,
    headers: Mapping[str, str],
    *,
    secrets: Iterable[str] = (),
) -> LinqAPIError:
    """Build the LinqAPIError subclass for a non-2xx answer.

    ``body`` may be raw bytes/text or already-parsed JSON. Linq's envelope is
    ``{success:false, error:{status, code, message, doc_url, retry_after}, trace_id}``;
    anything else (a proxy's HTML page, a foreign JSON) gives a short scrubbed message.
    ``secrets`` are removed from the message in case a server echoes them.
    """
    secrets = tuple(secrets)
    data = _decode_body(body)
    code: int | None = None
    message: str | None = None
    doc_url: str | None = None
    retry_after = parse_retry_after(_header(headers, "Retry-After"))
    trace_id = _header(headers, "X-Trace-ID")

    error = data.get("error") if isinstance(data, Mapping) else None
    if isinstance(error, Mapping):
        raw_code = error.get("code")
        if isinstance(raw_code, int) and not isinstance(raw_code, bool):
            code = raw_code
        elif isinstance(raw_code, str) and raw_code.isdigit():
            code = int(raw_code)
        if isinstance(error.get("message"), str) and error["message"].strip():
            message = error["message"]
        if isinstance(error.get("doc_url"), str) and error["doc_url"].startswith("http"):
            doc_url = error["doc_url"][:MAX_MESSAGE_CHARS]
        if retry_after is None:
            retry_after = parse_retry_after(error.get("retry_after"))
    if isinstance(data, Mapping) and trace_id is None:
        raw_trace = data.get("trace_id")
        if isinstance(raw_trace, str) and raw_trace:
            trace_id = raw_trace
    if trace_id is not None:
        trace_id = scrub(trace_id, secrets, limit=64)

    if message is None:
        if code is not None and (info := error_info(code)) is not None:
            message = info.title
        else:
            message = _fallback_message(status, data)
    return _class_for_status(status)(
        status,
        scrub(message, secrets),
        code=code,
        doc_url=doc_url,
        retry_after=retry_after,
        trace_id=trace_id,
    )


# --------------------------------------------------------------------------- code table


class ErrorInfo(NamedTuple):
    """What a Linq error code means, written for an assistant choosing its next step."""

    title: str
    meaning: str
    fix: str
    retryable: bool


_SAME_KEY = "retry with the same idempotency_key so it cannot be sent twice"

ERROR_CODES: dict[int, ErrorInfo] = {
    # 1xxx: the request itself is wrong. Fix it; retrying unchanged fails again.
    1001: ErrorInfo(
        "Missing required field",
        "A field the operation requires was not sent.",
        "Add the missing field named in the message, then send again.",
        False,
    ),
    1002: ErrorInfo(
        "Phone number not in E.164",
        "A phone number is not in international E.164 form.",
        "Write the number in E.164: a plus sign, country code and number, no spaces, e.g. +14155550123.",
        False,
    ),
    1003: ErrorInfo(
        "Invalid request body",
        "The request body is not valid JSON or not the expected object.",
        "Check the arguments' structure against the tool's schema and send again.",
        False,
    ),
    1004: ErrorInfo(
        "Invalid message content",
        "The message parts are invalid (empty text, unknown part type, bad attachment reference).",
        "Give at least one valid part: non-empty text, or a media part with an attachment_id or https URL.",
        False,
    ),
    1005: ErrorInfo(
        "Invalid parameter value",
        "A parameter has a value Linq does not accept (also: a link in the first message of a chat).",
        "Correct the value named in the message; if it is about a link, send a first message without one.",
        False,
    ),
    1006: ErrorInfo(
        "Cannot update a direct chat",
        "Renaming or changing the icon only works for group chats.",
        "Don't retry; this chat is one-to-one.",
        False,
    ),
    1007: ErrorInfo(
        "Rate limited",
        "Too many requests (e.g. 30 messages per minute to one recipient, or the sandbox's daily cap).",
        "Wait retry_after seconds, then retry with the same idempotency_key.",
        True,
    ),
    1008: ErrorInfo(
        "Invalid iMessage app message",
        "The app card is malformed: app.name is required and team_id must be 10 uppercase letters/digits.",
        "Fix the app fields and send again.",
        False,
    ),
    # 2xxx: the resource or permission is wrong. Retrying unchanged fails again.
    2001: ErrorInfo(
        "Chat not found",
        "No chat with this id exists for this account (also Linq's generic 'not found').",
        "Check the chat_id (list_chats finds it); don't guess ids.",
        False,
    ),
    2002: ErrorInfo(
        "Message not found",
        "No message with this id exists for this account.",
        "Check the message_id, e.g. with list_messages on the chat.",
        False,
    ),
    2003: ErrorInfo(
        "Attachment not found",
        "No attachment with this id exists for this account.",
        "Check the attachment_id, or upload the file again.",
        False,
    ),
    2004: ErrorInfo(
        "Unauthorized",
        "The API key is missing or invalid.",
        "The user must set a valid Linq API key (LINQ_API_V3_API_KEY); retrying will not help.",
        False,
    ),
    2005: ErrorInfo(
        "Access denied",
        "This API key may not access this resource.",
        "Use a resource that belongs to this account; don't retry.",
        False,
    ),
    2006: ErrorInfo(
        "Line not yours",
        "The 'from' number is not one of this account's lines.",
        "Pick a 'from' number from list_phone_numbers.",
        False,
    ),
    2007: ErrorInfo(
        "Attachment not ready",
        "The attachment exists but its upload has not completed.",
        "Finish uploading the file to its upload_url, then try again.",
        True,
    ),
    2008: ErrorInfo(
        "Recipient not allowed",
        "On a sandbox account a person must message your line before you can message them.",
        "Ask the person to text the line first; don't retry until they have.",
        False,
    ),
    2009: ErrorInfo(
        "Chat still being created",
        "The chat exists but is not ready yet.",
        "Wait a few seconds, then retry.",
        True,
    ),
    2010: ErrorInfo(
        "Webhook subscription not found",
        "No webhook subscription with this id exists for this account.",
        "Check the id with list_webhook_subscriptions.",
        False,
    ),
    2011: ErrorInfo(
        "Feature not available",
        "This feature is not enabled for this account or line.",
        "Don't retry; tell the user the feature needs enabling by Linq.",
        False,
    ),
    2012: ErrorInfo(
        "Contact card not found",
        "The line has no active contact card.",
        "Create one with create_contact_card first.",
        False,
    ),
    2013: ErrorInfo(
        "Chat unavailable",
        "The chat can no longer be used (your line left it, or it was deleted).",
        "Start a new chat instead; don't retry this one.",
        False,
    ),
    2014: ErrorInfo(
        "Contact card already exists",
        "The line already has an active contact card.",
        "Update it with update_contact_card instead of creating one.",
        False,
    ),
    2015: ErrorInfo(
        "Conflicts with current state",
        "The resource's current state does not allow this operation.",
        "Read the resource's state first and act on what it says; don't retry blindly.",
        False,
    ),
    2016: ErrorInfo(
        "Not supported in group chats",
        "This operation (e.g. a location request) only works in one-to-one chats.",
        "Don't retry in this group chat.",
        False,
    ),
    2017: ErrorInfo(
        "Not supported on this service",
        "This operation is not supported on the chat's service (e.g. SMS or RCS instead of iMessage).",
        "Don't retry; use a feature the chat's service supports.",
        False,
    ),
    2018: ErrorInfo(
        "iMessage app needs iMessage",
        "iMessage app cards can only be sent in iMessage chats.",
        "Send a plain text message with a link instead.",
        False,
    ),
    2019: ErrorInfo(
        "Phone number not found",
        "No line with this id; the path wants the line's id, not its phone number.",
        "Use the line's id from list_phone_numbers.",
        False,
    ),
    2021: ErrorInfo(
        "Payment request not found",
        "No payment request with this id exists for this account.",
        "Check the id with list_payment_requests.",
        False,
    ),
    2022: ErrorInfo(
        "Contact card setup failed",
        "Writing the contact card to the line's device failed transiently.",
        "Wait a little, then retry.",
        True,
    ),
    2023: ErrorInfo(
        "Mention in a direct chat",
        "Mentions only work in group chats.",
        "Send the text without the mention.",
        False,
    ),
    2024: ErrorInfo(
        "Recipient opted out",
        "The person has opted out of messages from this sender.",
        "The person replied STOP. Don't message them unless they opt back in; override_optout exists "
        "only for transactional messages they asked for.",
        False,
    ),
    2026: ErrorInfo(
        "Recipient blocked",
        "This handle is on the account's block list.",
        "Don't message them; unblocking is the user's decision, not yours.",
        False,
    ),
    2027: ErrorInfo(
        "Line ineligible",
        "The sending line may not start new activity right now (e.g. flagged); reads still work.",
        "Send from another line, or tell the user this line needs attention.",
        False,
    ),
    2028: ErrorInfo(
        "App Clip unsupported",
        "App Clips are not supported for this chat's service.",
        "Send a link instead of an App Clip.",
        False,
    ),
    # 3xxx: Linq's side failed. Retry with backoff.
    3001: ErrorInfo(
        "Server connection error",
        "Linq could not reach one of its own servers.",
        f"Wait a few seconds, then {_SAME_KEY}.",
        True,
    ),
    3002: ErrorInfo(
        "Server operation failed",
        "An operation on Linq's servers failed.",
        f"Wait a few seconds, then {_SAME_KEY}.",
        True,
    ),
    3003: ErrorInfo(
        "Service connection error",
        "Linq could not reach an upstream messaging service.",
        f"Wait a few seconds, then {_SAME_KEY}.",
        True,
    ),
    3004: ErrorInfo(
        "Service operation failed",
        "An upstream messaging service failed the operation.",
        f"Wait a few seconds, then {_SAME_KEY}.",
        True,
    ),
    3005: ErrorInfo(
        "Network timeout",
        "Linq timed out talking to an upstream service; the operation may or may not have happened.",
        f"Check whether it happened (e.g. list_messages), or {_SAME_KEY}.",
        True,
    ),
    3006: ErrorInfo(
        "Internal server error",
        "Linq hit an internal error.",
        f"Wait a few seconds, then {_SAME_KEY}.",
        True,
    ),
    3007: ErrorInfo(
        "Delivery attempts exhausted",
        "Linq tried to deliver the message the maximum number of times and gave up.",
        "Check the recipient can receive messages, then send again if it still matters.",
        True,
    ),
    # 4xxx: delivery and upstream availability. Sometimes worth a retry.
    4001: ErrorInfo(
        "Delivery failed",
        "The message could not be delivered to the recipient.",
        "Check the handle and the recipient's service (check_imessage / check_rcs) before resending.",
        False,
    ),
    4002: ErrorInfo(
        "Phone not available",
        "The line's phone is not available to send right now.",
        "Wait a minute and retry, or send from another line.",
        True,
    ),
    4003: ErrorInfo(
        "Webhook delivery failed",
        "Linq could not deliver a webhook event to your endpoint.",
        "Check the webhook subscription's target_url is reachable.",
        False,
    ),
    4004: ErrorInfo(
        "Service unavailable",
        "Linq or its upstream is temporarily unavailable (also: RCS not enabled on the line).",
        f"Wait and {_SAME_KEY}; for capability checks this means 'unknown', not 'unsupported'.",
        True,
    ),
    4005: ErrorInfo(
        "Type not supported by recipient",
        "The recipient's service cannot take this kind of message.",
        "Send a simpler message (plain text) instead.",
        False,
    ),
    4006: ErrorInfo(
        "Delivery failed (4006)",
        "A message or poll failed with a code Linq has not documented.",
        "Don't resend automatically; report the trace_id to the user.",
        False,
    ),
    4007: ErrorInfo(
        "Delivery failed (4007)",
        "A message or poll failed with a code Linq has not documented.",
        "Don't resend automatically; report the trace_id to the user.",
        False,
    ),
    4008: ErrorInfo(
        "Delivery failed (4008)",
        "A message or poll failed with a code Linq has not documented.",
        "Don't resend automatically; report the trace_id to the user.",
        False,
    ),
    4009: ErrorInfo(
        "Line has no RCS account",
        "The line cannot check or send RCS; the answer is unknown, not 'unsupported'.",
        "Use check_imessage, or another line with RCS.",
        False,
    ),
    4010: ErrorInfo(
        "Capability check could not run",
        "The RCS check failed to run; the answer is unknown, not 'unsupported'.",
        "Wait and retry the check.",
        True,
    ),
    # 5xxx: files.
    5001: ErrorInfo(
        "File upload failed",
        "Linq failed to store the file (or, for voice memos, it is over 10 MB).",
        "Retry the upload; if it is a voice memo, make it smaller than 10 MB.",
        True,
    ),
    5002: ErrorInfo(
        "File download failed",
        "Linq failed to fetch the file.",
        "Retry shortly.",
        True,
    ),
    5003: ErrorInfo(
        "File URL failed",
        "Linq failed to generate a URL for the file.",
        "Retry shortly.",
        True,
    ),
    5004: ErrorInfo(
        "Invalid file type",
        "This file type is not accepted.",
        "Convert the file to a supported type (e.g. JPEG, PNG, MP4, PDF) and upload again.",
        False,
    ),
    5005: ErrorInfo(
        "File too large",
        "The file is over Linq's size limit.",
        "Send a smaller file.",
        False,
    ),
    5006: ErrorInfo(
        "Content type mismatch",
        "The uploaded bytes do not match the declared content_type.",
        "Declare the file's real content_type and upload again.",
        False,
    ),
    5007: ErrorInfo(
        "Image download failed",
        "Linq could not download the image from the URL given.",
        "Give a public https URL that serves the image directly.",
        False,
    ),
}


def error_info(code: int | None) -> ErrorInfo | None:
    """The table entry for a Linq error code, or None when the code is unknown."""
    if code is None:
        return None
    return ERROR_CODES.get(code)


# Used when Linq's answer has no code we know.
_STATUS_INFO: dict[int, ErrorInfo] = {
    400: ErrorInfo("Bad request", "Linq rejected the request as malformed.", "Fix the arguments.", False),
    401: ERROR_CODES[2004],
    403: ErrorInfo("Forbidden", "This API key may not do this.", "Don't retry.", False),
    404: ErrorInfo("Not found", "The resource does not exist for this account.", "Check the id.", False),
    405: ErrorInfo("Method not allowed", "The operation does not exist in this form.", "Don't retry.", False),
    409: ErrorInfo("Conflict", "The resource's state forbids this now.", "Read its state first.", False),
    413: ErrorInfo("Too large", "The request or file is too large.", "Send something smaller.", False),
    422: ErrorInfo("Unprocessable", "Linq understood the request but cannot do it.", "Change the request.", False),
    429: ERROR_CODES[1007],
    502: ErrorInfo("Bad gateway", "A proxy in front of Linq failed.", f"Wait, then {_SAME_KEY}.", True),
    503: ErrorInfo("Unavailable", "Linq is temporarily unavailable.", f"Wait, then {_SAME_KEY}.", True),
    504: ErrorInfo("Gateway timeout", "Linq did not answer in time.", f"Wait, then {_SAME_KEY}.", True),
}


def _info_for(exc: LinqAPIError) -> ErrorInfo | None:
    info = error_info(exc.code)
    if info is not None:
        return info
    if exc.status in _STATUS_INFO:
        return _STATUS_INFO[exc.status]
    if exc.status >= 500:
        return ErrorInfo("Server error", "Linq failed.", f"Wait, then {_SAME_KEY}.", True)
    return None


# --------------------------------------------------------------------------- tool errors

OUTCOME_UNKNOWN_KEYED = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "Retrying with the same idempotency_key is safe and will not send twice."
)
OUTCOME_UNKNOWN_IDEMPOTENT = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "Repeating exactly the same request is safe: it cannot act twice."
)
OUTCOME_UNKNOWN_UNKEYED = (
    "The outcome is unknown: the request may or may not have reached Linq. "
    "This operation has no idempotency key at Linq, so check whether it happened "
    "(for example with list_messages) before retrying."
)


def tool_error(exc: BaseException, *, idempotency_key: str | None = None) -> dict[str, Any]:
    """The ``structuredContent`` of an MCP error result for ``exc`` (None values omitted)."""
    payload: dict[str, Any]
    if isinstance(exc, LinqAPIError):
        info = _info_for(exc)
        payload = {
            "error": "rate_limited" if exc.status == 429 else "linq_api_error",
            "code": exc.code,
            "http_status": exc.status,
            "message": exc.message,
            "retry_after": exc.retry_after,
            "trace_id": exc.trace_id,
            "doc_url": exc.doc_url,
            "idempotency_key": idempotency_key,
        }
        if info is not None:
            payload.update(meaning=info.meaning, fix=info.fix, retryable=info.retryable)
        else:
            payload["retryable"] = False
    elif isinstance(exc, OutcomeUnknownError):
        key = idempotency_key or exc.idempotency_key
        if key is not None:
            message = OUTCOME_UNKNOWN_KEYED
            fix = "Retry with the same idempotency_key."
        elif exc.keyed:
            message = OUTCOME_UNKNOWN_IDEMPOTENT
            fix = "Repeat the same request, or read the resource to see whether it changed."
        else:
            message = OUTCOME_UNKNOWN_UNKEYED
            fix = "Look for the result (e.g. list_messages on the chat) before deciding to send again."
        payload = {
            "error": "outcome_unknown",
            "message": message,
            "meaning": "The connection failed after the request may have been sent.",
            "fix": fix,
            "retryable": bool(key is not None or exc.keyed),
            "idempotency_key": key,
        }
    elif isinstance(exc, LinqConnectionError):
        timeout = isinstance(exc, LinqTimeoutError)
        payload = {
            "error": "timeout" if timeout else "connection_error",
            "message": str(exc),
            "meaning": "Linq did not answer in time." if timeout else "linq-mcp could not reach Linq.",
            "fix": "Wait a few seconds and retry; if it persists, check the network or the base URL.",
            "retryable": True,
            "idempotency_key": idempotency_key,
        }
    elif isinstance(exc, ValidationFailed):
        payload = {
            "error": "invalid_arguments",
            "message": str(exc),
            "fix": "Correct the arguments listed in problems and call the tool again.",
            "retryable": False,
            "problems": exc.problems,
        }
    elif isinstance(exc, PolicyError):
        payload = {
            "error": "policy_refused",
            "rule": exc.rule,
            "message": scrub(exc.detail),
            "fix": "This was refused by the server's safety settings; only the user can change them.",
            "retryable": False,
        }
    elif isinstance(exc, ServerUnavailable):
        payload = {
            "error": "server_unavailable",
            "message": str(exc),
            "fix": "Nothing was sent. Tell the user the server's settings (e.g. --db-path) need fixing and a restart.",
            "retryable": False,
        }
    elif isinstance(exc, CatalogError):
        payload = {
            "error": "internal_error",
            "message": f"linq-mcp's API description is inconsistent: {scrub(str(exc))}",
            "retryable": False,
        }
    else:
        payload = {
            "error": "internal_error",
            "message": f"linq-mcp failed unexpectedly ({type(exc).__name__}). "
            "Whether the request reached Linq is unknown.",
            "retryable": False,
        }
    return {k: v for k, v in payload.items() if v is not None}


_HEADINGS = {
    "linq_api_error": "Linq API error",
    "rate_limited": "Rate limited by Linq",
    "connection_error": "Connection error",
    "timeout": "Timeout",
    "outcome_unknown": "Outcome unknown",
    "invalid_arguments": "Invalid arguments",
    "policy_refused": "Refused by policy",
    "internal_error": "Internal error",
    "server_unavailable": "Server unavailable",
}


# Fields render_tool_error writes in its own words; any other field is appended as "name: value".
# Output schemas never type these names, so an error result conforms to every tool's outputSchema.
ERROR_FIELDS = _RENDERED = frozenset(
    {
        "error",
        "http_status",
        "code",
        "message",
        "rule",
        "problems",
        "meaning",
        "fix",
        "preview",
        "confirm_token",
        "retryable",
        "retry_after",
        "idempotency_key",
        "trace_id",
        "doc_url",
    }
)


def render_tool_error(payload: Mapping[str, Any]) -> str:
    """The ``content`` text of an error result: everything the model must act on.

    Many clients (openai-agents, langchain-mcp-adapters, the anthropic tool runner,
    fastmcp's client) pass only this text to the model, never ``structuredContent``: so
    the code, meaning, fix, retry_after, trace_id, idempotency_key, a confirmation's
    preview and confirm_token, and any other field of ``payload`` are all written here.
    """
    kind = str(payload.get("error", "error"))
    head = _HEADINGS.get(kind, kind.replace("_", " ").capitalize())
    if "http_status" in payload:
        head += f" (HTTP {payload['http_status']}"
        head += f", code {payload['code']})" if "code" in payload else ")"
    lines = [f"{head}: {payload.get('message', '')}".rstrip(": ")]
    if "rule" in payload:
        lines.append(f"Rule: {payload['rule']}")
    for problem in payload.get("problems", []):
        item = f"- {problem.get('path') or '(arguments)'}: {problem.get('problem', 'invalid')}"
        if problem.get("expected"):
            item += f"; expected {problem['expected']}"
        if problem.get("example") is not None:
            item += f"; e.g. {json.dumps(problem['example'], ensure_ascii=False)}"
        lines.append(item)
    if "meaning" in payload:
        lines.append(f"Meaning: {payload['meaning']}")
    if "fix" in payload:
        lines.append(f"Fix: {payload['fix']}")
    if "preview" in payload:
        lines.append(f"Preview: {_compact(payload['preview'])}")
    if "confirm_token" in payload:
        lines.append(f"confirm_token: {payload['confirm_token']}")
    for name, value in payload.items():
        if name not in _RENDERED and value is not None:
            lines.append(f"{name}: {value if isinstance(value, str) else _compact(value)}")
    tail = []
    if "retryable" in payload:
        tail.append(f"retryable: {'yes' if payload['retryable'] else 'no'}")
    if "retry_after" in payload:
        tail.append(f"retry_after: {payload['retry_after']}s")
    if "idempotency_key" in payload:
        tail.append(f"idempotency_key: {payload['idempotency_key']}")
    if "trace_id" in payload:
        tail.append(f"trace_id: {payload['trace_id']}")
    if tail:
        lines.append("; ".join(tail))
    if "doc_url" in payload:
        lines.append(f"Docs: {payload['doc_url']}")
    return "\n".join(lines)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
