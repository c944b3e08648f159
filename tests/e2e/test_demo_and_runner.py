"""The demo (what a newcomer sees first) and the embedded runner's schedule."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from rich.console import Console

from leadbridge.demo import run_demo
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.runner import EmbeddedRunner

from .conftest import World, lead


def test_demo_pushes_every_qualified_lead_once_and_a_second_run_changes_nothing() -> None:
    result = run_demo(companies=400, seed=3, console=Console(quiet=True))
    first, second = result.first, result.second
    assert first.status == "succeeded"
    assert first.counts["created"] > 50 and first.counts["adopted"] > 0
    # Apollo holds the pre-existing accounts plus exactly what we created: no duplicates.
    assert result.apollo_accounts == result.preexisting + first.counts["created"]
    assert second.counts["created"] == second.counts["adopted"] == second.counts["updated"] == 0
    assert second.counts["unchanged"] == first.counts["created"] + first.counts["adopted"]
    assert {"ICP fit", "stage", "owner", "settle buffer"} <= set(first.skipped)
    # The two-way sync: the org's people pulled (duplicates flagged, never merged), the hub's
    # new people pushed as leads, the ones the org had linked, not created again.
    crm = result.crm
    assert crm is not None
    assert crm.pulled["read_lead"] == crm.seeded.leads and crm.pulled["potential_duplicates"] > 0
    assert crm.pushed["leads_created"] > 100 and crm.failing == 0
    assert crm.leads_after == crm.leads_before + crm.pushed["leads_created"]
    assert crm.in_sync >= crm.pushed["leads_created"] + crm.seeded.contacts
    assert result.seconds < 60


def test_leadbridge_demo_prints_the_summary_and_exits_with_no_serve() -> None:
    from .cli_runner import lb

    result = lb("demo", "--companies", "200", "--no-serve")
    assert result.exit_code == 0, result.output
    assert "two-way sync with Salesforce" in result.output and "Demo took" in result.output
    assert "dashboard" not in result.output


def test_runner_runs_each_connection_on_its_interval(world: World) -> None:
    world.companies([lead("acme.com")])
    runner = EmbeddedRunner(world.connections)
    now = utcnow()
    (report,) = asyncio.run(runner.run_due(now))
    assert report.counts["created"] == 1
    assert asyncio.run(runner.run_due(now + timedelta(minutes=14))) == []  # not due yet
    (again,) = asyncio.run(runner.run_due(now + timedelta(minutes=15)))
    assert again.counts["unchanged"] == 1
    world.connections.update_settings(world.connection.id, {"apollo_push": {"enabled": False}})
    assert asyncio.run(runner.run_due(now + timedelta(hours=1))) == []
