"""The one HTTP client to Linq: auth, retries that never send twice, error translation.

``make_http_client`` builds the shared ``httpx.AsyncClient`` (created once in the server
lifespan; the transport is injected for the sandbox and for tests). ``LinqClient.send``
is the only place HTTP meets the rest of linq-mcp: every httpx error and every non-2xx
answer is translated here into the tree in ``errors.py``.

Retry rules (at most ``max_retries``, exponential backoff with full jitter):

- the connection was never made (connect error/timeout, pool timeout): always retry;
  the request never left us;
- 429: Linq refused before doing anything, so always retry after ``Retry-After``, unless
  it asks for longer than ``retry_after_cap``: then raise ``RateLimitError`` at once;
- 502/503/504 and transport failures after the request may have been sent: retry only
  when ``request.replay_safe``. Otherwise a lost response is ``OutcomeUnknownError`` and a
  gateway error is raised as is: a second send could deliver the message twice;
- 500 and every other 4xx: never retried.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import anyio
import httpx

from linq_mcp import __version__
from linq_mcp.api.errors import (
    LinqAPIError,
    LinqConnectionError,
    LinqTimeoutError,
    OutcomeUnknownError,
    api_error_from_response,
)
from linq_mcp.config.redact import register_secret

__all__ = [
    "DEFAULT_LIMITS",
    "DEFAULT_TIMEOUT",
    "ApiRequest",
    "ApiResponse",
    "LinqClient",
    "make_http_client",
]

log = logging.getLogger("linq_mcp.api.client")

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
# An MCP server serves one assistant: a few concurrent calls, rarely more.
DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=5, keepalive_expiry=30.0)
USER_AGENT = f"linq-mcp/{__version__}"

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
GATEWAY_STATUSES = frozenset({502, 503, 504})
# The request never reached Linq: always safe to try again.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request never left us and never will: retrying cannot help.
NOT_SENT_FATAL = (httpx.UnsupportedProtocol, httpx.ProxyError, httpx.LocalProtocolError)


@dataclass(frozen=True)
class ApiRequest:
    """One call to Linq, already built from a tool's arguments."""

    method: str  # "GET", "POST", ...
    path: str  # formatted, e.g. "/v3/chats/6f1c.../messages"
    query: list[tuple[str, str]] = field(default_factory=list)  # repeated keys allowed
    json: Any | None = None  # body, or None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Idempotency-Key": "..."}
    replay_safe: bool = False  # True when sending it twice cannot act twice


