"""Deals mirrored with each CRM per `deals.mode`, written once and run against Salesforce
(Opportunity, StageName) and HubSpot (deals, pipelines and stage ids): asserted in the sandbox
(what the CRM holds), in the hub, and in the error log."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from leadbridge.engine.deals.run import DealReport, plan_deals, sync_deals
from leadbridge.engine.sync.undo import undo_run
from leadbridge.hub.deals import set_people
from leadbridge.hub.edits import create, edit
from leadbridge.hub.tables import Deal, DealPerson, JournalEntry
from leadbridge.policy.crm import CrmSync

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .crm_twins import Twin

# Per CRM: the deal stream, its fields, a stage (value, label) to open with and one to move to.
SPEC: dict[str, dict[str, Any]] = {
    "salesforce": {
        "stream": "Opportunity",
        "name": "Name",
        "amount": "Amount",
        "close": "CloseDate",
        "stage": "StageName",
        "open": ("Prospecting", "Prospecting"),
        "next": ("Negotiation/Review", "Negotiation/Review"),
    },
    "hubspot": {
        "stream": "deals",
        "name": "dealname",
        "amount": "amount",
        "close": "closedate",
        "stage": "dealstage",
        "open": ("appointmentscheduled", "Appointment Scheduled"),
        "next": ("contractsent", "Contract Sent"),
    },
}


def spec(twin: Twin) -> dict[str, Any]:
    return SPEC[twin.system]


def policy(twin: Twin, mode: str, **deals: Any) -> CrmSync:
    return CrmSync(connection=twin.system, deals={"mode": mode, **deals})


def run(twin: Twin, mode: str, **deals: Any) -> DealReport:
    ctx = twin.ctx(policy(twin, mode, **deals))

    async def go() -> DealReport:
        try:
            return await sync_deals(ctx)
        finally:
            await ctx.connector.aclose()

    return asyncio.run(go())


def remote_deal(twin: Twin, name: str, amount: str, close: str, stage: str) -> str:
    sp = spec(twin)
    values: dict[str, Any] = {sp["name"]: name, sp["amount"]: amount, sp["close"]: close}
    values[sp["stage"]] = stage
    if twin.system == "salesforce":
        values[sp["amount"]] = float(amount)
        return str(twin.org.create("Opportunity", values).id)
    return str(twin.sandbox.console.create("deals", values).id)


def remote_deals(twin: Twin) -> dict[str, dict[str, Any]]:
    """Live CRM deals by id, with canonical keys: name, amount, close, stage."""
    sp = spec(twin)
    if twin.system == "salesforce":
        rows = [{**r, "id": r["Id"]} for r in twin.rows("Opportunity")]
    else:
        rows = [{**r["properties"], "id": r["id"]} for r in twin.sandbox.objects("deals")]
    return {
        r["id"]: {
            "name": r.get(sp["name"]),
            "amount": float(r[sp["amount"]]) if r.get(sp["amount"]) not in (None, "") else None,
            "close": str(r.get(sp["close"]) or "")[:10],
            "stage": r.get(sp["stage"]),
        }
        for r in rows
    }


def edit_remote_deal(twin: Twin, record_id: str, **values: Any) -> None:
    sp = spec(twin)
    twin.edit_remote(sp["stream"], record_id, {sp[k]: v for k, v in values.items()})


def hub_deal(twin: Twin, **values: Any) -> int:
    with twin.hub.session() as s:
        return create(s, Deal(workspace_id=twin.hub.workspace_id), values, origin="user").id


def edit_hub_deal(twin: Twin, deal_id: int, **values: Any) -> None:
    with twin.hub.session() as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        edit(s, deal, values, origin="user")


def deals(twin: Twin) -> dict[str, Deal]:
    with twin.hub.session() as s:
        found = {str(d.name): d for d in s.scalars(select(Deal))}
        s.expunge_all()
        return found


def test_pull_only_is_the_default_and_mirrors_the_crm_pipeline(twin: Twin) -> None:
    assert CrmSync().deals.mode == "pull_only"
    sp = spec(twin)
    rid = remote_deal(twin, "Acme renewal", "12500.50", "2027-01-31", sp["open"][0])
    mine = hub_deal(twin, name="Hub only", stage=sp["open"][1], close_date=date(2027, 5, 1))
    report = run(twin, "pull_only")
    assert report.counts.get("hub_created") == 1
    acme = deals(twin)["Acme renewal"]
    assert acme.amount == Decimal("12500.50")
    assert acme.close_date == date(2027, 1, 31)
    assert acme.stage == sp["open"][1]  # the CRM's label (HubSpot: not the stage id)
    assert not acme.hidden
    assert twin.link("deal", acme.id) == {sp["stream"]: rid}
    # nothing pushed in pull_only: the hub's own deal stays out of the CRM
    assert set(remote_deals(twin)) == {rid}
    assert twin.link("deal", mine) == {}
    # the CRM owns the stage: its change comes in on the next run, a hub edit of it stays
    edit_remote_deal(twin, rid, stage=sp["next"][0])
    run(twin, "pull_only")
    assert deals(twin)["Acme renewal"].stage == sp["next"][1]


def test_two_way_pushes_new_hub_deals_and_keeps_crm_owned_fields(twin: Twin) -> None:
    sp = spec(twin)
    deal_id = hub_deal(
        twin,
        name="Beta pilot",
        amount=Decimal("5000"),
        close_date=date(2027, 3, 1),
        stage=sp["open"][1],
    )
    report = run(twin, "two_way")
    assert report.counts.get("crm_created") == 1, report.counts
    ((stream, rid),) = twin.link("deal", deal_id).items()
    assert stream == sp["stream"]
    assert "deals: 1 in sync, 0 failing, 0 not linked" in lb("status").output
    assert remote_deals(twin)[rid] == {
        "name": "Beta pilot",
        "amount": 5000.0,
        "close": "2027-03-01",
        "stage": sp["open"][0],
    }
    # a hub edit of a CRM-owned field (stage, amount) is not pushed; the name is
    edit_hub_deal(twin, deal_id, name="Beta pilot (EU)", amount=Decimal("9999"))
    report = run(twin, "two_way")
    assert report.counts.get("crm_updated") == 1, report.counts
    assert remote_deals(twin)[rid]["name"] == "Beta pilot (EU)"
    assert remote_deals(twin)[rid]["amount"] == 5000.0
    # and the CRM's amount wins in the hub on its next change
    edit_remote_deal(twin, rid, amount="7000" if twin.system == "hubspot" else 7000.0)
    run(twin, "two_way")
    assert deals(twin)["Beta pilot (EU)"].amount == Decimal("7000")


def test_push_only_writes_hub_deals_and_reads_none(twin: Twin) -> None:
    sp = spec(twin)
    rid = remote_deal(twin, "CRM only", "10", "2027-01-01", sp["open"][0])
    deal_id = hub_deal(twin, name="Gamma", close_date=date(2027, 4, 1), stage=sp["next"][1])
    report = run(twin, "push_only")
    assert report.counts.get("crm_created") == 1 and "hub_created" not in report.counts
    assert "CRM only" not in deals(twin)
    ((_, new_id),) = twin.link("deal", deal_id).items()
    assert remote_deals(twin)[new_id]["stage"] == sp["next"][0]
    assert rid in remote_deals(twin)


def test_hide_pulls_deals_out_of_sight_and_off_keeps_them(twin: Twin) -> None:
    sp = spec(twin)
    remote_deal(twin, "Hidden one", "10", "2027-01-01", sp["open"][0])
    run(twin, "hide")
    hidden = deals(twin)["Hidden one"]
    assert hidden.hidden
    assert "Hidden one" not in lb("deals", "list").output
    assert "Hidden one" in lb("deals", "list", "--hidden").output
    # off: no run, nothing read or written; the deals pulled before stay
    later = remote_deal(twin, "Made while off", "10", "2027-01-01", sp["open"][0])
    assert run(twin, "off").run_id is None
    assert "Made while off" not in deals(twin) and "Hidden one" in deals(twin)
    # enabling again pulls every CRM deal; hidden ones show once the mode does not hide
    run(twin, "pull_only")
    found = deals(twin)
    assert not found["Hidden one"].hidden
    assert twin.link("deal", found["Made while off"].id) == {sp["stream"]: later}


def test_a_stage_the_crm_does_not_have_is_refused(twin: Twin) -> None:
    sp = spec(twin)
    deal_id = hub_deal(twin, name="Bad stage", close_date=date(2027, 1, 1), stage="Won-ish")
    ctx = twin.ctx(policy(twin, "two_way"))

    async def go() -> DealReport:
        try:
            return await plan_deals(ctx)
        finally:
            await ctx.connector.aclose()

    (item,) = asyncio.run(go()).plan
    assert item.action == "refused" and "'Won-ish' is not a" in item.reason
    assert sp["open"][1] in item.reason  # it names the stages there are
    report = run(twin, "two_way")
    assert report.counts.get("refused") == 1 and "crm_created" not in report.counts
    assert remote_deals(twin) == {}
    (error,) = [e for e in twin.errors() if e.hub_object == "deal"]
    assert error.hub_id == deal_id and error.field == "stage"
    assert "'Won-ish' is not a" in error.message
    # the error log and status show it
    assert "Won-ish" in lb("errors").output
    assert "deals: 0 in sync, 1 failing, 0 not linked" in lb("status").output


def test_undo_of_a_deal_push_deletes_the_create_and_restores_the_update(twin: Twin) -> None:
    sp = spec(twin)
    deal_id = hub_deal(twin, name="Delta", close_date=date(2027, 2, 2), stage=sp["open"][1])
    first = run(twin, "two_way")
    ((_, rid),) = twin.link("deal", deal_id).items()
    edit_hub_deal(twin, deal_id, name="Delta v2")
    second = run(twin, "two_way")
    assert remote_deals(twin)[rid]["name"] == "Delta v2"

    def undo(run_id: int | None) -> Any:
        assert run_id is not None
        ctx = twin.ctx(policy(twin, "two_way"))

        async def go() -> Any:
            try:
                return await undo_run(ctx, run_id)
            finally:
                await ctx.connector.aclose()

        return asyncio.run(go())

    assert undo(second.run_id).restored == 1
    assert remote_deals(twin)[rid]["name"] == "Delta"
    assert undo(first.run_id).deleted == 1
    assert rid not in remote_deals(twin)
    with twin.hub.session() as s:
        undone = s.scalars(select(JournalEntry).where(JournalEntry.run_id == first.run_id))
        assert all(e.undone_at is not None for e in undone)
    # an undone create is not made again by the next run
    run(twin, "two_way")
    assert remote_deals(twin) == {}


def test_a_create_whose_answer_was_lost_is_matched_not_made_twice(twin: Twin) -> None:
    """The intent was written, the CRM made the deal, the run died before it recorded the
    answer: the next two-way run's pull finds the deal by its name and links it."""
    sp = spec(twin)
    deal_id = hub_deal(twin, name="Lost answer", close_date=date(2027, 2, 2), stage=sp["open"][1])
    with twin.hub.session() as s:
        twin.ctx().links.add(s, "deal", deal_id, sp["stream"], status="pending")
    rid = remote_deal(twin, "Lost answer", "0", "2027-02-02", sp["open"][0])
    report = run(twin, "two_way")
    assert "crm_created" not in report.counts, report.counts
    assert set(remote_deals(twin)) == {rid}
    assert twin.link("deal", deal_id) == {sp["stream"]: rid}


