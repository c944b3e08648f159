"""The demo (what a newcomer sees first) and the embedded runner's schedule."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from rich.console import Console

from leadbridge.demo import run_demo
from leadbridge.hub import schedules
from leadbridge.hub.tables import utcnow
from leadbridge.jobs.runner import EmbeddedRunner

from .conftest import World, lead


def test_demo_shows_every_act_and_each_lands_in_the_sandboxes() -> None:
    result = run_demo(companies=400, seed=3, console=Console(quiet=True))
    first, second = result.apollo.first, result.apollo.second
    assert first.status == "succeeded"
    assert first.counts["created"] > 50 and first.counts["adopted"] > 0
    # Apollo holds the pre-existing accounts plus exactly what we created: no duplicates.
    assert result.apollo.apollo_accounts == result.apollo.preexisting + first.counts["created"]
    assert not any(second.counts.get(k) for k in ("created", "adopted", "updated", "failed"))
    assert second.counts["unchanged"] == first.counts["created"] + first.counts["adopted"]
    assert {"ICP fit", "stage", "owner", "settle buffer"} <= set(first.counts["skipped"])

    # Salesforce: the hub's new people became leads, the org's were linked, not made again;
    # a hub edit reached the org, an org edit reached the hub, and undo put the title back.
    crm = result.crm
    assert crm.failing == 0 and crm.leads_after > crm.leads_before + 100
    assert crm.in_sync >= crm.leads_after - crm.leads_before + crm.seeded.contacts
    assert crm.title_pushed == "VP Revenue"
    assert crm.title_after_undo not in (None, "VP Revenue")
    assert crm.status_pulled == "Working - Contacted"
    assert crm.campaign_members == 1  # the tagged person joined the campaign, once

    # Deletions, merges, the duplicate guard: a contact deleted in the org stays in the hub as
    # remote_deleted and no push makes it again; a look-alike is held until forced; a hub merge
    # leaves both records in the org.
    life = result.lifecycle
    assert life.deleted_link == "remote_deleted" and not life.recreated
    assert life.held and life.forced is not None and life.forced.startswith("Lead ")
    assert life.merged_into and life.crm_kept_both

    # Deals and activities: the good deal is an Opportunity on its Account, the unknown stage
    # refused; the sequence send skipped, the e-mail and the call Tasks with leadbridge's key.
    deals = result.deals
    assert deals.refused_in_dry_run
    assert deals.opportunity is not None
    assert deals.opportunity["AccountId"] == deals.account_id
    assert deals.opportunity["StageName"] == "Prospecting" and deals.opportunity["Amount"] == 12500
    assert sorted(t["Subject"] for t in deals.tasks) == ["Call: Connected", "Email: Proposal"]
    assert len({t["Leadbridge_Activity_Id__c"] for t in deals.tasks}) == 2
    assert deals.sequence_skipped and "in Salesforce as Task" in deals.explained

    # Scale-out: the hub copied to PostgreSQL when one answers (into a database dropped after),
    # else one line saying why not.
    scale = result.scale
    if scale.skipped is None:
        assert scale.copied and scale.database and not _database_exists(scale.database)
    else:
        assert not scale.copied and scale.database is None

    # HubSpot: the same hub's people reached the portal, each with its company.
    hs = result.hubspot
    assert hs.contacts_after > hs.contacts_before + 100
    assert hs.associated >= hs.contacts_after - hs.contacts_before

    # The REST API: a person added through it is a lead in Salesforce after the push it started.
    assert result.web.pushed["status"] in ("succeeded", "partial")
    assert result.web.pushed["counts"].get("leads_created") == 1
    assert result.web.metrics_lines > 10
    assert result.seconds < 60


def _database_exists(name: str) -> bool:
    import psycopg

    from leadbridge.demo_scale import SERVER

    with psycopg.connect(SERVER) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return found is not None


def test_leadbridge_demo_prints_each_command_and_exits_with_no_serve() -> None:
    from .cli_runner import lb

    result = lb("demo", "--companies", "200", "--no-serve")
    assert result.exit_code == 0, result.output
    for shown in (
        "$ leadbridge run apollo-push",
        "$ leadbridge audit --sync salesforce",
        "$ leadbridge plan salesforce",
        "$ leadbridge undo ",
        "$ leadbridge push --sync hubspot",
        "$ leadbridge merge person ",
        "--allow-duplicate",
        "possible duplicate of Salesforce contact",
        "remote_deleted",
        "row 4: amount 'abc' is not a number",
        "$ leadbridge deals sync --dry-run",
        "refused: stage 'Won-ish'",
        "$ leadbridge import activities activities.csv",
        "skip 1: a sequence send",
        "$ leadbridge explain activity:",
        "migrate-hub",
        "/api/v1/people",
        "Demo took",
    ):
        assert shown in result.output, shown
    assert "dashboard:" not in result.output
    assert "lbt_" not in result.output and "pat-na1" not in result.output  # no secret shown


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


def test_a_restarted_runner_keeps_the_lead_push_schedule_from_the_hub(world: World) -> None:
    world.companies([lead("acme.com")])
    now = utcnow()
    (report,) = asyncio.run(EmbeddedRunner(world.connections).run_due(now))
    assert report.status == "succeeded" and report.counts["created"] == 1
    (slot,) = [s for s in schedules.all_slots(world.hub) if s.job == "apollo-push"]
    assert slot.next_due_at == now + timedelta(minutes=15) and slot.last_status == "succeeded"

    restarted = EmbeddedRunner(world.connections)  # a new process: nothing is due at once
    assert asyncio.run(restarted.run_due(now + timedelta(minutes=1))) == []
    (again,) = asyncio.run(restarted.run_due(now + timedelta(minutes=15)))
    assert again.counts["unchanged"] == 1
