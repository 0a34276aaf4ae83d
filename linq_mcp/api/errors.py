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
    └── CatalogError                 the API description is broken (a startup bug)

``api_error_from_response`` builds the right ``LinqAPIError`` from Linq's answer, its
message scrubbed of handles and secrets. What a code means is data
(``spec/error-codes.json``, read by ``codes.py``); how an error is shown to the model is
``tool_errors.py``.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from linq_mcp.api.codes import error_info

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "CatalogError",
    "ConflictError",
    "EarlierOutcomeUnknown",
    "InternalServerError",
    "LinqAPIError",
    "LinqConnectionError",
    "LinqMCPError",
    "LinqTimeoutError",
    "LocalToolFailed",
    "NotConfirmed",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "UnprocessableEntityError",
    "ValidationFailed",
    "api_error_from_response",
    "parse_retry_after",
    "scrub",
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


class EarlierOutcomeUnknown(LinqMCPError):
    """An earlier call with this idempotency key has no known outcome, and Linq does not
    de-duplicate the operation: sending again could deliver it twice."""

    def __init__(self, tool: str, state: str) -> None:
        self.tool = tool
        self.state = state
        super().__init__(f"an earlier {tool} call with this idempotency_key has an {state} outcome")


class NotConfirmed(LinqMCPError):
    """The person was asked to confirm a send and it did not go ahead: ``declined`` (said no; it
    stays declined), ``dismissed`` (closed the question) or ``unavailable`` (asking failed)."""

    def __init__(self, how: str, *, reason: str = "") -> None:
        self.how = how
        self.reason = reason
        super().__init__(f"the person did not confirm the send ({how})")


class LocalToolFailed(LinqMCPError):
    """A tool that only reads linq-mcp's own data failed: nothing reached Linq."""

    def __init__(self, tool: str, cause: BaseException) -> None:
        self.tool = tool
        self.cause_name = type(cause).__name__
        super().__init__(f"{tool} failed reading linq-mcp's local data ({self.cause_name})")


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
