"""The webhook receiver: verify, parse, store durably, then (and only then) answer 2xx.

Order matters and is deliberate:

1. size limit (413) - before reading a byte more than allowed;
2. signature (401) - before the body is parsed or anything is stored;
3. JSON and envelope shape (400): strict UTF-8 JSON (no ``NaN``, no overflowing numbers),
   at most ``MAX_DEPTH`` levels deep, and storable as text. A signed body that is none of
   these is a 400 (Linq drops it) that stores nothing, never a 500 (Linq would retry forever);
4. ``EventLog.add`` (SQLite or PostgreSQL) - returns after the commit, so a 2xx means the event is durable.

Linq retries 5xx/timeouts and drops on other 4xx, so a duplicate (same ``event_id``) or a
replayed delivery (same ``webhook-id``) answers 200 and changes nothing. Rejections are
counted per reason for status reporting; nothing secret or message content is logged.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ..store.base import EventLog
from .events import InvalidEventError, normalise
from .verify import DEFAULT_TOLERANCE, WebhookVerificationError, WebhookVerifier

__all__ = ["DEFAULT_PATH", "ReceiverStats", "WebhookReceiver", "create_receiver_app"]

log = logging.getLogger("linq_mcp.webhooks")

DEFAULT_PATH = "/webhooks/linq"
DEFAULT_MAX_BODY = 1_000_000
MAX_DEPTH = 32  # Linq's envelopes nest about 6 deep; deeper is not a Linq event, and costly to walk later

_JSON = "application/json"
_OK = b'{"ok":true}'
_DUPLICATE = b'{"ok":true,"duplicate":true}'


@dataclass
class ReceiverStats:
    """Counters since start (in memory; exposed on the health route)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates, "rejected": dict(self.rejected)}


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether JSON ``value`` nests more than ``limit`` levels (iterative: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth >= limit:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


def _no_constant(name: str) -> Any:
    """``NaN``/``Infinity`` are not JSON; Python's parser accepts them unless told otherwise."""
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("number out of range")
    return value


class WebhookReceiver:
    """The receiving logic, independent of how it is mounted (own app or MCP custom route)."""

    def __init__(
        self,
        store: EventLog,
        secrets: Sequence[str],
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        tolerance: int = DEFAULT_TOLERANCE,
    ) -> None:
        self.store = store
        self.max_body_bytes = max_body_bytes
        self.stats = ReceiverStats()
        self._verifier = WebhookVerifier(secrets, tolerance=tolerance)

    def set_secrets(self, secrets: Sequence[str]) -> None:
        """Replace the accepted secrets (rotation) without restarting."""
        self._verifier = WebhookVerifier(secrets, tolerance=self._verifier.tolerance)

    def _reject(self, status: int, reason: str) -> tuple[int, bytes]:
        self.stats.rejected[reason] += 1
        log.warning("webhook rejected: %s", reason)
        return status, json.dumps({"ok": False, "error": reason}).encode()

    def _too_large(self, declared: str | None) -> bool:
        if declared is None:
            return False
        try:
            return int(declared) > self.max_body_bytes
        except ValueError:
            return False

    async def deliver(self, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Verify, parse and store one delivery; returns (HTTP status, JSON body).

        The order is the contract: signature before parsing; 2xx only after the commit.
        """
        if len(body) > self.max_body_bytes:
            return self._reject(413, "body_too_large")
        try:
            delivery = self._verifier(body, headers)
        except WebhookVerificationError as exc:
            return self._reject(503 if exc.reason == "no_secret" else 401, exc.reason)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._reject(400, "not_utf8")
        try:
            payload = json.loads(text, parse_constant=_no_constant, parse_float=_finite_float)
        except RecursionError:
            return self._reject(400, "too_deeply_nested")
        except ValueError:  # includes integers too long to parse
            return self._reject(400, "malformed_json")
        # Fast paths (C-speed counts) keep the common delivery cheap; the full checks run only when needed.
        if text.count("{") + text.count("[") > MAX_DEPTH and _deeper_than(payload, MAX_DEPTH):
            return self._reject(400, "too_deeply_nested")
        try:
            event = normalise(payload)
            if "\\ud" in text or "\\uD" in text:  # an escaped surrogate: is what the store writes writable?
                event.to_json(include_raw=False).encode("utf-8")
        except InvalidEventError:
            return self._reject(400, "not_envelope")
        except (ValueError, TypeError, RecursionError):  # e.g. a lone surrogate, a field of an absurd type
            return self._reject(400, "invalid_payload")

        try:
            new = await self.store.add(event, "webhook", raw_json=text, delivery_id=delivery.webhook_id)
        except Exception as exc:  # a store failure, not the sender's: 503 so Linq retries later
            log.error("webhook not stored (%s); answered 503 so Linq retries", type(exc).__name__)
            self.stats.rejected["store_unavailable"] += 1
            return 503, b'{"ok":false,"error":"store_unavailable"}'
        if new:
            self.stats.accepted += 1
            return 200, _OK
        self.stats.duplicates += 1
        log.info("webhook duplicate ignored: %s %s", event.event_type, event.event_id)
        return 200, _DUPLICATE

    async def handle(self, request: Request) -> Response:
        """``POST {path}`` as a Starlette route function (e.g. an MCP server custom route)."""
        if self._too_large(request.headers.get("content-length")):
            status, content = self._reject(413, "body_too_large")
            return Response(content, status_code=status, media_type=_JSON)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body_bytes:
                    status, content = self._reject(413, "body_too_large")
                    return Response(content, status_code=status, media_type=_JSON)
                chunks.append(chunk)
        except ClientDisconnect:
            self.stats.rejected["client_disconnect"] += 1
            return Response(status_code=400)
        status, content = await self.deliver(request.headers, b"".join(chunks))
        return Response(content, status_code=status, media_type=_JSON)

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST {path}`` as a bare ASGI app: the same contract, less per-request overhead."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status: int
        content: bytes
        if scope.get("method") != "POST":
            status, content = 405, b'{"ok":false,"error":"method_not_allowed"}'
        elif self._too_large(headers.get("content-length")):
            status, content = self._reject(413, "body_too_large")
        else:
            chunks: list[bytes] = []
            size = 0
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    self.stats.rejected["client_disconnect"] += 1
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body_bytes:
                    break
                chunks.append(chunk)
                more = message.get("more_body", False)
            if size > self.max_body_bytes:
                status, content = self._reject(413, "body_too_large")
            else:
                status, content = await self.deliver(headers, b"".join(chunks))
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))],
            }
        )
        await send({"type": "http.response.body", "body": content})

    async def health(self, request: Request) -> Response:
        """``GET {path}/health``: liveness plus counters (no secrets)."""
        body = {"ok": True, "secrets_configured": self._verifier.configured, **self.stats.as_dict()}
        return Response(json.dumps(body).encode(), media_type=_JSON)

    def routes(self, path: str = DEFAULT_PATH) -> list[BaseRoute]:
        """Starlette routes, ready to mount in another app (e.g. the MCP HTTP server)."""
        path = "/" + path.strip("/")
        return [
            Route(path, _AsgiEndpoint(self), methods=["POST"]),
            Route(f"{path}/health", self.health, methods=["GET"]),
        ]


class _AsgiEndpoint:
    """Wraps ``WebhookReceiver.asgi`` so Starlette mounts it as an ASGI app, not a route function."""

    def __init__(self, receiver: WebhookReceiver) -> None:
        self._receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._receiver.asgi(scope, receive, send)


def create_receiver_app(
    store: EventLog,
    secrets: Sequence[str],
    *,
    path: str = DEFAULT_PATH,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    tolerance: int = DEFAULT_TOLERANCE,
) -> Starlette:
    """A standalone Starlette app receiving Linq webhooks into ``store``.

    The app opens the store on startup and closes it on shutdown; ``app.state.receiver``
    is the ``WebhookReceiver`` (its ``handle``/``health`` are the raw route functions).
    """
    receiver = WebhookReceiver(store, secrets, max_body_bytes=max_body_bytes, tolerance=tolerance)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await store.open()
        try:
            yield
        finally:
            await store.aclose()

    app = Starlette(routes=receiver.routes(path), lifespan=lifespan)
    app.state.receiver = receiver
    return app


RouteFunction = Callable[[Request], Awaitable[Response]]