def deal_company(twin: Twin, record_id: str) -> str | None:
    if twin.system == "salesforce":
        return twin.org.row("Opportunity", record_id).get("AccountId")
    found = twin.sandbox.associations("deals", record_id, "companies")
    return str(found[0][0]) if found else None


def test_a_deal_s_company_goes_out_and_comes_in_through_the_company_link(twin: Twin) -> None:
    sp = spec(twin)
    company_stream = "Account" if twin.system == "salesforce" else "companies"
    remote_company = twin.remote_company("Acme", "acme.com")
    company_id = twin.company(name="Acme", domain="acme.com")
    with twin.hub.session() as s:
        twin.ctx().links.add(s, "company", company_id, company_stream, remote_company)
    deal_id = hub_deal(twin, name="With company", close_date=date(2027, 1, 1), stage=sp["open"][1])
    edit_hub_deal(twin, deal_id, company_id=company_id)
    run(twin, "two_way")
    ((_, rid),) = twin.link("deal", deal_id).items()
    assert deal_company(twin, rid) == remote_company
    # a CRM deal at that company comes in at the hub company
    other = remote_deal(twin, "CRM deal at Acme", "1", "2027-01-01", sp["open"][0])
    if twin.system == "salesforce":
        twin.edit_remote("Opportunity", other, {"AccountId": remote_company})
    else:
        twin.sandbox.console.associate("deals", other, "companies", remote_company, type_id=5)
    run(twin, "two_way")
    assert deals(twin)["CRM deal at Acme"].company_id == company_id


