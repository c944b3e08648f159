"""Two-way sync with the Salesforce sandbox over real sockets: assertions on what the org holds.
The scenarios both CRMs share (the tutorial's test, CRM-owned fields, 1,000 rounds, an ambiguous
company, a restricted value, undo, merges) are in test_crm_both.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadbridge.engine.sync.context import SyncRefused

from .crm_world import CrmWorld


def ready(crm: CrmWorld) -> None:
    crm.activate()
    crm.pull(manual=True)


def test_setup_window_refuses_manual_pull_and_push_until_activated(crm: CrmWorld) -> None:
    with pytest.raises(SyncRefused, match="setup window"):
        crm.pull(manual=True)
    with pytest.raises(SyncRefused, match="initial pull"):
        crm.push(manual=True)
    crm.activate()
    report = crm.pull(manual=True)
    assert report.counts.get("read_user", 0) >= 1
    pid = crm.person(last_name="Now", email="now@ok.io", stage="Cold", company={"name": "Ok"})
    crm.push(manual=True, person_ids=[pid], company_ids=[])  # allowed now, stages aside
    assert [r["Email"] for r in crm.rows("Lead")] == ["now@ok.io"]


def test_a_hub_edit_reaches_salesforce_through_the_outbox(crm: CrmWorld) -> None:
    import asyncio

    from leadbridge.jobs.tasks import drain_task as drain_outbox

    ready(crm)
    pid = crm.person(
        last_name="Out", email="out@box.io", company={"name": "Box", "domain": "box.io"}
    )
    first = asyncio.run(drain_outbox(crm.ctx()))  # the new person: created (after a refresh)
    assert first is not None and first.counts.get("leads_created") == 1
    (lead_id,) = crm.link("person", pid).values()
    for title in ("A", "B", "C"):  # quick edits coalesce into one write of the last value
        crm.edit_person(pid, title=title)
    ctx = crm.ctx()
    report = asyncio.run(drain_outbox(ctx))
    assert report is not None and report.counts == {"leads_updated": 1}
    assert crm.org.row("Lead", lead_id)["Title"] == "C"
    assert asyncio.run(drain_outbox(ctx)) is None  # drained


def test_policy_check_warns_on_the_known_disasters_and_refuses_what_cannot_work(
    crm: CrmWorld,
) -> None:
    import asyncio

    from leadbridge.connectors.salesforce.preset import PRESET
    from leadbridge.engine.sync.lint import check
    from leadbridge.policy.crm import FieldMap, ObjectMap, SourceSetting

    def lint(policy: Any) -> tuple[str, str, str]:
        report = asyncio.run(check(crm.ctx(policy)))
        return "\n".join(report.warnings), "\n".join(report.errors), "\n".join(report.notes)

    policy = crm.policy.model_copy(deep=True)
    policy.objects["lead"] = ObjectMap(
        fields=[
            f
            if f.crm != "Status"
            else FieldMap(hub="lead_status", crm="Status", direction="hub_to_crm")
            for f in PRESET.object_map("lead").fields
        ]
        + [FieldMap(hub="title", crm="Title__c", direction="hub_to_crm")]
    )
    policy.push.people_source = SourceSetting(field="LeadSource", value="leadbridge")
    crm.org.restrict_picklist("Lead", "LeadSource")
    warnings, errors, _ = lint(policy)
    assert "Lead.Status (lead status) is written hub→CRM" in warnings
    assert "Lead.Title__c does not exist" in errors
    assert "source value 'leadbridge' is not a value of Lead.LeadSource" in errors

    # Creating contacts without their required last name: every create would be refused.
    as_contacts = crm.policy.model_copy(deep=True)
    as_contacts.push.create_people_as = "contact"
    as_contacts.objects["contact"] = ObjectMap(
        fields=[f for f in PRESET.object_map("contact").fields if f.crm != "LastName"]
    )
    _, errors, _ = lint(as_contacts)
    assert "Contact.LastName is required by Salesforce on create but not mapped" in errors

    # The defaults are clean, and say how to mark what leadbridge creates.
    warnings, errors, notes = lint(crm.policy)
    assert errors == "" and "hub→CRM" not in warnings
    assert "push.people_source: {field: LeadSource, value: …} (one of: " in notes


def test_a_converted_lead_is_followed_not_duplicated(crm: CrmWorld) -> None:
    ready(crm)
    pid = crm.person(
        first_name="Grace",
        last_name="Hopper",
        email="grace@navy.mil",
        company={"name": "Navy", "domain": "navy.mil"},
    )
    crm.push()
    (lead_id,) = crm.link("person", pid).values()
    converted = crm.org.convert_lead(lead_id)
    crm.pull()
    assert crm.link("person", pid) == {"Contact": converted["contactId"]}
    crm.edit_person(pid, title="Rear Admiral")
    crm.push()
    assert len(crm.rows("Lead")) == 1  # the converted one; no new lead for the person
    contact = crm.org.row("Contact", converted["contactId"])
    assert contact["Title"] == "Rear Admiral"


def _converted_wave(crm: CrmWorld, n: int, tag: str) -> tuple[int, list[tuple[int, str]]]:
    """n hub people pushed as leads and converted in the org; the queries (SELECTs) the pull
    that follows them spends, and (person, contact id) for each. (Writes are counted apart:
    on SQLite the ORM sends one INSERT a row, whatever the batching.)"""
    from sqlalchemy import event

    people = [
        crm.person(
            last_name=f"Wave{i}",
            email=f"w{i}@{tag}.io",
            company={"name": f"{tag.title()} {i}", "domain": f"{tag}{i}.io"},
        )
        for i in range(n)
    ]
    crm.push()
    pairs = []
    for pid in people:
        (lead_id,) = crm.link("person", pid).values()
        # Into the account the push made for its company, as users convert (into a new one,
        # the pull would flag each new account as a potential duplicate: queries of their own).
        account = crm.link("company", crm.get_person(pid).company_id).get("Account")
        converted = crm.org.convert_lead(lead_id, account_id=account)
        pairs.append((pid, str(converted["contactId"])))
    statements = 0

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal statements
        statements += statement.lstrip().upper().startswith("SELECT")

    engine = crm.hub.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        crm.pull()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return statements, pairs


def test_a_wave_of_conversions_is_followed_in_batches(crm: CrmWorld) -> None:
    ready(crm)
    few, pairs = _converted_wave(crm, 3, "few")
    many, more = _converted_wave(crm, 40, "many")
    for pid, contact_id in pairs + more:
        assert crm.link("person", pid) == {"Contact": contact_id}
        (account_id,) = crm.link("company", crm.get_person(pid).company_id).values()
        assert crm.org.row("Account", account_id) is not None
    # Following 37 more conversions costs a few more queries, not half a dozen each.
    assert many - few < 15, (few, many)


def test_stage_based_push_creates_selected_stages_and_updates_linked_in_any(
    crm: CrmWorld,
) -> None:
    ready(crm)
    policy = crm.policy.model_copy(deep=True)
    policy.push.contacts.mode = "stages"
    policy.push.contacts.stages = ["Interested"]
    keep = crm.person(
        last_name="In", email="in@a.io", stage="Interested", company={"name": "A", "domain": "a.io"}
    )
    out = crm.person(last_name="Out", email="out@a.io", stage="New", company={"domain": "a.io"})
    none = crm.person(last_name="None", email="none@a.io", company={"domain": "a.io"})
    crm.push(policy)
    assert {r["Email"] for r in crm.rows("Lead")} == {"in@a.io"}
    # The linked person moves to a stage that is not selected: still updated.
    crm.edit_person(keep, stage="Cold", title="VP")
    crm.push(policy)
    (lead,) = crm.rows("Lead")
    assert lead["Title"] == "VP"
    # "No stage" is an explicit choice.
    policy.push.contacts.stages = ["Interested", "No stage"]
    crm.push(policy)
    assert {r["Email"] for r in crm.rows("Lead")} == {"in@a.io", "none@a.io"}
    assert not crm.link("person", out)
    assert crm.link("person", none)


def test_duplicates_in_salesforce_are_flagged_never_merged(crm: CrmWorld) -> None:
    first = crm.org.create("Account", {"Name": "Acme", "Website": "https://acme.com"}).id
    second = crm.org.create(
        "Account", {"Name": "Acme Corp", "Website": "acme.com"}, allow_dup_save=True
    ).id
    ready(crm)
    (company_id,) = {e.hub_id for e in crm.errors() if e.error_class == "potential_duplicate"}
    assert crm.link("company", company_id) == {"Account": first}
    assert second in crm.errors()[0].message
    assert len(crm.rows("Account")) == 2


def test_a_run_killed_after_salesforce_created_records_leaves_no_duplicate(
    crm: CrmWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from leadbridge.engine.sync.context import SyncContext
    from leadbridge.engine.sync.push import push

    ready(crm)
    people = [
        crm.person(
            last_name=f"K{i}", email=f"k{i}@kill.io", company={"name": "Kill", "domain": "kill.io"}
        )
        for i in range(30)
    ]

    def die(*_: object, **__: object) -> None:
        raise KeyboardInterrupt("killed between Salesforce's answer and our commit")

    monkeypatch.setattr(SyncContext, "store_mirror", die)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(push(crm.ctx()))
    monkeypatch.undo()
    assert len(crm.rows("Account")) == 1 and not crm.link("person", people[0])
    crm.push()
    crm.push()
    assert len(crm.rows("Account")) == 1
    leads = crm.rows("Lead")
    assert sorted(r["Email"] for r in leads) == sorted(f"k{i}@kill.io" for i in range(30))
    assert all(crm.link("person", p).get("Lead") for p in people)


def test_a_pull_killed_after_its_pages_were_committed_is_finished_by_the_next(
    crm: CrmWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from leadbridge.engine.sync.pull import reconcile as reconcile_module
    from leadbridge.engine.sync.pull import run as pull_module

    ready(crm)
    account = crm.org.create("Account", {"Name": "Late Co", "Website": "late.io"}).id
    contacts = [
        crm.org.create(
            "Contact", {"LastName": f"L{i}", "Email": f"l{i}@late.io", "AccountId": account}
        ).id
        for i in range(5)
    ]

    def die(*_: object, **__: object) -> None:
        raise KeyboardInterrupt("killed after the pages and cursors were committed")

    def at(hours: int) -> Any:  # a run an hour (then two) later: past the cursor's overlap
        ctx = crm.ctx()
        ctx.clock = lambda: datetime.now(UTC) + timedelta(hours=hours)
        return ctx

    monkeypatch.setattr(reconcile_module, "reconcile", die)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(pull_module.pull(at(1)))
    monkeypatch.undo()
    assert crm.link("person", 1) == {}  # nothing reached the hub yet
    # The cursor has moved past them, so they are not read again: the pending mirror rows are
    # what brings them in.
    report = asyncio.run(pull_module.pull(at(2)))
    assert report.counts.get("read_contact", 0) == 0
    assert report.counts.get("linked_contact") == 5 and report.counts.get("linked_account") == 1
    with crm.hub.session() as s:
        from sqlalchemy import select

        from leadbridge.hub.tables import Person

        emails = sorted(str(p.email_key) for p in s.scalars(select(Person)))
        linked = {p.id: crm.link("person", p.id).get("Contact") for p in s.scalars(select(Person))}
    assert emails == [f"l{i}@late.io" for i in range(5)]
    assert sorted(linked.values()) == sorted(contacts)
    assert crm.pull().counts.get("linked_contact") is None  # taken in once


def test_each_crm_connection_reads_every_outbox_change(crm: CrmWorld) -> None:
    import asyncio

    from sqlalchemy import func, select

    from leadbridge.hub.outbox import advance, consumer_of
    from leadbridge.hub.tables import OutboxItem
    from leadbridge.jobs.tasks import drain_task as drain_outbox

    ready(crm)
    # A second CRM connection (another org, not yet draining): the first one's drain must not
    # consume the changes the second has not read.
    crm.connections.save(
        kind="salesforce",
        name="second-org",
        base_url=crm.url,
        credentials={"access_token": "unused"},
        remote_scope="00D000000000002EAA",
    )
    pid = crm.person(last_name="Both", email="both@two.io", company={"name": "Two"})
    crm.edit_person(pid, title="CTO")

    def outbox() -> int:
        with crm.hub.session() as s:
            return int(s.scalar(select(func.count()).select_from(OutboxItem)) or 0)

    assert asyncio.run(drain_outbox(crm.ctx())) is not None
    assert [r["Title"] for r in crm.rows("Lead")] == ["CTO"]
    assert outbox() == 2  # kept: the second org has not read them
    assert asyncio.run(drain_outbox(crm.ctx())) is None  # but the first does not read them twice
    second = crm.connections.get("second-org")
    with crm.hub.session() as s:  # the second org has read everything now
        advance(s, crm.hub.workspace_id, consumer_of(second.id), 10**9)
    crm.edit_person(pid, title="CEO")
    asyncio.run(drain_outbox(crm.ctx()))
    assert [r["Title"] for r in crm.rows("Lead")] == ["CEO"]
    assert outbox() == 1  # all passed by both: pruned but the newest (ids stay monotonic)


def test_the_readme_policy_example_loads_and_passes_policy_check(
    crm: CrmWorld, tmp_path: Path
) -> None:
    import asyncio

    from leadbridge.cli.crm import read_policy
    from leadbridge.engine.sync.lint import check

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "leadbridge.yaml").write_text(example, encoding="utf-8")
    policy = read_policy(tmp_path / "leadbridge.yaml").sync("salesforce")
    crm.org.add_custom_field("Lead", "Score__c", "double")
    report = asyncio.run(check(crm.ctx(policy)))
    assert report.errors == [], report.errors
    assert not [w for w in report.warnings if "hub→CRM" in w], report.warnings


def test_two_hub_records_of_one_identity_are_created_once(crm: CrmWorld) -> None:
    ready(crm)
    first = crm.person(last_name="Twin", email="twin@one.io", company={"name": "One"})
    second = crm.person(last_name="Twin", email="TWIN@one.io", company={"name": "One Inc."})
    report = crm.push()
    assert [r["Email"] for r in crm.rows("Lead")] == ["twin@one.io"]
    assert crm.link("person", first) and not crm.link("person", second)
    assert report.plan is not None
    (skipped,) = [d for d in report.plan.people if d.hub_id == second]
    assert skipped.action == "skip" and f"duplicate of hub person {first}" in skipped.reason
    # Two hub companies with one name and no domain become one account, not two.
    crm.policy = crm.policy.model_copy(
        update={"push": crm.policy.push.model_copy(update={"create_people_as": "Contact"})}
    )
    a = crm.person(last_name="A", email="a@nodomain.io", company={"name": "Nodomain"})
    b = crm.person(last_name="B", email="b@nodomain.io", company={"name": "Nodomain"})
    crm.push()
    (account,) = [r["Id"] for r in crm.rows("Account") if r["Name"] == "Nodomain"]
    # The second company is held as a duplicate of the first; its person joins the account
    # the first became (a page of companies is written before the people are planned).
    for person in (a, b):
        (contact,) = [
            r for r in crm.rows("Contact") if r["Id"] == crm.link("person", person)["Contact"]
        ]
        assert contact["AccountId"] == account


def test_a_killed_create_without_an_email_is_adopted_not_duplicated(
    crm: CrmWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from sqlalchemy import func, select

    from leadbridge.engine.sync.context import SyncContext
    from leadbridge.engine.sync.push import push
    from leadbridge.hub.tables import Person

    ready(crm)
    # The e-mail is unverified, so it is not pushed: nothing to match the lead by but what we
    # sent with it.
    pid = crm.person(last_name="Nomail", email="maybe@nomail.io", company={"name": "Nomail"})
    crm.edit_person(pid, email_status="unverified", title="Buyer")

    store = SyncContext.store_mirror

    def die_on_leads(self: SyncContext, s: Any, records: Any, *a: Any, **kw: Any) -> Any:
        if any(r.object == "Lead" for r in records):
            raise KeyboardInterrupt("killed between Salesforce's answer and our commit")
        return store(self, s, records, *a, **kw)

    monkeypatch.setattr(SyncContext, "store_mirror", die_on_leads)
    with pytest.raises(KeyboardInterrupt):
        asyncio.run(push(crm.ctx()))
    monkeypatch.undo()
    (lead,) = crm.rows("Lead")
    assert lead["Email"] is None and not crm.link("person", pid)
    crm.push()
    crm.push()
    assert [r["Id"] for r in crm.rows("Lead")] == [lead["Id"]]
    assert crm.link("person", pid) == {"Lead": lead["Id"]}
    with crm.hub.session() as s:  # and the lead was not pulled in as somebody new
        assert s.scalar(select(func.count()).select_from(Person)) == 1


def test_a_full_push_plans_only_what_moved_since_it_was_in_sync(crm: CrmWorld) -> None:
    from leadbridge.engine.sync.push.plan import plan
    from leadbridge.engine.sync.push.select import pages
    from leadbridge.hub.edits import edit
    from leadbridge.hub.tables import Company, Person

    ready(crm)
    alpha = crm.person(last_name="Alpha", email="a@alpha.io", company={"name": "Alpha"})
    beta = crm.person(last_name="Beta", email="b@beta.io", company={"name": "Beta"})
    crm.push()

    def planned() -> set[tuple[str, int]]:
        ctx = crm.ctx()
        return {
            (kind, i)
            for kind in ("company", "person")
            for page in pages(ctx, kind, everything=False)
            for i in page
        }

    assert planned() == set()  # both in sync: nothing to plan, nothing read
    whole = plan(crm.ctx())
    assert whole.in_sync() == 4 and whole.quiet == {"company": 2, "person": 2}

    with crm.hub.session() as s:  # alpha's company renamed: it and its person are planned
        person = s.get(Person, alpha)
        assert person is not None and person.company_id is not None
        company = s.get(Company, person.company_id)
        assert company is not None
        edit(s, company, {"name": "Alpha Group"}, origin="user")
        alpha_company = company.id
    assert planned() == {("company", alpha_company), ("person", alpha)}

    # A change read from Salesforce puts beta in play too, until a push confirms it.
    (lead_id,) = crm.link("person", beta).values()
    crm.org.update("Lead", lead_id, {"Title": "Buyer"})
    crm.pull()
    assert ("person", beta) in planned()
    crm.push()
    assert planned() == set()
