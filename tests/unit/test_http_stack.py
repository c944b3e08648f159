"""The shared HTTP stack: the response-to-action table applied by retries, waits and refresh."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from leadbridge.connectors.apollo.client import classify
from leadbridge.connectors.errors import (
    AccessDeniedError,
    AuthError,
    BudgetExhaustedError,
    PermanentError,
    ProtocolError,
    RateLimitedError,
    TransientError,
)
from leadbridge.connectors.http import ApiClient, Budget, RetryPolicy, parse_retry_after
from leadbridge.connectors.oauth import OAuthSession, OAuthTokens, RefreshingAuth, StoredTokens
from leadbridge.secrets import redact


class Script:
    """A transport answering from a list, recording what it was sent."""

    def __init__(self, *responses: httpx.Response | Exception) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(script: Script, sleeps: Sleeps, **kw: object) -> ApiClient:
    return ApiClient(
        "http://api.test/",
        classify=classify,
        transport=httpx.MockTransport(script),
        policy=RetryPolicy(max_attempts=4),
        sleep=sleeps,
        **kw,
    )  # type: ignore[arg-type]


async def test_5xx_is_retried_then_succeeds() -> None:
    script, sleeps = (
        Script(httpx.Response(500, json={"error": "x"}), httpx.Response(200, json={"ok": 1})),
        Sleeps(),
    )
    assert await client(script, sleeps).json("GET", "thing") == {"ok": 1}
    assert len(script.requests) == 2 and len(sleeps.waits) == 1


async def test_429_waits_for_retry_after_exactly() -> None:
    script, sleeps = (
        Script(
            httpx.Response(429, headers={"retry-after": "7"}, json={"message": "per minute"}),
            httpx.Response(200, json={}),
        ),
        Sleeps(),
    )
    await client(script, sleeps).json("POST", "accounts/bulk_create", json={})
    assert sleeps.waits == [
        pytest.approx(7.0, abs=0.05)
    ]  # 429 is safe to resend even for POST: nothing was applied


async def test_a_long_retry_after_ends_the_call_for_the_run_to_defer() -> None:
    script, sleeps = (
        Script(httpx.Response(429, headers={"retry-after": "3600"}, json={"message": "hourly"})),
        Sleeps(),
    )
    with pytest.raises(RateLimitedError) as info:
        await client(script, sleeps).json("GET", "x")
    assert info.value.retry_after == 3600 and sleeps.waits == []


async def test_5xx_on_post_is_not_resent_unless_marked_safe() -> None:
    script, sleeps = Script(httpx.Response(500, json={"error": "boom"})), Sleeps()
    with pytest.raises(TransientError):
        await client(script, sleeps).json("POST", "accounts", json={})
    assert len(script.requests) == 1
    script = Script(httpx.Response(500, json={"error": "boom"}), httpx.Response(200, json={"a": 1}))
    assert await client(script, sleeps).json(
        "POST", "accounts/bulk_create", json={}, retry_unsafe=True
    ) == {"a": 1}


async def test_a_put_marked_send_once_is_not_resent_but_a_plain_put_is() -> None:
    script, sleeps = Script(httpx.Response(503, json={"error": "busy"})), Sleeps()
    with pytest.raises(TransientError):
        await client(script, sleeps).request("PUT", "jobs/ingest/1/batches", once=True)
    assert len(script.requests) == 1  # a Bulk 2.0 upload: one per job
    script = Script(httpx.Response(503, json={"error": "busy"}), httpx.Response(201))
    await client(script, sleeps).request("PUT", "sobjects/Account/1")
    assert len(script.requests) == 2


async def test_read_timeout_on_post_is_not_resent() -> None:
    script, sleeps = Script(httpx.ReadTimeout("slow")), Sleeps()
    with pytest.raises(TransientError, match="may have been applied"):
        await client(script, sleeps).json("POST", "accounts", json={})
    assert len(script.requests) == 1


async def test_connect_errors_are_retried_even_for_post() -> None:
    script, sleeps = Script(httpx.ConnectError("refused"), httpx.Response(200, json={})), Sleeps()
    await client(script, sleeps).json("POST", "accounts", json={})
    assert len(script.requests) == 2


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            httpx.Response(
                401, text="Invalid API key. See https://docs.apollo.io/reference/authentication"
            ),
            AuthError,
        ),
        (
            httpx.Response(403, json={"error": "not authorized", "error_code": "API_INACCESSIBLE"}),
            AccessDeniedError,
        ),
        (
            httpx.Response(422, json={"error": "Please specify at least a name or domain."}),
            PermanentError,
        ),
    ],
)
async def test_final_errors_are_typed_and_not_retried(
    response: httpx.Response, error: type[Exception]
) -> None:
    script, sleeps = Script(response), Sleeps()
    with pytest.raises(error):
        await client(script, sleeps).json("GET", "x")
    assert len(script.requests) == 1


async def test_a_garbled_answer_to_a_safe_request_is_resent_then_reported() -> None:
    garbage = httpx.Response(200, text="<html>oops</html>")
    script, sleeps = Script(garbage, httpx.Response(200, json={"ok": 1})), Sleeps()
    assert await client(script, sleeps).json("GET", "x") == {"ok": 1}
    script = Script(*[httpx.Response(200, text="<html>oops</html>") for _ in range(4)])
    with pytest.raises(ProtocolError, match="expected JSON"):
        await client(script, sleeps).json("GET", "x")
    assert len(script.requests) == 4  # the policy's max_attempts
    script = Script(httpx.Response(200, text="<html>oops</html>"))
    with pytest.raises(ProtocolError):  # a POST that may have landed is not resent
        await client(script, sleeps).json("POST", "accounts", json={})
    assert len(script.requests) == 1


async def test_budget_ceiling_stops_before_sending() -> None:
    script, sleeps = Script(), Sleeps()
    budget = Budget(ceiling=0.75, used=75, limit=100)
    with pytest.raises(BudgetExhaustedError, match="ceiling"):
        await client(script, sleeps, budget=budget).json("GET", "x")
    assert script.requests == []


async def test_concurrent_401s_refresh_once_and_persist_first() -> None:
    saved: list[OAuthTokens] = []
    refreshes = 0

    class Store:
        async def load(self) -> StoredTokens:
            return StoredTokens(saved[-1] if saved else OAuthTokens("old", "r1", None), len(saved))

        async def save(self, tokens: OAuthTokens, version: int) -> int | None:
            saved.append(tokens)
            return len(saved)

    async def refresh(tokens: OAuthTokens) -> OAuthTokens:
        nonlocal refreshes
        refreshes += 1
        await asyncio.sleep(0.01)
        return OAuthTokens("new", "r2", None)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer new":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"error_code": "INVALID_ACCESS_TOKEN"})

    session = OAuthSession(OAuthTokens("old", "r1", None), refresh, Store())
    api = ApiClient(
        "http://api.test/",
        classify=classify,
        auth=RefreshingAuth(session),
        transport=httpx.MockTransport(handler),
    )
    results = await asyncio.gather(*(api.json("GET", "x") for _ in range(5)))
    assert results == [{"ok": True}] * 5
    assert refreshes == 1 and [t.access_token for t in saved] == ["new"]


def test_retry_after_parses_seconds_and_dates() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


def test_redact_hides_secrets_everywhere() -> None:
    data = {
        "api_key": "k",
        "nested": [{"refresh_token": "r"}],
        "note": "Authorization: Bearer abc.def",
    }
    assert redact(data) == {
        "api_key": "***",
        "nested": [{"refresh_token": "***"}],
        "note": "Authorization: Bearer ***",
    }
