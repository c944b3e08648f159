"""HubSpot's rate limits (reference A10, recorded headers): a rolling 10-second window and a
daily count per portal for private apps, per app for OAuth apps (no daily limit, no daily
headers); the `Secondly` headers (still sent, not enforced: the reference notes they are "still
sent"); and the search endpoints' own 5 per second, exempt from the 10-second window (their
answers carry only the daily headers).

A refused call is not counted. Not thread-safe on its own: the guard calls it under the lock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from leadbridge.sandbox.hubspot import errors
from leadbridge.sandbox.hubspot.knobs import HubSpotKnobs

WINDOW = 10.0
DAY = 86_400.0


@dataclass
class Bucket:
    calls: deque[float] = field(default_factory=deque)  # times of the calls in the last 10 s
    day: int = -1
    used_today: int = 0

    def trim(self, now: float) -> None:
        while self.calls and self.calls[0] <= now - WINDOW:
            self.calls.popleft()

    def in_last(self, now: float, seconds: float) -> int:
        return sum(1 for t in self.calls if t > now - seconds)

    def roll_day(self, now: float) -> None:
        today = int(now // DAY)
        if today != self.day:
            self.day, self.used_today = today, 0


class RateLimits:
    def __init__(self) -> None:
        self.buckets: dict[str, Bucket] = {}
        self.search = Bucket()

    def take(
        self, knobs: HubSpotKnobs, key: str, now: float, oauth: bool, search: bool, group: str
    ) -> dict[str, str]:
        """Count one call (raising the 429 when it may not be made); its rate headers."""
        bucket = self.buckets.setdefault(key, Bucket())
        bucket.trim(now)
        bucket.roll_day(now)
        limit = knobs.oauth_burst_limit if oauth else knobs.burst_limit
        if not oauth and bucket.used_today >= knobs.daily_limit:
            raise self._refused(
                errors.rate_limited("DAILY"), bucket, knobs, limit, oauth, search, now
            )
        if search:
            self.search.trim(now)
            if self.search.in_last(now, 1.0) >= knobs.search_per_second:
                raise self._refused(
                    errors.search_rate_limited(), bucket, knobs, limit, oauth, True, now
                )
            self.search.calls.append(now)
        else:
            if knobs.take_burst() or len(bucket.calls) >= limit:
                reply = errors.rate_limited("TEN_SECONDLY_ROLLING", group)
                raise self._refused(reply, bucket, knobs, limit, oauth, search, now)
            bucket.calls.append(now)
        bucket.used_today += 1
        return self.headers(bucket, knobs, limit, oauth, search, now)

    def headers(
        self,
        bucket: Bucket,
        knobs: HubSpotKnobs,
        limit: int,
        oauth: bool,
        search: bool,
        now: float,
    ) -> dict[str, str]:
        out: dict[str, str] = {}
        if not oauth:
            out["x-hubspot-ratelimit-daily"] = str(knobs.daily_limit)
            out["x-hubspot-ratelimit-daily-remaining"] = str(
                max(0, knobs.daily_limit - bucket.used_today)
            )
        if search:
            return out
        out["x-hubspot-ratelimit-interval-milliseconds"] = str(int(WINDOW * 1000))
        out["x-hubspot-ratelimit-max"] = str(limit)
        out["x-hubspot-ratelimit-remaining"] = str(max(0, limit - len(bucket.calls)))
        out["x-hubspot-ratelimit-secondly"] = str(knobs.secondly)
        out["x-hubspot-ratelimit-secondly-remaining"] = str(
            max(0, knobs.secondly - bucket.in_last(now, 1.0))
        )
        return out

    def _refused(
        self,
        reply: errors.Reply,
        bucket: Bucket,
        knobs: HubSpotKnobs,
        limit: int,
        oauth: bool,
        search: bool,
        now: float,
    ) -> errors.Reply:
        reply.headers.update(self.headers(bucket, knobs, limit, oauth, search, now))
        return reply
