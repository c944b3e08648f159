"""HubSpot's rate limits on our side of the wire (reference A4, A10; recorded headers).

HubSpot counts calls in a *rolling* window (`X-HubSpot-RateLimit-Max` per
`X-HubSpot-RateLimit-Interval-Milliseconds`, 100/150/190 per 10 s by tier) and sends a per-second
figure (`X-HubSpot-RateLimit-Secondly`). A token bucket cannot honour a rolling window (a full
bucket plus a window's refill is twice the limit), so `WindowLimiter` keeps the send times of the
last window and lets a call go only when every window it knows has room: with the per-second
figure too, calls go out evenly at the tier's pace instead of in a burst the portal may refuse.
Windows are widened by `slack` because HubSpot counts a call when it arrives, not when we send it.

Search has its own limit (5 per second per portal, no headers of its own: the reference's
figure): the client gives it a separate `WindowLimiter`.

`RateHeaders` is the response observer: it moves the limiter to the tier the headers report,
counts the calls other apps made in the portal's window (`Remaining`: private apps share it),
backs off on refusals in a row, and feeds the daily
`X-HubSpot-RateLimit-Daily[-Remaining]` into the `Budget` (private apps only: OAuth calls carry
no daily headers, and public apps have no daily limit).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

import httpx

from leadbridge.connectors.http import Budget, RateLimiter, Sleep

# The lowest tier until the first answer says otherwise.
DEFAULT_BURST = (100, 10.0)
DEFAULT_SECONDLY = (10, 1.0)
SEARCH_PER_SECOND = 5
FULL_WINDOW_PAUSE = 1.0  # the first pause after a 429: a tenth of the window frees meanwhile


class WindowLimiter(RateLimiter):
    """At most `limit` calls in any `span` seconds, for each named window it holds."""

    def __init__(
        self,
        windows: dict[str, tuple[int, float]],
        *,
        slack: float = 0.02,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        super().__init__(None, sleep=sleep)
        self.windows = dict(windows)
        self.slack = slack
        self._sent: deque[float] = deque()

    def set(self, name: str, limit: int, span: float) -> None:
        if limit > 0 and span > 0:
            self.windows[name] = (limit, span)

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                wait = max(self.paused_for, self._wait(time.monotonic()))
                if wait <= 0:
                    break
                await self._sleep(wait)
            self._sent.append(time.monotonic())

    def seen_used(self, name: str, used: int, in_flight: int) -> None:
        """The portal says `used` calls are in its window. More than we sent means other apps
        share it (a portal's private apps do): their calls count as if we had just made them,
        and so do our calls still in flight, which the portal may not have counted yet."""
        window = self.windows.get(name)
        if window is None:
            return
        now = time.monotonic()
        span = window[1] * (1 + self.slack)
        mine = sum(1 for t in self._sent if t > now - span)
        if used > mine:
            for _ in range(min(used + in_flight, window[0]) - mine):
                self._sent.append(now)

    def _wait(self, now: float) -> float:
        """How long until every window has room for one more call."""
        if not self.windows:
            return 0.0
        longest = max(span for _, span in self.windows.values()) * (1 + self.slack)
        while self._sent and self._sent[0] <= now - longest:
            self._sent.popleft()
        wait = 0.0
        for limit, span in self.windows.values():
            span *= 1 + self.slack
            if len(self._sent) < limit:
                continue
            oldest_counted = self._sent[len(self._sent) - limit]
            wait = max(wait, oldest_counted + span - now)
        return wait


class RateHeaders:
    """Reads `X-HubSpot-RateLimit-*` on every answer (errors too) into the limiter and budget;
    refusals in a row (429) pause the limiter twice as long each time, up to the window, so
    that a portal kept full by other apps meets a few retries, not a storm."""

    def __init__(
        self, limiter: WindowLimiter, budget: Budget, in_flight: Callable[[], int] = lambda: 0
    ) -> None:
        self.limiter = limiter
        self.budget = budget
        self.in_flight = in_flight
        self.tier: int | None = None  # calls per window, as last reported
        self.daily: int | None = None
        self.refused = 0  # 429s in a row

    def __call__(self, response: httpx.Response) -> None:
        h = response.headers
        burst = _int(h.get("x-hubspot-ratelimit-max"))
        interval = _int(h.get("x-hubspot-ratelimit-interval-milliseconds"))
        if burst and interval:
            self.tier = burst
            self.limiter.set("burst", burst, interval / 1000)
            remaining = _int(h.get("x-hubspot-ratelimit-remaining"))
            if remaining is not None:
                self.limiter.seen_used("burst", burst - remaining, self.in_flight())
        if response.status_code == 429:
            self.refused += 1
            longest = max((span for _, span in self.limiter.windows.values()), default=10.0)
            self.limiter.pause_for(min(longest, FULL_WINDOW_PAUSE * 2 ** (self.refused - 1)))
        else:
            self.refused = 0
        secondly = _int(h.get("x-hubspot-ratelimit-secondly"))
        if secondly:
            self.limiter.set("secondly", secondly, 1.0)
        daily = _int(h.get("x-hubspot-ratelimit-daily"))
        left = _int(h.get("x-hubspot-ratelimit-daily-remaining"))
        if daily is not None and left is not None:
            self.daily = daily
            self.budget.update(max(0, daily - left), daily)


class InFlight(httpx.AsyncBaseTransport):
    """Counts the requests on the wire (sent, not answered yet)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.count = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.count -= 1

    async def aclose(self) -> None:
        await self.inner.aclose()


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def api_limiter(sleep: Sleep = asyncio.sleep) -> WindowLimiter:
    return WindowLimiter({"burst": DEFAULT_BURST, "secondly": DEFAULT_SECONDLY}, sleep=sleep)


def search_limiter(
    per_second: int = SEARCH_PER_SECOND, sleep: Sleep = asyncio.sleep
) -> WindowLimiter:
    return WindowLimiter({"search": (per_second, 1.0)}, slack=0.05, sleep=sleep)
