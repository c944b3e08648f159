"""A HubSpot sandbox served on a real loopback socket, with a private-app token and clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from hubspot import Client

from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp


@dataclass
class ServedPortal:
    sandbox: HubSpotSandbox
    url: str
    token: str

    def http(self, token: str | None = None) -> httpx.Client:
        auth = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        return httpx.Client(base_url=self.url, headers=auth, trust_env=False, timeout=30)

    def client(self, token: str | None = None) -> Client:
        """hubspot-api-client, unchanged, pointed at the sandbox."""
        return Client.create(access_token=token or self.token, host=self.url)


@pytest.fixture
def portal() -> Iterator[ServedPortal]:
    sb = HubSpotSandbox(seed=3)
    sb.knobs.burst_limit = 10_000  # tests of the limits set their own
    sb.knobs.search_per_second = 1_000
    sb.add_owner("ann.rep@portal.example", "Ann", "Rep")
    with ServedApp(sb.app) as served:
        sb.set_base_url(served.url)
        yield ServedPortal(sb, served.url, sb.issue_private_app_token())
