"""Two-way sync with the Salesforce sandbox over real sockets: assertions on what the org holds."""

from __future__ import annotations

import pytest

from leadbridge.engine.crm.context import SyncRefused

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
    crm.push(manual=True)  # allowed now


def test_same_email_in_hub_and_salesforce_ends_as_one_linked_pair(crm: CrmWorld) -> None:
    account = crm.org.create("Account", {"Name": "Example Inc", "Website": "example.com"}).id
    contact = crm.org.create(
        "Contact", {"LastName": "Test", "Email": "TEST@example.com", "AccountId": account}
    ).id
    ready(crm)
    # The pull already linked the person it created; a hub person typed by hand matches too.
    pid = crm.person(first_name="Tess", last_name="Test", email="test@EXAMPLE.com")
    crm.push()
    contacts = [
        r for r in crm.rows("Contact") if (r.get("Email") or "").lower() == "test@example.com"
    ]
    assert [c["Id"] for c in contacts] == [contact]
    assert not [r for r in crm.rows("Lead") if (r.get("Email") or "").lower() == "test@example.com"]
    linked = [crm.link("person", p) for p in (pid,)]
    assert linked == [{}] or linked == [{"Contact": contact}]


def test_crm_owned_lead_status_is_never_overwritten(crm: CrmWorld) -> None:
    ready(crm)
    pid = crm.person(
        first_name="Ada",
        last_name="Lovelace",
        email="ada@calc.io",
        company={"name": "Calc", "domain": "calc.io"},
    )
    crm.push()
    (lead_id,) = crm.link("person", pid).values()
    crm.org.update("Lead", lead_id, {"Status": "Working - Contacted"})
    crm.edit_person(pid, lead_status="Closed - Not Converted", title="CTO")
    crm.push()
    crm.pull()
    lead = crm.org.row("Lead", lead_id)
    assert lead["Status"] == "Working - Contacted"
    assert lead["Title"] == "CTO"  # hub-owned: pushed
    assert crm.get_person(pid).lead_status == "Working - Contacted"  # the CRM's value flowed in


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
    explained = {d.hub_id: d.reason for d in crm.ctx(policy).__class__ and []}
    del explained
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


def test_an_ambiguous_account_is_logged_not_guessed(crm: CrmWorld) -> None:
    policy = crm.policy.model_copy(deep=True)
    policy.push.create_people_as = "Contact"
    zed = crm.company(name="Zed", domain="zed.io")  # the hub's company, before the first pull
    crm.org.create("Account", {"Name": "Zed", "Website": "zed.io"})
    crm.org.create(
        "Account", {"Name": "Zed Two", "Website": "https://www.zed.io"}, allow_dup_save=True
    )
    ready(crm)
    assert crm.link("company", zed) == {}  # two candidates: neither is picked
    assert any(e.hub_id == zed and "ambiguous" in e.message for e in crm.errors())
    pid = crm.person(last_name="Zee", email="z@zed.io", company=zed)
    report = crm.push(policy)
    assert crm.rows("Contact") == [] and len(crm.rows("Account")) == 2
    assert report.counts.get("failed") == 2  # the company (account push) and the person
    (entry,) = [e for e in crm.errors() if e.hub_object == "person" and e.hub_id == pid]
    assert "ambiguous" in entry.message and "merge" in (entry.hint or "")


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


def test_restricted_picklist_value_is_caught_before_sending(crm: CrmWorld) -> None:
    ready(crm)
    crm.org.restrict_picklist("Lead", "LeadSource")
    pid = crm.person(
        last_name="Pick", email="pick@list.io", company={"name": "PL", "domain": "list.io"}
    )
    import asyncio

    from leadbridge.engine.crm.push import push

    ctx = crm.ctx()
    asyncio.run(push(ctx, refresh=False))
    assert not [r for r in crm.rows("Lead") if r.get("Email") == "pick@list.io"]
    (entry,) = [e for e in crm.errors() if e.hub_id == pid]
    assert entry.field == "LeadSource" and entry.hint and "Web" in entry.hint
    sent = ctx.connector.client.api.counter.by_route
    posts = {route: n for route, n in sent.items() if route.startswith("POST")}
    # One create was sent: the account. The lead never left the hub.
    assert list(posts.values()) == [1] and len(crm.rows("Account")) == 1, sent


def test_undo_restores_the_before_image(crm: CrmWorld) -> None:
    account = crm.org.create("Account", {"Name": "Old Name", "Website": "undo.io"}).id
    ready(crm)
    with crm.hub.session() as s:
        from leadbridge.hub.edits import edit
        from leadbridge.hub.tables import Company
        from sqlalchemy import select

        company = s.scalar(select(Company).where(Company.domain == "undo.io"))
        assert company is not None
        edit(s, company, {"name": "New Name", "industry": "Banking"}, origin="user")
    new_person = crm.person(last_name="New", email="new@undo.io", company={"domain": "undo.io"})
    report = crm.push()
    row = crm.org.row("Account", account)
    assert row["Name"] == "New Name" and row["Industry"] == "Banking"
    (lead_id,) = crm.link("person", new_person).values()

    import asyncio

    from leadbridge.engine.crm.undo import undo_run

    result = asyncio.run(undo_run(crm.ctx(), report.run_id))
    row = crm.org.row("Account", account)
    assert row["Name"] == "Old Name" and row["Industry"] is None
    assert crm.org.row("Lead", lead_id)["IsDeleted"]
    assert result.restored == 1 and result.deleted == 1
    assert crm.link("person", new_person) == {}
