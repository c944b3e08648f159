"""Behaviour and fault knobs of the HubSpot sandbox (tests, chaos runs, benchmarks).

Plain attributes may be changed at any time from any thread (or through
`POST /__admin__/knobs`); the queued faults (`burst_429`, `fail_next`, `garbage_next`) are taken
under a lock, one per request. Rate-limit tiers are the three seen in the recordings: 100/10 s
with 250,000 a day (a free/starter portal), 150/10 s with 500,000, 190/10 s with 1,000,000.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

# name: (requests per rolling 10 s, requests per day)
TIERS: dict[str, tuple[int, int]] = {
    "free": (100, 250_000),
    "starter": (100, 250_000),
    "professional": (150, 500_000),  # [U] recorded 150/500k; which plan it was is not recorded
    "enterprise": (190, 1_000_000),
}


@dataclass
class HubSpotKnobs:
    latency: float = 0.0  # seconds before a request is handled
    error_rate_5xx: float = 0.0  # probability of a 502 before the call takes effect
    error_after_commit_rate: float = 0.0  # ...of a 502 after a write landed
    burst_limit: int = 100  # private apps: requests per rolling 10 s (per portal)
    daily_limit: int = 250_000  # private apps: requests per day (UTC)
    oauth_burst_limit: int = 100  # public apps: per app per portal; no daily limit [U: 110?]
    secondly_limit: int | None = None  # None: burst_limit / 10 (the recorded Secondly header)
    search_per_second: int = 5  # the search endpoints' own limit, per portal
    search_lag: float = 0.0  # seconds before a write shows in search (eventual consistency)
    access_token_ttl: float = 1800.0  # OAuth access tokens live 30 minutes
    code_ttl: float = 600.0  # authorization codes [U]
    expire_tokens_every: int = 0  # every Nth OAuth call finds its token expired (0: never)
    webhook_retries: int = 3  # redeliveries after a failed POST [U: HubSpot retries ~10 in 24 h]
    webhook_retry_delay: float = 0.2  # seconds between them (HubSpot backs off for hours)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _bursts: int = 0
    _failures: list[int] = field(default_factory=list, repr=False)
    _garbage: int = 0

    def set_tier(self, tier: str) -> None:
        if tier not in TIERS:
            raise ValueError(f"unknown tier {tier!r}; one of {', '.join(TIERS)}")
        self.burst_limit, self.daily_limit = TIERS[tier]

    @property
    def secondly(self) -> int:
        return self.secondly_limit or max(1, self.burst_limit // 10)

    def burst_429(self, count: int) -> None:
        """The next `count` authenticated calls answer 429 TEN_SECONDLY_ROLLING."""
        with self._lock:
            self._bursts += count

    def fail_next(self, count: int, status: int = 502) -> None:
        """The next `count` authenticated calls answer this 5xx before taking effect."""
        with self._lock:
            self._failures.extend([status] * count)

    def garbage_next(self, count: int) -> None:
        """The next `count` calls that succeed answer 200 with an HTML page (after taking
        effect), as a proxy or an outage page in front of the API does."""
        with self._lock:
            self._garbage += count

    def take_garbage(self) -> bool:
        with self._lock:
            if self._garbage <= 0:
                return False
            self._garbage -= 1
            return True

    def take_burst(self) -> bool:
        with self._lock:
            if self._bursts <= 0:
                return False
            self._bursts -= 1
            return True

    def take_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def clear_faults(self) -> None:
        with self._lock:
            self._bursts = 0
            self._failures.clear()
            self._garbage = 0

    def view(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def update(self, changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key.startswith("_") or not hasattr(self, key) or callable(getattr(self, key)):
                raise ValueError(f"unknown knob {key}")
            setattr(self, key, value)
