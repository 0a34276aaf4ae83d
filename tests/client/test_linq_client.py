"""LinqClient against scripted MockTransport answers: retries, backoff, translation, hygiene."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linq_mcp import __version__
from linq_mcp.api.client import ApiRequest, ApiResponse, LinqClient, make_http_client
from linq_mcp.api.errors import (
    ConflictError,
    InternalServerError,
    LinqConnectionError,
    LinqTimeoutError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    tool_error,
)

BASE_URL = "https://api.test/api/partner"
KEY = "sk_test_key_1234"
CANARY = "sk_live_CANARY_c4n4ry_9f8e7d6c5b4a"
CHAT = "6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f"

Step = Callable[[httpx.Request], httpx.Response]


def reply(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Step:
    """A step that answers ``status`` with a JSON (or raw text/bytes) body."""

    def step(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str | bytes):
            return httpx.Response(status, content=body, headers=headers)
        if body is None:
            return httpx.Response(status, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    return step


def fail(exc_type: type[httpx.TransportError], text: str = "boom") -> Step:
    """A step that raises a transport error, as the network would."""

    def step(request: httpx.Request) -> httpx.Response:
        raise exc_type(text, request=request)

    return step


class Script:
    """Answers requests from a fixed list of steps and records every request it sees."""

    def __init__(self, *steps: Step, repeat_last: bool = False) -> None:
        self.steps = list(steps)
        self.repeat_last = repeat_last
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if len(self.steps) > 1 or (self.steps and not self.repeat_last):
            return self.steps.pop(0)(request)
        if self.steps:
            return self.steps[0](request)
        raise AssertionError("the client sent more requests than the script expected")

    @property
    def calls(self) -> int:
        return len(self.requests)


class Sleeps(list[float]):
    """An instant ``sleep`` that records how long the client asked to wait."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client_for(sleeps: Sleeps) -> Iterator[Callable[..., LinqClient]]:
    def build(script: Script, *, api_key: str = KEY, rng: Callable[[], float] = lambda: 0.5, **kw: Any) -> LinqClient:
        http = make_http_client(BASE_URL, api_key, transport=httpx.MockTransport(script))
        return LinqClient(http, sleep=sleeps, rng=rng, **kw)

    yield build


def envelope(status: int, code: int, message: str, **extra: Any) -> dict[str, Any]:
    error = {"status": status, "code": code, "message": message, **extra}
    return {"success": False, "error": error, "trace_id": "body-trace"}


GET_CHATS = ApiRequest("GET", "/v3/chats", [], None, {}, True)
SEND_UNKEYED = ApiRequest("POST", f"/v3/chats/{CHAT}/voicememo", [], {"voice_memo_url": "https://x/a.m4a"}, {}, False)
SEND_KEYED = ApiRequest(
    "POST",
    f"/v3/chats/{CHAT}/messages",
    [],
    {"message": {"parts": [{"type": "text", "value": "hi"}], "idempotency_key": "key-1"}},
    {},
    True,
)
OK_CHATS = reply(200, {"chats": [], "next_cursor": None}, {"X-Trace-ID": "t-ok"})


# ----------------------------------------------------------------- success


async def test_2xx_returns_parsed_json_and_trace_id(client_for: Callable[..., LinqClient]) -> None:
    """A 2xx answer becomes an ApiResponse with the parsed body and the X-Trace-ID header."""
    client = client_for(Script(OK_CHATS))
    assert await client.send(GET_CHATS) == ApiResponse(200, {"chats": [], "next_cursor": None}, "t-ok")


async def test_204_gives_body_none(client_for: Callable[..., LinqClient]) -> None:
    """An empty 204 has no body to parse: body is None."""
    client = client_for(Script(reply(204, headers={"X-Trace-ID": "t"})))
    response = await client.send(ApiRequest("POST", f"/v3/chats/{CHAT}/read", [], None, {}, True))
    assert (response.status, response.body) == (204, None)


