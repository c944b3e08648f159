"""Apollo's rate limits: per endpoint, three fixed windows (minute, hour, day) at once.

A window starts at the first request after the previous one ended (not aligned to the clock);
a request needs room in all three. Headers go on every answer after authentication passed
(reference B8); an unlimited window sends an empty limit header and no usage headers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WINDOW_SECONDS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
LIMIT_HEADER = {
    "minute": "x-rate-limit-minute",
    "hour": "x-rate-limit-hourly",
    "day": "x-rate-limit-24-hour",
}
USAGE_HEADER = {"minute": "x-minute-usage", "hour": "x-hourly-usage", "day": "x-24-hour-usage"}
LEFT_HEADER = {
    "minute": "x-minute-requests-left",
    "hour": "x-hourly-requests-left",
    "day": "x-24-hour-requests-left",
}


@dataclass
class Decision:
    exceeded: str | None  # the first full window, or None when the call was counted
    retry_after: float  # seconds until that window resets
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Window:
    start: float
    count: int = 0


class RateWindows:
    """Not thread-safe on its own: the sandbox calls it under the team lock."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], Window] = {}

    def _current(self, route: str, name: str, now: float) -> Window:
        window = self._windows.get((route, name))
        if window is None or now >= window.start + WINDOW_SECONDS[name]:
            window = Window(start=now)
            self._windows[(route, name)] = window
        return window

    def take(self, route: str, limits: dict[str, int | None], now: float) -> Decision:
        current = {name: self._current(route, name, now) for name in WINDOW_SECONDS}
        exceeded, retry_after = None, 0.0
        for name, window in current.items():
            limit = limits.get(name)
            if limit is not None and window.count >= limit:
                exceeded = name
                retry_after = window.start + WINDOW_SECONDS[name] - now
                break
        if exceeded is None:  # a refused call is not counted
            for window in current.values():
                window.count += 1
        headers: dict[str, str] = {}
        for name, window in current.items():
            limit = limits.get(name)
            headers[LIMIT_HEADER[name]] = "" if limit is None else str(limit)
            if limit is not None:
                headers[USAGE_HEADER[name]] = str(window.count)
                headers[LEFT_HEADER[name]] = str(max(0, limit - window.count))
        return Decision(exceeded, retry_after, headers)

    def usage(self, route: str, limits: dict[str, int | None], now: float) -> dict[str, dict]:
        """`{day|hour|minute: {limit, consumed, left_over}}` as the usage stats endpoint shows."""
        out: dict[str, dict] = {}
        for name in ("day", "hour", "minute"):
            window = self._windows.get((route, name))
            live = window is not None and now < window.start + WINDOW_SECONDS[name]
            consumed = window.count if window is not None and live else 0
            limit = limits.get(name)
            out[name] = {
                "limit": limit,
                "consumed": consumed,
                "left_over": None if limit is None else max(0, limit - consumed),
            }
        return out