@dataclass(frozen=True)
class ApiResponse:
    """A 2xx answer: ``body`` is parsed JSON (text if not JSON), None when empty."""

    status: int
    body: Any
    trace_id: str | None


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class LinqHTTPClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that keeps no cookies.

    Linq authenticates with a bearer token and sets none; httpx would otherwise parse
    every response's headers for them (a tenth of an in-process call's cost).
    """

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise AttributeError("the Linq client keeps no cookies")


_NO_COOKIES = _NoCookies()


def make_http_client(
    base_url: str,
    api_key: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout | None = None,
    user_agent: str = USER_AGENT,
) -> httpx.AsyncClient:
    """The shared ``httpx.AsyncClient`` for Linq: Bearer auth, JSON, bounded timeouts.

    Redirects are not followed (Linq does not redirect, and following one would resend
    the Authorization header elsewhere). httpx's own INFO request log prints full URLs,
    query values included (phone numbers), so it is quieted unless configured already.
    """
    register_secret(api_key)  # whatever Linq echoes, the key never leaves this process
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)
    return LinqHTTPClient(
        base_url=base_url,
        headers={
            "Authorization": f"Bearer {api_key}",
            "Accept": "application/json",
            "User-Agent": user_agent,
        },
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        limits=DEFAULT_LIMITS,
        transport=transport,
        follow_redirects=False,
    )


_SAFE_SEGMENT = re.compile(r"^(?:v\d+|[a-z][a-z_-]*)$")


def path_for_log(path: str) -> str:
    """The path with ids and handles replaced by ``{}``: ``/v3/chats/{}/messages``."""
    path = path.split("?", 1)[0]
    return "/".join(seg if not seg or _SAFE_SEGMENT.match(seg) else "{}" for seg in path.split("/"))


def _idempotency_key(request: ApiRequest) -> str | None:
    """The key a send carries, wherever Linq reads it (header, message or poll)."""
    for name, value in request.headers.items():
        if name.lower() == "idempotency-key" and value:
            return value
    if isinstance(request.json, dict):
        for holder in ("message", "poll"):
            part = request.json.get(holder)
            if isinstance(part, dict) and isinstance(part.get("idempotency_key"), str):
                key: str = part["idempotency_key"]
                return key
    return None


class LinqClient:
    """Sends ApiRequests to Linq over one ``httpx.AsyncClient`` and translates the outcome.

    ``send`` returns an ApiResponse for 2xx and otherwise raises: ``LinqAPIError`` (by
    status), ``LinqConnectionError``/``LinqTimeoutError`` (nothing happened at Linq, or a
    read), or ``OutcomeUnknownError`` (a non-read may have acted; its answer was lost).
    ``sleep`` and ``rng`` are injectable so tests run instantly and deterministically.
    """

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        retry_after_cap: float = 30.0,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self._http = http
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after_cap = retry_after_cap
        self._sleep = sleep
        self._rng = rng
        # Requests are built here rather than by ``build_request`` (which re-parses the base
        # URL and re-merges the client's headers on every call) when nothing client-level
        # would be missed: no default query params, no cookies.
        self._fast = not http.params and not http.cookies
        self._base = str(http.base_url).rstrip("/")
        self._extensions = {"timeout": http.timeout.as_dict()}
        auth = http.headers.get("authorization", "")
        token = auth.partition(" ")[2].strip()
        # Never let a server's echo of the key reach an error message.
        self._secrets: tuple[str, ...] = (token,) if token else ()

    async def __aenter__(self) -> LinqClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def backoff(self, retry: int) -> float:
        """Full jitter: uniform in ``[0, min(cap, base * 2**retry))`` for the 0-based retry."""
        return min(self.backoff_cap, self.backoff_base * 2.0**retry) * self._rng()

    async def send(self, request: ApiRequest) -> ApiResponse:
        """Send ``request``, retrying only where a second send cannot act twice."""
        method = request.method.upper()
        log_path = path_for_log(request.path)
        attempt = 0
        while True:
            attempt += 1
            retries_left = attempt <= self.max_retries
            started = time.monotonic()
            try:
                response = await self._http.send(self._build(request, method))
            except httpx.TransportError as exc:
                elapsed = (time.monotonic() - started) * 1000
                failure = self._transport_failure(request, method, exc, attempt)
                if failure is None and retries_left:
                    wait = self.backoff(attempt - 1)
                    self._log(method, log_path, type(exc).__name__, elapsed, attempt, wait)
                    await self._sleep(wait)
                    continue
                self._log(method, log_path, type(exc).__name__, elapsed, attempt, None)
                raise (failure or self._exhausted(request, method, exc, attempt)) from None
            except httpx.RequestError as exc:  # e.g. a body that cannot be decoded
                elapsed = (time.monotonic() - started) * 1000
                self._log(method, log_path, type(exc).__name__, elapsed, attempt, None)
                raise self._exhausted(request, method, exc, attempt) from None

            elapsed = (time.monotonic() - started) * 1000
            status = response.status_code
            trace_id = response.headers.get("x-trace-id")
            if 200 <= status < 300:
                self._log(method, log_path, str(status), elapsed, attempt, None)
                return ApiResponse(status, _parse_body(response), trace_id)

            error = api_error_from_response(status, response.content, response.headers, secrets=self._secrets)
            delay = self._retry_delay(request, error, attempt) if retries_left else None
            self._log(method, log_path, str(status), elapsed, attempt, delay)
            if delay is None:
                raise error
            await self._sleep(delay)

    # ------------------------------------------------------------------ internals

    def _build(self, request: ApiRequest, method: str) -> httpx.Request:
        if self._fast:
            url = self._base + request.path
            if request.query:
                url += "?" + str(httpx.QueryParams(tuple(request.query)))
            headers = self._http.headers
            if request.headers:
                headers = headers.copy()
                headers.update(request.headers)
            return httpx.Request(method, url, json=request.json, headers=headers, extensions=self._extensions)
        return self._http.build_request(
            method,
            request.path,
            params=tuple(request.query) if request.query else None,
            json=request.json,
            headers=request.headers or None,
        )

    def _retry_delay(self, request: ApiRequest, error: LinqAPIError, attempt: int) -> float | None:
        """Seconds to wait before retrying this error response, or None to raise it now."""
        # A 429 means Linq refused before acting, so it is safe for every request.
        if error.status != 429 and not (error.status in GATEWAY_STATUSES and request.replay_safe):
            return None
        if error.retry_after is not None:
            if error.retry_after > self.retry_after_cap:
                return None  # too long to block a tool call; the caller reports retry_after
            return float(error.retry_after)
        return self.backoff(attempt - 1)

    def _transport_failure(
        self, request: ApiRequest, method: str, exc: httpx.TransportError, attempt: int
    ) -> Exception | None:
        """The error to raise now for ``exc``, or None when a retry is allowed."""
        name = type(exc).__name__
        if isinstance(exc, NOT_SENT):
            return None
        if isinstance(exc, NOT_SENT_FATAL):
            return LinqConnectionError(f"Could not reach Linq ({name}); the request was not sent.")
        if request.replay_safe:
            return None
        if method in READ_METHODS:
            return self._exhausted(request, method, exc, attempt)
        return OutcomeUnknownError(keyed=False, cause=name, attempts=attempt)

    def _exhausted(
        self, request: ApiRequest, method: str, exc: httpx.RequestError, attempt: int
    ) -> LinqConnectionError | OutcomeUnknownError:
        """The error for a transport failure we will not (or may no longer) retry."""
        name = type(exc).__name__
        tries = f" after {attempt} attempt{'s' if attempt != 1 else ''}"
        if isinstance(exc, NOT_SENT):
            if isinstance(exc, httpx.TimeoutException):
                return LinqTimeoutError(f"Linq did not accept the connection in time ({name}{tries}).")
            return LinqConnectionError(f"Could not connect to Linq ({name}{tries}); nothing was sent.")
        if method in READ_METHODS:
            if isinstance(exc, httpx.TimeoutException):
                return LinqTimeoutError(f"Linq did not answer in time ({name}{tries}).", sent=True)
            return LinqConnectionError(f"The connection to Linq failed ({name}{tries}).", sent=True)
        return OutcomeUnknownError(
            keyed=request.replay_safe,
            idempotency_key=_idempotency_key(request) if request.replay_safe else None,
            cause=name,
            attempts=attempt,
        )

    @staticmethod
    def _log(method: str, path: str, outcome: str, elapsed_ms: float, attempt: int, retry_in: float | None) -> None:
        """One terse DEBUG line per attempt: never headers, bodies, query values or handles."""
        if retry_in is None:
            log.debug("%s %s -> %s %.0fms attempt %d", method, path, outcome, elapsed_ms, attempt)
        else:
            log.debug(
                "%s %s -> %s %.0fms attempt %d, retry in %.2fs",
                *(method, path, outcome, elapsed_ms, attempt, retry_in),
            )


def _parse_body(response: httpx.Response) -> Any:
    if not response.content or response.status_code == 204:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text
