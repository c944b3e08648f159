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
    contacts = [r for r in crm.rows("Contact") if (r.get("Email") or "").lower() == "test@example.com"]
    assert [c["Id"] for c in contacts] == [contact]
    assert not [r for r in crm.rows("Lead") if (r.get("Email") or "").lower() == "test@example.com"]
    linked = [crm.link("person", p) for p in (pid,)]
    assert linked == [{}] or linked == [{"Contact": contact}]


def test_crm_owned_lead_status_is_never_overwritten(crm: CrmWorld) -> None:
    ready(crm)
    pid = crm.person(first_name="Ada", last_name="Lovelace", email="ada@calc.io",
                     company={"name": "Calc", "domain": "calc.io"})
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
