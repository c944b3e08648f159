"""Deleting an Account takes its Contacts (and their activities) to the recycle bin, as the
describe's cascadeDelete says; undeleting it brings back what went with it, and only that."""

from __future__ import annotations

import httpx

from ..conftest import ServedOrg
from .conftest import ingest


def ids(api: httpx.Client, soql: str, *, all_rows: bool = False) -> set[str]:
    answer = api.get("queryAll/" if all_rows else "query/", params={"q": soql})
    assert answer.status_code == 200, answer.text
    return {r["Id"] for r in answer.json()["records"]}


def test_the_describe_declares_the_cascade_the_sandbox_follows(api: httpx.Client) -> None:
    rels = api.get("sobjects/Account/describe/").json()["childRelationships"]
    contacts = next(r for r in rels if r["relationshipName"] == "Contacts")
    assert contacts["cascadeDelete"] is True and contacts["field"] == "AccountId"


def test_deleting_an_account_deletes_its_contacts_and_undelete_brings_them_back(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme"}).id
    other = org.create("Account", {"Name": "Other"}).id
    ann, bob, gone = (
        org.create("Contact", {"LastName": n, "AccountId": acme}).id for n in ("Ann", "Bob", "Gone")
    )
    stays = org.create("Contact", {"LastName": "Stays", "AccountId": other}).id
    call = org.create("Task", {"Subject": "Call", "WhoId": ann}).id
    deal = org.create(
        "Opportunity",
        {"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-01-01", "AccountId": acme},
    ).id
    assert api.delete(f"sobjects/Contact/{gone}").status_code == 204  # deleted on its own first

    assert api.delete(f"sobjects/Account/{acme}").status_code == 204

    assert ids(api, "SELECT Id FROM Contact") == {stays}
    assert ids(api, "SELECT Id FROM Opportunity") == set()
    assert ids(api, "SELECT Id FROM Task") == set()  # the contact's activity went with it
    binned = "SELECT Id FROM Contact WHERE IsDeleted = true"
    assert ids(api, binned, all_rows=True) == {ann, bob, gone}
    assert api.get(f"sobjects/Contact/{ann}").status_code == 404
    window = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
    deleted = api.get("sobjects/Contact/deleted/", params=window)
    assert {d["id"] for d in deleted.json()["deletedRecords"]} == {ann, bob, gone}

    assert sf_org.session().post(f"{sf_org.url}/__admin__/undelete/Account/{acme}").ok

    assert ids(api, "SELECT Id FROM Contact") == {ann, bob, stays}  # not the one deleted alone
    assert ids(api, "SELECT Id FROM Opportunity") == {deal}
    assert ids(api, "SELECT Id FROM Task") == {call}
    assert org.row("Contact", ann)["AccountId"] == acme


def test_an_all_or_none_rollback_restores_the_cascade(sf_org: ServedOrg, api: httpx.Client) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme"}).id
    ann = org.create("Contact", {"LastName": "Ann", "AccountId": acme}).id
    answer = api.delete(
        "composite/sobjects", params={"ids": f"{acme},001000000000000AAA", "allOrNone": "true"}
    )
    assert answer.status_code == 200
    assert [r["success"] for r in answer.json()] == [False, False]
    assert not org.row("Account", acme)["IsDeleted"] and not org.row("Contact", ann)["IsDeleted"]
    assert ids(api, "SELECT Id FROM Contact WHERE IsDeleted = true", all_rows=True) == set()


def test_a_bulk_hard_delete_takes_the_children_out_of_the_store(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme"}).id
    ann = org.create("Contact", {"LastName": "Ann", "AccountId": acme}).id
    info = ingest(api, "Account", "hardDelete", f"Id\n{acme}\n")
    assert info["state"] == "JobComplete" and info["numberRecordsProcessed"] == 1
    assert org.row("Account", acme) is None and org.row("Contact", ann) is None
    window = {"start": "2000-01-01T00:00:00+00:00", "end": "2100-01-01T00:00:00+00:00"}
    deleted = api.get("sobjects/Contact/deleted/", params=window)  # no row left to report
    assert deleted.status_code == 200 and deleted.json()["deletedRecords"] == []


def test_a_contact_moved_between_deletes_goes_with_its_new_account(
    sf_org: ServedOrg, api: httpx.Client
) -> None:
    org = sf_org.sandbox.org
    first, second = (org.create("Account", {"Name": n}).id for n in ("First", "Second"))
    ann = org.create("Contact", {"LastName": "Ann", "AccountId": first}).id
    bob = org.create("Contact", {"LastName": "Bob"}).id
    assert api.delete(f"sobjects/Account/{first}").status_code == 204  # children looked up once
    assert api.patch(f"sobjects/Contact/{bob}", json={"AccountId": second}).status_code == 204
    assert api.delete(f"sobjects/Account/{second}").status_code == 204
    assert ids(api, "SELECT Id FROM Contact") == set()
    assert org.row("Contact", ann)["IsDeleted"] and org.row("Contact", bob)["IsDeleted"]