async def test_request_carries_auth_accept_user_agent_query_and_json(
    client_for: Callable[..., LinqClient],
) -> None:
    """The built request has Bearer auth, JSON accept, our User-Agent, repeated query keys and the body."""
    script = Script(reply(200, {}))
    client = client_for(script)
    request = ApiRequest("POST", "/v3/messages", [("to", "a"), ("to", "b")], {"x": 1}, {"Idempotency-Key": "k1"}, True)
    await client.send(request)
    sent = script.requests[0]
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["accept"] == "application/json"
    assert sent.headers["user-agent"] == f"linq-mcp/{__version__}"
    assert sent.headers["idempotency-key"] == "k1"
    assert str(sent.url) == f"{BASE_URL}/v3/messages?to=a&to=b"
    assert json.loads(sent.content) == {"x": 1}


def test_default_timeouts_are_bounded() -> None:
    """Without a timeout argument the client uses connect 5 s, read/write 30 s, pool 10 s."""
    http = make_http_client(BASE_URL, KEY)
    assert http.timeout == httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)


async def test_async_context_manager_closes_the_http_client() -> None:
    """Leaving ``async with LinqClient(...)`` closes the shared httpx client."""
    http = make_http_client(BASE_URL, KEY, transport=httpx.MockTransport(Script()))
    async with LinqClient(http) as client:
        assert isinstance(client, LinqClient)
    assert http.is_closed


# ----------------------------------------------------------------- retries


async def test_get_is_retried_after_503_then_succeeds(client_for: Callable[..., LinqClient], sleeps: Sleeps) -> None:
    """A replay-safe GET that meets a 503 is sent again and the second answer is returned."""
    script = Script(reply(503, envelope(503, 4004, "Service unavailable")), OK_CHATS)
    response = await client_for(script).send(GET_CHATS)
    assert response.status == 200
    assert script.calls == 2
    assert len(sleeps) == 1


async def test_429_waits_retry_after_then_succeeds_even_when_not_replay_safe(
    client_for: Callable[..., LinqClient], sleeps: Sleeps
) -> None:
    """429 means Linq did nothing, so any request waits Retry-After seconds and is sent again."""
    limited = reply(429, envelope(429, 1007, "Rate limited", retry_after=7), {"Retry-After": "7"})
    script = Script(limited, reply(202, {}))
    response = await client_for(script).send(SEND_UNKEYED)
    assert response.status == 202
    assert sleeps == [7.0]
    assert script.calls == 2


async def test_429_without_header_uses_envelope_retry_after(
    client_for: Callable[..., LinqClient], sleeps: Sleeps
) -> None:
    """When the Retry-After header is missing, error.retry_after decides the wait."""
    script = Script(reply(429, envelope(429, 1007, "Rate limited", retry_after=3)), OK_CHATS)
    await client_for(script).send(GET_CHATS)
    assert sleeps == [3.0]


async def test_retry_after_over_the_cap_raises_rate_limit_error_without_waiting(
    client_for: Callable[..., LinqClient], sleeps: Sleeps
) -> None:
    """A wait longer than retry_after_cap is not slept through: RateLimitError carries retry_after."""
    script = Script(reply(429, envelope(429, 1007, "Rate limited", retry_after=120), {"Retry-After": "120"}))
    with pytest.raises(RateLimitError) as info:
        await client_for(script, retry_after_cap=30.0).send(GET_CHATS)
    assert info.value.retry_after == 120
    assert info.value.code == 1007
    assert sleeps == []
    assert script.calls == 1


async def test_non_replay_safe_post_is_not_retried_after_read_timeout(
    client_for: Callable[..., LinqClient], sleeps: Sleeps
) -> None:
    """A send without a key whose answer timed out may have been delivered: OutcomeUnknownError, once."""
    script = Script(fail(httpx.ReadTimeout))
    with pytest.raises(OutcomeUnknownError) as info:
        await client_for(script).send(SEND_UNKEYED)
    assert info.value.keyed is False
    assert script.calls == 1
    assert sleeps == []


