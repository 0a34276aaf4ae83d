"""LinqClient against the simulated Linq API: real envelopes, real auth, injected faults."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from linq_mcp.api.client import ApiRequest, LinqClient, make_http_client
from linq_mcp.api.errors import AuthenticationError, NotFoundError, OutcomeUnknownError
from linq_mcp.sandbox.app import Sandbox, _compile, _Compiled
from linq_mcp.sandbox.router import Ctx, Reply, RouteDef
from linq_mcp.sandbox.transport import SandboxTransport

BASE_URL = "http://sandbox.local/api/partner"
PROBE_PATH = "/v3/_client_probe"


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


class Probe:
    """A test-only API route that counts how many times Linq really carried it out.

    It keeps these tests independent of which real routes the sandbox has so far, and
    it lets a test prove that a lost response did not lead to a second execution.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.runs: dict[str, int] = {"GET": 0, "POST": 0}
        for method in self.runs:
            route = RouteDef(method, PROBE_PATH, f"client_probe_{method.lower()}", self._handler(method))
            sandbox.api_routes.append(_Compiled(_compile(PROBE_PATH), route))

    def _handler(self, method: str) -> Callable[[Ctx], Awaitable[Reply]]:
        async def handle(ctx: Ctx) -> Reply:
            self.runs[method] += 1
            return Reply(201 if method == "POST" else 200, {"runs": self.runs[method]})

        return handle


@pytest.fixture
def probe(sandbox: Sandbox) -> Probe:
    return Probe(sandbox)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def linq(sandbox: Sandbox, sleeps: Sleeps) -> AsyncIterator[LinqClient]:
    http = make_http_client(BASE_URL, sandbox.api_key, transport=SandboxTransport(sandbox.app))
    async with LinqClient(http, sleep=sleeps) as client:
        yield client


PROBE_GET = ApiRequest("GET", PROBE_PATH, [], None, {}, True)
PROBE_SEND = ApiRequest("POST", PROBE_PATH, [], {"message": {"parts": [{"type": "text", "value": "hi"}]}}, {}, False)


def _has_route(sandbox: Sandbox, method: str, path: str) -> bool:
    return any(c.route.method == method and c.route.path == path for c in sandbox.api_routes)


async def test_list_phone_numbers(sandbox: Sandbox, linq: LinqClient) -> None:
    """GET /v3/phone_numbers answers 200 with the account's lines and a trace id."""
    if not _has_route(sandbox, "GET", "/v3/phone_numbers"):
        pytest.skip("the sandbox has no phone_numbers route yet")
    response = await linq.send(ApiRequest("GET", "/v3/phone_numbers", [], None, {}, True))
    assert response.status == 200
    assert isinstance(response.body["phone_numbers"], list) and response.body["phone_numbers"]
    assert response.trace_id


async def test_unknown_path_is_not_found_with_the_header_trace_id(linq: LinqClient) -> None:
    """An unknown path gives NotFoundError carrying Linq's code and the X-Trace-ID."""
    with pytest.raises(NotFoundError) as info:
        await linq.send(ApiRequest("GET", "/v3/no_such_thing", [], None, {}, True))
    assert info.value.code == 2001
    assert info.value.trace_id


async def test_commit_then_lose_on_unkeyed_send_is_outcome_unknown_and_ran_once(
    sandbox: Sandbox, probe: Probe, linq: LinqClient
) -> None:
    """Linq acted, the answer was lost: the client reports outcome unknown and never sends again."""
    sandbox.faults.queued.append("commit_then_lose")
    with pytest.raises(OutcomeUnknownError) as info:
        await linq.send(PROBE_SEND)
    assert info.value.keyed is False
    assert probe.runs["POST"] == 1


async def test_dropped_unkeyed_send_is_outcome_unknown_though_nothing_ran(
    sandbox: Sandbox, probe: Probe, linq: LinqClient
) -> None:
    """A drop before Linq acted looks the same from outside, so it is also outcome unknown, not resent."""
    sandbox.faults.queued.append("drop")
    with pytest.raises(OutcomeUnknownError):
        await linq.send(PROBE_SEND)
    assert probe.runs["POST"] == 0


async def test_queued_503_on_get_is_retried_transparently(
    sandbox: Sandbox, probe: Probe, linq: LinqClient, sleeps: Sleeps
) -> None:
    """A one-off 503 on a read is absorbed by one retry; the caller only sees the answer."""
    sandbox.faults.queued.append("503")
    response = await linq.send(PROBE_GET)
    assert response.body == {"runs": 1}
    assert len(sleeps) == 1


async def test_queued_429_on_unkeyed_send_waits_retry_after_and_sends_once_more(
    sandbox: Sandbox, probe: Probe, linq: LinqClient, sleeps: Sleeps
) -> None:
    """Linq's 429 carries Retry-After; the client waits exactly that and the send runs once."""
    sandbox.faults.queued.append("429")
    response = await linq.send(PROBE_SEND)
    assert response.status == 201
    assert sleeps == [float(sandbox.world.config.faults.retry_after)]
    assert probe.runs["POST"] == 1


@pytest.mark.parametrize("key", ["wrong-key", None], ids=["wrong", "missing"])
async def test_bad_or_missing_key_is_authentication_error_2004(sandbox: Sandbox, probe: Probe, key: str | None) -> None:
    """A wrong or absent bearer token is AuthenticationError with Linq code 2004, never retried."""
    transport = SandboxTransport(sandbox.app)
    if key is None:
        http = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
    else:
        http = make_http_client(BASE_URL, key, transport=transport)
    async with LinqClient(http, sleep=Sleeps()) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.send(PROBE_GET)
    assert (info.value.status, info.value.code) == (401, 2004)
    assert probe.runs["GET"] == 0
