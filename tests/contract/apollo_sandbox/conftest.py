"""Fixtures for the Apollo sandbox contract tests: a fake clock, a served sandbox, httpx clients.

Every test talks to the sandbox over a real loopback socket (ServedApp) with plain httpx, and
checks what the sandbox now holds as well as the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from leadbridge.sandbox.apollo import ApolloSandbox
from leadbridge.sandbox.server import ServedApp


class Clock:
    """A clock the tests move by hand (no sleeping)."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Served:
    sandbox: ApolloSandbox
    url: str
    key: str

    def client(self, key: str | None = None, **headers: str) -> httpx.Client:
        """A client of /api/v1 sending `key` (the master key by default) as x-api-key."""
        sent = {"x-api-key": key if key is not None else self.key, **headers}
        return httpx.Client(base_url=self.url + "/api/v1/", headers=sent, timeout=10)

    def bare(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sandbox(clock: Clock) -> ApolloSandbox:
    sb = ApolloSandbox(seed=7, clock=clock)
    sb.knobs.set_rate_limits(minute=10_000, hour=100_000, day=1_000_000)
    return sb


@pytest.fixture
def served(sandbox: ApolloSandbox) -> Iterator[Served]:
    with ServedApp(sandbox.app) as app:
        yield Served(sandbox, app.url, sandbox.issue_api_key(master=True))


@pytest.fixture
def api(served: Served) -> Iterator[httpx.Client]:
    with served.client() as client:
        yield client
