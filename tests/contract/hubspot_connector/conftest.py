"""The HubSpot connector against a sandbox portal served on a real loopback socket."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from leadbridge.connectors.base import Cursor
from leadbridge.connectors.http import Budget, RetryPolicy
from leadbridge.connectors.hubspot import HubSpotClient, HubSpotConnector, private_app_auth
from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, max_rate_limit_wait=15)


@dataclass
class Portal:
    sandbox: HubSpotSandbox
    url: str
    token: str

    def connector(self, token: str | None = None, **options: Any) -> HubSpotConnector:
        client_options = {
            k: options.pop(k) for k in ("budget", "policy", "search_per_second", "timeout")
            if k in options
        }  # fmt: skip
        client = HubSpotClient(
            self.url,
            auth=private_app_auth(token or self.token),
            budget=client_options.pop("budget", Budget(ceiling=1.0)),
            policy=client_options.pop("policy", FAST),
            **client_options,
        )
        return HubSpotConnector(client, **options)

    def calls(self, route: str) -> int:
        return sum(n for name, n in self.sandbox.calls.items() if name == route)


def serve(sandbox: HubSpotSandbox) -> Iterator[Portal]:
    with ServedApp(sandbox.app) as served:
        sandbox.set_base_url(served.url)
        yield Portal(sandbox, served.url, sandbox.issue_private_app_token())


@pytest.fixture
def portal() -> Iterator[Portal]:
    sb = HubSpotSandbox(seed=5)
    sb.knobs.burst_limit = 10_000  # the tests of the limits set their own
    sb.knobs.search_per_second = 1_000
    sb.add_owner("ann.rep@portal.example", "Ann", "Rep")
    yield from serve(sb)


class Clock:
    """A sandbox clock the test moves: records made at one instant tie to the millisecond."""

    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def frozen() -> Iterator[tuple[Portal, Clock]]:
    clock = Clock()
    sb = HubSpotSandbox(seed=6, clock=clock)
    sb.knobs.burst_limit = 100_000  # the clock stands still: so would the rolling window
    sb.knobs.search_per_second = 100_000
    sb.add_owner("ann.rep@portal.example", "Ann", "Rep")
    for served in serve(sb):
        yield served, clock


async def collect(pages: AsyncIterator[Any]) -> tuple[list[Any], Cursor | None]:
    records, cursor = [], None
    async for page in pages:
        records.extend(page.records)
        cursor = page.cursor
    return records, cursor


def by_id(sandbox: HubSpotSandbox, type_name: str) -> Callable[[str], dict[str, Any]]:
    return lambda record_id: sandbox.record(type_name, record_id)["properties"]