def test_the_cli_plans_syncs_and_explains_deals_from_the_policy_file(
    twin: Twin, tmp_path: Path
) -> None:
    sp = spec(twin)
    (tmp_path / "leadbridge.yaml").write_text(
        f"version: 1\nsyncs:\n  crm:\n    connection: {twin.system}\n"
        "    deals:\n      mode: two_way\n"
    )
    good = hub_deal(twin, name="Good", close_date=date(2027, 1, 1), stage=sp["open"][1])
    bad = hub_deal(twin, name="Bad", close_date=date(2027, 1, 1), stage="Nope")
    stages = lb("deals", "stages")
    assert stages.exit_code == 0, stages.output
    assert sp["open"][1] in stages.output and "won" in stages.output
    planned = lb("deals", "sync", "--dry-run")
    assert planned.exit_code == 0, planned.output
    assert f"deal {good}: create" in planned.output
    assert f"deal {bad}: refused: stage 'Nope' is not a" in planned.output
    assert remote_deals(twin) == {}  # a dry run writes nothing
    done = lb("deals", "sync")
    assert "crm_created 1" in done.output and "refused 1" in done.output, done.output
    assert len(remote_deals(twin)) == 1
    explained = lb("deals", "explain", str(good))
    assert "no change since the last sync" in explained.output, explained.output
    assert "no deal 999" in lb("deals", "explain", "999").output