async def test_replay_safe_post_is_retried_after_remote_protocol_error(
    client_for: Callable[..., LinqClient],
) -> None:
    """A keyed send whose connection dropped is sent again; Linq's key makes that safe."""
    script = Script(fail(httpx.RemoteProtocolError), reply(202, {"chat_id": CHAT}))
    response = await client_for(script).send(SEND_KEYED)
    assert response.body == {"chat_id": CHAT}
    assert script.calls == 2
    assert json.loads(script.requests[0].content) == json.loads(script.requests[1].content)


async def test_connect_error_is_retried_for_non_replay_safe_post(
    client_for: Callable[..., LinqClient],
) -> None:
    """A connection that never opened carried nothing, so even an unkeyed send is retried."""
    script = Script(fail(httpx.ConnectError), fail(httpx.ConnectTimeout), reply(202, {}))
    response = await client_for(script).send(SEND_UNKEYED)
    assert response.status == 202
    assert script.calls == 3


@pytest.mark.parametrize("request_", [GET_CHATS, SEND_KEYED], ids=["get", "keyed-post"])
async def test_500_is_never_retried(client_for: Callable[..., LinqClient], request_: ApiRequest) -> None:
    """A 500 may mean Linq acted; it is raised at once, even for replay-safe requests."""
    script = Script(reply(500, envelope(500, 3006, "Internal server error")))
    with pytest.raises(InternalServerError):
        await client_for(script).send(request_)
    assert script.calls == 1


async def test_503_on_non_replay_safe_post_is_raised_without_retry(
    client_for: Callable[..., LinqClient],
) -> None:
    """A gateway error on an unkeyed send is reported, not resent."""
    script = Script(reply(503, envelope(503, 4004, "Service unavailable")))
    with pytest.raises(InternalServerError) as info:
        await client_for(script).send(SEND_UNKEYED)
    assert info.value.status == 503
    assert script.calls == 1


async def test_4xx_is_never_retried(client_for: Callable[..., LinqClient]) -> None:
    """A 409 (the SDK would retry it) is raised after one attempt."""
    script = Script(reply(409, envelope(409, 2009, "Chat is still being created")))
    with pytest.raises(ConflictError) as info:
        await client_for(script).send(GET_CHATS)
    assert info.value.code == 2009
    assert script.calls == 1


async def test_max_retries_is_honoured(client_for: Callable[..., LinqClient], sleeps: Sleeps) -> None:
    """With max_retries=2 a GET that keeps getting 503 is sent 3 times, then the 503 is raised."""
    script = Script(reply(503, envelope(503, 4004, "Service unavailable")), repeat_last=True)
    with pytest.raises(InternalServerError):
        await client_for(script, max_retries=2).send(GET_CHATS)
    assert script.calls == 3
    assert len(sleeps) == 2


async def test_max_retries_zero_sends_once(client_for: Callable[..., LinqClient]) -> None:
    """max_retries=0 turns retries off, even for a connect error."""
    script = Script(fail(httpx.ConnectError), repeat_last=True)
    with pytest.raises(LinqConnectionError):
        await client_for(script, max_retries=0).send(GET_CHATS)
    assert script.calls == 1


async def test_keyed_send_that_keeps_losing_answers_ends_outcome_unknown_keyed(
    client_for: Callable[..., LinqClient],
) -> None:
    """After the last retry of a keyed send the outcome is unknown, but safe to retry with the key."""
    script = Script(fail(httpx.RemoteProtocolError), repeat_last=True)
    with pytest.raises(OutcomeUnknownError) as info:
        await client_for(script, max_retries=2).send(SEND_KEYED)
    assert (info.value.keyed, info.value.idempotency_key, info.value.attempts) == (True, "key-1", 3)
    assert script.calls == 3


