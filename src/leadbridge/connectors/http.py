"""The HTTP stack every connector shares, as composable pieces around one httpx.AsyncClient.

    ApiClient.request()            raises the typed error for a final failure response
      └─ httpx.Auth flow           (oauth.RefreshingAuth / ApiKeyAuth) refresh once on 401
          └─ ResilientTransport    budget check → rate limiter → send → observe headers
                                   → retry transient / rate-limited answers with backoff
              └─ real transport    (httpx.AsyncHTTPTransport, or ASGI in unit tests)

A connector supplies only a `Classifier`: its table from response to error class. Nothing here
knows which API it talks to.
"""

from __future__ import annotations

import asyncio
import email.utils
import json as jsonlib
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leadbridge.connectors.errors import (
    BudgetExhaustedError,
    ConnectorError,
    ProtocolError,
    RateLimitedError,
    TransientError,
)

Classifier = Callable[[httpx.Response], ConnectorError | None]
ResponseObserver = Callable[[httpx.Response], None]
Sleep = Callable[[float], Awaitable[None]]

# Extension key: a non-idempotent request (POST) that is nevertheless safe to resend, e.g.
# a create that dedupes server-side. Without it a 5xx on POST is not retried (it may have landed).
RETRY_UNSAFE = "leadbridge.retry_unsafe"
# The opposite: a PUT or PATCH that must not be sent twice, e.g. a Bulk 2.0 upload (one per job).
SEND_ONCE = "leadbridge.send_once"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "PATCH"})
# Set by the transport on the request it sends: when it was first sent (epoch seconds), and
# whether it was sent again after an attempt that may have landed (a 5xx, a timeout).
FIRST_SENT = "leadbridge.first_sent"
RESENT = "leadbridge.resent_after_landing"


def resend_safe(method: str, extensions: dict[str, Any]) -> bool:
    """Whether a request that may have reached the server can be sent again."""
    if extensions.get(RETRY_UNSAFE):
        return True
    return method.upper() in IDEMPOTENT_METHODS and not extensions.get(SEND_ONCE)


@dataclass(frozen=True)
class Delivery:
    """How one request reached the server."""

    first_sent: float  # epoch seconds, our clock
    resent: bool  # sent again after an attempt that may have landed
    server_now: datetime | None = None  # the server's clock at the final answer (Date header)

    def landed_since(self, margin: float = 2.0) -> datetime | None:
        """For a resent request, the earliest moment, on the server's clock, at which its first
        attempt may have landed (None when it was sent once). The Date header has whole
        seconds and our clocks may differ: `margin` widens the window."""
        if not self.resent:
            return None
        elapsed = time.time() - self.first_sent
        if self.server_now is None:  # no Date header: assume the clocks agree
            return datetime.fromtimestamp(self.first_sent - margin, UTC)
        return self.server_now - timedelta(seconds=elapsed + margin)


def server_clock(response: httpx.Response) -> datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.2
    max_delay: float = 20.0
    # A server asking for a longer pause than this ends the call with RateLimitedError, so the
    # run can defer the work instead of holding a worker asleep for an hour.
    max_rate_limit_wait: float = 90.0

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff (AWS architecture blog): uniform(0, base·2^n)."""
        return random.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))


@dataclass
class CallCounter:
    """API calls sent through one connection (every attempt counts: retries cost budget)."""

    total: int = 0
    by_route: dict[str, int] = field(default_factory=dict)

    def record(self, request: httpx.Request) -> None:
        self.total += 1
        route = f"{request.method} {request.url.path}"
        self.by_route[route] = self.by_route.get(route, 0) + 1


class RateLimiter:
    """A token bucket plus a pause the server can impose (Retry-After, requests-left = 0)."""

    def __init__(
        self, rate_per_second: float | None = None, burst: int = 10, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.rate = rate_per_second
        self.capacity = float(max(1, burst))
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._pause_until = 0.0
        self._lock = asyncio.Lock()
        self._sleep = sleep

    def pause_for(self, seconds: float) -> None:
        self._pause_until = max(self._pause_until, time.monotonic() + max(0.0, seconds))

    @property
    def paused_for(self) -> float:
        return max(0.0, self._pause_until - time.monotonic())

    async def acquire(self) -> None:
        async with self._lock:
            wait = self.paused_for
            if wait:
                await self._sleep(wait)
            if self.rate is None:
                return
            now = time.monotonic()
            self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                await self._sleep((1 - self._tokens) / self.rate)
                self._tokens = 1
                self._stamp = time.monotonic()
            self._tokens -= 1


@dataclass
class Budget:
    """Our ceiling on the remote's API allowance, fed by the connector from response headers.

    `used` / `limit` are the remote's own counters (e.g. Salesforce's api-usage=N/M); the
    ceiling is the share we allow ourselves (e.g. 0.75). `None` limit means "unknown yet".
    """

    ceiling: float = 0.75
    used: int | None = None
    limit: int | None = None

    def update(self, used: int, limit: int) -> None:
        self.used, self.limit = used, limit

    @property
    def exhausted(self) -> bool:
        return bool(self.limit) and (self.used or 0) >= self.ceiling * (self.limit or 0)

    def check(self) -> None:
        if self.exhausted:
            raise BudgetExhaustedError(
                f"API budget ceiling reached: {self.used} of {self.limit} daily calls used, "
                f"ceiling {self.ceiling:.0%}; new work waits until the window frees up"
            )


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header, given as seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class ResilientTransport(httpx.AsyncBaseTransport):
    """Retries, waits and counts around an inner transport; returns the final response."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        classify: Classifier,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        budget: Budget | None = None,
        counter: CallCounter | None = None,
        observers: Iterable[ResponseObserver] = (),
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.inner = inner
        self.classify = classify
        self.policy = policy or RetryPolicy()
        self.limiter = limiter or RateLimiter()
        self.budget = budget
        self.counter = counter or CallCounter()
        self.observers = list(observers)
        self.sleep = sleep

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        safe = resend_safe(request.method, request.extensions)
        request.extensions.setdefault(FIRST_SENT, time.time())
        attempt = 0
        while True:
            if self.budget is not None:
                self.budget.check()
            await self.limiter.acquire()
            self.counter.record(request)
            try:
                response = await self.inner.handle_async_request(request)
                await response.aread()
            except httpx.ConnectError as exc:
                # Nothing reached the server: always safe to resend.
                error: ConnectorError = TransientError(f"cannot connect: {exc}")
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if not safe:
                    raise TransientError(
                        f"{type(exc).__name__} on a non-idempotent request; not resent "
                        "(it may have been applied; the next run reconciles)"
                    ) from exc
                error = TransientError(f"{type(exc).__name__}: {exc}")
                request.extensions[RESENT] = True  # it may have landed before the line broke
            else:
                for observe in self.observers:
                    observe(response)
                verdict = self.classify(response)
                if verdict is None or not verdict.retryable:
                    return response
                if isinstance(verdict, RateLimitedError):
                    wait = verdict.retry_after if verdict.retry_after is not None else 1.0
                    if wait > self.policy.max_rate_limit_wait:
                        return response
                    self.limiter.pause_for(wait)
                elif not safe:
                    return response
                error = verdict
                if attempt + 1 >= self.policy.max_attempts:
                    return response
                if not isinstance(verdict, RateLimitedError):
                    request.extensions[RESENT] = True  # a 5xx may come after the write landed
                attempt += 1
                if not isinstance(verdict, RateLimitedError):
                    await self.sleep(self.policy.backoff(attempt))
                continue
            attempt += 1
            if attempt >= self.policy.max_attempts:
                raise error
            await self.sleep(self.policy.backoff(attempt))

    async def aclose(self) -> None:
        await self.inner.aclose()