async def test_the_scheduler_syncs_deals_once_the_policy_has_a_deals_section(
    twin: Twin,
) -> None:
    from leadbridge.hub.tables import utcnow
    from leadbridge.jobs.crm import CrmRun, CrmSchedule
    from leadbridge.jobs.runner import EmbeddedRunner
    from leadbridge.policy.crm import PolicyFile

    from .crm_world import FAST

    sp = spec(twin)
    remote_deal(twin, "Scheduled", "10", "2027-01-01", sp["open"][0])
    twin.activate()

    async def tick(sync: CrmSync, later: int = 0) -> list[tuple[str, str]]:
        schedule = CrmSchedule(
            twin.hub, twin.connections, PolicyFile(syncs={"crm": sync}), retry=FAST
        )
        runner = EmbeddedRunner(twin.connections, crm=schedule)
        try:
            done = await runner.run_due(utcnow() + timedelta(hours=later))
        finally:
            await schedule.aclose()
        return [(r.job, r.status) for r in done if isinstance(r, CrmRun)]

    assert ("deals", "succeeded") not in await tick(CrmSync(connection=twin.system))
    assert "Scheduled" not in deals(twin)
    # The schedule lives in the hub: the next pull is due an interval later.
    assert ("deals", "succeeded") in await tick(policy(twin, "pull_only"), later=2)
    assert "Scheduled" in deals(twin)


def test_hubspot_deal_contacts_go_out_and_come_in_through_the_person_links(twin: Twin) -> None:
    if twin.system == "salesforce":
        pytest.skip("Salesforce deal people (OpportunityContactRole): not in the sandbox yet")
    sp = spec(twin)
    contact = twin.remote_person("bo@acme.com", "Bo")
    person_id = twin.person(email="bo@acme.com", last_name="Bo")
    with twin.hub.session() as s:
        twin.ctx().links.add(s, "person", person_id, "contacts", contact)
    deal_id = hub_deal(twin, name="With people", close_date=date(2027, 1, 1), stage=sp["open"][1])
    with twin.hub.session() as s:
        deal = s.get(Deal, deal_id)
        assert deal is not None
        set_people(s, deal, [person_id])
    run(twin, "two_way")
    ((_, rid),) = twin.link("deal", deal_id).items()
    assert [c for c, _ in twin.sandbox.associations("deals", rid, "contacts")] == [contact]
    assert run(twin, "two_way").counts.get("crm_updated") is None  # no echo
    # a CRM deal with that contact comes in with the hub person on it
    other = remote_deal(twin, "CRM deal with Bo", "1", "2027-01-01", sp["open"][0])
    twin.sandbox.console.associate("deals", other, "contacts", contact, type_id=3)
    run(twin, "two_way")
    with twin.hub.session() as s:
        found = deals(twin)["CRM deal with Bo"]
        people = s.scalars(select(DealPerson.person_id).where(DealPerson.deal_id == found.id))
        assert list(people) == [person_id]