async def test_get_that_keeps_timing_out_raises_timeout_error(client_for: Callable[..., LinqClient]) -> None:
    """A read has no outcome to lose: exhausted read timeouts are a LinqTimeoutError."""
    script = Script(fail(httpx.ReadTimeout), repeat_last=True)
    with pytest.raises(LinqTimeoutError):
        await client_for(script, max_retries=1).send(GET_CHATS)
    assert script.calls == 2


async def test_connect_error_exhausted_is_a_connection_error_that_sent_nothing(
    client_for: Callable[..., LinqClient],
) -> None:
    """When the connection never opens, the unkeyed send fails as a connection error, not outcome unknown."""
    script = Script(fail(httpx.ConnectError), repeat_last=True)
    with pytest.raises(LinqConnectionError) as info:
        await client_for(script, max_retries=1).send(SEND_UNKEYED)
    assert not isinstance(info.value, OutcomeUnknownError)
    assert info.value.sent is False


# ----------------------------------------------------------------- backoff


async def test_backoff_doubles_up_to_the_cap(client_for: Callable[..., LinqClient], sleeps: Sleeps) -> None:
    """With jitter at its top, waits are base*2**n capped: 0.5, 1, 2, 4, 8, 8."""
    script = Script(fail(httpx.ConnectError), repeat_last=True)
    with pytest.raises(LinqConnectionError):
        await client_for(script, rng=lambda: 1.0, max_retries=6).send(GET_CHATS)
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


async def test_backoff_is_scaled_by_the_jitter_draw(client_for: Callable[..., LinqClient], sleeps: Sleeps) -> None:
    """Full jitter: each wait is its ceiling times a fresh rng() draw."""
    draws = iter([0.25, 0.5, 0.75])
    script = Script(fail(httpx.ConnectError), fail(httpx.ConnectError), fail(httpx.ConnectError), OK_CHATS)
    await client_for(script, rng=lambda: next(draws)).send(GET_CHATS)
    assert sleeps == [0.125, 0.5, 1.5]


@given(retry=st.integers(min_value=0, max_value=40), draw=st.floats(min_value=0.0, max_value=0.999999))
def test_backoff_stays_within_zero_and_the_capped_ceiling(retry: int, draw: float) -> None:
    """Every jittered wait is in [0, min(cap, base * 2**retry))."""
    http = make_http_client(BASE_URL, KEY, transport=httpx.MockTransport(Script()))
    client = LinqClient(http, backoff_base=0.5, backoff_cap=8.0, rng=lambda: draw)
    ceiling = min(8.0, 0.5 * 2**retry)
    assert 0.0 <= client.backoff(retry) <= ceiling
    assert client.backoff(retry) == pytest.approx(ceiling * draw)


# ----------------------------------------------------------------- translation


async def test_envelope_is_parsed_into_not_found_error(client_for: Callable[..., LinqClient]) -> None:
    """Linq's 404 envelope gives NotFoundError with its code, message, doc_url and the header trace id."""
    body = envelope(404, 2001, "Chat not found", doc_url="https://docs.linqapp.com/error/codes/2xxx/2001/")
    script = Script(reply(404, body, {"X-Trace-ID": "2eff5df5c6f688733c007523c4d61cd9"}))
    with pytest.raises(NotFoundError) as info:
        await client_for(script).send(ApiRequest("GET", f"/v3/chats/{CHAT}", [], None, {}, True))
    err = info.value
    assert (err.status, err.code, err.message) == (404, 2001, "Chat not found")
    assert err.doc_url == "https://docs.linqapp.com/error/codes/2xxx/2001/"
    assert err.trace_id == "2eff5df5c6f688733c007523c4d61cd9"


async def test_non_json_502_body_gives_a_short_message(client_for: Callable[..., LinqClient]) -> None:
    """A proxy's HTML error page becomes a short one-line message, not a body dump."""
    page = "<html><head><title>502 Bad Gateway</title></head><body>" + "x" * 5000 + "</body></html>"
    script = Script(reply(502, page, {"Content-Type": "text/html"}))
    with pytest.raises(InternalServerError) as info:
        await client_for(script).send(SEND_UNKEYED)
    assert info.value.message.startswith("HTTP 502 Bad Gateway")
    assert len(info.value.message) <= 200
    assert "<" not in info.value.message and "\n" not in info.value.message
    assert info.value.code is None


