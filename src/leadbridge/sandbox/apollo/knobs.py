"""Behaviour and fault knobs of the Apollo sandbox, for tests, chaos runs and benchmarks.

Plain attributes may be changed at any time from any thread; the queued faults (`burst_429`,
`fail_next`, `garbage_next`) are taken under a lock, one per request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

WINDOWS = ("minute", "hour", "day")


@dataclass
class InjectedFailure:
    status: int
    body: Any  # dict/list -> JSON, str -> text/plain, None -> a generic JSON error
    route: str | None = None  # e.g. "POST /api/v1/accounts/bulk_create"; None: any request
    # Append the request's headers to the error text, as a server in debug mode does (Rails
    # dumps the Rack env as a Ruby hash): credentials included, which is what this is for.
    echo_headers: bool = False


@dataclass
class ApolloKnobs:
    latency: float = 0.0  # seconds added before a request is handled
    latency_after_commit: float = 0.0  # seconds after it took effect, before the answer
    error_rate_5xx: float = 0.0  # probability of a 500 (the sandbox's seeded RNG draws)
    fail_after_commit: bool = False  # those 500s come after the change was applied
    access_token_ttl: float = 30 * 24 * 3600.0  # Apollo: 30 days
    code_ttl: float = 600.0  # authorization codes are short-lived [U: Doorkeeper's default]
    expire_tokens_every: int = 0  # every Nth bearer call finds its token expired (0: never)
    per_page_max: int = 100
    display_cap: int = 50_000  # accounts/search shows at most this many (500 pages of 100)
    # Apollo Professional: 200/min, 600/h, 6000/day per endpoint. None: unlimited window.
    limits: dict[str, int | None] = field(
        default_factory=lambda: {"minute": 200, "hour": 600, "day": 6000}
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _burst: list[float] = field(default_factory=list, repr=False)
    _fail: list[InjectedFailure] = field(default_factory=list, repr=False)
    _garbage: int = 0

    def set_rate_limits(
        self, minute: int | None = None, hour: int | None = None, day: int | None = None
    ) -> None:
        """None means unlimited (Apollo then sends an empty limit header)."""
        self.limits = {"minute": minute, "hour": hour, "day": day}

    def burst_429(self, n: int, retry_after: float = 1.0) -> None:
        """The next n authenticated requests get 429 with this retry-after."""
        with self._lock:
            self._burst.extend([retry_after] * n)

    def fail_next(
        self,
        n: int,
        status: int = 500,
        body: Any = None,
        *,
        route: str | None = None,
        echo_headers: bool = False,
    ) -> None:
        """The next n authenticated requests (to `route`, when given) get this status and
        body, before taking effect."""
        with self._lock:
            self._fail.extend([InjectedFailure(status, body, route, echo_headers)] * n)

    def garbage_next(self, n: int) -> None:
        """The next n successful answers become 200 with an HTML body (after taking effect)."""
        with self._lock:
            self._garbage += n

    def clear_faults(self) -> None:
        with self._lock:
            self._burst.clear()
            self._fail.clear()
            self._garbage = 0

    def take_burst(self) -> float | None:
        with self._lock:
            return self._burst.pop(0) if self._burst else None

    def take_failure(self, route: str | None = None) -> InjectedFailure | None:
        with self._lock:
            for i, failure in enumerate(self._fail):
                if failure.route is None or failure.route == route:
                    return self._fail.pop(i)
            return None

    def take_garbage(self) -> bool:
        with self._lock:
            if self._garbage <= 0:
                return False
            self._garbage -= 1
            return True
