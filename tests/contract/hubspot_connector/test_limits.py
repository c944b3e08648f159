"""The portal's limits honoured: the rolling window at each tier as the headers report it, other
apps' calls in the same window, search's own per-second limit, and the daily budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from leadbridge.connectors.errors import BudgetExhaustedError, RateLimitedError
from leadbridge.connectors.http import Budget
from leadbridge.sandbox.hubspot import TIERS, HubSpotSandbox

from .conftest import Portal, serve

OWNERS = "GET /crm/v3/owners/"


def tiered(tier: str) -> Iterator[Portal]:
    sb = HubSpotSandbox(seed=8)
    sb.knobs.set_tier(tier)
    sb.add_owner("ann.rep@portal.example", "Ann", "Rep")
    yield from serve(sb)


@pytest.mark.parametrize("tier", ["free", "professional", "enterprise"])
async def test_each_tier_is_paced_as_its_headers_say_without_a_429(tier: str) -> None:
    burst, _ = TIERS[tier]
    for portal in tiered(tier):
        hs = portal.connector()
        calls = burst // 10 * 2 + 5
        started = time.monotonic()
        await asyncio.gather(*(hs.client.owners(archived=False) for _ in range(calls)))
        elapsed = time.monotonic() - started
        assert hs.client.rate.tier == burst
        assert hs.client.limiter.windows["burst"] == (burst, 10.0)
        assert hs.client.calls.total == calls == portal.calls(OWNERS)  # not one refused
        # Paced at the tier's tenth per second (stricter than the rolling window alone).
        assert elapsed >= (calls - burst // 10) / (burst / 10) - 0.5
        await hs.aclose()


async def test_the_rolling_window_is_honoured_when_others_share_it() -> None:
    for portal in tiered("free"):
        sb = portal.sandbox
        sb.knobs.secondly_limit = 1_000  # only the 10-second window binds
        other = sb.issue_private_app_token()  # another private app of the same portal
        with httpx.Client(
            base_url=portal.url, headers={"Authorization": f"Bearer {other}"}, trust_env=False
        ) as http:
            for _ in range(60):
                assert http.get("/crm/v3/owners/").status_code == 200
        hs = portal.connector()
        started = time.monotonic()
        await asyncio.gather(*(hs.client.owners(archived=False) for _ in range(60)))
        elapsed = time.monotonic() - started
        refused = hs.client.calls.total - 60
        assert refused <= 3  # the first answer told us the window was 61 % full
        assert elapsed >= 8  # the other app's calls had to leave the window first
        await hs.aclose()


async def test_bursts_of_429_are_waited_out_with_growing_pauses(portal: Portal) -> None:
    hs = portal.connector()
    await hs.schema("companies")
    portal.sandbox.knobs.burst_429(3)  # other apps filled the window
    started = time.monotonic()
    results = await hs.write("companies", "create", [(0, {"name": "Patient"})])
    assert results[0].ok and portal.sandbox.count("companies") == 1
    route = "POST /crm/v3/objects/companies/batch/create"
    assert hs.client.calls.by_route[route] == 4  # three refusals, then through
    assert time.monotonic() - started >= 1 + 2 + 4 - 0.5  # 1, 2, 4 s: no storm
    await hs.aclose()


async def test_search_keeps_to_its_own_limit(portal: Portal) -> None:
    sb = portal.sandbox
    sb.knobs.search_per_second = 5
    for i in range(3):
        sb.console.create("contacts", {"email": f"s{i}@x.example"})
    hs = portal.connector(search_per_second=5)
    body = {"filterGroups": [], "limit": 1}
    started = time.monotonic()
    await asyncio.gather(*(hs.client.search("contacts", body) for _ in range(16)))
    assert hs.client.calls.total == 16  # not one refused
    assert time.monotonic() - started >= 2.5  # 5 a second
    await hs.aclose()


async def test_the_daily_budget_stops_before_the_portal_does() -> None:
    for portal in tiered("free"):
        sb = portal.sandbox
        sb.knobs.daily_limit = 40
        hs = portal.connector(budget=Budget(ceiling=0.75))
        with pytest.raises(BudgetExhaustedError, match="ceiling"):
            for i in range(40):
                await hs.write("companies", "create", [(i, {"name": f"B{i}"})])
        used = sb.ctx.limits.buckets["private-apps"].used_today
        assert used == 30 and sb.count("companies") == 28  # 30 calls: 2 schema, 28 writes
        await hs.aclose()


async def test_the_portals_daily_limit_defers_the_run() -> None:
    for portal in tiered("free"):
        sb = portal.sandbox
        sb.knobs.daily_limit = 4
        hs = portal.connector(budget=Budget(ceiling=1.0))
        (ok,) = await hs.write("companies", "create", [(0, {"name": "Last"})])  # 3 calls
        assert ok.ok and hs.client.budget.used == 3
        sb.ctx.limits.buckets["private-apps"].used_today = 4  # another app spent the last one
        with pytest.raises(RateLimitedError) as refused:
            await hs.write("companies", "create", [(1, {"name": "Over"})])
        assert refused.value.code == "DAILY" and (refused.value.retry_after or 0) > 60
        assert hs.client.calls.total == 4  # asked once, not again and again
        assert sb.count("companies") == 1
        with pytest.raises(BudgetExhaustedError):  # the client now knows the day is spent
            await hs.write("companies", "create", [(2, {"name": "Again"})])
        await hs.aclose()
