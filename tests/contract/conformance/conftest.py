"""The conformance suite's fixtures: every test runs against every connector-plus-sandbox pair
(`pair`), or against every stream the suite writes (`subject`), each sandbox served on a real
loopback socket for the one test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .apollo_pair import ApolloPair
from .hubspot_pair import HubSpotPair
from .pair import Pair, Subject
from .salesforce_pair import SalesforcePair

PAIRS: dict[str, type[ApolloPair] | type[SalesforcePair] | type[HubSpotPair]] = {
    "apollo": ApolloPair,
    "salesforce": SalesforcePair,
    "hubspot": HubSpotPair,
}
# The streams the suite writes, by system (a pair's `subjects`, named here for the test ids).
SUBJECTS = [
    ("apollo", "account"),
    ("salesforce", "Account"),
    ("salesforce", "Contact"),
    ("hubspot", "companies"),
    ("hubspot", "contacts"),
]


async def _served(system: str) -> AsyncIterator[Pair]:
    with PAIRS[system]().serve() as served:
        try:
            yield served
        finally:
            await served.aclose()


@pytest.fixture(params=list(PAIRS))
async def pair(request: pytest.FixtureRequest) -> AsyncIterator[Pair]:
    async for served in _served(request.param):
        yield served


@pytest.fixture(params=SUBJECTS, ids=[f"{s}-{n}" for s, n in SUBJECTS])
async def subject(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Pair, Subject]]:
    system, stream = request.param
    async for served in _served(system):
        yield served, served.subject(stream)