class ApiClient:
    """One connection's HTTP client: typed errors out, JSON in and out, calls counted."""

    def __init__(
        self,
        base_url: str,
        *,
        classify: Classifier,
        auth: httpx.Auth | None = None,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        budget: Budget | None = None,
        counter: CallCounter | None = None,
        observers: Iterable[ResponseObserver] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        verify: Any = True,
        headers: dict[str, str] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.classify = classify
        self.counter = counter or CallCounter()
        self.limiter = limiter or RateLimiter(sleep=sleep)
        self.budget = budget
        self.transport = ResilientTransport(
            transport or httpx.AsyncHTTPTransport(verify=verify, retries=0),
            classify=classify,
            policy=policy,
            limiter=self.limiter,
            budget=budget,
            counter=self.counter,
            observers=observers,
            sleep=sleep,
        )
        self.http = httpx.AsyncClient(
            base_url=base_url,
            auth=auth,
            transport=self.transport,
            timeout=timeout,
            headers=headers or {},
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        retry_unsafe: bool = False,
        once: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        extensions = {RETRY_UNSAFE: retry_unsafe, SEND_ONCE: once}
        response = await self.http.request(method, path, extensions=extensions, **kwargs)
        error = self.classify(response)
        if error is not None:
            raise error
        return response

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The parsed body; a garbled answer to a request that is safe to resend is resent
        (with backoff, within the retry policy) before ProtocolError reaches the caller."""
        body, _ = await self.json_delivered(method, path, **kwargs)
        return body

    async def json_delivered(self, method: str, path: str, **kwargs: Any) -> tuple[Any, Delivery]:
        """`json()`, and how the request was delivered: whether it may have landed more than
        once, and since when (a create answered "already exists" after a resend was ours)."""
        policy = self.transport.policy
        safe = resend_safe(
            method, {RETRY_UNSAFE: kwargs.get("retry_unsafe"), SEND_ONCE: kwargs.get("once")}
        )
        first_sent: float | None = None
        resent = False
        attempt = 0
        while True:
            response = await self.request(method, path, **kwargs)
            sent = response.request.extensions
            first_sent = first_sent or float(sent.get(FIRST_SENT) or time.time())
            resent = resent or bool(sent.get(RESENT))
            try:
                body = parse_json(response)
            except ProtocolError:
                attempt += 1
                if not safe or attempt >= policy.max_attempts:
                    raise
                resent = True  # the garbled answer may have followed a landed write
                await self.transport.sleep(policy.backoff(attempt))
                continue
            return body, Delivery(first_sent, resent, server_clock(response))

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def parse_json(response: httpx.Response) -> Any:
    """The JSON body, or ProtocolError when the server sent something else (garbage, HTML)."""
    if response.status_code == 204 or not response.content:
        return None
    try:
        return jsonlib.loads(response.content)
    except ValueError as exc:
        snippet = response.text[:120].replace("\n", " ")
        raise ProtocolError(
            f"expected JSON from {response.request.method} {response.request.url.path}, "
            f"got {response.headers.get('content-type', 'no content type')}: {snippet!r}",
            status=response.status_code,
        ) from exc


def body_of(response: httpx.Response) -> Any:
    """The body as JSON when it is JSON, else as text (for error messages)."""
    try:
        return jsonlib.loads(response.content) if response.content else None
    except ValueError:
        return response.text
