"""The secrets this process holds, and the one function that keeps them out of everything it emits.

Linq (or anything posing as it) can echo what it was sent: the API key in an error's
``doc_url``, in a 2xx body, in a header. Whatever it echoes, no tool result, resource,
or log line may carry the API key, a webhook signing secret or the server's signing
secret. Each is registered here when it is loaded; :func:`redact` runs at the exits
(the MCP server's results and the log formatter) and replaces every occurrence.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = ["REDACTED", "RedactingFormatter", "redact", "redact_logs", "redact_text", "register_secret"]

REDACTED = "[redacted]"
# Shorter values are not secrets worth the name, and replacing them would mangle ordinary text.
MIN_SECRET_CHARS = 8

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(value: str | bytes | None) -> None:
    """Remember ``value`` (and its URL-encoded spellings) as something never to emit."""
    global _secrets
    if isinstance(value, bytes):
        forms = [value.hex()]
        try:
            forms.append(value.decode())
        except UnicodeDecodeError:
            pass
    elif value:
        forms = [value, value.strip()]
    else:
        return
    spelled = {s for form in forms for s in (form, quote(form, safe=""), quote_plus(form))}
    fresh = {s for s in spelled if len(s) >= MIN_SECRET_CHARS}
    with _lock:
        # Longest first, so a secret that contains another is replaced whole.
        _secrets = tuple(sorted(set(_secrets) | fresh, key=len, reverse=True))


def redact_text(text: str, extra: Iterable[str] = ()) -> str:
    for secret in (*_secrets, *extra):
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact(value: Any) -> Any:
    """``value`` with every registered secret replaced, in strings, keys, lists and models alike."""
    if not _secrets:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {redact(k): redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(v) for v in value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):  # a pydantic model (an MCP result): rebuild it only if a secret is in it
        data = dump(by_alias=True, exclude_none=True)
        clean = redact(data)
        return value if clean == data else type(value).model_validate(clean)
    return value


class RedactingFormatter(logging.Formatter):
    """Wraps a handler's formatter: the finished line (traceback included) is redacted."""

    def __init__(self, inner: logging.Formatter | None = None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return redact_text(self.inner.format(record))


def redact_logs(loggers: Iterable[str] = ("",)) -> None:
    """Put every handler of these loggers behind :class:`RedactingFormatter` (idempotent)."""
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            if not isinstance(handler.formatter, RedactingFormatter):
                handler.setFormatter(RedactingFormatter(handler.formatter))