def _echo_key(request: httpx.Request) -> httpx.Response:
    """A misbehaving server that echoes the Authorization header back in its error message."""
    auth = request.headers["authorization"]
    return httpx.Response(401, json=envelope(401, 2004, f"Unauthorized: bad token {auth}"))


def _echo_key_raw(request: httpx.Request) -> httpx.Response:
    return httpx.Response(502, text=f"upstream said: token={CANARY}")


def _raise_with_key(exc_type: type[httpx.TransportError]) -> Step:
    def step(request: httpx.Request) -> httpx.Response:
        raise exc_type(f"failure talking with {request.headers['authorization']}", request=request)

    return step


@pytest.mark.parametrize(
    ("step", "request_"),
    [
        (_echo_key, GET_CHATS),
        (_echo_key_raw, SEND_UNKEYED),
        (_raise_with_key(httpx.ConnectError), GET_CHATS),
        (_raise_with_key(httpx.ReadTimeout), SEND_UNKEYED),
        (_raise_with_key(httpx.RemoteProtocolError), SEND_KEYED),
    ],
    ids=["echoed-in-envelope", "echoed-in-raw-body", "connect-error", "read-timeout", "dropped"],
)
async def test_api_key_never_appears_in_exception_text_or_logs(
    client_for: Callable[..., LinqClient],
    caplog: pytest.LogCaptureFixture,
    step: Step,
    request_: ApiRequest,
) -> None:
    """Whatever the server or network says, the key is in no exception text, tool payload or log record."""
    caplog.set_level(logging.DEBUG)
    client = client_for(Script(step, repeat_last=True), api_key=CANARY, max_retries=1)
    with pytest.raises(Exception) as info:
        await client.send(request_)
    texts = [str(info.value), repr(info.value), json.dumps(tool_error(info.value))]
    texts += [record.getMessage() for record in caplog.records]
    assert caplog.records, "expected the client to log its attempts"
    for text in texts:
        assert CANARY not in text
        assert "c4n4ry" not in text


async def test_log_lines_hide_ids_handles_and_query_values(
    client_for: Callable[..., LinqClient], caplog: pytest.LogCaptureFixture
) -> None:
    """One DEBUG line per attempt names method, path shape, status and attempt, with no ids or values."""
    caplog.set_level(logging.DEBUG, logger="linq_mcp.api.client")
    script = Script(reply(503, envelope(503, 4004, "x")), reply(200, {}))
    request = ApiRequest(
        "GET", "/v3/phone_numbers/+15550100001/reputation_audit/" + CHAT, [("cursor", "s3cr3tcur")], None, {}, True
    )
    await client_for(script).send(request)
    lines = [r.getMessage() for r in caplog.records if r.name == "linq_mcp.api.client"]
    assert len(lines) == 2
    assert lines[0].startswith("GET /v3/phone_numbers/{}/reputation_audit/{} -> 503")
    assert "attempt 1" in lines[0] and "attempt 2" in lines[1]
    for line in lines:
        assert "15550100001" not in line and CHAT not in line and "s3cr3tcur" not in line


async def test_outcome_unknown_records_a_header_idempotency_key(client_for: Callable[..., LinqClient]) -> None:
    """A send keyed by the Idempotency-Key header reports that key once its retries run out."""
    request = ApiRequest("POST", "/v3/messages", [], {"to": ["x"]}, {"Idempotency-Key": "hdr-key"}, True)
    script = Script(fail(httpx.ReadError), repeat_last=True)
    with pytest.raises(OutcomeUnknownError) as info:
        await client_for(script, max_retries=1).send(request)
    assert (info.value.keyed, info.value.idempotency_key) == (True, "hdr-key")
